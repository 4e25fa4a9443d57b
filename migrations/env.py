"""Alembic environment: the app's engine and metadata, batch mode for SQLite."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app
from sqlalchemy.pool import NullPool

from akta_service.core.db import configure_engine_events

config = context.config
if config.config_file_name is not None and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def _migration_engine() -> sa.Engine:
    """The schema's owner migrates it (AKTA_MIGRATION_DATABASE_URL); the service's own role
    may not alter the journal. Without that setting, the service's engine does it."""
    settings = current_app.config["AKTA_SETTINGS"]
    if settings.migration_database_url == settings.database_url:
        return target_db.engine
    engine = sa.create_engine(
        settings.migration_database_url, poolclass=NullPool, hide_parameters=True
    )
    configure_engine_events(engine, settings.db_idle_check_seconds)
    return engine


def run_migrations_offline() -> None:
    context.configure(
        url=current_app.config["AKTA_SETTINGS"].migration_database_url,
        target_metadata=target_db.metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _references_kept_on_sqlite(connection) -> Iterator[None]:
    """SQLite changes a table by building it anew (batch mode). With foreign keys on,
    dropping the old table deletes (ON DELETE CASCADE) or nulls every row that refers to
    it: a staff table rebuilt would take each person's regions with it. So they are off
    for the migration (SQLite ignores the pragma inside a transaction, hence before it)
    and every reference is checked before the migration commits."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        # What the migrations did is committed by now; closing the connection would roll
        # back what is left open (nothing of theirs), and the pragma needs no transaction.
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA foreign_keys=ON")


def _check_references(connection) -> None:
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"the migration would leave broken references: {broken[:5]}")


def run_migrations_online() -> None:
    def skip_empty(_context, _revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty)
    conf_args.setdefault("compare_type", True)
    conf_args.setdefault("render_as_batch", True)
    with _migration_engine().connect() as connection, _references_kept_on_sqlite(connection):
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations()
            _check_references(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
