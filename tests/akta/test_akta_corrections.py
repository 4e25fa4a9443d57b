"""Corrections a parent or a facility asks for: requested with a reason and a document,
checked by an operator in its own queue tab, signed by the pejabat in a batch, issued as a
new version with the same number while the old one reads superseded."""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.corrections import (
    CorrectionAlreadyOpen,
    CorrectionDecided,
    decide_akta_correction,
    request_akta_correction,
)
from akta_service.akta.models import AktaCorrectionRequest, AktaDocument, CorrectionStatus
from akta_service.akta.operations import (
    ISSUE_JOB,
    akta_pdf,
    akta_versions,
    current_akta,
    issue_akta,
)
from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.errors import IllegalTransition, InvalidInput, PermissionDenied
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.queue import run_pending
from akta_service.workflow.engine import fire
from tests.conftest import SIGNING_OFFICERS, with_signing_identity
from tests.files import pdf_bytes
from tests.parents.conftest import sandbox_report
from tests.parents.reporting import find_report, open_status, report_through_the_form
from tests.web import STAFF_PASSWORD, csrf_token, next_code, sign_in

S = ReportStatus
PASSPHRASE = SIGNING_OFFICERS["pj1"].passphrase
NEW_MOTHER_NAME = "Siti Nurhaliza Rahmawati"


def _t() -> Actor:
    return Actor.system("test")


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    people = {
        "siti": create_user("siti", "Siti Operator", "operator", STAFF_PASSWORD, ["3274"], _t()),
        "rina": create_user("rina", "Rina Operator", "operator", STAFF_PASSWORD, ["3274"], _t()),
        "ahmad": create_user("ahmad", "Ahmad Pejabat", "pejabat", STAFF_PASSWORD, ["3274"], _t()),
    }
    with_signing_identity(people["ahmad"], "pj1")
    db.session.commit()
    return people


def _issued_through_the_form(app: Flask, parent: FlaskClient, staff: dict[str, User]) -> str:
    """A parent reports on the form; the office verifies, approves, signs, issues."""
    code, pin = report_through_the_form(parent, sandbox_report("recorded"))
    run_pending(app)
    report = find_report(code)
    assert report.status == S.IN_REVIEW
    fire(report, "approve", staff["siti"].as_actor())
    from akta_service.akta.operations import authorise_issue

    authorise_issue(report, staff["ahmad"], PASSPHRASE)
    fire(report, "sign", staff["ahmad"].as_actor())
    db.session.commit()
    run_pending(app)
    assert find_report(code).status == S.ISSUED
    open_status(parent, code, pin)
    return code


def _request_on_the_status_page(parent: FlaskClient, **fields: Any) -> Any:
    page = parent.get("/status/perbaikan-akta")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    data = {
        "csrf_token": csrf_token(html),
        "mother_name": NEW_MOTHER_NAME,
        "reason": "Nama ibu salah ketik; yang benar seperti di buku nikah.",
        "kind": "marriage_certificate",
        "file": (io.BytesIO(pdf_bytes()), "buku-nikah.pdf"),
        **fields,
    }
    return parent.post("/status/perbaikan-akta", data=data, content_type="multipart/form-data")


def _journal(report: BirthReport, action: str) -> list[JournalEntry]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry).where(
                JournalEntry.report_id == report.id, JournalEntry.action == action
            )
        )
    )


def _office(app: Flask, username: str) -> FlaskClient:
    office = app.test_client()
    assert sign_in(office, username) == 302
    return office


def _decide(office: FlaskClient, code: str, request_id: int, decision: str, reason: str) -> Any:
    page = office.get(f"/kantor/laporan/{code}").get_data(as_text=True)
    return office.post(
        f"/kantor/laporan/{code}/akta/permohonan/{request_id}",
        data={"csrf_token": csrf_token(page), "decision": decision, "reason": reason},
        follow_redirects=True,
    )


