"""Database-side refusal of UPDATE and DELETE on append-only tables (used by migrations)."""

from __future__ import annotations

import sqlalchemy as sa

#: The tables whose rows are never changed or removed (the service's role may only read
#: and add to them: `core.db_roles`).
APPEND_ONLY_TABLES = ("journal_entries", "journal_seals")


def _run(bind: sa.Connection, statement: str) -> None:
    # text() escapes the "%" of RAISE for drivers that use pyformat placeholders.
    bind.execute(sa.text(statement))


def install_append_only_guard(bind: sa.Connection, table: str) -> None:
    """Make the database itself refuse to change or remove rows of `table`."""
    if bind.dialect.name == "postgresql":
        _run(
            bind,
            f"""
            CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '{table} is append-only: % refused', TG_OP
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$ LANGUAGE plpgsql
            """,
        )
        _run(
            bind,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        )
        _run(
            bind,
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
        )
    elif bind.dialect.name == "sqlite":
        for operation in ("UPDATE", "DELETE"):
            _run(
                bind,
                f"CREATE TRIGGER {table}_no_{operation.lower()} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {operation} refused'); END",
            )


def drop_append_only_guard(bind: sa.Connection, table: str) -> None:
    """Remove the guard (only for downgrading the migration that added it)."""
    if bind.dialect.name == "postgresql":
        _run(bind, f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        _run(bind, f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        _run(bind, f"DROP FUNCTION IF EXISTS {table}_append_only()")
    elif bind.dialect.name == "sqlite":
        for operation in ("update", "delete"):
            _run(bind, f"DROP TRIGGER IF EXISTS {table}_no_{operation}")
