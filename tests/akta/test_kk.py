"""The updated Kartu Keluarga of the 3-in-1: Dukcapil answers the registration with it, the
issue step prints and signs it beside the akta and the KIA, the parent and the office
download it, and the parent's page shows each document's own status."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.kk import PRINT_MARK
from akta_service.akta.models import IssueFailure, KkPrint
from akta_service.akta.operations import (
    authorise_signature,
    correct_akta,
    current_kia,
    current_kk_print,
    issue_kia,
    trust_root,
)
from akta_service.akta.signing import validate_pdf
from akta_service.births.models import BirthReport, InformantRelation, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.storage import storage
from akta_service.jobs.queue import run_pending
from akta_service.verification.gateway import dukcapil
from tests.akta.issuing import (
    issued_report,
    office_staff,
    page_size_mm,
    pdf_text,
    signed_from_the_form,
)
from tests.conftest import SIGNING_OFFICERS
from tests.parents.conftest import sandbox_report
from tests.parents.form import text_of
from tests.parents.reporting import find_report, open_status, report_through_the_form
from tests.web import STAFF_PASSWORD, sign_in


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    return office_staff()


def _kk_pdf(report: BirthReport) -> tuple[KkPrint, bytes]:
    kept = current_kk_print(report)
    assert kept is not None
    return kept, storage().get(kept.storage_key)


def _journalled(report: BirthReport, action: str) -> list[JournalEntry]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry).where(
                JournalEntry.report_id == report.id, JournalEntry.action == action
            )
        )
    )


def _grandfather_claims_the_head(report: BirthReport) -> None:
    # What the report says about the head of family differs from Dukcapil's KK.
    report.informant_relation = InformantRelation.HEAD_OF_FAMILY
    report.informant_name = "Kakek Sugiono"


def test_the_kk_print_shows_the_new_child_and_dukcapils_head_of_family_and_is_signed(
    app: Flask, staff: dict[str, User], officer: Any
) -> None:
    report = issued_report(staff, before_issue=_grandfather_claims_the_head)
    card = dukcapil().population.family_card(report.kk_number)  # type: ignore[attr-defined]
    father = report.father_name
    assert father is not None
    assert card.head_name == father  # a recorded family: the father heads the KK
    kept, pdf = _kk_pdf(report)
    assert hashlib.sha256(pdf).hexdigest() == kept.sha256
    assert (kept.kk_number, kept.head_name, kept.head_nik) == (
        report.kk_number,
        father,
        report.father_nik,
    )
    width, height = page_size_mm(pdf)
    assert (round(width), round(height)) == (297, 210)  # A4 landscape

    text = pdf_text(pdf)
    lines = text.splitlines()
    assert "KARTU KELUARGA" in text
    assert f"No. {report.kk_number}" in text
    assert PRINT_MARK in text
    assert "dicetak oleh Dinas Kependudukan dan Pencatatan Sipil Kota Cirebon" in text
    assert any("Nama Kepala Keluarga" in line and father.upper() in line for line in lines)
    assert "KAKEK" not in text
    (child_line,) = [line for line in lines if report.child_nik and report.child_nik in line]
    assert report.child_name.upper() in child_line
    assert "ANAK" in child_line
    assert father.upper() in child_line
    assert report.mother_name.upper() in child_line
    for member in card.members:  # everyone on Dukcapil's KK, in its order
        assert member.nik in text
    positions = [text.index(member.nik) for member in card.members]
    assert positions == sorted(positions)

    # The KIA's head of family is Dukcapil's too, not the report's claim.
    kia = current_kia(report)
    assert kia is not None
    kia_text = pdf_text(storage().get(kia.storage_key))
    assert any(
        line.split(":", 1)[0].strip() == "Kepala Keluarga" and father.upper() in line
        for line in kia_text.splitlines()
    )
    assert "KAKEK" not in kia_text

    validation = validate_pdf(pdf, trust_root("3274", app.config["AKTA_SETTINGS"]))
    assert validation.signed
    assert validation.intact
    assert validation.trusted
    assert validation.covers_whole_document
    assert validation.signer == "Pejabat pj1"
    middle = bytearray(pdf)
    middle[len(pdf) // 3] ^= 0x01
    assert not validate_pdf(bytes(middle), trust_root("3274", app.config["AKTA_SETTINGS"])).trusted

    (issued,) = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "issue"
        )
    )
    assert issued.data["kk_sha256"] == kept.sha256


def _head_line(text: str) -> str:
    (line,) = [line for line in text.splitlines() if line.strip().startswith("Kepala Keluarga")]
    return line


def test_a_corrected_akta_brings_a_kia_with_the_head_of_family_dukcapil_named(
    app: Flask, staff: dict[str, User], officer: Any
) -> None:
    report = issued_report(staff, before_issue=_grandfather_claims_the_head)
    pejabat = staff["ahmad"]
    authorisation = authorise_signature(pejabat, SIGNING_OFFICERS["pj1"].passphrase, 2)
    corrected = correct_akta(
        report,
        {"child_name": report.child_name + " Ayu"},
        "Salah ketik",
        None,
        pejabat,
        authorisation,
    )
    card = issue_kia(report, corrected, pejabat, authorisation)
    assert card is not None
    text = pdf_text(storage().get(card.storage_key))
    assert (report.father_name or "").upper() in _head_line(text)
    assert "KAKEK" not in text
    assert f"{report.child_name.upper()}" in text  # the corrected name


def test_the_parent_sees_three_statuses_and_downloads_the_kk_in_their_own_session_only(
    app: Flask, client: FlaskClient, officer: Any, actors: dict[str, Actor]
) -> None:
    code, pin, report = signed_from_the_form(app, client, actors["operator"])
    db.session.commit()
    page = open_status(client, code, pin)
    assert "diproses" in text_of(page, "document-kk")
    assert 'id="kk-download"' not in page
    assert client.get("/status/kk.pdf").status_code == 404

    run_pending(app)
    report = find_report(code)
    assert report.status == ReportStatus.ISSUED
    page = client.get("/status/laporan").get_data(as_text=True)
    for key in ("akta", "kk", "kia"):
        assert text_of(page, f"document-{key}").split(": ", 1)[1].startswith("terbit"), key
    kk = text_of(page, "document-kk")
    assert report.kk_number in kk
    assert (report.father_name or "") in kk  # the head of family Dukcapil's KK names
    assert text_of(page, "kk-download") == "Unduh Kartu Keluarga (PDF)"

    kept, stored = _kk_pdf(report)
    download = client.get("/status/kk.pdf")
    assert download.status_code == 200
    assert download.data == stored
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="kk-{kept.kk_number}.pdf"'
    )
    assert len(_journalled(report, "public:birth_report:kk_download")) == 1

    # Without the opened report, no KK: the PIN's form instead.
    assert app.test_client().get("/status/kk.pdf").status_code == 302
    # Another report's parent, in their own session, does not get this family's KK.
    other = app.test_client()
    other_code, other_pin = report_through_the_form(other, sandbox_report("recorded", 1))
    open_status(other, other_code, other_pin)
    refused = other.get("/status/kk.pdf")
    assert refused.status_code == 404
    assert stored not in refused.data
    assert len(_journalled(report, "public:birth_report:kk_download")) == 1


def test_staff_open_the_kk_print_from_the_report_page_in_their_region_only(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    report = issued_report(staff)
    _kept, stored = _kk_pdf(report)
    create_user("rina", "Rina Cilegon", "operator", STAFF_PASSWORD, ["3672"], Actor.system("test"))
    db.session.commit()
    url = f"/kantor/laporan/{report.tracking_code}/kk.pdf"

    assert sign_in(client, "siti") == 302
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert f'href="{url}"' in page
    opened = client.get(url)
    assert opened.status_code == 200
    assert opened.data == stored
    assert opened.headers["Content-Type"] == "application/pdf"
    (read,) = _journalled(report, "akta:birth_report:kk_print_download")
    assert read.actor_id == staff["siti"].as_actor().id

    cilegon = app.test_client()
    assert sign_in(cilegon, "rina") == 302
    refused = cilegon.get(url)
    assert refused.status_code == 404
    assert stored not in refused.data
    assert len(_journalled(report, "akta:birth_report:kk_print_download")) == 1


def test_a_3_in_1_dukcapil_refuses_shows_the_failure_on_the_parents_page(
    app: Flask, client: FlaskClient, officer: Any, actors: dict[str, Actor]
) -> None:
    code, pin, report = signed_from_the_form(app, client, actors["operator"])
    report.kk_number = "3274010101260001"  # Dukcapil has no such KK: it refuses the 3-in-1
    db.session.commit()

    run_pending(app)
    report = find_report(code)
    assert report.status == ReportStatus.REGISTERED
    failure = db.session.get(IssueFailure, report.id)
    assert failure is not None
    assert failure.code == "issue_dukcapil_refused"
    page = open_status(client, code, pin)
    kk = text_of(page, "document-kk")
    assert kk.split(": ", 1)[1].startswith("gagal")
    assert "Dukcapil menolak mencatat anak di KK" in kk
    akta = text_of(page, "document-akta")
    assert akta.split(": ", 1)[1].startswith("gagal")
    assert "menunggu Dukcapil" in akta
    assert "gagal" in text_of(page, "document-kia")
    for key in ("akta", "kk", "kia"):
        assert f'id="{key}-download"' not in page
    assert client.get("/status/kk.pdf").status_code == 404
