"""When the akta is issued: the status page shows the child's NIK and the registration number,
and the parent who opened it with the PIN downloads the signed PDF; nobody else does."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.akta.operations import current_akta
from akta_service.births.models import ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.nik import parse_nik
from akta_service.jobs.queue import run_pending
from akta_service.regions.models import Region
from akta_service.workflow.engine import fire
from tests.conftest import sign_as
from tests.mail import Inbox
from tests.parents.conftest import sandbox_report
from tests.parents.form import text_of
from tests.parents.reporting import find_report, open_status, report_through_the_form, stage
from tests.web import csrf_token

S = ReportStatus


def _through_the_office(app: Flask, code: str, actors: dict[str, Actor]) -> None:
    """Verification, the operator's approval, the pejabat's signature, the issue job."""
    run_pending(app)
    report = find_report(code)
    assert report.status == S.IN_REVIEW
    fire(report, "approve", actors["operator"])
    sign_as(report)
    db.session.commit()
    run_pending(app)
    assert find_report(code).status == S.ISSUED


def test_the_parent_sees_the_nik_and_downloads_the_signed_akta(
    app: Flask, client: FlaskClient, officer: Region, actors: dict[str, Actor], smtp: Inbox
) -> None:
    email = "ibu@example.id"
    code, pin = report_through_the_form(client, sandbox_report("recorded"), email=email)
    page = open_status(client, code, pin)
    early = client.get("/status/akta.pdf")
    assert early.status_code == 404
    assert "Akta belum terbit" in early.get_data(as_text=True)
    assert 'id="akta-download"' not in page

    _through_the_office(app, code, actors)
    report = find_report(code)
    assert report.child_nik is not None
    page = client.get("/status/laporan").get_data(as_text=True)
    assert stage(page, "ready") == "done"
    assert text_of(page, "child-nik") == report.child_nik
    assert parse_nik(report.child_nik).matches_birth_date(report.child_birth_date)
    assert text_of(page, "registration-number") == report.registration_number
    assert text_of(page, "akta-download") == "Unduh akta (PDF)"

    pdf = client.get("/status/akta.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == (
        f'attachment; filename="akta-kelahiran-{report.registration_number}.pdf"'
    )
    assert pdf.headers["X-Content-Type-Options"] == "nosniff"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert pdf.data.startswith(b"%PDF")
    document = current_akta(report)
    assert document is not None
    assert hashlib.sha256(pdf.data).hexdigest() == document.sha256  # the signed one, as issued
    downloads = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id,
            JournalEntry.action == "public:birth_report:akta_download",
        )
    ).all()
    assert len(downloads) == 1
    assert downloads[0].actor_id == f"informant:{report.tracking_code}"
    assert downloads[0].data == {"version": 1, "sha256": document.sha256}

    # The family was told at each step that matters, in Indonesian, by e-mail.
    subjects = [m["Subject"] for m in smtp.messages if m["To"] == email]
    assert subjects == [
        f"Laporan kelahiran diterima ({code})",
        f"Laporan kelahiran disetujui, menunggu tanda tangan ({code})",
        f"Akta kelahiran sudah terbit ({code})",
    ]
    issued = smtp.messages[-1].get_payload(decode=True).decode()
    assert report.registration_number in issued
    assert report.child_nik in issued
    assert "http://127.0.0.1:5000/status" in issued


def test_another_session_without_the_pin_gets_nothing(
    app: Flask, client: FlaskClient, officer: Region, actors: dict[str, Actor]
) -> None:
    code, pin = report_through_the_form(client, sandbox_report("single_mother"))
    _through_the_office(app, code, actors)
    report = find_report(code)

    stranger = app.test_client()
    answer = stranger.get("/status/akta.pdf")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/status"
    assert not answer.data.startswith(b"%PDF")
    page = stranger.get("/status/laporan")
    assert page.status_code == 302
    assert report.child_nik not in stranger.get("/status").get_data(as_text=True)

    open_status(client, code, pin)  # the family itself does get it
    assert client.get("/status/akta.pdf").data.startswith(b"%PDF")
    page = client.get("/status/laporan").get_data(as_text=True)
    client.post("/status/keluar", data={"csrf_token": csrf_token(page)})
    assert client.get("/status/akta.pdf").status_code == 302  # closed: gone again
