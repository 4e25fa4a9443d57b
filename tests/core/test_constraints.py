"""The database itself keeps a report consistent, whatever SQL reaches it, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from akta_service.births.models import BirthReport, InformantRelation, ReportStatus
from tests.factories import BirthReportFactory

REPORTS = BirthReport.__table__
NUMBER_IFF_REGISTERED = "ck_birth_reports_registration_number_iff_registered"
MOTHER_NIK_DIGITS = "ck_birth_reports_mother_nik_16_digits"
FATHER_TOGETHER = "ck_birth_reports_father_nik_and_name_together"
KNOWN_STATUS = "ck_birth_reports_report_status"
KNOWN_RELATION = "ck_birth_reports_informant_relation"
#: SQLite names the column ("birth_reports.tracking_code"), PostgreSQL the constraint.
UNIQUE_TRACKING_CODE = "tracking_code"


def _row(session: Any, report_id: int) -> dict[str, Any]:
    """The report's row as stored, read with plain SQL (not through the identity map)."""
    return dict(
        session.execute(sa.select(REPORTS).where(REPORTS.c.id == report_id)).mappings().one()
    )


def _refused(
    session: Any, constraint: str, statement: Any, params: dict[str, Any] | None = None
) -> None:
    """Run one statement in a SAVEPOINT; the database must refuse it, naming `constraint`."""
    with pytest.raises(sa.exc.IntegrityError, match=constraint), session.begin_nested():
        session.execute(statement, params or {})


def _update(report_id: int, **values: Any) -> Any:
    return sa.update(REPORTS).where(REPORTS.c.id == report_id).values(**values)


#: UPDATEs written as plain SQL text, past the ORM's types.
SET_STATUS_SQL = sa.text("UPDATE birth_reports SET status = :value WHERE id = :id")
SET_MOTHER_NIK_SQL = sa.text("UPDATE birth_reports SET mother_nik = :value WHERE id = :id")


def test_registered_status_without_registration_number_is_refused(session: Any) -> None:
    report = BirthReportFactory(status=ReportStatus.AWAITING_SIGNATURE)
    before = _row(session, report.id)

    _refused(session, NUMBER_IFF_REGISTERED, _update(report.id, status=ReportStatus.REGISTERED))
    _refused(session, NUMBER_IFF_REGISTERED, SET_STATUS_SQL, {"value": "issued", "id": report.id})

    assert _row(session, report.id) == before


def test_registration_number_on_submitted_report_is_refused(session: Any) -> None:
    report = BirthReportFactory()
    before = _row(session, report.id)

    _refused(
        session,
        NUMBER_IFF_REGISTERED,
        _update(report.id, registration_number="3274-LU-01012026-0001"),
    )

    assert _row(session, report.id) == before
    assert (before["status"], before["registration_number"]) == ("submitted", None)


def test_registering_with_a_number_is_accepted(session: Any) -> None:
    """The rule refuses half a registration, not a registration."""
    report = BirthReportFactory(status=ReportStatus.AWAITING_SIGNATURE)
    _refused(session, NUMBER_IFF_REGISTERED, _update(report.id, status=ReportStatus.REGISTERED))

    session.execute(
        _update(
            report.id,
            status=ReportStatus.REGISTERED,
            registration_number="3274-LU-01012026-0002",
        )
    )

    row = _row(session, report.id)
    assert (row["status"], row["registration_number"]) == ("registered", "3274-LU-01012026-0002")


@pytest.mark.parametrize(
    "nik",
    [
        pytest.param("327401500394001", id="15-digits"),
        pytest.param("32740150039400AB", id="letters"),
        pytest.param("3274 0150039400", id="space"),
    ],
)
def test_malformed_mother_nik_is_refused(session: Any, nik: str) -> None:
    report = BirthReportFactory()
    before = _row(session, report.id)

    _refused(session, MOTHER_NIK_DIGITS, SET_MOTHER_NIK_SQL, {"value": nik, "id": report.id})

    assert _row(session, report.id) == before
    assert len(before["mother_nik"]) == 16


def test_father_nik_without_father_name_is_refused(session: Any) -> None:
    report = BirthReportFactory()
    before = _row(session, report.id)

    _refused(session, FATHER_TOGETHER, _update(report.id, father_name=None))

    assert _row(session, report.id) == before
    assert before["father_name"] == "Agus Setiawan"


def test_unknown_status_is_refused(session: Any) -> None:
    report = BirthReportFactory()
    before = _row(session, report.id)

    # Plain SQL: the ORM's enum would refuse the string before the database sees it.
    _refused(session, KNOWN_STATUS, SET_STATUS_SQL, {"value": "approved", "id": report.id})

    assert _row(session, report.id) == before


def test_an_unknown_informant_relation_is_refused(session: Any) -> None:
    report = BirthReportFactory()
    before = _row(session, report.id)
    relation = sa.text("UPDATE birth_reports SET informant_relation = :value WHERE id = :id")

    _refused(session, KNOWN_RELATION, relation, {"value": "neighbour", "id": report.id})

    assert _row(session, report.id) == before
    assert before["informant_relation"] in {str(r) for r in InformantRelation}


def test_a_refused_statement_does_not_carry_its_parameters(session: Any) -> None:
    """What a refused statement says (and its traceback logs) names no personal data."""
    report = BirthReportFactory()
    secret = "Nama Rahasia Sekali"
    with pytest.raises(sa.exc.IntegrityError) as refused, session.begin_nested():
        session.execute(_update(report.id, father_name=secret, father_nik=None))
    assert secret not in str(refused.value.statement or "")
    assert "hidden due to hide_parameters" in str(refused.value)
    assert secret not in str(refused.value).split("[SQL:")[-1]


def test_two_reports_with_one_tracking_code_are_refused(session: Any) -> None:
    first = BirthReportFactory()
    second = BirthReportFactory()
    first_before, second_before = _row(session, first.id), _row(session, second.id)

    _refused(session, UNIQUE_TRACKING_CODE, _update(second.id, tracking_code=first.tracking_code))
    # The same row again, but for its key and the names the database generates itself.
    written = {c.key for c in REPORTS.c if c.computed is None} - {"id"}
    copy = {k: v for k, v in first_before.items() if k in written}
    _refused(session, UNIQUE_TRACKING_CODE, sa.insert(REPORTS).values(**copy))

    assert _row(session, first.id) == first_before
    assert _row(session, second.id) == second_before
    same_code = sa.select(sa.func.count()).where(REPORTS.c.tracking_code == first.tracking_code)
    assert session.scalar(same_code) == 1


def test_work_goes_on_after_a_refused_statement(session: Any) -> None:
    """A refusal rolls back only its savepoint: the other changes of the transaction stay."""
    report = BirthReportFactory()
    _refused(session, FATHER_TOGETHER, _update(report.id, father_name=None))

    session.execute(_update(report.id, child_name="Aisyah Putri Lestari"))

    assert _row(session, report.id)["child_name"] == "Aisyah Putri Lestari"
