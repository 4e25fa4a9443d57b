"""The sealed QR on the issued, signed akta: read back from its PDF at 150 dpi, checked
by `akta verify-qr`, and withdrawn by an annulment or a correction through the signed
status list that the offline verifier reads."""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.operations import (
    akta_pdf,
    akta_versions,
    authorise_signature,
    correct_akta,
    issue_akta,
)
from akta_service.akta.qr_image import read_qr
from akta_service.akta.seal import ANNULLED, SUPERSEDED, VALID, check_qr, read_status_list
from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.cli import cli
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.clock import local_timezone
from akta_service.core.db import db
from akta_service.parents.status import timeline
from akta_service.regions.models import Region
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.workflow.engine import fire
from tests.conftest import SIGNING_OFFICERS, sign_as
from tests.files import pdf_bytes
from tests.web import STAFF_PASSWORD, csrf_token, sign_in


def _issued(actors: dict[str, Actor]) -> BirthReport:
    population = dukcapil().population  # type: ignore[attr-defined]
    family = copy.deepcopy(population.sample_families(1, "recorded", region="3274")[0])
    report = submit_birth_report(
        load_report_input(family["example_report"]), Channel.WEB, Actor.informant("web", "P")
    )
    assert verify_report(report.id) == "pass_verification"
    fire(report, "approve", actors["operator"])
    sign_as(report)
    assert issue_akta(report.id) == "issued"
    return report


def _qr_of(report: BirthReport, tmp_path: Path, version: int = 1) -> tuple[str, Path]:
    document = akta_versions(report)[version - 1]
    path = tmp_path / f"akta-v{version}.pdf"
    path.write_bytes(akta_pdf(document))
    text = read_qr(path)
    assert text is not None, "the QR code does not read from the signed PDF at 150 dpi"
    return text, path


def _statuses(client: FlaskClient) -> Any:
    answer = client.get("/periksa-akta/status")
    assert answer.status_code == 200
    assert answer.mimetype == "application/cose"
    return read_status_list(answer.data)


def _annul(office: FlaskClient, address: str, token: str, reason: str, document: bytes) -> Any:
    return office.post(
        address,
        data={"csrf_token": token, "reason": reason, "document": (io.BytesIO(document), "p.pdf")},
        content_type="multipart/form-data",
    )


def _verify_qr(app: Flask, source: str) -> Any:
    return app.test_cli_runner().invoke(cli, ["verify-qr", source])


@pytest.fixture
def pejabat(session: Any) -> User:
    user = create_user(
        "ahmad", "Ahmad Pejabat", "pejabat", STAFF_PASSWORD, ["3274"], Actor.system("t")
    )
    create_user("joko", "Joko Pejabat", "pejabat", STAFF_PASSWORD, ["3672"], Actor.system("t"))
    db.session.commit()
    return user


def test_the_signed_akta_carries_its_sealed_facts(
    app: Flask, client: FlaskClient, officer: Region, actors: dict[str, Actor], tmp_path: Path
) -> None:
    report = _issued(actors)
    text, path = _qr_of(report, tmp_path)
    result = check_qr(text, statuses=_statuses(client))
    assert result.status == VALID
    facts = result.facts
    assert facts is not None
    assert facts.registration_number == report.registration_number
    assert facts.child_name == report.child_name.upper()
    assert facts.mother_name == report.mother_name.upper()
    assert facts.father_name == (report.father_name or "").upper()
    assert facts.birth_date == report.child_birth_date.isoformat()
    document = akta_versions(report)[0]
    assert facts.verification_url.endswith(f"/verifikasi/{document.verification_token}")

    keys = client.get("/.well-known/akta-keys.json")
    assert keys.status_code == 200
    assert result.kid in {key["kid"] for key in keys.get_json()["keys"]}

    by_image = _verify_qr(app, str(path))
    assert by_image.exit_code == 0, by_image.output
    assert "Status: SAH" in by_image.output
    assert f"Nama anak: {report.child_name.upper()}" in by_image.output
    by_text = _verify_qr(app, text)
    assert by_text.exit_code == 0
    assert "Status: SAH" in by_text.output
    forged = _verify_qr(app, text[:-8] + ("00000000" if text[-8:] != "00000000" else "11111111"))
    assert forged.exit_code == 1
    assert "Status: TIDAK SAH" in forged.output


