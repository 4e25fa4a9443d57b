"""The append-only journal: one row per action or staff read, written with the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, make_transient_to_detached, mapped_column

from akta_service.core.actors import STAFF_ROLES, Actor
from akta_service.core.clock import local_time
from akta_service.core.db import Base, BigIntKey, JsonData, UTCDateTime, db, utcnow


class Journaled(Protocol):
    """What the journal needs of a report (births' BirthReport): its id and version."""

    @property
    def id(self) -> int: ...

    @property
    def version(self) -> int: ...


class JournalEntry(Base):
    """One thing that happened to a report (or in the office), never changed afterwards."""

    __tablename__ = "journal_entries"
    __table_args__ = (sa.Index("ix_journal_entries_report_time", "report_id", "id"),)

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


#: The journal is written with a Core INSERT on its table, not through the ORM's unit of
#: work: an entry never changes, so the session has nothing to track, and the ORM's flush
#: cost several times the insert itself. Entries written in the current transaction are
#: kept in the session's info for :func:`changes_of_new_report`.
_JOURNAL = cast(sa.Table, JournalEntry.__table__)
_INSERT_ENTRY = sa.insert(_JOURNAL).returning(_JOURNAL.c.id)
_WRITTEN = "akta_journal_written"


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
) -> JournalEntry:
    """Append one journal row in the current transaction (written, not committed), after
    what is pending in the session (a new report, a changed version).

    :param read: the row records a read, not a change, of the report.
    """
    values = {
        "report_id": report.id if report is not None else None,
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
    db.session.flush()
    entry = JournalEntry(id=db.session.scalar(_INSERT_ENTRY, values), **values)
    # Into the session as the row it is (persistent, unchanged): no SQL, and the ORM's
    # refusal to update or delete an entry holds for it as for one loaded from the database.
    make_transient_to_detached(entry)
    db.session.add(entry)
    db.session.info.setdefault(_WRITTEN, []).append(entry)
    return entry


@sa.event.listens_for(Session, "after_commit")
@sa.event.listens_for(Session, "after_rollback")
def _forget_written(session: Session) -> None:
    session.info.pop(_WRITTEN, None)


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
