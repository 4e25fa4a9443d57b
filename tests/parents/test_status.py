"""The status page: code + PIN open a plain-words timeline; wrong PINs, unknown codes and a
locked report all get the same answer; nothing personal without the PIN."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.births.codes import format_tracking_code
from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import (
    issue_status_pin,
    load_report_input,
    submit_birth_report,
)
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db, utcnow
from akta_service.jobs.queue import run_pending
from akta_service.parents.operations import WEB_INFORMANT
from tests.parents.conftest import sandbox_report
from tests.parents.form import text_of
from tests.web import csrf_token

NEUTRAL = "Kode pelacakan atau PIN salah. Periksa kembali keduanya."


def _submitted(report: dict[str, Any]) -> tuple[BirthReport, str]:
    submitted = submit_birth_report(load_report_input(report), Channel.WEB, WEB_INFORMANT)
    pin = issue_status_pin(submitted)
    db.session.commit()
    return submitted, pin


@pytest.fixture
def reported(session: Any) -> tuple[BirthReport, str]:
    return _submitted(sandbox_report("recorded"))


def _open(client: FlaskClient, code: str, pin: str) -> Any:
    form = client.get("/status").get_data(as_text=True)
    return client.post("/status", data={"csrf_token": csrf_token(form), "code": code, "pin": pin})


def _wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def _stage(page: str, key: str) -> str:
    match = re.search(rf'class="stage stage-(\w+)" id="stage-{key}"', page)
    assert match, key
    return match.group(1)


def test_the_right_pin_opens_the_timeline(
    app: Flask, client: FlaskClient, reported: tuple[BirthReport, str]
) -> None:
    report, pin = reported
    code = format_tracking_code(report.tracking_code).lower()  # as a parent may type it
    assert client.get("/status/laporan").headers["Location"].endswith("/status")

    opened = _open(client, code, pin)
    assert opened.status_code == 302
    assert opened.headers["Location"] == "/status/laporan"  # the code is not in the address
    page = client.get("/status/laporan").get_data(as_text=True)
    assert report.child_name in page
    assert [_stage(page, k) for k in ("received", "checked", "officer", "signed", "ready")] == [
        "done",
        "current",
        "todo",
        "todo",
        "todo",
    ]
    assert "Sedang diperiksa" in page

    run_pending(app)  # verification against the sandbox passes
    page = client.get("/status/laporan").get_data(as_text=True)
    assert _stage(page, "checked") == "done"
    assert _stage(page, "officer") == "current"
    assert "Menunggu petugas memeriksa laporan Anda" in page
    reads = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id,
            JournalEntry.action == "public:birth_report:status_read",
        )
    ).all()
    assert len(reads) == 2

    closed = client.post("/status/keluar", data={"csrf_token": csrf_token(page)})
    assert closed.status_code == 302
    assert client.get("/status/laporan").status_code == 302


def test_a_wrong_pin_and_an_unknown_code_get_the_same_answer(
    client: FlaskClient, reported: tuple[BirthReport, str]
) -> None:
    report, pin = reported
    wrong_pin = _open(client, report.tracking_code, _wrong(pin))
    unknown = _open(client, "ZZZ-ZZZ-ZZZZ", pin)
    for response in (wrong_pin, unknown):
        assert response.status_code == 401
        page = response.get_data(as_text=True)
        assert NEUTRAL in text_of(page, "status-error")
        assert report.child_name not in page
    assert text_of(wrong_pin.get_data(True), "status-error") == text_of(
        unknown.get_data(True), "status-error"
    )
    assert client.get("/status/laporan").status_code == 302


def test_five_wrong_pins_lock_the_report_for_15_minutes(
    client: FlaskClient, reported: tuple[BirthReport, str]
) -> None:
    report, pin = reported
    version = report.version
    for _ in range(5):
        page = _open(client, report.tracking_code, _wrong(pin)).get_data(as_text=True)
        assert NEUTRAL in text_of(page, "status-error")
    db.session.refresh(report)
    assert report.pin_locked_until is not None
    assert timedelta(minutes=14) < report.pin_locked_until - utcnow() <= timedelta(minutes=15)
    assert report.version == version  # guesses are not changes a clerk would conflict with

    locked = _open(client, report.tracking_code, pin)
    assert locked.status_code == 401
    assert NEUTRAL in text_of(locked.get_data(True), "status-error")

    report.pin_locked_until = utcnow() - timedelta(seconds=1)  # fifteen minutes later
    db.session.commit()
    assert _open(client, report.tracking_code, pin).status_code == 302
    db.session.refresh(report)
    assert report.pin_failures == 0


def test_guessing_at_one_code_is_rate_limited(client: FlaskClient, session: Any) -> None:
    answers = [_open(client, "ABC-DEF-GHJK", "123456").status_code for _ in range(11)]
    assert answers[:10] == [401] * 10  # ten attempts an hour per report (AKTA_REPORT_RATE_LIMIT)
    assert answers[10] == 429
    refused = _open(client, "abc def ghjk", "123456")  # however the code is typed
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    page = refused.get_data(as_text=True)
    assert "Terlalu banyak percobaan" in page
    assert "Coba lagi setelah pukul" in page
    # Another code from the same device (the same address) is still checked.
    assert _open(client, "XYZ-DEF-GHJK", "123456").status_code == 401


def test_a_report_that_needs_correction_says_what_to_fix(
    app: Flask, client: FlaskClient, session: Any
) -> None:
    data = sandbox_report("recorded")
    data["mother"]["name"] = "Nama Yang Lain Sekali"
    report, pin = _submitted(data)
    run_pending(app)
    _open(client, report.tracking_code, pin)
    page = client.get("/status/laporan").get_data(as_text=True)
    assert _stage(page, "checked") == "attention"
    assert text_of(page, "reasons-title") == "Yang perlu diperbaiki"
    assert text_of(page, "reasons") == "Nama ibu tidak sesuai data Dukcapil; tulis nama sesuai KTP."


def test_the_status_page_speaks_english_too(
    client: FlaskClient, reported: tuple[BirthReport, str]
) -> None:
    report, pin = reported
    client.get("/status?lang=en")
    _open(client, report.tracking_code, pin)
    page = client.get("/status/laporan").get_data(as_text=True)
    assert "Checked with Dukcapil records" in page
    assert "Report received" in page
