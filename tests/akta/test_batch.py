"""Batch signing: one passphrase and one TOTP code sign many reports; the preview shows
the akta as it will be issued; a failed report keeps its place and its number."""

from __future__ import annotations

import copy
import io
import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.batch import MAX_BATCH, PENDING_NUMBER, preview_pdf, sign_batch
from akta_service.akta.models import SigningAuthorisation
from akta_service.akta.operations import ISSUE_JOB, akta_pdf, current_akta, issue_akta, trust_root
from akta_service.akta.signing import validate_pdf
from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.errors import InvalidInput
from akta_service.verification.client import HttpDukcapil
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.workflow.engine import fire
from tests.conftest import SIGNING_OFFICERS, clear_wrong_passphrases, with_signing_identity
from tests.factories import BirthReportFactory
from tests.services import SigningServer
from tests.web import STAFF_PASSWORD, csrf_token, next_code, sign_in

S = ReportStatus
INFORMANT = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)
PASSPHRASE = SIGNING_OFFICERS["pj1"].passphrase


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    people = {
        "siti": create_user("siti", "Siti Operator", "operator", STAFF_PASSWORD, ["3274"], _t()),
        "ahmad": create_user("ahmad", "Ahmad Pejabat", "pejabat", STAFF_PASSWORD, ["3274"], _t()),
    }
    with_signing_identity(people["ahmad"], "pj1")
    db.session.commit()
    return people


def _t() -> Actor:
    return Actor.system("test")


def _awaiting(staff: dict[str, User], count: int) -> list[BirthReport]:
    """Reports of real sandbox families, verified and approved by the operator."""
    population = dukcapil().population  # type: ignore[attr-defined]
    families = population.sample_families(count, "recorded", region="3274")
    reports = []
    for family in families:
        payload = copy.deepcopy(family["example_report"])
        report = submit_birth_report(load_report_input(payload), Channel.WEB, INFORMANT)
        assert verify_report(report.id) == "pass_verification"
        fire(report, "approve", staff["siti"].as_actor())
        reports.append(report)
    db.session.commit()
    return reports


def _batch_form(client: FlaskClient, reports: list[BirthReport], **form: Any) -> Any:
    page = client.get("/kantor/tanda-tangan").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "report": [str(r.id) for r in reports], **form}
    return client.post("/kantor/tanda-tangan", data=data)


def _issue_all(app: Flask) -> list[str]:
    pending = [args for name, args in app.extensions["akta_jobs"].pending if name == ISSUE_JOB]
    app.extensions["akta_jobs"].pending.clear()
    return [issue_akta(*args) for args in pending]


def _journal(report: BirthReport, trigger: str) -> list[JournalEntry]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry).where(
                JournalEntry.report_id == report.id, JournalEntry.trigger == trigger
            )
        )
    )


def _issued_with_its_one_number(app: Flask, report: BirthReport, number: str) -> None:
    """Signed again, the report is issued under the number it had: `sign` ran once."""
    assert _issue_all(app) == ["issued"]
    db.session.refresh(report)
    assert report.status == S.ISSUED
    assert report.registration_number == number
    assert current_akta(report).registration_number == number  # type: ignore[union-attr]
    assert len(_journal(report, "sign")) == 1  # one number, taken once


