"""Migrations build the schema from nothing on both databases and agree with the models."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from akta_service import create_app
from akta_service.core.db import db
from akta_service.core.health import migration_heads
from tests.conftest import app_config
from tests.databases import fresh_database


def _diff(connection: sa.Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, db.metadata))


def test_upgrade_from_empty_to_head_then_down_and_up_again(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        app = create_app(app_config(url, tmp_path / "instance"))
        with app.app_context():
            assert migration_heads()[0] == set()
            flask_migrate.upgrade()
            applied, shipped = migration_heads()
            assert applied == shipped
            assert len(shipped) == 1, "migrations must have a single head"
            tables = set(sa.inspect(db.engine).get_table_names())
            assert {"birth_reports", "journal_entries", "regions", "users"} <= tables
            with db.engine.connect() as connection:
                assert _diff(connection) == [], "models and migrations disagree"

            flask_migrate.downgrade(revision="base")
            assert "birth_reports" not in sa.inspect(db.engine).get_table_names()
            flask_migrate.upgrade()
            assert migration_heads()[0] == migration_heads()[1]
            db.session.remove()
            db.engine.dispose()


def test_revision_files_are_date_prefixed() -> None:
    from akta_service.core.resources import resource_dir

    files = sorted((resource_dir("migrations") / "versions").glob("*.py"))
    assert files
    for path in files:
        assert path.name[:8].isdigit(), path.name
        assert path.name[8] == "_", path.name


def test_upgrading_a_database_in_use_keeps_every_row_that_refers_to_a_rebuilt_table(
    backend: str, tmp_path: Path
) -> None:
    """SQLite rebuilds a table to change it; the rows referring to it (a person's regions,
    ON DELETE CASCADE) must survive, as on PostgreSQL."""
    with fresh_database(backend, tmp_path) as url:
        app = create_app(app_config(url, tmp_path / "instance"))
        with app.app_context():
            flask_migrate.upgrade(revision="9c3d4e5f6a7b")  # before the users table changed
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO regions (code, name, office_name, issue_place)"
                        " VALUES ('3274', 'Kota Cirebon', 'Disdukcapil Kota Cirebon', 'Cirebon')"
                    )
                )
                connection.execute(
                    sa.text(
                        "INSERT INTO users (username, full_name, role, password_hash, active,"
                        " failed_logins, created_at)"
                        " VALUES ('siti', 'Siti', 'operator', 'x', true, 0, :now)"
                    ),
                    {"now": datetime.now(UTC)},
                )
                connection.execute(
                    sa.text(
                        "INSERT INTO user_regions (user_id, region_code)"
                        " SELECT id, '3274' FROM users WHERE username = 'siti'"
                    )
                )
            flask_migrate.upgrade()
            with db.engine.connect() as connection:
                regions = connection.execute(sa.text("SELECT region_code FROM user_regions"))
                assert regions.scalars().all() == ["3274"]
                role = connection.execute(sa.text("SELECT role FROM users")).scalar_one()
                assert role == "operator"
                if backend == "sqlite":  # and the references are enforced again afterwards
                    assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            db.session.remove()
            db.engine.dispose()


def test_entries_from_before_the_hash_chains_stay_and_the_chains_start_after_them(
    backend: str, tmp_path: Path
) -> None:
    from akta_service.core.actors import Actor
    from akta_service.core.audit import record
    from akta_service.core.journal_verify import verify_journal

    with fresh_database(backend, tmp_path) as url:
        app = create_app(app_config(url, tmp_path / "instance"))
        with app.app_context():
            flask_migrate.upgrade(revision="f928fbe89881")  # before the chains
            with db.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO journal_entries (action, data, actor_id, actor_name,"
                        " actor_role, occurred_at) VALUES ('office:user:login', '{}',"
                        " 'user:1', 'Siti', 'operator', :now)"
                    ),
                    {"now": datetime.now(UTC)},
                )
            flask_migrate.upgrade()
            entry = record("office:user:login", Actor.system("test"))
            db.session.commit()

            result = verify_journal(db.session(), app.config["AKTA_SETTINGS"])

            assert entry.prev_hash is None
            assert (result.entries, result.legacy, result.chains) == (2, 1, 1)
            assert result.intact
            db.session.remove()
            db.engine.dispose()
