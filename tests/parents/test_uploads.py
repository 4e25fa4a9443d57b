"""Documents on the form: phone photos made smaller and stripped of EXIF (GPS), PDFs kept,
anything else refused with a message in Indonesian."""

from __future__ import annotations

import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from PIL import ExifTags, Image

from akta_service.core.db import db
from akta_service.core.storage import storage
from akta_service.core.untrusted_files import MAX_PDF_PAGES
from akta_service.parents.models import Draft
from akta_service.parents.uploads import MAX_PHOTO_SIDE
from tests.files import encrypted_pdf, pdf_with_page_size, png_bomb, truncated_png
from tests.parents.conftest import sandbox_report
from tests.parents.form import PDF, fill_steps, form_answers, start, summary_links, text_of, upload

#: Where the photo was taken: the family's home, which must not be kept.
LATITUDE = (6.0, 43.0, 12.0)


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    """A 12-megapixel phone photo, held sideways (EXIF orientation 6), with GPS in its EXIF."""
    width, height = 4032, 3024
    picture = Image.blend(
        Image.linear_gradient("L").resize((width, height)).convert("RGB"),
        Image.effect_noise((width, height), 40).convert("RGB"),
        0.3,
    )
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "S", 2: LATITUDE, 3: "E", 4: (108.0, 33.0, 0.0)})
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.fixture
def at_documents(client: FlaskClient, session: Any) -> FlaskClient:
    start(client)
    fill_steps(client, form_answers(sandbox_report("recorded")))
    return client


def _draft() -> Draft:
    draft = db.session.scalar(sa.select(Draft))
    assert draft is not None
    db.session.refresh(draft)
    return draft


def test_a_large_phone_photo_is_accepted_made_smaller_and_loses_its_exif(
    at_documents: FlaskClient, phone_photo: bytes
) -> None:
    assert 4_000_000 < len(phone_photo) < 10 * 1024 * 1024
    assert Image.open(io.BytesIO(phone_photo)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    response = upload(at_documents, "kk", phone_photo, "IMG_20261122_101010.jpg")
    assert response.status_code == 302
    page = at_documents.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sudah diunggah" in text_of(page, "uploaded-kk")

    stored = _draft().documents["kk"]
    data = storage().get(stored["storage_key"])
    assert stored["content_type"] == "image/jpeg"
    assert stored["size_bytes"] == len(data) < len(phone_photo)
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "JPEG"
    assert max(picture.size) == MAX_PHOTO_SIDE
    assert picture.height > picture.width  # turned upright before the orientation tag went
    assert dict(picture.getexif()) == {}
    assert b"Exif" not in data
    assert b"PhoneMaker" not in data


def test_a_pdf_is_kept_byte_for_byte(at_documents: FlaskClient) -> None:
    assert upload(at_documents, "birth_letter", PDF).status_code == 302
    stored = _draft().documents["birth_letter"]
    assert stored["content_type"] == "application/pdf"
    assert storage().get(stored["storage_key"]) == PDF


def test_a_png_screenshot_stays_a_png(at_documents: FlaskClient) -> None:
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (10, 90, 200, 255)).save(out, "PNG")
    assert upload(at_documents, "kk", out.getvalue(), "kk.png").status_code == 302
    data = storage().get(_draft().documents["kk"]["storage_key"])
    assert Image.open(io.BytesIO(data)).format == "PNG"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, "kk.jpg", "Berkas harus foto (JPEG atau PNG) atau PDF"),
        (b"<html><script>alert(1)</script></html>", "kk.pdf", "Berkas harus foto"),
        (b"\xff\xd8\xff\xe0" + b"rusak" * 50, "kk.jpg", "Gambar tidak dapat dibaca"),
        (truncated_png(), "kk.png", "Gambar tidak dapat dibaca: berkasnya rusak atau terpotong"),
        (png_bomb(), "kk.png", "Berkas terlalu besar untuk dibuka"),
        (encrypted_pdf(), "kk.pdf", "PDF ini dilindungi kata sandi"),
        (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "kk.pdf", "PDF tidak dapat dibaca"),
        (
            pdf_with_page_size(595, 842, pages=MAX_PDF_PAGES + 1),
            "kk.pdf",
            f"PDF terlalu banyak halamannya: paling banyak {MAX_PDF_PAGES} halaman.",
        ),
        (pdf_with_page_size(14400, 14400), "kk.pdf", "Halaman PDF ini lebih besar dari kertas A0"),
        (b"", "kk.pdf", "Pilih berkas foto atau PDF dokumen"),
    ],
)
def test_a_file_that_is_not_a_photo_or_pdf_or_cannot_be_opened_is_refused_in_indonesian(
    at_documents: FlaskClient, content: bytes, name: str, message: str
) -> None:
    response = upload(at_documents, "kk", content, name)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in text_of(page, "err-file-kk")
    assert message in summary_links(page)["#file-kk"]
    assert "kk" not in _draft().documents


def test_a_file_over_10_mb_is_refused(at_documents: FlaskClient) -> None:
    big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024)
    page = upload(at_documents, "kk", big, "kk.pdf").get_data(as_text=True)
    assert "Berkas terlalu besar: maksimal 10 MB" in text_of(page, "err-file-kk")
    huge = upload(at_documents, "kk", big + b"0" * (1024 * 1024), "kk.pdf")
    assert huge.status_code == 413
    assert "Berkas terlalu besar" in huge.get_data(as_text=True)
    assert "kk" not in _draft().documents


def test_a_replaced_document_frees_the_old_file(at_documents: FlaskClient, app: Any) -> None:
    from akta_service.jobs.queue import run_pending

    upload(at_documents, "kk", PDF)
    first = _draft().documents["kk"]["storage_key"]
    (first_page,) = _draft().documents["kk"]["pictures"]
    assert storage().exists(first_page["storage_key"])  # drawn once, on upload
    upload(at_documents, "kk", PDF.replace(b"%PDF-1.3", b"%PDF-1.7"))
    run_pending(app)
    assert not storage().exists(first)
    assert not storage().exists(first_page["storage_key"])
    assert storage().get(_draft().documents["kk"]["storage_key"]).startswith(b"%PDF-1.7")


def test_after_a_decompression_bomb_the_form_still_answers_and_takes_a_photo(
    at_documents: FlaskClient,
) -> None:
    refused = upload(at_documents, "kk", png_bomb(), "kk.png")
    assert "Berkas terlalu besar untuk dibuka" in text_of(refused.get_data(True), "err-file-kk")
    assert _draft().documents == {}
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 90, 200)).save(out, "PNG")
    assert upload(at_documents, "kk", out.getvalue(), "kk.png").status_code == 302
    stored = storage().get(_draft().documents["kk"]["storage_key"])
    assert Image.open(io.BytesIO(stored)).size == (800, 600)
