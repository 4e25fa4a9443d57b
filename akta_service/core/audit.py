"""The append-only journal: one row per action or staff read, written with the change.

The journal is tamper-evident: every entry carries the hash of the entry before it in its
chain (`prev_hash`) and its own hash over its fields and that one (`entry_hash`). A
report's entries form one chain; an entry without a report chains with the others of its
realm, the first two parts of its action tag ("office:user", "staff:dashboard"), named in
`chain`. Entries written before the chains existed carry no hash; a chain starts at its
first hashed entry. `core.journal_verify` walks the chains, `core.journal_seal` signs
their heads once a day.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from akta_service.core.actors import STAFF_ROLES, Actor
from akta_service.core.clock import local_time
from akta_service.core.db import (
    Base,
    BigIntKey,
    JsonData,
    UTCDateTime,
    add_loaded_row,
    db,
    utcnow,
)


class Journaled(Protocol):
    """What the journal needs of a report (births' BirthReport): its id and version."""

    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...


class JournalEntry(Base):
    """One thing that happened to a report (or in the office), never changed afterwards."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        sa.Index("ix_journal_entries_report_time", "report_id", "id"),
        sa.Index(
            "ix_journal_entries_chain",
            "chain",
            "id",
            postgresql_where=sa.text("chain IS NOT NULL"),
            sqlite_where=sa.text("chain IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    report_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("birth_reports.id", ondelete="RESTRICT")
    )
    #: Tag shaped source:subject:action, e.g. "workflow:birth_report:approve".
    action: Mapped[str] = mapped_column(sa.String(80))
    trigger: Mapped[str | None] = mapped_column(sa.String(40))
    from_state: Mapped[str | None] = mapped_column(sa.String(30))
    to_state: Mapped[str | None] = mapped_column(sa.String(30))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    actor_id: Mapped[str] = mapped_column(sa.String(80))
    actor_name: Mapped[str] = mapped_column(sa.String(200))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    #: The report's version after this action (None for reads and office events).
    report_version: Mapped[int | None] = mapped_column(sa.Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The realm whose chain an entry without a report belongs to; None for a report's.
    chain: Mapped[str | None] = mapped_column(sa.String(80))
    #: The entry_hash of the entry before this one in its chain; None for a chain's first.
    prev_hash: Mapped[str | None] = mapped_column(sa.String(64))
    #: SHA-256 over the entry's fields and prev_hash (None: written before the chains).
    entry_hash: Mapped[str | None] = mapped_column(sa.String(64))

    def __repr__(self) -> str:
        return (
            f"<JournalEntry {self.id} report={self.report_id} {self.action} "
            f"{self.from_state}->{self.to_state} by {self.actor_id}>"
        )

    @property
    def by_staff(self) -> bool:
        """Whether a member of the office staff did this."""
        return self.actor_role in STAFF_ROLES

    def describe(self) -> str:
        """One line a clerk can read: who, as what, when."""
        return f"{self.actor_name} ({self.actor_role}) pada {local_time(self.occurred_at)}"


@sa.event.listens_for(JournalEntry, "before_update")
@sa.event.listens_for(JournalEntry, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: JournalEntry) -> None:
    raise PermissionError(f"journal entries are append-only: {target!r}")


#: The fields an entry's hash covers, in the order they are serialised.
HASHED_FIELDS = (
    "chain",
    "report_id",
    "action",
    "trigger",
    "from_state",
    "to_state",
    "reason",
    "data",
    "actor_id",
    "actor_name",
    "actor_role",
    "report_version",
    "occurred_at",
    "prev_hash",
)


def entry_digest(values: dict[str, Any]) -> str:
    """The SHA-256 (hex) of an entry: a compact JSON array of its fields in HASHED_FIELDS
    order (keys of `data` sorted, ASCII only, the time in ISO 8601 UTC), tagged "v1"."""
    canonical = json.dumps(
        ["v1", *[values[name] for name in HASHED_FIELDS]],
        sort_keys=True,
        separators=(",", ":"),
        default=datetime.isoformat,  # occurred_at, the one field JSON has no type for
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def chain_of(report_id: int | None, action: str) -> str | None:
    """The realm chain of an entry without a report; None for a report's entries."""
    return None if report_id is not None else action.rsplit(":", 1)[0]


def chain_key(report_id: int | None, chain: str | None) -> str:
    """The name of a chain: "report:<id>" or the realm."""
    return f"report:{report_id}" if report_id is not None else str(chain)


#: The journal is written with a Core INSERT on its table, not through the ORM's unit of
#: work: an entry never changes, so the session has nothing to track, and the ORM's flush
#: cost several times the insert itself. Entries written in the current transaction are
#: kept in the session's info for :func:`changes_of_new_report`.
_JOURNAL = cast(sa.Table, JournalEntry.__table__)
_INSERT_ENTRY = sa.insert(_JOURNAL).returning(_JOURNAL.c.id)
_WRITTEN = "akta_journal_written"
#: The head (entry_hash) of each chain this transaction appended to: the next entry of the
#: chain needs no query. Forgotten at every commit and rollback, a savepoint's included.
_HEADS = "akta_journal_heads"
_LAST_OF_REPORT = (
    sa.select(_JOURNAL.c.entry_hash)
    .where(_JOURNAL.c.report_id == sa.bindparam("report_id"))
    .order_by(_JOURNAL.c.id.desc())
    .limit(1)
)
_LAST_OF_REALM = (
    sa.select(_JOURNAL.c.entry_hash)
    .where(_JOURNAL.c.chain == sa.bindparam("chain"))
    .order_by(_JOURNAL.c.id.desc())
    .limit(1)
)
#: Two transactions appending to one chain at once would both chain to the same head (a
#: fork): on PostgreSQL the appender holds a lock on the chain's name until it commits.
#: (A report's changes also lock its row through the version check, but staff reads of
#: it do not.) SQLite lets one writer in at a time (BEGIN IMMEDIATE), so needs nothing.
_LOCK_CHAIN = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")


def _chain_head(session: Session, key: str, report_id: int | None, chain: str | None) -> str | None:
    """The entry_hash of the newest entry of the chain, read under the chain's lock."""
    heads: dict[str, str | None] = session.info[_HEADS]
    if key in heads:
        return heads[key]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_CHAIN, {"key": key})
    if report_id is not None:
        return session.scalar(_LAST_OF_REPORT, {"report_id": report_id})
    return session.scalar(_LAST_OF_REALM, {"chain": chain})


