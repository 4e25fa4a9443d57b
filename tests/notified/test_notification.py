"""A facility notifies a birth at the bedside; the family completes it through their link."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.births.models import BirthReport, Document
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.jobs import run_job
from akta_service.jobs.queue import run_pending
from akta_service.notifications.models import Delivery, DeliveryChannel, DeliveryStatus
from akta_service.notified.models import NotificationStatus, NotifiedBirth
from tests.conftest import changed_settings
from tests.files import pdf_bytes
from tests.mail import Inbox
from tests.notified.notifying import (
    FAMILY_EMAIL,
    auth,
    days_ago,
    links_in,
    notification_of,
    notify,
)
from tests.parents.conftest import sandbox_report
from tests.parents.form import (
    fill_steps,
    finish_documents,
    form_answers,
    input_tag,
    required_kinds,
    submit,
    text_of,
    upload,
)
from tests.web import STAFF_PASSWORD, sign_in

ADMIN = Actor.system("test admin")
LETTER = pdf_bytes()


@pytest.fixture
def family(app: Flask, session: Any) -> dict[str, Any]:
    return sandbox_report()


def _notice(code: str) -> NotifiedBirth:
    notice = db.session.scalar(sa.select(NotifiedBirth).where(NotifiedBirth.tracking_code == code))
    assert notice is not None
    return notice


def _send_letter(client: FlaskClient, token: str, code: str, content: bytes = LETTER) -> Any:
    return client.post(
        f"/api/v1/notifications/{code}/birth-letter",
        data={"file": (io.BytesIO(content), "skl.pdf")},
        content_type="multipart/form-data",
        headers=auth(token),
    )


def test_a_hospital_notifies_and_the_family_is_told_by_email_and_sms(
    app: Flask,
    client: FlaskClient,
    tokens: dict[str, str],
    family: dict[str, Any],
    smtp: Inbox,
) -> None:
    body = notify(client, tokens["hospital"], notification_of(family))
    assert body["status"] == "notified"
    assert len(body["tracking_code"]) == 10
    assert body["reminders_sent"] == []

    run_pending(app)

    (mail,) = smtp.messages
    assert mail["To"] == FAMILY_EMAIL
    assert body["tracking_code"][:3] in mail["Subject"]
    assert len(links_in(smtp)) == 1
    sms = db.session.scalars(
        sa.select(Delivery).where(
            Delivery.channel == DeliveryChannel.SMS, Delivery.event == "notified_birth.notified"
        )
    ).one()
    assert sms.status == DeliveryStatus.SENT
    assert "tautan" not in sms.body  # the link's secret was erased once sent
    # The link's token is kept only as its hash.
    assert links_in(smtp)[0].rsplit("/", 1)[1] not in str(
        db.session.execute(sa.text("SELECT token_hash FROM notification_links")).all()
    )

    followed = client.get(body["links"]["self"], headers=auth(tokens["hospital"]))
    assert followed.status_code == 200
    assert followed.get_json()["status"] == "notified"
    other = client.get(body["links"]["self"], headers=auth(tokens["midwife"]))
    assert other.status_code == 404
    assert other.get_json()["code"] == "not_found"

    (entry,) = db.session.scalars(
        sa.select(JournalEntry).where(JournalEntry.action == "workflow:notified_birth:notify")
    )
    assert entry.actor_role == "facility"
    assert entry.to_state == "notified"


def test_bad_notifications_are_refused_with_every_field_at_once(
    client: FlaskClient, tokens: dict[str, str], family: dict[str, Any]
) -> None:
    payload = notification_of(family, born=days_ago(-3))
    payload["mother"]["nik"] = "123"
    payload["contact"] = {"phone": None, "email": None}
    payload["child"]["weight_grams"] = 9000
    refused = client.post("/api/v1/notifications", json=payload, headers=auth(tokens["hospital"]))
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    problem = refused.get_json()
    assert problem["code"] == "invalid_input"
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("mother.nik", "nik_length"),
        ("contact.phone", "contact_required"),
        ("child.weight_grams", "weight_grams"),
        ("child.birth_date", "future_birth"),
    }
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotifiedBirth)) == 0

    unknown = client.post(
        "/api/v1/notifications",
        json={**notification_of(family), "kk_number": "3274010101010001"},
        headers=auth(tokens["hospital"]),
    )
    assert unknown.status_code == 422
    assert unknown.get_json()["errors"][0] == {
        "field": "kk_number",
        "code": "unknown",
        "message": unknown.get_json()["errors"][0]["message"],
    }
    anonymous = client.post("/api/v1/notifications", json=notification_of(family))
    assert anonymous.status_code == 401


def test_the_family_completes_the_prefilled_form_with_the_hospitals_letter(
    app: Flask,
    client: FlaskClient,
    tokens: dict[str, str],
    family: dict[str, Any],
    smtp: Inbox,
) -> None:
    body = notify(client, tokens["hospital"], notification_of(family))
    code = body["tracking_code"]
    letter = _send_letter(client, tokens["hospital"], code)
    assert letter.status_code == 201, letter.get_json()
    assert _send_letter(client, tokens["hospital"], code, b"not a file").status_code == 422
    run_pending(app)
    (link,) = links_in(smtp)

    opened = client.get(link)
    assert opened.status_code == 302
    first = client.get(client.get(opened.headers["Location"]).headers["Location"])
    page = first.get_data(as_text=True)
    assert 'value="RSUD Gunung Jati"' in input_tag(page, "f-child-birth_place")
    assert 'value="3100"' in input_tag(page, "f-child-weight_grams")
    assert 'value="SKL/2026/0042"' in input_tag(page, "f-birth_letter_number")

    answers = form_answers(family)
    answers["bayi"]["birth_letter_number"] = "SKL/2026/0042"
    fill_steps(client, answers)
    kinds = required_kinds(client)
    assert "birth_letter" in kinds
    for kind in kinds:
        if kind != "birth_letter":  # the hospital's letter is already there
            assert upload(client, kind, LETTER).status_code == 302
    assert finish_documents(client).status_code == 302
    receipt = submit(client)
    assert text_of(receipt.get_data(as_text=True), "tracking-code").replace("-", "") == code

    notice = _notice(code)
    assert notice.status == NotificationStatus.COMPLETED
    report = db.session.get(BirthReport, notice.report_id)
    assert report is not None
    assert report.tracking_code == code
    assert report.facility_code == "RSUD-GJ"
    assert report.child_name == family["child"]["name"]
    documents = db.session.scalars(sa.select(Document).where(Document.report_id == report.id))
    letters = [d for d in documents if d.kind == "birth_letter"]
    assert [d.sha256 for d in letters] == [notice.birth_letter["sha256"]]  # type: ignore[index]

    followed = client.get(
        f"/api/v1/notifications/{code}", headers=auth(tokens["hospital"])
    ).get_json()
    assert followed["status"] == "completed"
    assert followed["report_status"] == "submitted"
    assert (
        client.get(followed["links"]["report"], headers=auth(tokens["hospital"])).status_code == 200
    )
    # The link has done its work: it opens nothing any more.
    assert client.get(link).status_code == 404
    assert _send_letter(client, tokens["hospital"], code).status_code == 409


def test_opening_the_link_again_keeps_what_the_family_typed(
    app: Flask, client: FlaskClient, tokens: dict[str, str], family: dict[str, Any], smtp: Inbox
) -> None:
    notify(client, tokens["hospital"], notification_of(family))
    run_pending(app)
    (link,) = links_in(smtp)
    client.get(client.get(link).headers["Location"])
    fill_steps(client, {**form_answers(family)})
    other_phone = app.test_client()
    resumed = other_phone.get(other_phone.get(link).headers["Location"])
    assert resumed.headers["Location"].endswith("/lapor/dokumen")


def test_reminders_go_on_their_days_once_each(
    app: Flask, client: FlaskClient, tokens: dict[str, str], family: dict[str, Any], smtp: Inbox
) -> None:
    code = notify(client, tokens["hospital"], notification_of(family, born=days_ago(3)))[
        "tracking_code"
    ]
    run_pending(app)
    assert len(smtp.messages) == 1

    run_job(app, "jobs.sweep", ())
    run_pending(app)
    assert len(smtp.messages) == 1  # day 3: nothing due

    notice = _notice(code)
    notice.birth_date = days_ago(8)
    notice.next_reminder_on = days_ago(1)
    db.session.flush()
    for _ in range(2):
        run_job(app, "jobs.sweep", ())
        run_pending(app)
    assert len(smtp.messages) == 2
    assert "Pengingat" in smtp.messages[1]["Subject"]
    assert "8 hari" in smtp.messages[1].get_payload(decode=True).decode()

    # Day 55: days 30 and 50 both came; one message, for day 50.
    db.session.refresh(notice)
    notice.birth_date = days_ago(55)
    notice.next_reminder_on = days_ago(25)
    db.session.flush()
    run_job(app, "jobs.sweep", ())
    run_pending(app)
    assert len(smtp.messages) == 3
    db.session.refresh(notice)
    assert notice.reminders_sent == [7, 30, 50]
    assert notice.next_reminder_on is None
    # Every reminder's link opens the form.
    for link in links_in(smtp):
        assert client.get(link).status_code == 302


def test_reminder_days_are_a_setting(
    app: Flask, client: FlaskClient, tokens: dict[str, str], family: dict[str, Any], smtp: Inbox
) -> None:
    with changed_settings(app, notification_reminder_days=(2,)):
        notify(client, tokens["hospital"], notification_of(family, born=days_ago(2)))
        run_job(app, "jobs.sweep", ())
        run_pending(app)
    assert len(smtp.messages) == 2


def test_a_notification_never_completed_expires_and_stays(
    app: Flask, client: FlaskClient, tokens: dict[str, str], family: dict[str, Any], smtp: Inbox
) -> None:
    with changed_settings(app, notification_expire_days=60):
        body = notify(client, tokens["hospital"], notification_of(family, born=days_ago(59)))
        run_pending(app)
        run_job(app, "jobs.sweep", ())
        assert _notice(body["tracking_code"]).status == NotificationStatus.NOTIFIED
        notice = _notice(body["tracking_code"])
        notice.birth_date = days_ago(61)
        db.session.flush()
        run_job(app, "jobs.sweep", ())
    db.session.refresh(notice)
    assert notice.status == NotificationStatus.EXPIRED
    assert notice.expired_at is not None
    followed = client.get(body["links"]["self"], headers=auth(tokens["hospital"]))
    assert followed.get_json()["status"] == "expired"
    for link in links_in(smtp):
        assert client.get(link).status_code == 404
    entry = db.session.scalars(
        sa.select(JournalEntry).where(JournalEntry.action == "workflow:notified_birth:expire")
    ).one()
    assert (entry.from_state, entry.to_state, entry.actor_role) == ("notified", "expired", "system")


def test_the_office_sees_open_notifications_oldest_first(
    app: Flask,
    client: FlaskClient,
    tokens: dict[str, str],
    family: dict[str, Any],
) -> None:
    create_user("siti", "Siti Operator", "operator", STAFF_PASSWORD, ["3274"], ADMIN)
    young = notify(client, tokens["hospital"], notification_of(family, born=days_ago(2)))
    old = notify(client, tokens["midwife"], notification_of(family, born=days_ago(20)))
    sign_in(client, "siti")
    page = client.get("/kantor/pemberitahuan").get_data(as_text=True)
    assert page.index(old["tracking_code"]) < page.index(young["tracking_code"])
    assert "Bidan Sri Wahyuni" in page
    queue = client.get("/kantor/antrian").get_data(as_text=True)
    assert 'id="tab-notified"' in queue
    assert db.session.scalars(
        sa.select(JournalEntry).where(JournalEntry.action == "staff:notified_birth:list")
    ).one()
