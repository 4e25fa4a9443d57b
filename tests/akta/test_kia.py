"""The Kartu Identitas Anak of the 3-in-1: issued with the akta for a child under five, at
card size, signed by the pejabat; the parent's status page shows each document's status."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.akta.kia import fifth_birthday, head_of_family, under_five
from akta_service.akta.models import KiaCard
from akta_service.akta.operations import current_akta, current_kia, trust_root
from akta_service.akta.qr_image import read_qr
from akta_service.akta.seal import VALID, check_qr
from akta_service.akta.signing import validate_pdf
from akta_service.births.models import BirthReport, InformantRelation, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.storage import storage
from akta_service.jobs.queue import run_pending
from tests.akta.issuing import (
    issued_report,
    office_staff,
    page_size_mm,
    pdf_text,
    signed_from_the_form,
)
from tests.parents.form import text_of
from tests.parents.reporting import find_report, open_status


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    return office_staff()


def _card_pdf(report: BirthReport) -> tuple[KiaCard, bytes]:
    card = current_kia(report)
    assert card is not None
    return card, storage().get(card.storage_key)


@pytest.mark.parametrize(("kind", "head"), [("recorded", "father"), ("single_mother", "mother")])
def test_a_child_under_five_gets_a_signed_kia_at_card_size_with_the_akta(
    app: Flask, staff: dict[str, User], officer: Any, kind: str, head: str, tmp_path: Path
) -> None:
    report = issued_report(staff, kind)
    akta = current_akta(report)
    card, pdf = _card_pdf(report)
    assert card.akta_document_id == akta.id  # type: ignore[union-attr]
    assert hashlib.sha256(pdf).hexdigest() == card.sha256
    width, height = page_size_mm(pdf)
    assert (round(width, 1), round(height, 1)) == (85.6, 54.0)  # ID-1

    text = pdf_text(pdf)
    assert "KARTU IDENTITAS ANAK" in text
    assert "KOTA CIREBON" in text
    facts = dict(
        (label.strip(), value.strip())
        for label, _, value in (line.partition(" : ") for line in text.splitlines())
        if value
    )
    head_name = report.father_name if head == "father" else report.mother_name
    assert head_name is not None
    valid_until = fifth_birthday(report.child_birth_date)
    assert card.valid_until == valid_until
    # The place of birth as the akta prints it: the kab/kota (Kota Cirebon), not the facility.
    born = f"CIREBON, {report.child_birth_date:%d-%m-%Y}"
    assert facts == {
        "NIK": report.child_nik,
        "Nama": report.child_name.upper(),
        "Tempat/Tgl Lahir": born,
        "Jenis Kelamin": "PEREMPUAN" if report.child_sex == "female" else "LAKI-LAKI",
        "No. KK": report.kk_number,
        "Kepala Keluarga": head_name.upper(),
        "No. Akta Kelahiran": report.registration_number,
        "Kewarganegaraan": "WNI",
        "Berlaku Hingga": f"{valid_until:%d-%m-%Y}",
    }
    assert "KEPALA DINAS DUKCAPIL" in text

    # The card's QR code seals the akta version's facts, as the akta's own QR code does.
    card_file = tmp_path / "kia.pdf"
    card_file.write_bytes(pdf)
    sealed = read_qr(card_file)
    assert sealed is not None, "the KIA's QR code does not read from its PDF at 150 dpi"
    checked = check_qr(sealed)
    assert checked.status == VALID
    assert checked.facts is not None
    assert (checked.facts.registration_number, checked.facts.version) == (
        report.registration_number,
        akta.version,  # type: ignore[union-attr]
    )
    assert checked.facts.child_name == report.child_name.upper()
    assert checked.facts.birth_place == "CIREBON"

    validation = validate_pdf(pdf, trust_root("3274", app.config["AKTA_SETTINGS"]))
    assert validation.signed
    assert validation.intact
    assert validation.trusted
    assert validation.covers_whole_document
    assert validation.signer == "Pejabat pj1"
    tampered = pdf.replace(report.kk_number.encode(), b"3274000000000000")
    if tampered == pdf:  # the text is in a compressed stream: change a byte inside it
        middle = bytearray(pdf)
        middle[len(pdf) // 3] ^= 0x01
        tampered = bytes(middle)
    assert not validate_pdf(tampered, trust_root("3274", app.config["AKTA_SETTINGS"])).trusted

    (issued,) = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "issue"
        )
    )
    assert issued.data["kia_sha256"] == card.sha256


def test_a_child_of_five_or_older_gets_no_kia_here(staff: dict[str, User], officer: Any) -> None:
    def six_years_old(report: BirthReport) -> None:
        report.child_birth_date = date.today() - timedelta(days=6 * 366)

    report = issued_report(staff, before_issue=six_years_old)
    assert current_akta(report) is not None
    assert current_kia(report) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KiaCard)) == 0


def test_the_head_of_family_and_the_validity_follow_the_rules() -> None:
    assert fifth_birthday(date(2024, 2, 29)) == date(2029, 2, 28)
    assert under_five(date(2021, 12, 2), date(2026, 12, 1))
    assert not under_five(date(2021, 12, 1), date(2026, 12, 1))
    report = BirthReport(
        informant_relation=InformantRelation.HEAD_OF_FAMILY,
        informant_name="Kakek Kepala",
        father_name="Ayah",
        mother_name="Ibu",
    )
    assert head_of_family(report) == "Kakek Kepala"
    report.informant_relation = InformantRelation.MOTHER
    assert head_of_family(report) == "Ayah"


def test_the_status_page_shows_each_document_of_the_3_in_1_and_downloads_each(
    app: Flask, client: FlaskClient, officer: Any, actors: dict[str, Actor]
) -> None:
    code, pin, report = signed_from_the_form(app, client, actors["operator"])
    db.session.commit()
    page = open_status(client, code, pin)
    assert "diproses" in text_of(page, "document-akta")
    assert "Menunggu Dukcapil" in text_of(page, "document-kk")
    assert "diproses" in text_of(page, "document-kia")
    assert 'id="kia-download"' not in page
    assert client.get("/status/kia.pdf").status_code == 404

    run_pending(app)
    report = find_report(code)
    assert report.status == ReportStatus.ISSUED
    page = client.get("/status/laporan").get_data(as_text=True)
    assert "terbit" in text_of(page, "document-akta")
    assert report.registration_number in text_of(page, "document-akta")  # type: ignore[operator]
    kk = text_of(page, "document-kk")
    assert "terbit" in kk
    assert report.kk_number in kk
    kia = text_of(page, "document-kia")
    assert "terbit" in kia
    assert "berlaku hingga" in kia
    assert text_of(page, "akta-download") == "Unduh akta (PDF)"
    assert text_of(page, "kia-download") == "Unduh KIA (PDF)"

    card, stored = _card_pdf(report)
    download = client.get("/status/kia.pdf")
    assert download.status_code == 200
    assert download.data == stored
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="kia-{card.child_nik}.pdf"'
    )
    assert db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id,
            JournalEntry.action == "public:birth_report:kia_download",
        )
    ).one()
