"""Messages leave for real: a local SMTP server (aiosmtpd) and a local webhook receiver."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from akta_service.core.actors import Actor
from akta_service.core.db import db, utcnow
from akta_service.core.sweep import sweep
from akta_service.facilities.operations import create_facility, set_webhook
from akta_service.jobs.queue import run_pending
from akta_service.notifications.models import Delivery, DeliveryChannel, DeliveryStatus
from akta_service.notifications.operations import MAX_ATTEMPTS, deliver
from akta_service.workflow.engine import fire
from tests.factories import BirthReportFactory, report_payload
from tests.mail import Inbox, local_smtp
from tests.services import free_port

ADMIN = Actor.system("test")


class _Receiver:
    """A facility's webhook endpoint: records each POST, answers with the next status."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/akta"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    server = _Receiver()
    try:
        yield server
    finally:
        server.close()


def _deliveries(channel: DeliveryChannel) -> list[Delivery]:
    return list(
        db.session.scalars(
            sa.select(Delivery).where(Delivery.channel == channel).order_by(Delivery.id)
        )
    )


def _submit_with_email(email: str = "ibu.dewi@example.id") -> Any:
    from akta_service.births.models import Channel
    from akta_service.births.operations import load_report_input, submit_birth_report
    from akta_service.core.actors import Role

    payload = report_payload(**{"informant.email": email})
    informant = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)
    return submit_birth_report(load_report_input(payload), Channel.WEB, informant)


def test_the_informant_gets_an_email_in_indonesian(app: Flask, session: Any, smtp: Inbox) -> None:
    report = _submit_with_email()
    db.session.commit()
    run_pending(app)  # delivers the receipt, and verifies: this made-up family is unknown
    assert len(smtp.messages) == 2
    message = smtp.messages[0]
    assert message["To"] == "ibu.dewi@example.id"
    assert message["Subject"].startswith("Laporan kelahiran diterima")
    body = message.get_payload(decode=True).decode()
    assert report.tracking_code[:3] in body
    assert "telah kami terima" in body
    correction = smtp.messages[1]
    assert "perlu diperbaiki" in correction["Subject"]
    assert "tidak terdaftar di Dukcapil" in correction.get_payload(decode=True).decode()
    emails = _deliveries(DeliveryChannel.EMAIL)
    assert [e.status for e in emails] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert all(e.sent_at is not None for e in emails)


def test_a_correction_request_tells_what_to_fix(
    app: Flask, session: Any, smtp: Inbox, actors: dict[str, Actor]
) -> None:
    report = BirthReportFactory(status="in_review", informant_email="ayah@example.id")
    fire(report, "request_correction", actors["operator"], reason="Foto KK tidak terbaca")
    db.session.commit()
    run_pending(app)
    (message,) = smtp.messages
    assert "perlu diperbaiki" in message["Subject"]
    assert "Foto KK tidak terbaca" in message.get_payload(decode=True).decode()


def test_no_message_for_a_change_that_did_not_happen(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    report = BirthReportFactory(status="in_review", informant_email="ayah@example.id")
    with pytest.raises(Exception, match="Alasan"):
        fire(report, "request_correction", actors["operator"], reason="")
    assert _deliveries(DeliveryChannel.EMAIL) == []


def test_smtp_down_is_retried_later(app: Flask, session: Any) -> None:
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(
        original, smtp_url=f"smtp://127.0.0.1:{free_port()}"
    )
    try:
        _submit_with_email()
        db.session.commit()
        run_pending(app)
    finally:
        app.config["AKTA_SETTINGS"] = original
    email, _correction = _deliveries(DeliveryChannel.EMAIL)
    assert email.status == DeliveryStatus.PENDING
    assert email.attempts == 1
    assert "SMTP" in (email.last_error or "")
    assert email.next_attempt_at is not None
    assert email.next_attempt_at > utcnow()


def test_a_refused_recipient_is_recorded_without_the_address(app: Flask, session: Any) -> None:
    with local_smtp(app, refuse_recipients=True) as inbox:
        _submit_with_email()
        db.session.commit()
        run_pending(app)
    assert inbox.messages == []
    email, _correction = _deliveries(DeliveryChannel.EMAIL)
    assert email.status == DeliveryStatus.PENDING  # tried again later
    assert "SMTPRecipientsRefused" in (email.last_error or "")
    assert "ibu.dewi@example.id" not in (email.last_error or "")
    assert "[e-mail]" in (email.last_error or "")


def test_a_facility_webhook_is_signed_and_retried_until_it_lands(
    app: Flask, session: Any, receiver: _Receiver, actors: dict[str, Actor]
) -> None:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", ADMIN)
    secret = set_webhook("RSUD-GJ", receiver.url, ADMIN)
    assert secret
    report = BirthReportFactory(status="in_review", facility_code="RSUD-GJ")
    receiver.answers = [500]  # the facility's system is briefly down
    fire(report, "approve", actors["operator"])
    db.session.commit()
    run_pending(app)

    (hook,) = _deliveries(DeliveryChannel.WEBHOOK)
    assert hook.status == DeliveryStatus.PENDING
    assert hook.attempts == 1
    assert hook.last_result == "5xx"

    hook.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert sweep() >= 1
    db.session.commit()
    run_pending(app)
    db.session.refresh(hook)
    assert hook.status == DeliveryStatus.SENT
    assert hook.attempts == 2
    assert hook.last_status_code == 200

    assert len(receiver.requests) == 2
    headers, body = receiver.requests[-1]
    expected = hmac.new(
        secret.encode(), headers["X-Akta-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert headers["X-Akta-Signature"] == f"sha256={expected}"
    event = json.loads(body)
    assert event["event_id"] == headers["X-Akta-Event-Id"]
    assert event["event"] == "birth_report.awaiting_signature"
    assert event["data"]["tracking_code"] == report.tracking_code
    assert event["data"]["previous_status"] == "in_review"
    first_headers, _ = receiver.requests[0]
    assert first_headers["X-Akta-Event-Id"] == headers["X-Akta-Event-Id"]  # same event, retried


def test_a_webhook_that_never_answers_ends_failed_in_the_log(
    app: Flask, session: Any, receiver: _Receiver, actors: dict[str, Actor]
) -> None:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", ADMIN)
    set_webhook("RSUD-GJ", receiver.url, ADMIN)
    report = BirthReportFactory(status="in_review", facility_code="RSUD-GJ")
    receiver.answers = [503] * MAX_ATTEMPTS
    fire(report, "approve", actors["operator"])
    db.session.flush()
    (hook,) = _deliveries(DeliveryChannel.WEBHOOK)
    outcomes = [deliver(hook.id) for _ in range(MAX_ATTEMPTS)]
    assert outcomes[-1] == "failed"
    assert outcomes[:-1] == ["retry"] * (MAX_ATTEMPTS - 1)
    assert hook.status == DeliveryStatus.FAILED
    assert deliver(hook.id) == "failed"  # nothing more is sent
    assert len(receiver.requests) == MAX_ATTEMPTS
