"""The service's own PostgreSQL role: what it needs to run, and nothing that rewrites history.

The schema belongs to the role that migrates it. The service connects as another role
that may read and write every table, but only read and add to the append-only ones (the
journal and its seals) and read the migration history; owning nothing, it can neither
truncate a table nor alter it, disable a trigger or drop one.
"""

from __future__ import annotations

from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg import sql

from akta_service.core.journal_guard import APPEND_ONLY_TABLES

#: Tables the service reads but never writes.
READ_ONLY_TABLES = ("alembic_version",)


class RoleRefused(RuntimeError):
    """The role cannot be the service's: it would hold more than the service may."""


def _refusal(connection: sa.Connection, role: str) -> str | None:
    row = connection.execute(
        sa.text(
            "SELECT r.rolsuper, r.rolname = current_user AS is_owner,"
            " pg_has_role(r.rolname, current_user, 'MEMBER') AS owner_member,"
            " (SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            "  AND tableowner = r.rolname) AS owned"
            " FROM pg_roles r WHERE r.rolname = :role"
        ),
        {"role": role},
    ).first()
    if row is None:
        return None
    if row.rolsuper:
        return f"{role} is a superuser"
    if row.is_owner or row.owner_member:
        return f"{role} is (or acts as) the role that owns the schema"
    if row.owned:
        return f"{role} owns {row.owned} tables"
    return None


def _driver(connection: sa.Connection) -> psycopg.Connection[Any]:
    return cast("psycopg.Connection[Any]", connection.connection.driver_connection)


def _execute(connection: sa.Connection, statement: sql.Composable) -> None:
    connection.exec_driver_sql(statement.as_string(_driver(connection)))


def grant_app_role(connection: sa.Connection, role: str, password: str | None = None) -> None:
    """Create the service's role if it is missing and give it exactly its privileges on the
    database and its tables, now and for tables created later (run as the schema's owner,
    again after every migration that adds a table).

    :param password: set as the role's password (kept by PostgreSQL as a SCRAM hash).
    """
    if connection.dialect.name != "postgresql":
        raise RoleRefused("database roles exist only on PostgreSQL")
    refusal = _refusal(connection, role)
    if refusal:
        raise RoleRefused(refusal)
    name = sql.Identifier(role)
    exists = connection.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if not exists:
        _execute(
            connection,
            sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
            ).format(name),
        )
    if password:
        # Hashed here (libpq's SCRAM), so the password itself never reaches the server's
        # statement log or an error message.
        verifier = _driver(connection).pgconn.encrypt_password(
            password.encode(), role.encode(), b"scram-sha-256"
        )
        _execute(
            connection,
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(name, sql.Literal(verifier.decode())),
        )
    database = sql.Identifier(str(connection.scalar(sa.text("SELECT current_database()"))))
    tables = sql.SQL(", ").join(sql.Identifier(t) for t in APPEND_ONLY_TABLES)
    read_only = sql.SQL(", ").join(sql.Identifier(t) for t in READ_ONLY_TABLES)
    for statement in (
        "GRANT CONNECT ON DATABASE {database} TO {role}",
        "GRANT USAGE ON SCHEMA public TO {role}",
        "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "REVOKE INSERT, UPDATE, DELETE ON {read_only} FROM {role}",
        "REVOKE UPDATE, DELETE ON {tables} FROM {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public"
        " GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ):
        _execute(
            connection,
            sql.SQL(statement).format(
                database=database, role=name, tables=tables, read_only=read_only
            ),
        )