def test_one_passphrase_and_one_code_sign_and_issue_the_whole_batch(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    reports = _awaiting(staff, 3)
    sign_in(client, "ahmad")
    page = client.get("/kantor/tanda-tangan").get_data(as_text=True)
    for report in reports:
        assert report.child_name in page
        assert f"/kantor/laporan/{report.tracking_code}/pratinjau-akta.png" in page
    assert 'name="passphrase"' in page
    assert 'name="code"' in page

    code = next_code(app, "ahmad")
    response = _batch_form(client, reports, passphrase=PASSPHRASE, code=code)
    assert response.status_code == 302
    status_url = response.headers["Location"]
    status = client.get(status_url).get_data(as_text=True)
    assert status.count('<td data-label="Status">ditandatangani</td>') == 3
    assert 'http-equiv="refresh"' in status  # the page follows the issue steps

    # One authorisation covers the batch: every report waits with the same one.
    sealed = {db.session.get(SigningAuthorisation, r.id).sealed for r in reports}  # type: ignore[union-attr]
    assert len(sealed) == 1
    assert _issue_all(app) == ["issued"] * 3

    status = client.get(status_url).get_data(as_text=True)
    assert status.count('<td data-label="Status">terbit</td>') == 3
    assert 'http-equiv="refresh"' not in status
    numbers = set()
    for report in reports:
        db.session.refresh(report)
        assert report.status == S.ISSUED
        numbers.add(report.registration_number)
        assert report.registration_number in status
        (signed,) = _journal(report, "sign")  # each signature its own journal entry
        assert signed.actor_id == staff["ahmad"].as_actor().id
        document = current_akta(report)
        assert document is not None
        assert document.signer_name == "Ahmad Pejabat"
    assert len(numbers) == 3
    validation = validate_pdf(
        akta_pdf(current_akta(reports[0])),  # type: ignore[arg-type]
        trust_root("3274", app.config["AKTA_SETTINGS"]),
    )
    assert validation.trusted
    assert validation.signer == "Pejabat pj1"


def test_more_than_fifty_are_refused_and_nothing_moves(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    reports = [BirthReportFactory(status="awaiting_signature") for _ in range(MAX_BATCH + 1)]
    db.session.commit()
    sign_in(client, "ahmad")
    response = _batch_form(
        client, reports, passphrase=PASSPHRASE, code=next_code(client.application, "ahmad")
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "paling banyak 50 laporan; Anda memilih 51" in text
    assert text.count("checked") == MAX_BATCH + 1  # the choice is kept to trim
    for report in reports:
        db.session.refresh(report)
        assert report.status == S.AWAITING_SIGNATURE
        assert report.registration_number is None
    with pytest.raises(InvalidInput) as refused:
        sign_batch(staff["ahmad"], reports, PASSPHRASE, "000000")
    assert refused.value.reason == "signing_batch_too_large"


@pytest.mark.parametrize("wrong", ["passphrase", "code"])
def test_a_wrong_passphrase_or_code_moves_nothing(
    app: Flask,
    client: FlaskClient,
    staff: dict[str, User],
    signing_server: SigningServer,
    wrong: str,
) -> None:
    reports = [BirthReportFactory(status="awaiting_signature") for _ in range(3)]
    db.session.commit()
    sign_in(client, "ahmad")
    good = {"passphrase": PASSPHRASE, "code": next_code(app, "ahmad")}
    typed = {**good, wrong: "bukan-passphrase-ahmad" if wrong == "passphrase" else "000000"}
    response = _batch_form(client, reports, **typed)
    text = response.get_data(as_text=True)
    assert response.status_code in (401, 403)
    if wrong == "passphrase":
        assert "Passphrase tanda tangan elektronik salah" in text
        clear_wrong_passphrases(signing_server)
    else:
        assert re.search(r'role="alert"[^>]*>[^<]*kode', text, re.I)
    assert "bukan-passphrase-ahmad" not in text
    for report in reports:
        db.session.refresh(report)
        assert report.status == S.AWAITING_SIGNATURE
        assert report.registration_number is None
        assert not _journal(report, "sign")
        assert db.session.get(SigningAuthorisation, report.id) is None
    assert not app.extensions["akta_jobs"].pending


def test_a_report_that_fails_keeps_its_place_and_number_and_is_signed_again(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    failing, fine = _awaiting(staff, 2)
    sign_in(client, "ahmad")
    response = _batch_form(
        client, [failing, fine], passphrase=PASSPHRASE, code=next_code(app, "ahmad")
    )
    status_url = response.headers["Location"]
    app.extensions["akta_jobs"].pending.clear()
    down = HttpDukcapil("http://127.0.0.1:9", attempts=1, connect_timeout=0.2, read_timeout=0.2)
    assert issue_akta(failing.id, down) == "dukcapil_unavailable"
    assert issue_akta(fine.id) == "issued"
    db.session.commit()

    status = client.get(status_url).get_data(as_text=True)
    line = re.search(rf'id="line-{failing.tracking_code}".*?</tr>', status, re.S)
    assert line
    assert "gagal" in line.group(0)
    assert "Dukcapil tidak dapat dihubungi" in line.group(0)
    assert status.index(failing.child_name) < status.index(fine.child_name)  # its place
    db.session.refresh(failing)
    number = failing.registration_number
    assert failing.status == S.REGISTERED
    assert number

    # It is offered again, says it has its number, and signing it takes no new one.
    page = client.get("/kantor/tanda-tangan").get_data(as_text=True)
    assert f"sudah bernomor {number}" in page
    assert fine.child_name not in page
    response = _batch_form(client, [failing], passphrase=PASSPHRASE, code=next_code(app, "ahmad"))
    assert response.status_code == 302
    _issued_with_its_one_number(app, failing, number)
    again = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == failing.id,
            JournalEntry.action == "akta:birth_report:sign_again",
        )
    ).all()
    assert len(again) == 1
    assert "terbit" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_preview_shows_the_akta_as_it_will_be_issued(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    (report,) = _awaiting(staff, 1)
    sign_in(client, "ahmad")
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert f'src="/kantor/laporan/{report.tracking_code}/pratinjau-akta.png"' in page
    picture = client.get(f"/kantor/laporan/{report.tracking_code}/pratinjau-akta.png")
    assert picture.status_code == 200
    assert picture.content_type == "image/png"
    assert picture.data.startswith(b"\x89PNG")

    text = _text(preview_pdf(report, staff["ahmad"]))
    assert report.child_name.upper() in text
    assert report.mother_name.upper() in text
    assert PENDING_NUMBER in text
    assert "AHMAD PEJABAT" in text  # the officer who will sign
    journal = db.session.scalars(
        sa.select(JournalEntry.data).where(JournalEntry.report_id == report.id)
    ).all()
    assert {"what": "akta preview"} in journal, journal  # the read is journalled

    report.child_nik = "3274015501260001"  # once the 3-in-1 gave it (a failed signing after)
    assert "3274015501260001" in _text(preview_pdf(report, staff["ahmad"])).replace(" ", "")


def _text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_report_held_by_another_clerk_keeps_its_place_and_the_others_are_signed(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    held, free = _awaiting(staff, 2)
    held.assigned_to_id = staff["siti"].id
    db.session.commit()
    sign_in(client, "ahmad")
    response = _batch_form(
        client, [held, free], passphrase=PASSPHRASE, code=next_code(app, "ahmad")
    )
    status = client.get(response.headers["Location"]).get_data(as_text=True)
    line = re.search(rf'id="line-{held.tracking_code}".*?</tr>', status, re.S)
    assert line
    assert "gagal: Laporan ini sedang ditangani petugas lain" in line.group(0)
    db.session.refresh(held)
    db.session.refresh(free)
    assert held.status == S.AWAITING_SIGNATURE
    assert held.registration_number is None
    assert free.status == S.REGISTERED


def test_nothing_chosen_is_refused_and_others_cannot_see_a_batch_or_a_preview(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    (report,) = _awaiting(staff, 1)
    sign_in(client, "ahmad")
    response = _batch_form(client, [], passphrase=PASSPHRASE, code="000000")
    assert response.status_code == 422
    assert "Pilih minimal satu laporan" in response.get_data(as_text=True)
    assert client.get("/kantor/tanda-tangan/bukan-batch").status_code == 404
    elsewhere = BirthReportFactory(status="awaiting_signature", region_code="3673")
    issued = BirthReportFactory(status="in_review")
    db.session.commit()
    for other in (elsewhere, issued):
        assert (
            client.get(f"/kantor/laporan/{other.tracking_code}/pratinjau-akta.png").status_code
            == 404
        )
    assert report.status == S.AWAITING_SIGNATURE


def test_an_empty_list_says_there_is_nothing_to_sign(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    sign_in(client, "ahmad")
    page = client.get("/kantor/tanda-tangan").get_data(as_text=True)
    assert "Tidak ada laporan yang menunggu tanda tangan Anda." in page


def test_an_expired_authorisation_is_signed_again_from_the_report_page_keeping_its_number(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    (report,) = _awaiting(staff, 1)
    sign_in(client, "ahmad")
    _batch_form(client, [report], passphrase=PASSPHRASE, code=next_code(app, "ahmad"))
    app.extensions["akta_jobs"].pending.clear()
    db.session.refresh(report)
    number = report.registration_number
    assert number
    # The pejabat's authorisation runs out before the issue step (the sweep's retry) uses it.
    waiting = db.session.get(SigningAuthorisation, report.id)
    assert waiting is not None
    waiting.expires_at = waiting.created_at - timedelta(minutes=1)
    db.session.commit()
    assert issue_akta(report.id) == "authorisation_missing"
    db.session.commit()

    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert "otorisasi tanda tangan sudah tidak berlaku sebelum akta diterbitkan" in page
    assert f"Nomor akta {number} tetap" in page
    form = re.search(r'<form[^>]*id="sign-again".*?</form>', page, re.S)
    assert form, "no way to sign again on the report page"
    assert 'name="passphrase"' in form.group(0)
    assert 'name="code"' in form.group(0)
    listing = client.get("/kantor/tanda-tangan").get_data(as_text=True)
    assert f'id="expired-{report.tracking_code}"' in listing

    response = client.post(
        "/kantor/tanda-tangan",
        data={
            "csrf_token": csrf_token(page),
            "report": str(report.id),
            "passphrase": PASSPHRASE,
            "code": next_code(app, "ahmad"),
        },
    )
    assert response.status_code == 302
    _issued_with_its_one_number(app, report, number)
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert 'id="sign-again"' not in page
