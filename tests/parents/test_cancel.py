"""Cancelling from the status page: asked to confirm, allowed until an officer approves, refused
clearly afterwards, journalled as the informant's own act."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.births.models import BirthReport, ReportStatus
from akta_service.births.operations import issue_status_pin
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.jobs.queue import run_pending
from akta_service.workflow.engine import fire
from tests.factories import BirthReportFactory
from tests.parents.conftest import sandbox_report
from tests.parents.form import text_of
from tests.parents.reporting import find_report, open_status, report_through_the_form
from tests.web import csrf_token

S = ReportStatus
REFUSED_AFTER_APPROVAL = (
    "Laporan ini sudah disetujui petugas, jadi tidak dapat dibatalkan lagi lewat halaman ini."
)


def _confirm(client: FlaskClient, reason: str = "") -> Any:
    page = client.get("/status/batal").get_data(as_text=True)
    return client.post("/status/batal", data={"csrf_token": csrf_token(page), "reason": reason})


def test_the_parent_cancels_after_confirming(app: Flask, client: FlaskClient, session: Any) -> None:
    code, pin = report_through_the_form(client, sandbox_report("recorded"))
    page = open_status(client, code, pin)
    assert text_of(page, "cancel-link") == "Batalkan laporan"

    asked = client.get("/status/batal")
    assert asked.status_code == 200
    confirmation = asked.get_data(as_text=True)
    assert "Batalkan laporan ini?" in confirmation
    assert "tidak dapat dilanjutkan" in text_of(confirmation, "cancel-warning")
    assert find_report(code).status == S.SUBMITTED  # asking changes nothing

    done = _confirm(client, "Data bayi salah, saya lapor ulang")
    assert done.status_code == 302
    assert done.headers["Location"] == "/status/laporan"
    report = find_report(code)
    assert report.status == S.CANCELLED
    entry = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "cancel"
        )
    ).one()
    assert entry.actor_id == f"informant:{report.tracking_code}"
    assert entry.reason == "Data bayi salah, saya lapor ulang"

    page = client.get("/status/laporan").get_data(as_text=True)
    assert "Laporan dibatalkan." in page
    assert 'id="cancel-link"' not in page
    run_pending(app)  # a cancelled report is not verified any more
    assert find_report(code).status == S.CANCELLED


def test_a_cancel_reason_is_optional(client: FlaskClient, session: Any) -> None:
    code, pin = report_through_the_form(client, sandbox_report("single_mother"))
    open_status(client, code, pin)
    assert _confirm(client).status_code == 302
    report = find_report(code)
    assert report.status == S.CANCELLED
    entry = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "cancel"
        )
    ).one()
    assert entry.reason is None


def test_after_approval_the_button_is_gone_and_a_direct_post_is_refused(
    app: Flask, client: FlaskClient, actors: dict[str, Actor]
) -> None:
    code, pin = report_through_the_form(client, sandbox_report("recorded"))
    page = open_status(client, code, pin)
    token = csrf_token(page)
    run_pending(app)
    fire(find_report(code), "approve", actors["operator"])
    db.session.commit()

    page = client.get("/status/laporan").get_data(as_text=True)
    assert 'id="cancel-link"' not in page
    asked = client.get("/status/batal")
    assert asked.status_code == 409
    assert REFUSED_AFTER_APPROVAL in asked.get_data(as_text=True)
    refused = client.post("/status/batal", data={"csrf_token": token, "reason": "coba"})
    assert refused.status_code == 409
    assert REFUSED_AFTER_APPROVAL in refused.get_data(as_text=True)
    assert find_report(code).status == S.AWAITING_SIGNATURE


def test_an_approval_between_asking_and_confirming_wins(
    app: Flask, client: FlaskClient, actors: dict[str, Actor]
) -> None:
    code, pin = report_through_the_form(client, sandbox_report("recorded"))
    open_status(client, code, pin)
    run_pending(app)
    confirmation = client.get("/status/batal").get_data(as_text=True)
    fire(find_report(code), "approve", actors["operator"])
    db.session.commit()

    refused = client.post("/status/batal", data={"csrf_token": csrf_token(confirmation)})
    assert refused.status_code == 409
    assert REFUSED_AFTER_APPROVAL in refused.get_data(as_text=True)
    assert find_report(code).status == S.AWAITING_SIGNATURE


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (S.SUBMITTED, True),
        (S.VERIFYING, True),
        (S.NEEDS_CORRECTION, True),
        (S.IN_REVIEW, True),
        (S.AWAITING_SIGNATURE, False),
        (S.REGISTERED, False),
        (S.ISSUED, False),
        (S.REJECTED, False),
        (S.CANCELLED, False),
    ],
)
def test_cancelling_is_offered_only_before_approval(
    client: FlaskClient, session: Any, status: ReportStatus, offered: bool
) -> None:
    report = BirthReportFactory(status=status)
    pin = issue_status_pin(report)
    db.session.commit()
    page = open_status(client, report.tracking_code, pin)
    assert ('id="cancel-link"' in page) is offered
    assert client.get("/status/batal").status_code == (200 if offered else 409)


def test_without_the_pin_nothing_is_cancelled(client: FlaskClient, session: Any) -> None:
    report: BirthReport = BirthReportFactory(status=S.IN_REVIEW)
    issue_status_pin(report)
    db.session.commit()
    assert client.get("/status/batal").headers["Location"] == "/status"
    token = csrf_token(client.get("/status").get_data(as_text=True))
    sent = client.post("/status/batal", data={"csrf_token": token})
    assert sent.headers["Location"] == "/status"
    db.session.refresh(report)
    assert report.status == S.IN_REVIEW