def test_a_parents_request_is_checked_signed_in_a_batch_and_supersedes_the_old_version(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    code = _issued_through_the_form(app, client, staff)
    report = find_report(code)
    old_mother = report.mother_name
    first = current_akta(report)
    assert first is not None
    page = client.get("/status/laporan").get_data(as_text=True)
    assert 'id="akta-correction-link"' in page

    sent = _request_on_the_status_page(client)
    assert sent.status_code == 302
    page = client.get("/status/laporan").get_data(as_text=True)
    assert "menunggu pemeriksaan petugas" in page
    assert NEW_MOTHER_NAME in page
    assert 'id="akta-correction-link"' not in page  # one request at a time
    asked = db.session.scalar(sa.select(AktaCorrectionRequest))
    assert asked is not None
    assert asked.changes == {"mother_name": NEW_MOTHER_NAME}
    assert find_report(code).mother_name == old_mother  # nothing changes before the signature
    (requested,) = _journal(report, "akta:birth_report:request_correction")
    assert requested.data["changes"] == {
        "before": {"mother_name": old_mother},
        "after": {"mother_name": NEW_MOTHER_NAME},
    }

    # The operator's own tab lists it; the report page shows before and after.
    operator = _office(app, "siti")
    queue = operator.get("/kantor/antrian?tab=akta_correction").get_data(as_text=True)
    assert re.search(
        r'id="tab-akta_correction">Permohonan perbaikan akta \(<span class="count">1<', queue
    )
    assert report.tracking_code in queue
    review = operator.get(f"/kantor/laporan/{code}").get_data(as_text=True)
    assert "Menunggu pemeriksaan operator" in review
    assert old_mother in review
    assert NEW_MOTHER_NAME in review
    decided = _decide(operator, code, asked.id, "approve", "Sesuai buku nikah.")
    assert "menunggu tanda tangan pejabat" in decided.get_data(as_text=True)

    # The pejabat signs it in a batch like any other report.
    pejabat = _office(app, "ahmad")
    batch = pejabat.get("/kantor/tanda-tangan").get_data(as_text=True)
    assert f"perbaikan akta {report.registration_number}" in batch
    preview = pejabat.get(f"/kantor/laporan/{code}/pratinjau-akta.png")
    assert preview.status_code == 200
    signed = pejabat.post(
        "/kantor/tanda-tangan",
        data={
            "csrf_token": csrf_token(batch),
            "report": [str(report.id)],
            "passphrase": PASSPHRASE,
            "code": next_code(app, "ahmad"),
        },
    )
    assert signed.status_code == 302
    status_url = signed.headers["Location"]
    signing = pejabat.get(status_url).get_data(as_text=True)
    assert '<td data-label="Status">ditandatangani</td>' in signing
    assert (ISSUE_JOB, (report.id,)) in app.extensions["akta_jobs"].pending
    run_pending(app)
    issued = pejabat.get(status_url).get_data(as_text=True)
    assert '<td data-label="Status">terbit</td>' in issued

    db.session.expire_all()
    report = find_report(code)
    assert report.mother_name == NEW_MOTHER_NAME
    old, new = akta_versions(report)
    assert (old.version, new.version) == (1, 2)
    assert old.superseded_at is not None
    assert new.superseded_at is None
    assert new.registration_number == old.registration_number == report.registration_number
    assert new.signer_name == "Ahmad Pejabat"
    text = " ".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(akta_pdf(new))).pages)
    assert NEW_MOTHER_NAME.upper() in text
    assert "Perbaikan ke-1" in text
    db.session.refresh(asked)
    assert asked.status == CorrectionStatus.ISSUED
    assert asked.akta_document_id == new.id
    (corrected,) = _journal(report, "akta:birth_report:correct")
    assert corrected.data["changes"] == {
        "before": {"mother_name": old_mother},
        "after": {"mother_name": NEW_MOTHER_NAME},
    }
    assert corrected.data["request_id"] == asked.id
    assert corrected.data["superseded_version"] == 1

    # The old version's public page says it is superseded and links the one in force.
    public = client.get(f"/verifikasi/{old.verification_token}").get_data(as_text=True)
    assert "Versi ini sudah tidak berlaku" in public
    assert new.verification_token in public
    # The parent reads it and downloads the new version.
    page = client.get("/status/laporan").get_data(as_text=True)
    assert "akta perbaikan sudah terbit" in page
    assert 'id="akta-correction-link"' in page  # another request may follow
    download = client.get("/status/akta.pdf")
    assert download.status_code == 200
    assert download.data == akta_pdf(new)


