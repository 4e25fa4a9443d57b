"""The database handle, the declarative base and column helpers shared by all models."""

from __future__ import annotations

import enum
import time
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict

#: Constraint names that Alembic can reproduce on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

#: A big integer key that still autoincrements on SQLite.
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: Structured data: JSONB on PostgreSQL, JSON text elsewhere.
JsonData = sa.JSON().with_variant(JSONB(), "postgresql")


M = TypeVar("M", bound=Base)


def add_loaded_row(session: Session, model: type[M], row: dict[str, Any]) -> M:
    """The object of a row this transaction has just INSERTed (or read) with Core, put into
    the session as the row it is: persistent, every column in `row` loaded, nothing to flush.

    The values go straight into the instance's state, as the ORM's own loading puts them,
    rather than through the constructor's attribute events (a tenth of a submission for a
    58-column report); make_transient_to_detached then counts them as loaded from the
    database. tests/core/test_db.py fails if SQLAlchemy stops keeping state that way.

    :param row: every column's value as written or read, the primary key included; no
        object of that key may be in the session already.
    """
    instance = model()
    instance_dict(instance).update(row)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def held(session: Session, model: type[M], key: Any) -> M | None:
    """The object of that primary key if the session holds it already, without a query:
    the lookup `session.get` makes before it queries (the caller's facility on an API
    request is most often there)."""
    found = session.identity_map.get(model.__mapper__.identity_key_from_primary_key((key,)))
    # (Not `cast(M | None, ...)`: the union is built at run time, a dozen calls a request.)
    return None if found is None else cast(M, found)


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware.

    SQLite keeps no zone, PostgreSQL does; this makes both answer alike.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where a UTC time is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def enum_column(enum_cls: type[enum.Enum], name: str) -> sa.Enum:
    """A portable enum column: stored as its values, guarded by a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(str(m.value)) for m in enum_cls),
        values_callable=lambda members: [str(m.value) for m in members],
        validate_strings=True,
    )


def nik_check(column: str, *, nullable: bool = True) -> sa.CheckConstraint:
    """A CHECK that the column holds exactly sixteen digits (portable to SQLite)."""
    rule = f"length({column}) = 16 AND ltrim({column}, '0123456789') = ''"
    if nullable:
        rule = f"{column} IS NULL OR ({rule})"
    return sa.CheckConstraint(rule, name=f"{column}_16_digits")


def configure_engine_events(engine: sa.Engine, idle_check_seconds: float) -> None:
    """Check idle PostgreSQL connections before use; make SQLite transactional."""
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    else:
        _check_idle_connections(engine, idle_check_seconds)


def _check_idle_connections(engine: sa.Engine, idle_seconds: float) -> None:
    """A pooled connection that sat idle longer than `idle_seconds` is tried with a ping
    before a request gets it; a dead one is replaced, so a database restart during a quiet
    spell costs nobody anything.

    pool_pre_ping would ping on every checkout: a round trip per request, most of them
    on a connection used a few milliseconds earlier. A connection that dies while busy
    fails its statement instead; SQLAlchemy then discards every pooled connection of that
    age, and the request is answered 503 try_again with nothing stored (core.errors).
    """
    dialect = engine.dialect

    @sa.event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool throws this connection away and hands out another.
            raise sa.exc.DisconnectionError(f"idle connection is dead: {exc}") from exc


def _sqlite_transactions(engine: sa.Engine) -> None:
    """Make SQLite behave like a real transactional database.

    pysqlite's own transaction handling breaks SAVEPOINT and defers BEGIN;
    SQLAlchemy's documented fix is to take over BEGIN ourselves. Every
    transaction begins IMMEDIATE: writers queue behind one another (busy
    timeout) instead of failing with "database is locked" halfway through,
    so the optimistic version check decides conflicts as on PostgreSQL.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # Probes that only read must not queue behind a writer (WAL lets them read).
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


#: Execution option for connections that only read (health probes, reports).
READ_ONLY_OPTION = "akta_read_only"


def read_only_connection() -> sa.Connection:
    """A connection for reads that must not wait for SQLite's write lock."""
    return db.engine.connect().execution_options(**{READ_ONLY_OPTION: True})
