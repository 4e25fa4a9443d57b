"""The informant is told at each step that matters: e-mail through a real SMTP server on this
machine, SMS through the gateway whose default writes to the log; Indonesian texts with the
tracking code. The receipt carries the PIN, which does not stay in the outbox afterwards."""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.jobs.queue import run_pending
from akta_service.notifications.models import Delivery, DeliveryChannel, DeliveryStatus
from akta_service.notifications.operations import MAX_ATTEMPTS, deliver
from akta_service.workflow.engine import fire
from tests.factories import BirthReportFactory
from tests.mail import Inbox
from tests.parents.conftest import sandbox_report
from tests.parents.form import text_of
from tests.parents.reporting import (
    find_report,
    open_status,
    post_page_form,
    report_through_the_form,
    with_wrong_mother_name,
)
from tests.services import free_port
from tests.web import csrf_token

EMAIL = "keluarga.santoso@example.id"
ERASED = "[isi dihapus setelah terkirim]"


def _body(message: Any) -> str:
    return str(message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8"))


def _mail_to(smtp: Inbox, subject_start: str) -> Any:
    found = [
        m for m in smtp.messages if m["To"] == EMAIL and m["Subject"].startswith(subject_start)
    ]
    assert len(found) == 1, [m["Subject"] for m in smtp.messages]
    return found[0]


def _sms_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "akta_service.notifications" and r.getMessage().startswith("SMS ")
    ]


def _sms_texts(report_id: int) -> list[str]:
    """The SMS texts of the outbox (the log gateway notes only that each was sent)."""
    return [d.body for d in _deliveries(report_id) if d.channel == DeliveryChannel.SMS]


def _deliveries(report_id: int) -> list[Delivery]:
    return list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.report_id == report_id).order_by(Delivery.id)
        )
    )


@pytest.fixture
def sms_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="akta_service.notifications")
    return caplog


def test_the_receipt_carries_the_pin_which_then_leaves_the_outbox(
    app: Flask, client: FlaskClient, smtp: Inbox, sms_log: pytest.LogCaptureFixture
) -> None:
    family = sandbox_report("recorded")
    code, pin = report_through_the_form(client, family, email=EMAIL)
    report = find_report(code)
    queued = [d for d in _deliveries(report.id) if d.event == "birth_report.submitted"]
    assert {d.channel for d in queued} == {DeliveryChannel.EMAIL, DeliveryChannel.SMS}
    assert all(d.body_is_secret and pin in d.body for d in queued)

    run_pending(app)
    receipt = _mail_to(smtp, "Laporan kelahiran diterima")
    assert receipt["Subject"] == f"Laporan kelahiran diterima ({code})"
    assert pin not in receipt["Subject"]
    text = _body(receipt)
    assert text.startswith(f"Yth. {report.informant_name},")
    assert f"kode pelacakan {code}" in text
    assert f"PIN halaman status: {pin}" in text
    assert "Jangan berikan PIN kepada siapa pun" in text

    for delivery in _deliveries(report.id):
        db.session.refresh(delivery)
        assert delivery.status == DeliveryStatus.SENT
        assert pin not in delivery.body
    assert [d.body for d in _deliveries(report.id) if d.body_is_secret] == [ERASED, ERASED]

    # The log gateway notes each SMS by its delivery, never the number or the text.
    sms_ids = [d.id for d in _deliveries(report.id) if d.channel == DeliveryChannel.SMS]
    lines = _sms_lines(sms_log)
    assert sms_ids
    assert all(any(f"SMS delivery {i} " in line for line in lines) for i in sms_ids), lines
    assert all(
        pin not in record.getMessage() and family["informant"]["phone"] not in record.getMessage()
        for record in sms_log.records
    )


def test_a_correction_is_asked_for_and_its_receipt_confirmed(
    app: Flask, client: FlaskClient, smtp: Inbox, sms_log: pytest.LogCaptureFixture
) -> None:
    family = sandbox_report("recorded")
    code, pin = report_through_the_form(client, with_wrong_mother_name(family), email=EMAIL)
    run_pending(app)

    asked = _body(_mail_to(smtp, "Laporan kelahiran perlu diperbaiki"))
    assert f"(kode {code})" in asked
    assert "Nama ibu tidak sesuai data Dukcapil; tulis nama sesuai KTP." in asked
    assert "http://127.0.0.1:5000/status" in asked
    report = find_report(code)
    sms = [text for text in _sms_texts(report.id) if "perlu diperbaiki" in text]
    assert len(sms) == 1
    assert code in sms[0]
    assert "http://127.0.0.1:5000/status" in sms[0]
    # Only secrets are erased: the rest stays as the delivery log.
    kept = [d for d in _deliveries(report.id) if d.event == "birth_report.needs_correction"]
    assert all("perlu diperbaiki" in d.body and not d.body_is_secret for d in kept)

    open_status(client, code, pin)
    fixed = post_page_form(
        client,
        "/status/perbaiki",
        "/status/perbaiki",
        {"action": "send", "mother.name": family["mother"]["name"]},
    )
    assert fixed.status_code == 302
    run_pending(app)
    again = _body(_mail_to(smtp, "Perbaikan laporan kelahiran diterima"))
    assert f"(kode {code})" in again
    assert any("diperiksa lagi" in text and code in text for text in _sms_texts(report.id))
    receipts = [m for m in smtp.messages if m["Subject"].startswith("Laporan kelahiran diterima")]
    assert len(receipts) == 1  # a correction is not a new report


