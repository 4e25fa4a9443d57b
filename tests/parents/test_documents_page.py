"""The documents step without JavaScript: "Lanjut" sends the files picked but not yet
uploaded, and removing a document asks first."""

from __future__ import annotations

import io
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from akta_service.core.db import db
from akta_service.core.untrusted_files import MAX_PDF_PAGES
from akta_service.parents.models import Draft
from tests.files import encrypted_pdf, pdf_with_page_size
from tests.parents.conftest import sandbox_report
from tests.parents.form import (
    PDF,
    errors_of,
    fill_steps,
    form_answers,
    required_kinds,
    start,
    text_of,
    upload,
)
from tests.web import csrf_token


def _to_documents(client: FlaskClient) -> list[str]:
    start(client)
    fill_steps(client, form_answers(sandbox_report("recorded")))
    return required_kinds(client)


def _draft_documents() -> set[str]:
    draft = db.session.scalar(sa.select(Draft))
    assert draft is not None
    db.session.refresh(draft)
    return set(draft.documents)


def test_next_uploads_every_file_picked_instead_of_dropping_it(
    client: FlaskClient, session: Any
) -> None:
    kinds = _to_documents(client)
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    assert 'id="documents-form"' in page
    picked = {f"file-{kind}": (io.BytesIO(PDF), f"{kind}.pdf") for kind in kinds}
    done = client.post(
        "/lapor/dokumen",
        data={"csrf_token": csrf_token(page), "action": "next", **picked},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/lapor/periksa")
    assert _draft_documents() == set(kinds)
    assert errors_of(client.get("/lapor/periksa").get_data(as_text=True)) == []


def test_one_upload_button_keeps_the_other_files_picked_too(
    client: FlaskClient, session: Any
) -> None:
    kinds = _to_documents(client)
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    sent = client.post(
        "/lapor/dokumen",
        data={
            "csrf_token": csrf_token(page),
            "action": f"upload:{kinds[0]}",
            f"file-{kinds[0]}": (io.BytesIO(PDF), "a.pdf"),
            f"file-{kinds[1]}": (io.BytesIO(PDF), "b.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    assert _draft_documents() == {kinds[0], kinds[1]}
    shown = client.get("/lapor/dokumen").get_data(as_text=True)
    assert text_of(shown, f"uploaded-{kinds[1]}").startswith("✓ Sudah diunggah")


def test_an_upload_button_without_a_file_says_so_after_a_redirect(
    client: FlaskClient, session: Any
) -> None:
    kinds = _to_documents(client)
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    sent = client.post(
        "/lapor/dokumen", data={"csrf_token": csrf_token(page), "action": f"upload:{kinds[0]}"}
    )
    assert sent.status_code == 302
    shown = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Pilih berkas foto atau PDF dokumen" in text_of(shown, f"err-file-{kinds[0]}")


def test_removing_a_document_asks_first(client: FlaskClient, session: Any) -> None:
    _to_documents(client)
    assert upload(client, "kk", PDF).status_code == 302
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    assert 'data-confirm="Hapus Kartu Keluarga (KK) yang sudah diunggah?"' in page
    asked = client.post(
        "/lapor/dokumen", data={"csrf_token": csrf_token(page), "action": "remove:kk"}
    )
    assert asked.status_code == 302
    assert "kk" in _draft_documents()  # nothing removed yet
    question = client.get(asked.headers["Location"])
    assert question.status_code == 200
    html = question.get_data(as_text=True)
    assert "Kartu Keluarga (KK) yang sudah diunggah akan dihapus" in text_of(
        html, "remove-question"
    )
    assert "Tidak, kembali ke dokumen" in html
    removed = client.post(
        "/lapor/dokumen",
        data={"csrf_token": csrf_token(html), "action": "remove:kk", "confirmed": "yes"},
    )
    assert removed.status_code == 302
    assert "kk" not in _draft_documents()
    after = client.get("/lapor/dokumen").get_data(as_text=True)
    assert "Kartu Keluarga (KK) dihapus." in after
    # A question about a document not there: back to the documents.
    assert client.get("/lapor/dokumen/hapus/kk").headers["Location"].endswith("/lapor/dokumen")


def test_an_unknown_button_is_refused(client: FlaskClient, session: Any) -> None:
    _to_documents(client)
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    token = csrf_token(page)
    assert (
        client.post("/lapor/dokumen", data={"csrf_token": token, "action": "x"}).status_code == 400
    )
    bad_kind = {"csrf_token": token, "action": "upload:nope"}
    assert client.post("/lapor/dokumen", data=bad_kind).status_code == 400


def test_an_uploaded_photo_is_shown_as_a_thumbnail_to_this_browser_only(
    app: Flask, client: FlaskClient, session: Any
) -> None:
    _to_documents(client)
    picture = io.BytesIO()
    Image.new("RGB", (1200, 1600), (200, 190, 170)).save(picture, "JPEG")
    assert upload(client, "kk", picture.getvalue(), name="kk.jpg").status_code == 302
    assert upload(client, "birth_letter", PDF).status_code == 302
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    assert 'alt="Foto Kartu Keluarga (KK) yang diunggah"' in page
    shown = client.get("/lapor/dokumen/lihat/kk")
    assert shown.status_code == 200
    assert shown.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(shown.get_data())).size[0] > 0
    assert shown.headers["Content-Security-Policy"] == "default-src 'none'"
    assert app.test_client().get("/lapor/dokumen/lihat/kk").status_code == 404
    assert app.test_client().get("/lapor/dokumen/lihat/birth_letter").status_code == 404


def test_an_uploaded_pdf_is_shown_by_its_first_page(client: FlaskClient, session: Any) -> None:
    _to_documents(client)
    # Page 1 black text on white, page 2 a black page: the thumbnail is page 1's.
    letter = io.BytesIO()
    pdf = canvas.Canvas(letter, pagesize=A4)
    pdf.setFont("Helvetica-Bold", 48)
    pdf.drawString(72, 700, "SURAT KETERANGAN LAHIR")
    pdf.showPage()
    pdf.rect(0, 0, A4[0], A4[1], fill=1)
    pdf.showPage()
    pdf.save()
    assert upload(client, "birth_letter", letter.getvalue()).status_code == 302
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    assert 'id="thumbnail-birth_letter"' in page
    assert 'alt="Halaman pertama Surat keterangan lahir' in page
    shown = client.get("/lapor/dokumen/lihat/birth_letter")
    assert shown.status_code == 200
    assert shown.mimetype == "image/png"
    assert shown.headers["Content-Security-Policy"] == "default-src 'none'"
    picture = Image.open(io.BytesIO(shown.get_data())).convert("L")
    width, height = picture.size
    assert round(height / width, 2) == round(A4[1] / A4[0], 2)  # an upright A4 page
    assert picture.getextrema() == (0, 255)  # black text on white: drawn, not blank
    assert sum(picture.histogram()[200:]) > 0.8 * width * height  # mostly white: page 1


def test_a_hostile_pdf_is_refused_and_shows_no_thumbnail(client: FlaskClient, session: Any) -> None:
    _to_documents(client)
    for hostile in (
        pdf_with_page_size(200, 200, pages=MAX_PDF_PAGES + 1),
        pdf_with_page_size(20_000, 20_000),
        b"%PDF-1.7\n" + b"\x00" * 4096,
        encrypted_pdf(),
    ):
        refused = upload(client, "birth_letter", hostile)
        assert refused.status_code == 200  # the page again, saying why
        page = refused.get_data(as_text=True)
        assert 'id="err-file-birth_letter"' in page
        assert 'id="thumbnail-birth_letter"' not in page
        assert client.get("/lapor/dokumen/lihat/birth_letter").status_code == 404
    assert "birth_letter" not in _draft_documents()
