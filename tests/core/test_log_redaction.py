"""A refused row's DETAIL never reaches a log line, and neither do NIKs, phone numbers,
addresses or tokens that a message or a traceback happens to quote."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlalchemy as sa

from akta_service.births.models import BirthReport
from akta_service.core.log_redaction import Redactor, redact
from tests.factories import BirthReportFactory

REPORTS = BirthReport.__table__


def test_a_refused_row_is_logged_without_the_row(
    backend: str, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    report = BirthReportFactory()
    caplog.set_level(logging.ERROR, logger="akta_service.test")
    # PostgreSQL explains a NOT NULL refusal with the whole row: NIKs, names, the phone.
    statement = sa.update(REPORTS).where(REPORTS.c.id == report.id).values(child_name=None)
    with pytest.raises(sa.exc.IntegrityError) as refused, session.begin_nested():
        session.execute(statement)
    if backend == "postgresql":
        assert "Failing row contains" in str(refused.value)  # what there is to hide
    try:
        raise RuntimeError("the report could not be saved") from refused.value
    except RuntimeError:
        logging.getLogger("akta_service.test").exception("report %s not saved", report.id)
    logged = caplog.text
    assert "not saved" in logged  # the fault is still told
    assert "IntegrityError" in logged
    for value in (report.mother_nik, report.father_nik, report.mother_name, report.kk_number):
        assert value not in logged
    assert "Failing row contains (" not in logged
    if backend == "postgresql":
        assert "DETAIL: [redacted]" in logged
    (record,) = [r for r in caplog.records if r.name == "akta_service.test"]
    assert set(record.redacted) <= {"database detail", "database row", "database key"}


def test_a_duplicate_key_is_logged_without_the_key(
    backend: str, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = BirthReportFactory(), BirthReportFactory()
    caplog.set_level(logging.ERROR, logger="akta_service.test")
    statement = (
        sa.update(REPORTS)
        .where(REPORTS.c.id == second.id)
        .values(tracking_code=first.tracking_code)
    )
    try:
        with session.begin_nested():
            session.execute(statement)
    except sa.exc.IntegrityError:
        logging.getLogger("akta_service.test").exception("duplicate")
    else:
        pytest.fail("the duplicate tracking code was accepted")
    assert "duplicate" in caplog.text
    # PostgreSQL: DETAIL:  Key (tracking_code)=(…) already exists.
    assert f"=({first.tracking_code})" not in caplog.text


@pytest.mark.parametrize(
    ("text", "kind", "shown"),
    [
        ("nik 3274014403940101 refused", "a NIK or KK number", "nik [NIK] refused"),
        ("call 081234567890 now", "a phone number", "call [phone] now"),
        ("call +62 812-3456-7890", "a phone number", "call [phone]"),
        ("to dewi.lestari@example.com", "an e-mail address", "to [e-mail]"),
        (
            "Authorization: Bearer abcdefgh12345678",
            "a bearer token",
            "Authorization: Bearer [token]",
        ),
        (
            "token akta_0123456789ab_" + "x" * 43,
            "a facility token",
            "token [token]",
        ),
        (
            "DETAIL:  Key (mother_nik)=(3274014403940101) exists.",
            "database detail",
            "DETAIL: [redacted]",
        ),
        (
            "Key (tracking_code)=(K7QM4XW2PA) already exists.",
            "database key",
            "Key (tracking_code)=[redacted]",
        ),
    ],
)
def test_what_is_redacted(text: str, kind: str, shown: str) -> None:
    found: list[str] = []
    assert redact(text, found) == shown
    assert kind in found


def test_codes_ids_and_dates_are_left_as_they_are() -> None:
    text = "report 12 (K7QM4XW2PA) registered as 3274-LU-01012026-0007 on 2026-01-01 08:30"
    found: list[str] = []
    assert redact(text, found) == text
    assert found == []


def test_the_filter_scrubs_a_record_made_without_the_factory() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "SMS to %s", ("081234567890",), None)
    assert Redactor().filter(record) is True
    assert record.getMessage() == "SMS to [phone]"
    assert record.redacted == ("a phone number",)


def test_a_record_that_cannot_be_formatted_is_still_scrubbed_where_it_can_be() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "count %d", ("many",), None, sinfo="at 081234567890"
    )
    assert Redactor().filter(record) is True
    assert record.stack_info == "at [phone]"
    assert record.redacted == ("a phone number",)
    with pytest.raises(TypeError):
        record.getMessage()  # the handler reports the broken format, as without scrubbing
