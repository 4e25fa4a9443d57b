"""The service connects to PostgreSQL as a role that may add to the journal but never change
it; the schema's owner migrates. Proven on a database of its own, with roles of its own."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from akta_service import create_app
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.db_roles import RoleRefused, grant_app_role
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.queue import run_pending
from akta_service.regions.operations import ensure_regions
from akta_service.verification.gateway import dukcapil
from tests.conftest import IsolatedClient, app_config
from tests.databases import POSTGRES_ADMIN_URL, admin_connection, require_postgres

AKTA = Path(sys.executable).parent / "akta"


@dataclass(frozen=True)
class Cluster:
    """A database owned by its own owner role, and the name of the service's role."""

    database: str
    owner: str
    app_role: str

    def url(self, role: str) -> str:
        url = make_url(POSTGRES_ADMIN_URL).set(
            drivername="postgresql+psycopg", username=role, password=None, database=self.database
        )
        return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    require_postgres()
    suffix = uuid.uuid4().hex[:10]
    found = Cluster(f"akta_roles_{suffix}", f"akta_owner_{suffix}", f"akta_app_{suffix}")
    with admin_connection() as admin:
        admin.execute(f'CREATE ROLE "{found.owner}" LOGIN CREATEROLE')
        admin.execute(f'CREATE DATABASE "{found.database}" OWNER "{found.owner}"')
    try:
        yield found
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{found.database}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{found.app_role}"')
            admin.execute(f'DROP ROLE IF EXISTS "{found.owner}"')


def _akta(
    cluster: Cluster, tmp_path: Path, *args: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AKTA_", "FLASK_"))}
    env.update(
        **extra,
        AKTA_ENV="test",
        AKTA_INSTANCE_PATH=str(tmp_path / "instance"),
        AKTA_SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        AKTA_DATABASE_URL=cluster.url(cluster.app_role),
        AKTA_MIGRATION_DATABASE_URL=cluster.url(cluster.owner),
    )
    return subprocess.run(  # noqa: S603
        [str(AKTA), *args], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roles")


@pytest.fixture(scope="module")
def service(cluster: Cluster, instance: Path) -> Iterator[Flask]:
    """Migrated as the owner, the role granted, the service on the role."""
    tmp_path = instance
    for command in (("db", "upgrade"), ("db", "grant-app-role", "--role", cluster.app_role)):
        done = _akta(cluster, tmp_path, *command)
        assert done.returncode == 0, done.stderr
    app = create_app(app_config(cluster.url(cluster.app_role), tmp_path / "instance"))
    with app.app_context():
        ensure_regions()
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def _as(cluster: Cluster, role: str) -> psycopg.Connection[Any]:
    url = make_url(cluster.url(role))
    return psycopg.connect(
        host=url.host, port=url.port, user=role, dbname=cluster.database, autocommit=True
    )


def test_the_service_works_through_its_role(service: Flask) -> None:
    system = Actor.system("test")
    with service.app_context():
        create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", system)
        token = issue_credential("RSUD-GJ", system).token
        db.session.commit()
        family = dukcapil().population.sample_families(1, "recorded", region="3274")[0]  # type: ignore[attr-defined]
        db.session.remove()
    service.test_client_class = IsolatedClient
    client = service.test_client()

    created = client.post(
        "/api/v1/births",
        json=copy.deepcopy(family["example_report"]),
        headers={"Authorization": f"Bearer {token}"},
    )
    run_pending(service)  # verification: a job, on the same role

    assert created.status_code == 201, created.get_json()
    followed = client.get(
        created.get_json()["links"]["self"], headers={"Authorization": f"Bearer {token}"}
    )
    assert [j["to_state"] for j in followed.get_json()["journal"]] == [
        "submitted",
        "verifying",
        "in_review",
    ]


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE journal_entries SET reason = 'dihapus jejaknya'", "permission denied"),
        ("DELETE FROM journal_entries", "permission denied"),
        ("TRUNCATE journal_entries", "permission denied"),
        ("UPDATE journal_seals SET digest = ''", "permission denied"),
        ("DELETE FROM journal_seals", "permission denied"),
        ("UPDATE alembic_version SET version_num = 'x'", "permission denied"),
        ("TRUNCATE birth_reports CASCADE", "permission denied"),
        ("DROP TRIGGER journal_entries_append_only ON journal_entries", "must be owner"),
        ("ALTER TABLE journal_entries DISABLE TRIGGER ALL", "must be owner"),
        ("ALTER TABLE journal_entries ADD COLUMN note text", "must be owner"),
        ("DROP TABLE journal_entries", "must be owner"),
        ("CREATE TABLE journal_copy (id int)", "permission denied"),
    ],
)
def test_the_service_role_cannot_rewrite_the_journal(
    service: Flask, cluster: Cluster, statement: str, refusal: str
) -> None:
    with _as(cluster, cluster.app_role) as connection:
        connection.execute(
            "INSERT INTO journal_entries (action, data, actor_id, actor_name, actor_role,"
            " occurred_at) VALUES ('test:journal:add', '{}', 'system', 'Sistem', 'system', now())"
        )
        (before,) = connection.execute("SELECT count(*) FROM journal_entries").fetchone() or (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
            connection.execute(statement)
        (after,) = connection.execute("SELECT count(*) FROM journal_entries").fetchone() or (0,)
    assert after == before > 0


def test_the_role_gets_its_password_hashed_and_the_owner_is_refused(
    service: Flask, cluster: Cluster, instance: Path
) -> None:
    tmp_path = instance
    again = _akta(cluster, tmp_path, "db", "grant-app-role", "--role", cluster.app_role)
    with_password = _akta(
        cluster,
        tmp_path,
        *("db", "grant-app-role", "--role", cluster.app_role),
        AKTA_APP_DB_PASSWORD="rahasia-peran-aplikasi",
    )
    owner = _akta(cluster, tmp_path, "db", "grant-app-role", "--role", cluster.owner)

    assert again.returncode == 0, again.stderr  # granting twice is harmless
    assert with_password.returncode == 0, with_password.stderr
    with admin_connection() as admin:
        (stored,) = admin.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (cluster.app_role,)
        ).fetchone() or (None,)
    assert str(stored).startswith("SCRAM-SHA-256$")
    assert "rahasia" not in with_password.stdout + with_password.stderr
    assert owner.returncode != 0
    assert "owns the schema" in owner.stderr


def test_roles_exist_only_on_postgresql(tmp_path: Path) -> None:
    app = create_app(app_config(f"sqlite:///{tmp_path / 'akta.sqlite3'}", tmp_path / "instance"))

    with (
        app.app_context(),
        db.engine.connect() as connection,
        pytest.raises(RoleRefused, match="only on PostgreSQL"),
    ):
        grant_app_role(connection, "akta_app")
