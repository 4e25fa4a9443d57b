"""A report's documents on the review page: shown as the pictures made of them once on upload
(never the uploaded bytes), served only to the region's staff, with headers that keep them
from doing anything but being looked at."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.births.documents import attach_document
from akta_service.births.models import BirthReport, Document
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.storage import storage
from tests.factories import BirthReportFactory
from tests.files import gps_jpeg, html_polyglot_png, jpeg_bytes, pdf_bytes, png_bytes
from tests.web import STAFF_PASSWORD, sign_in

UPLOADER = Actor.system("upload")


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    people = {
        name: create_user(name, full, role, STAFF_PASSWORD, [region], Actor.system("t"))
        for name, full, role, region in (
            ("siti", "Siti Operator", "operator", "3274"),
            ("dian", "Dian Serang", "operator", "3673"),
        )
    }
    db.session.commit()
    return people


def _report_with(*files: tuple[str, bytes]) -> tuple[BirthReport, list[Document]]:
    report = BirthReportFactory(status="in_review")
    documents = [attach_document(report, kind, data, UPLOADER) for kind, data in files]
    db.session.commit()
    return report, documents


def _reads(report: BirthReport) -> list[JournalEntry]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry)
            .where(
                JournalEntry.report_id == report.id,
                JournalEntry.action == "staff:birth_report:read",
            )
            .order_by(JournalEntry.id)
        )
    )


def _url(report: BirthReport, document: Document, rest: str = "") -> str:
    return f"/kantor/laporan/{report.tracking_code}/dokumen/{document.id}{rest}"


@pytest.mark.parametrize(
    ("kind", "make", "content_type", "extension"),
    [
        ("kk", jpeg_bytes, "image/jpeg", "jpg"),
        ("birth_letter", png_bytes, "image/png", "png"),
    ],
)
def test_the_regions_staff_get_the_picture_made_of_an_image_and_the_read_is_journalled(
    client: FlaskClient,
    staff: dict[str, User],
    kind: str,
    make: Any,
    content_type: str,
    extension: str,
) -> None:
    data = make()
    report, (document,) = _report_with((kind, data))
    sign_in(client, "siti")
    response = client.get(_url(report, document))
    assert response.status_code == 200
    (picture,) = document.pictures
    assert response.get_data() == storage().get(picture.storage_key)
    assert Image.open(io.BytesIO(response.get_data())).size == Image.open(io.BytesIO(data)).size
    assert response.headers["Content-Type"] == content_type
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="{report.tracking_code}-{kind}-{document.id}.{extension}"'
    )
    reads = _reads(report)
    assert [r.actor_name for r in reads] == ["Siti Operator"]
    assert reads[0].data == {"what": f"document {document.id} ({kind})"}

    saved = client.get(_url(report, document, "?unduh=1"))
    assert saved.headers["Content-Disposition"].startswith("attachment; filename=")
    assert saved.get_data() == response.get_data()


def test_the_upload_is_kept_as_evidence_but_never_sent_to_a_browser(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    photo = gps_jpeg()
    report, (document, letter) = _report_with(("kk", photo), ("birth_letter", pdf_bytes()))
    assert storage().get(document.storage_key) == photo  # byte for byte, its SHA-256 as told
    assert document.sha256 == hashlib.sha256(photo).hexdigest()
    sign_in(client, "siti")
    shown = client.get(_url(report, document)).get_data()
    assert shown != photo
    assert b"PhoneMaker" not in shown
    assert b"RumahKami" not in shown
    assert dict(Image.open(io.BytesIO(shown)).getexif()) == {}
    # A PDF is shown as pictures of its pages only.
    assert client.get(_url(report, letter)).status_code == 404
    assert client.get(_url(report, letter, "?unduh=1")).status_code == 404


def test_an_image_that_is_also_a_page_is_never_served_as_one(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report, (document,) = _report_with(("kk", html_polyglot_png()))
    sign_in(client, "siti")
    response = client.get(_url(report, document))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert b"<script" not in response.get_data()
    assert b"<html" not in response.get_data()
    assert Image.open(io.BytesIO(response.get_data())).format == "PNG"


def test_a_document_whose_name_lies_is_served_as_what_it_is(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    # Whatever the browser sent as its type or name, the bytes decide, and the answer says so.
    report, (document,) = _report_with(("kk", png_bytes()))
    sign_in(client, "siti")
    response = client.get(_url(report, document))
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].endswith('.png"')


def test_the_review_page_shows_images_inline_and_pdf_pages_as_pictures(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report, (photo, letter) = _report_with(("kk", jpeg_bytes()), ("birth_letter", pdf_bytes(2)))
    sign_in(client, "siti")
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert f'<img src="{_url(report, photo)}" alt="Kartu Keluarga" width="120" height="80">' in page
    assert f'href="{_url(report, photo, "?unduh=1")}"' in page
    assert "Surat keterangan lahir</strong> — PDF, 2 halaman" in page
    for number in (1, 2):
        assert f'src="{_url(report, letter, f"/halaman/{number}")}"' in page
        assert f"Surat keterangan lahir, halaman {number} dari 2" in page
        assert f'href="{_url(report, letter, f"/halaman/{number}?unduh=1")}"' in page


def test_a_pdf_page_is_served_as_a_picture_with_the_same_headers(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report, (letter, photo) = _report_with(("birth_letter", pdf_bytes(2)), ("kk", jpeg_bytes()))
    sign_in(client, "siti")
    response = client.get(_url(report, letter, "/halaman/2"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="{report.tracking_code}-birth_letter-{letter.id}-halaman-2.png"'
    )
    picture = Image.open(io.BytesIO(response.get_data()))
    assert picture.format == "PNG"
    assert picture.height > picture.width > 500  # an A4 page, upright, large enough to read
    darkest, _ = picture.convert("L").getextrema()
    assert darkest < 50  # the text is there, not a blank page
    assert _reads(report)[-1].data == {"what": f"document {letter.id} (birth_letter) page 2"}

    assert client.get(_url(report, letter, "/halaman/3")).status_code == 404
    assert client.get(_url(report, photo, "/halaman/1")).status_code == 404


def _stored_files() -> set[str]:
    return set(storage().keys())


def test_pages_are_drawn_once_on_upload_and_read_from_storage_after(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    report, (letter,) = _report_with(("birth_letter", pdf_bytes(2)))
    pictures = {p.page: p.storage_key for p in letter.pictures}
    assert sorted(pictures) == [1, 2]
    assert all(storage().exists(key) for key in pictures.values())
    before = _stored_files()
    # Without the upload nothing could be drawn: the pages come from what was stored.
    storage().delete(letter.storage_key)
    sign_in(client, "siti")
    for _ in range(2):
        page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
        assert "PDF, 2 halaman" in page
        shown = client.get(_url(report, letter, "/halaman/2"))
        assert shown.status_code == 200
        assert shown.get_data() == storage().get(pictures[2])
    assert _stored_files() == before - {letter.storage_key}


def _stored_before_pictures(kind: str, data: bytes) -> tuple[BirthReport, Document]:
    """A document as stored before pictures were made on upload: no pages, no pictures."""
    report = BirthReportFactory(status="in_review")
    key = f"documents/{report.region_code}/{report.tracking_code}/lama.pdf"
    storage().put(key, data)
    document = Document(
        report_id=report.id,
        kind=kind,
        content_type="application/pdf",
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_by="upload",
    )
    db.session.add(document)
    db.session.commit()
    return report, document


def test_an_older_document_gets_its_pictures_on_first_view_and_keeps_them(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    report, document = _stored_before_pictures("kk", pdf_bytes(2))
    sign_in(client, "siti")
    before = _stored_files()
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert "PDF, 2 halaman" in page
    made = _stored_files() - before
    assert len(made) == 2
    storage().delete(document.storage_key)  # the second view cannot draw them again
    assert client.get(_url(report, document, "/halaman/2")).status_code == 200
    assert "PDF, 2 halaman" in client.get(f"/kantor/laporan/{report.tracking_code}").get_data(
        as_text=True
    )
    db.session.refresh(document)
    assert document.pages == 2


def test_an_older_damaged_pdf_says_why_it_has_no_preview(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    damaged = b"%PDF-1.7\n this is not really a PDF at all"
    report, document = _stored_before_pictures("kk", damaged)
    sign_in(client, "siti")
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert "Pratinjau tidak tersedia: PDF tidak dapat dibaca" in page
    assert client.get(_url(report, document, "/halaman/1")).status_code == 404
    assert client.get(_url(report, document)).status_code == 404
    db.session.refresh(document)
    assert document.picture_refusal == "pdf_unreadable"  # not tried again on every view


def test_an_older_document_whose_file_is_gone_says_so(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report, document = _stored_before_pictures("kk", pdf_bytes())
    storage().delete(document.storage_key)
    sign_in(client, "siti")
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert "Pratinjau tidak tersedia: berkasnya tidak ditemukan di penyimpanan." in page
    assert client.get(_url(report, document, "/halaman/1")).status_code == 404


def test_staff_of_another_region_get_nothing_and_nothing_is_journalled(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report, (photo, letter) = _report_with(("kk", jpeg_bytes()), ("birth_letter", pdf_bytes()))
    sign_in(client, "dian")
    assert client.get(_url(report, photo)).status_code == 404
    assert client.get(_url(report, letter, "/halaman/1")).status_code == 404
    assert _reads(report) == []


def test_a_document_is_only_reachable_through_its_own_report(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report, (document,) = _report_with(("kk", jpeg_bytes()))
    other = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    wrong = f"/kantor/laporan/{other.tracking_code}/dokumen/{document.id}"
    assert client.get(wrong).status_code == 404
    assert client.get(_url(report, document)).status_code == 200


def test_strangers_are_sent_to_sign_in(client: FlaskClient, staff: dict[str, User]) -> None:
    report, (document,) = _report_with(("kk", jpeg_bytes()))
    for url in (_url(report, document), _url(report, document, "/halaman/1")):
        response = client.get(url)
        assert response.status_code == 302
        assert "/kantor/masuk" in response.headers["Location"]
    assert _reads(report) == []