def test_a_pejabat_annuls_the_akta_and_the_status_list_says_so(
    app: Flask,
    client: FlaskClient,
    officer: Region,
    actors: dict[str, Actor],
    pejabat: User,
    tmp_path: Path,
) -> None:
    report = _issued(actors)
    db.session.commit()
    text, _path = _qr_of(report, tmp_path)
    address = f"/kantor/laporan/{report.tracking_code}/akta/batalkan"

    elsewhere = app.test_client()
    assert sign_in(elsewhere, "joko") == 302
    assert elsewhere.get(address).status_code == 404  # another region's report

    office = app.test_client()
    assert sign_in(office, "ahmad") == 302
    page = office.get(address).get_data(as_text=True)
    token = csrf_token(page)
    refused = office.post(address, data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422
    refused_page = refused.get_data(as_text=True)
    assert "Alasan wajib diisi" in refused_page
    assert "Pilih berkas dokumen" in refused_page
    db.session.expire_all()
    assert db.session.get(BirthReport, report.id).status == ReportStatus.ISSUED  # type: ignore[union-attr]

    reason = "Putusan Pengadilan Negeri Cirebon No. 12/Pdt.P/2026/PN Cbn"
    not_a_document = _annul(office, address, token, reason, b"<html>not a court order</html>")
    assert not_a_document.status_code == 422
    assert 'id="document-error"' in not_a_document.get_data(as_text=True)
    done = _annul(office, address, token, reason, pdf_bytes())
    assert done.status_code == 302, done.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(BirthReport, report.id)
    assert stored is not None
    assert stored.status == ReportStatus.ANNULLED
    (document,) = akta_versions(stored)
    assert document.annulled_at is not None
    assert document.annulment_reason == reason
    assert document.annulment_document_id is not None
    entry = db.session.scalar(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "annul"
        )
    )
    assert entry is not None
    assert (entry.reason, entry.to_state) == (reason, "annulled")
    assert entry.data["supporting_document_id"] == document.annulment_document_id

    result = check_qr(text, statuses=_statuses(client))
    assert result.status == ANNULLED
    annulled_on = document.annulled_at.astimezone(local_timezone()).date()  # the office's day
    assert result.status_date == annulled_on.isoformat()
    cli_answer = _verify_qr(app, text)
    assert cli_answer.exit_code == 1
    assert "Status: DIBATALKAN pada" in cli_answer.output
    public = client.get(f"/verifikasi/{document.verification_token}").get_data(as_text=True)
    assert "Akta ini telah dibatalkan" in public
    assert "dibatalkan" in str(timeline(stored).ended)  # the parents' status page

    again = _annul(office, address, token, reason, pdf_bytes())
    assert again.status_code == 409  # annulled once; nothing annuls it twice


def test_an_operator_cannot_annul(
    app: Flask, officer: Region, actors: dict[str, Actor], session: Any
) -> None:
    report = _issued(actors)
    create_user("siti", "Siti Operator", "operator", STAFF_PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    office = app.test_client()
    assert sign_in(office, "siti") == 302
    assert office.get(f"/kantor/laporan/{report.tracking_code}/akta/batalkan").status_code == 403


def test_a_correction_marks_its_predecessor_superseded_in_the_status_list(
    app: Flask, client: FlaskClient, officer: Region, actors: dict[str, Actor], tmp_path: Path
) -> None:
    report = _issued(actors)
    old, _ = _qr_of(report, tmp_path)
    signer = db.session.get(User, actors["pejabat"].user_id)
    assert signer is not None
    correct_akta(
        report,
        {"child_name": report.child_name + " Ramadhani"},
        "Salah ketik nama",
        None,
        signer,
        authorise_signature(signer, SIGNING_OFFICERS["pj1"].passphrase),
    )
    new, _ = _qr_of(report, tmp_path, version=2)
    statuses = _statuses(client)
    assert check_qr(old, statuses=statuses).status == SUPERSEDED
    current = check_qr(new, statuses=statuses)
    assert (current.status, current.facts.version) == (VALID, 2)  # type: ignore[union-attr]
    assert current.facts.child_name.endswith("RAMADHANI")  # type: ignore[union-attr]
