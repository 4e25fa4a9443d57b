"""The journal is append-only, in the ORM and in the database; reads are journalled too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry, latest_change, record, record_read
from tests.conftest import count_journal
from tests.factories import BirthReportFactory, report_payload

ENTRIES = JournalEntry.__table__


def _stored(session: Any, entry_id: int) -> dict[str, Any] | None:
    """The journal row as stored, read with plain SQL (not through the identity map)."""
    row = session.execute(sa.select(ENTRIES).where(ENTRIES.c.id == entry_id)).mappings().first()
    return dict(row) if row is not None else None


def _in_savepoint(session: Any, change: Callable[[], object]) -> None:
    """Make a change and flush it inside a SAVEPOINT, so a refusal leaves the test going."""
    with session.begin_nested():
        change()
        session.flush()


@pytest.fixture
def entry(session: Any, actors: dict[str, Actor]) -> JournalEntry:
    report = BirthReportFactory()
    return record(
        "workflow:birth_report:start_verification",
        actors["system"],
        report=report,
        trigger="start_verification",
        from_state="submitted",
        to_state="verifying",
        data={"checks": 7},
    )


def test_orm_update_of_an_entry_is_refused(session: Any, entry: JournalEntry) -> None:
    before = _stored(session, entry.id)

    def tamper() -> None:
        entry.reason = "diubah belakangan"
        entry.to_state = "registered"

    with pytest.raises(PermissionError, match="append-only"):
        _in_savepoint(session, tamper)

    assert _stored(session, entry.id) == before
    session.refresh(entry)
    assert (entry.reason, entry.to_state) == (None, "verifying")


def test_orm_delete_of_an_entry_is_refused(session: Any, entry: JournalEntry) -> None:
    before = _stored(session, entry.id)

    with pytest.raises(PermissionError, match="append-only"):
        _in_savepoint(session, lambda: session.delete(entry))

    assert _stored(session, entry.id) == before
    assert count_journal(entry.report_id) == 1


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            lambda entry_id: (
                sa.update(ENTRIES)
                .where(ENTRIES.c.id == entry_id)
                .values(actor_id="user:999", reason="dihapus jejaknya")
            ),
            id="core-update",
        ),
        pytest.param(
            lambda entry_id: sa.delete(ENTRIES).where(ENTRIES.c.id == entry_id),
            id="core-delete",
        ),
        pytest.param(
            lambda entry_id: sa.text(
                "UPDATE journal_entries SET action = 'x:y:z' WHERE id = :id"
            ).bindparams(id=entry_id),
            id="text-update",
        ),
        pytest.param(
            lambda entry_id: sa.text("DELETE FROM journal_entries WHERE id = :id").bindparams(
                id=entry_id
            ),
            id="text-delete",
        ),
        pytest.param(lambda _entry_id: sa.text("DELETE FROM journal_entries"), id="delete-all"),
    ],
)
def test_database_refuses_to_change_the_journal(
    session: Any, entry: JournalEntry, statement: Callable[[int], Any]
) -> None:
    before = _stored(session, entry.id)

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(statement(entry.id))

    assert _stored(session, entry.id) == before


def test_journal_can_still_be_appended_after_a_refusal(
    session: Any, entry: JournalEntry, actors: dict[str, Actor]
) -> None:
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.delete(ENTRIES).where(ENTRIES.c.id == entry.id))
    report = session.get(BirthReport, entry.report_id)

    record_read(report, actors["operator"])

    assert count_journal(report.id) == 2


def test_staff_read_is_journalled_without_a_version(session: Any, actors: dict[str, Actor]) -> None:
    report = BirthReportFactory()
    operator = actors["operator"]

    read = record_read(report, operator, what="documents")

    stored = _stored(session, read.id)
    assert stored is not None
    assert stored["action"] == "staff:birth_report:read"
    assert stored["report_id"] == report.id
    assert stored["report_version"] is None
    assert stored["actor_id"] == operator.id
    assert stored["actor_role"] == "operator"
    assert stored["actor_name"] == operator.name
    assert stored["data"] == {"what": "documents"}
    assert count_journal(report.id) == 1


def test_latest_change_skips_reads(session: Any, actors: dict[str, Actor]) -> None:
    payload = report_payload()
    informant = Actor.informant("web", payload["informant"]["name"])
    report = submit_birth_report(load_report_input(payload), Channel.WEB, informant)
    submitted = latest_change(report.id)
    assert submitted is not None

    read = record_read(report, actors["operator"])
    record_read(report, actors["pejabat"], what="documents")

    change = latest_change(report.id)
    assert change is not None
    assert change.id == submitted.id != read.id
    assert change.action == "workflow:birth_report:submit"
    assert change.report_version == 1
    assert count_journal(report.id) == 3


def test_latest_change_is_none_when_the_report_was_only_read(
    session: Any, actors: dict[str, Actor]
) -> None:
    report = BirthReportFactory()
    record_read(report, actors["viewer"])

    assert latest_change(report.id) is None