def test_a_cancelled_report_is_confirmed(
    app: Flask, client: FlaskClient, smtp: Inbox, sms_log: pytest.LogCaptureFixture
) -> None:
    code, pin = report_through_the_form(client, sandbox_report("recorded"), email=EMAIL)
    open_status(client, code, pin)
    page = client.get("/status/batal").get_data(as_text=True)
    client.post("/status/batal", data={"csrf_token": csrf_token(page), "reason": "Salah isi"})
    run_pending(app)
    cancelled = _body(_mail_to(smtp, "Laporan kelahiran dibatalkan"))
    assert f"(kode {code})" in cancelled
    assert "Alasan yang ditulis: Salah isi" in cancelled
    assert "Bila Anda tidak membatalkannya" in cancelled
    texts = _sms_texts(find_report(code).id)
    assert any("dibatalkan" in text and code in text for text in texts)


def test_a_rejection_says_why(
    app: Flask, session: Any, smtp: Inbox, actors: dict[str, Actor], sms_log: Any
) -> None:
    report = BirthReportFactory(status="in_review", informant_email=EMAIL)
    reason = "Kelahiran ini sudah tercatat dengan akta 3274-LU-01012026-0007."
    fire(report, "reject", actors["operator"], reason=reason)
    db.session.commit()
    run_pending(app)
    rejected = _mail_to(smtp, "Laporan kelahiran ditolak")
    assert reason in _body(rejected)
    assert any("tidak dapat diproses" in text for text in _sms_texts(report.id))


def test_a_pin_message_that_never_goes_out_is_erased_too(
    app: Flask, client: FlaskClient, session: Any
) -> None:
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(
        original,
        smtp_url=f"smtp://127.0.0.1:{free_port()}",  # nobody listens there
    )
    try:
        code, pin = report_through_the_form(client, sandbox_report("recorded"), email=EMAIL)
        report = find_report(code)
        (email,) = [
            d
            for d in _deliveries(report.id)
            if d.channel == DeliveryChannel.EMAIL and d.body_is_secret
        ]
        assert pin in email.body
        outcomes = [deliver(email.id) for _ in range(MAX_ATTEMPTS)]
    finally:
        app.config["AKTA_SETTINGS"] = original
    assert outcomes[-1] == "failed"
    assert email.status == DeliveryStatus.FAILED
    assert email.body == "[isi dihapus: pengiriman gagal]"
    assert "SMTP" in (email.last_error or "")


def test_a_family_whose_birth_a_hospital_reported_asks_for_a_pin_and_opens_the_status(
    app: Flask, client: FlaskClient, smtp: Inbox, sms_log: pytest.LogCaptureFixture
) -> None:
    from akta_service.births.models import Channel
    from akta_service.births.operations import load_report_input, submit_birth_report

    family = sandbox_report("recorded")
    family["informant"]["email"] = EMAIL
    report = submit_birth_report(
        load_report_input(family), Channel.FACILITY_API, Actor.system("rs"), None
    )
    db.session.commit()
    code = report.tracking_code
    run_pending(app)
    receipt = _body(_mail_to(smtp, "Laporan kelahiran diterima"))
    # No PIN yet: the receipt says how to get one.
    assert "minta PIN" in receipt
    assert "/status/pin" in receipt

    def ask(for_code: str) -> str:
        form = client.get("/status/pin").get_data(as_text=True)
        answer = client.post("/status/pin", data={"csrf_token": csrf_token(form), "code": for_code})
        assert answer.status_code == 200
        return text_of(answer.get_data(as_text=True), "pin-sent")

    neutral = ask("ZZZ-ZZZ-ZZZZ")  # an unknown code gets the very same answer
    assert ask(code.lower()) == neutral
    run_pending(app)
    message = _mail_to(smtp, "PIN halaman status")
    pin = re.search(r"PIN baru: (\d{6})", _body(message))
    assert pin
    assert [d.body for d in _deliveries(report.id) if d.event == "birth_report.pin"] == [
        ERASED,
        ERASED,
    ]  # e-mail and SMS both sent, and their text erased
    assert all(pin.group(1) not in record.getMessage() for record in sms_log.records)

    form = client.get("/status").get_data(as_text=True)
    opened = client.post(
        "/status", data={"csrf_token": csrf_token(form), "code": code, "pin": pin.group(1)}
    )
    assert opened.headers["Location"].endswith("/status/laporan")

    for _ in range(2):
        ask(code)
    refused = client.post(
        "/status/pin",
        data={"csrf_token": csrf_token(client.get("/status/pin").get_data(True)), "code": code},
    )
    assert refused.status_code == 429  # three new PINs an hour per report, no more