def test_a_refusal_says_why_to_the_parent_and_a_second_clerk_is_told_who_decided(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    code = _issued_through_the_form(app, client, staff)
    assert _request_on_the_status_page(client).status_code == 302
    asked = db.session.scalar(sa.select(AktaCorrectionRequest))
    assert asked is not None
    siti, rina = _office(app, "siti"), _office(app, "rina")

    # Both clerks have the page open; a refusal needs a reason.
    no_reason = _decide(siti, code, asked.id, "refuse", " ")
    assert "Alasan wajib diisi" in no_reason.get_data(as_text=True)
    rina_page = rina.get(f"/kantor/laporan/{code}").get_data(as_text=True)
    refused = _decide(siti, code, asked.id, "refuse", "Buku nikah yang diunggah tidak terbaca.")
    assert "Permohonan ditolak" in refused.get_data(as_text=True)
    late = rina.post(
        f"/kantor/laporan/{code}/akta/permohonan/{asked.id}",
        data={"csrf_token": csrf_token(rina_page), "decision": "approve", "reason": ""},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "sudah diputuskan lebih dulu oleh Siti Operator: Ditolak" in late
    db.session.refresh(asked)
    assert asked.status == CorrectionStatus.REFUSED
    assert asked.decided_by_id == staff["siti"].id

    page = client.get("/status/laporan").get_data(as_text=True)
    assert "ditolak" in page
    assert "Buku nikah yang diunggah tidak terbaca." in page
    assert 'id="akta-correction-link"' in page  # the parent may ask again
    report = find_report(code)
    assert len(akta_versions(report)) == 1
    assert "perbaikan akta" not in _office(app, "ahmad").get("/kantor/tanda-tangan").get_data(
        as_text=True
    )


def test_the_request_form_says_what_to_fix_and_keeps_what_was_typed(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    code = _issued_through_the_form(app, client, staff)
    report = find_report(code)
    unchanged = _request_on_the_status_page(
        client, mother_name=report.mother_name, reason="", file=(io.BytesIO(b""), "")
    )
    assert unchanged.status_code == 422
    html = unchanged.get_data(as_text=True)
    assert "Tidak ada data yang diubah" in html
    assert "Alasan wajib diisi" in html
    assert "Unggah dokumen pendukung perbaikan" in html
    order = _request_on_the_status_page(client, child_birth_order="dua", reason="Anak kedua")
    assert order.status_code == 422
    assert 'value="dua"' in order.get_data(as_text=True)
    not_a_document = _request_on_the_status_page(
        client, file=(io.BytesIO(b"<html>bukan dokumen</html>"), "nikah.pdf")
    )
    assert not_a_document.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AktaCorrectionRequest)) == 0


def test_only_an_issued_akta_takes_a_request_one_at_a_time_and_an_operator_decides(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any, actors: Any
) -> None:
    code = _issued_through_the_form(app, client, staff)
    report = find_report(code)
    informant = Actor.informant(report.tracking_code, report.informant_name)
    upload = ("kk", pdf_bytes())
    first = request_akta_correction(
        report, {"child_name": "Nama Baru"}, "Salah ketik", informant, upload=upload
    )
    with pytest.raises(CorrectionAlreadyOpen):
        request_akta_correction(
            report, {"child_birth_place": "Kuningan"}, "Lain", informant, upload=upload
        )
    with pytest.raises(InvalidInput) as wrong:
        decide_akta_correction(first, False, "", staff["siti"])
    assert wrong.value.reason == "reason_missing"
    with pytest.raises(PermissionDenied):
        decide_akta_correction(first, True, "", staff["ahmad"])  # the pejabat signs, not checks
    decide_akta_correction(first, True, "", staff["siti"])
    with pytest.raises(CorrectionDecided):
        decide_akta_correction(first, False, "terlambat", staff["rina"])

    other_code, _pin = report_through_the_form(app.test_client(), sandbox_report("recorded", 1))
    pending = find_report(other_code)
    with pytest.raises(IllegalTransition):
        request_akta_correction(pending, {"child_name": "X"}, "r", informant, upload=upload)


def test_a_facility_requests_a_correction_through_the_api_and_reads_the_decision(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", _t())
    token = issue_credential("RSUD-GJ", _t()).token
    code = _issued_through_the_form(app, client, staff)
    report = find_report(code)
    report.facility_code = "RSUD-GJ"
    db.session.commit()
    base = f"/api/v1/births/{report.tracking_code}"

    def call(method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}
        return client.open(base + path, method=method, headers=headers, **kwargs)

    uploaded = call(
        "POST",
        "/documents",
        data={"kind": "birth_letter", "file": (io.BytesIO(pdf_bytes()), "s.pdf")},
    )
    assert uploaded.status_code == 201
    document_id = uploaded.get_json()["id"]

    unknown = call(
        "POST",
        "/akta-corrections",
        json={
            "changes": {"child_sex": "male"},
            "reason": "r",
            "supporting_document_id": document_id,
        },
    )
    assert unknown.status_code == 422
    same = call(
        "POST",
        "/akta-corrections",
        json={
            "changes": {"child_birth_place": report.child_birth_place},
            "reason": "r",
            "supporting_document_id": document_id,
        },
    )
    assert same.status_code == 422
    assert [e["code"] for e in same.get_json()["errors"]] == ["akta_nothing_changed"]
    no_document = call(
        "POST",
        "/akta-corrections",
        json={
            "changes": {"child_birth_place": "Kuningan"},
            "reason": "r",
            "supporting_document_id": 999999,
        },
    )
    assert no_document.status_code == 422
    assert [e["code"] for e in no_document.get_json()["errors"]] == ["correction_document_required"]

    body = {
        "changes": {"child_birth_place": "Kuningan"},
        "reason": "Lahir di RS Kuningan",
        "supporting_document_id": document_id,
    }
    created = call("POST", "/akta-corrections", json=body)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["status"] == "requested"
    assert created.get_json()["changes"] == {"child_birth_place": "Kuningan"}
    again = call("POST", "/akta-corrections", json=body)
    assert again.status_code == 409
    assert again.get_json()["code"] == "akta_correction_open"

    asked = db.session.get(AktaCorrectionRequest, created.get_json()["id"])
    assert asked is not None
    assert asked.requested_by == "facility:RSUD-GJ"
    decide_akta_correction(asked, False, "Surat keterangan lahir menyebut Cirebon.", staff["siti"])
    db.session.commit()
    listed = call("GET", "/akta-corrections").get_json()["items"]
    assert listed[0]["status"] == "refused"
    assert listed[0]["decision_reason"] == "Surat keterangan lahir menyebut Cirebon."


def test_signing_a_correction_refused_meanwhile_issues_nothing(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    code = _issued_through_the_form(app, client, staff)
    report = find_report(code)
    informant = Actor.informant(report.tracking_code, report.informant_name)
    asked = request_akta_correction(
        report, {"child_name": "Nama Baru"}, "Salah ketik", informant, upload=("kk", pdf_bytes())
    )
    decide_akta_correction(asked, True, "", staff["siti"])
    db.session.commit()
    # The issue step without the pejabat's authorisation makes nothing.
    assert issue_akta(report.id) == "authorisation_missing"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AktaDocument)) == 1
