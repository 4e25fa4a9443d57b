"""Submitting a birth report: what the informant gets back, what is refused, and how it is found."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from akta_service.births.codes import ALPHABET, LENGTH, format_tracking_code
from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import (
    get_report_by_tracking_code,
    load_report_input,
    submit_birth_report,
)
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.clock import local_today
from akta_service.core.errors import InvalidInput, NotFound
from tests.conftest import count_journal
from tests.factories import report_payload


def _web_informant(payload: dict[str, Any]) -> Actor:
    """The person on the web form, before they have a tracking code."""
    return Actor(id="informant:web", name=payload["informant"]["name"], role=Role.INFORMANT)


def _submit(payload: dict[str, Any]) -> BirthReport:
    return submit_birth_report(load_report_input(payload), Channel.WEB, _web_informant(payload))


def _count(session: Any, model: type[Any]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model)))


def _errors_of(payload: dict[str, Any]) -> list[dict[str, str]]:
    with pytest.raises(InvalidInput) as caught:
        load_report_input(payload)
    return list(caught.value.to_problem()["errors"])


def test_submit_creates_submitted_report_with_tracking_code(session: Any) -> None:
    payload = report_payload()

    report = _submit(payload)

    assert report.status == ReportStatus.SUBMITTED
    assert report.version == 1
    assert report.region_code == "3274"
    assert len(report.tracking_code) == LENGTH == 10
    assert set(report.tracking_code) <= set(ALPHABET)
    assert report.child_name == payload["child"]["name"]
    assert report.mother_nik == payload["mother"]["nik"]
    assert report.is_late is False


def test_submit_journals_once_as_the_informant(session: Any) -> None:
    payload = report_payload()

    report = _submit(payload)

    assert count_journal(report.id) == 1
    entry = session.scalars(
        sa.select(JournalEntry).where(JournalEntry.report_id == report.id)
    ).one()
    assert entry.action == "workflow:birth_report:submit"
    assert entry.actor_id == f"informant:{report.tracking_code}"
    assert entry.actor_role == "informant"
    assert entry.actor_name == payload["informant"]["name"]
    assert entry.to_state == "submitted"
    assert entry.report_version == report.version == 1


@pytest.mark.parametrize(
    ("days_ago", "late"),
    [
        pytest.param(60, False, id="60-days-on-time"),
        pytest.param(61, True, id="61-days-late"),
    ],
)
def test_birth_older_than_sixty_days_is_late(session: Any, days_ago: int, late: bool) -> None:
    born = local_today() - timedelta(days=days_ago)

    report = _submit(report_payload(**{"child.birth_date": born.isoformat()}))

    assert report.child_birth_date == born
    assert report.is_late is late
    assert ("late" in report.flags) is late


def test_many_problems_are_reported_at_once_and_nothing_is_written(session: Any) -> None:
    tomorrow = local_today() + timedelta(days=1)
    payload = report_payload(
        **{
            "mother.nik": "327401500394010",  # 15 digits
            "child.birth_date": tomorrow.isoformat(),
            "marriage.certificate_number": None,
        }
    )
    payload["nickname"] = "Ais"
    payload["witnesses"] = payload["witnesses"][:1]
    del payload["kk_number"]
    reports_before = _count(session, BirthReport)
    journal_before = _count(session, JournalEntry)

    with pytest.raises(InvalidInput) as caught:
        load_report_input(payload)

    error = caught.value
    assert error.status == 422
    assert error.message == "Data laporan kelahiran belum benar. Perbaiki kolom yang ditandai."
    by_field = {e["field"]: e for e in error.to_problem()["errors"]}
    assert set(by_field) == {
        "mother.nik",
        "child.birth_date",
        "nickname",
        "witnesses",
        "kk_number",
        "marriage.certificate_number",
    }
    assert len(error.to_problem()["errors"]) == 6
    expected = {
        "mother.nik": ("nik_length", "NIK harus 16 angka"),
        "child.birth_date": ("future_birth", "Tanggal lahir bayi tidak boleh di masa depan"),
        "nickname": ("unknown", "Kolom ini tidak dikenal"),
        "witnesses": ("two_witnesses", "Saksi harus tepat dua orang"),
        "marriage.certificate_number": (
            "certificate_required",
            "Nomor buku nikah / akta perkawinan wajib diisi bila perkawinan tercatat",
        ),
    }
    for field, (code, message) in expected.items():
        assert (by_field[field]["code"], by_field[field]["message"]) == (code, message), field
    assert by_field["kk_number"]["message"] == "Wajib diisi"
    assert by_field["kk_number"]["code"] in {"required", "null"}
    # The problem+json body a client gets carries the same list, one member per field error.
    assert error.to_problem()["errors"] == [e.as_problem("id") for e in error.detail["errors"]]
    assert _count(session, BirthReport) == reports_before
    assert _count(session, JournalEntry) == journal_before


def test_missing_field_has_code_required(session: Any) -> None:
    payload = report_payload()
    del payload["kk_number"]

    assert _errors_of(payload) == [
        {"field": "kk_number", "code": "required", "message": "Wajib diisi"}
    ]


def test_future_birth_is_reported_beside_another_child_error(session: Any) -> None:
    tomorrow = local_today() + timedelta(days=1)
    payload = report_payload(**{"child.birth_date": tomorrow.isoformat()})
    payload["child"]["nickname"] = "Ais"

    fields = {e["field"]: e["code"] for e in _errors_of(payload)}

    assert fields == {"child.nickname": "unknown", "child.birth_date": "future_birth"}


def test_nik_typed_with_spaces_is_stored_as_sixteen_digits(session: Any) -> None:
    payload = report_payload()
    nik = payload["mother"]["nik"]
    payload["mother"]["nik"] = f"{nik[:6]} {nik[6:12]} {nik[12:]}"

    report = _submit(payload)

    assert report.mother_nik == nik


@pytest.mark.parametrize(
    ("nik", "code", "message"),
    [
        pytest.param(
            "32740150039400AB", "nik_not_digits", "NIK hanya boleh berisi angka", id="letters"
        ),
        pytest.param(
            "3274010003940101",
            "nik_birth_date",
            "Tanggal lahir di dalam NIK (angka ke-7 s.d. 12) tidak mungkin",
            id="day-00",
        ),
        pytest.param(
            "3274015003940000",
            "nik_serial",
            "Empat angka terakhir NIK tidak boleh 0000",
            id="serial-0000",
        ),
        pytest.param("32740150039400011", "nik_length", "NIK harus 16 angka", id="17-digits"),
    ],
)
def test_nik_structure_errors_have_their_own_codes(
    session: Any, nik: str, code: str, message: str
) -> None:
    errors = _errors_of(report_payload(**{"mother.nik": nik}))

    assert errors == [{"field": "mother.nik", "code": code, "message": message}]


def test_nik_error_names_the_witness_it_belongs_to(session: Any) -> None:
    errors = _errors_of(report_payload(**{"witnesses.1.nik": "3274015003940000"}))

    assert errors == [
        {
            "field": "witnesses.1.nik",
            "code": "nik_serial",
            "message": "Empat angka terakhir NIK tidak boleh 0000",
        }
    ]


def test_report_is_found_by_code_as_people_type_it(session: Any) -> None:
    report = _submit(report_payload())
    typed = format_tracking_code(report.tracking_code).lower()
    assert "-" in typed
    assert typed != report.tracking_code

    found = get_report_by_tracking_code(typed)

    assert found.id == report.id
    assert get_report_by_tracking_code(f" {typed} ").id == report.id


def test_unknown_tracking_code_is_not_found(session: Any) -> None:
    _submit(report_payload())

    with pytest.raises(NotFound) as caught:
        get_report_by_tracking_code("ZZZ-ZZZ-ZZZZ")

    assert caught.value.status == 404
    assert caught.value.message == "Kode pelacakan tidak ditemukan. Periksa kembali kodenya."


def test_tracking_codes_of_many_submissions_are_unique(session: Any) -> None:
    data = load_report_input(report_payload())
    informant = _web_informant(report_payload())

    codes = [submit_birth_report(data, Channel.WEB, informant).tracking_code for _ in range(200)]

    assert len(set(codes)) == 200
    assert all(len(code) == LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert _count(session, BirthReport) == 200


def test_new_report_is_in_the_session_as_stored_and_reads_without_sql(session: Any) -> None:
    """The report is written by a Core INSERT and put into the session as that row
    (core.db.add_loaded_row): if SQLAlchemy stopped taking its values as loaded, reading
    them would ask the database, and a later change would not be saved."""
    report = _submit(report_payload())
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    engine = session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", count)
    written = [column for column in BirthReport.__table__.c if column.computed is None]
    try:
        seen = {column.key: getattr(report, column.key) for column in written}
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    assert sa.inspect(report).persistent
    assert not session.dirty
    stored = session.execute(sa.select(*written).where(BirthReport.id == report.id)).one()
    assert seen == dict(stored._mapping)
    # The names the database keeps for a search are its own, read from it when asked for.
    assert report.search_names == f"{report.child_name}\n{report.mother_name}".lower()

    report.child_name = "Nama Baru"
    session.flush()
    session.expire(report)
    assert (report.child_name, report.version) == ("Nama Baru", 2)