def record(
    action: str,
    actor: Actor,
    *,
    report: Journaled | None = None,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    read: bool = False,
    starts_chain: bool = False,
) -> JournalEntry:
    """Append one journal row in the current transaction (written, not committed), after
    what is pending in the session (a new report, a changed version).

    :param read: the row records a read, not a change, of the report.
    :param starts_chain: the row is for a report created in this transaction, so its chain
        has no head in the database to look up (only what this transaction wrote).
    """
    report_id = report.id if report is not None else None
    chain = chain_of(report_id, action)
    values = {
        "chain": chain,
        "report_id": report_id,
        "action": action,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "reason": reason,
        "data": data or {},
        "actor_id": actor.id,
        "actor_name": actor.name,
        "actor_role": str(actor.role),
        "report_version": report.version if report is not None and not read else None,
        "occurred_at": utcnow(),
    }
    session = db.session()
    session.flush()
    key = chain_key(report_id, chain)
    heads: dict[str, str | None] = session.info.setdefault(_HEADS, {})
    values["prev_hash"] = (
        heads.get(key) if starts_chain else _chain_head(session, key, report_id, chain)
    )
    values["entry_hash"] = heads[key] = entry_digest(values)
    # Into the session as the row it is (persistent, unchanged): no SQL, and the ORM's
    # refusal to update or delete an entry holds for it as for one loaded from the database.
    # On the session's connection: a Core INSERT needs none of the ORM's execution.
    entry_id = session.connection().scalar(_INSERT_ENTRY, values)
    entry = add_loaded_row(session, JournalEntry, {"id": entry_id, **values})
    session.info.setdefault(_WRITTEN, []).append(entry)
    return entry


@sa.event.listens_for(Session, "after_commit")
@sa.event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    session.info.pop(_HEADS, None)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_heads(session: Session, _previous: Any) -> None:
    # A savepoint rolled back may have taken entries with it: read the heads again.
    session.info.pop(_HEADS, None)


def record_read(report: Journaled, actor: Actor, what: str = "report") -> JournalEntry:
    """Journal a staff member's read of a report's personal data."""
    return record("staff:birth_report:read", actor, report=report, data={"what": what}, read=True)


def _changes_of(report_id: int) -> sa.Select[Any]:
    return sa.select(JournalEntry).where(
        JournalEntry.report_id == report_id, JournalEntry.report_version.is_not(None)
    )


def changes(report_id: int) -> list[JournalEntry]:
    """Every journal entry that changed the report (reads excluded), oldest first."""
    return list(db.session.scalars(_changes_of(report_id).order_by(JournalEntry.id)))


def changes_of_new_report(report: Journaled) -> list[JournalEntry]:
    """:func:`changes` for a report created in the current transaction, without a query:
    every entry it has was written in this transaction."""
    return [
        entry
        for entry in db.session.info.get(_WRITTEN, [])
        if entry.report_id == report.id and entry.report_version is not None
    ]


def latest_change(report_id: int, session: Session | None = None) -> JournalEntry | None:
    """The newest journal entry that changed the report (reads excluded).

    :param session: where to read; the request's session by default.
    """
    return (
        (session or db.session)
        .scalars(_changes_of(report_id).order_by(JournalEntry.id.desc()).limit(1))
        .first()
    )
