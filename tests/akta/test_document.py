"""The Kutipan Akta Kelahiran PDF: wording per model, metadata, fonts, QR code, determinism."""

from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from pypdf.generic import ContentStream
from reportlab.lib.utils import simpleSplit

from akta_service.akta.document import (
    FONT,
    QR_BOX,
    QR_FORM_NAME,
    SIGNATURE_BOX,
    AktaContent,
    UnprintableTextError,
    _wrap,
    akta_lines,
    akta_sentences,
    render_akta_pdf,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
MODELS = ("recorded_marriage", "unrecorded_marriage", "mother_only", "unknown_origin")
UNRECORDED = (
    "yang perkawinannya belum tercatat sesuai dengan ketentuan peraturan perundang-undangan"
)
URL = "https://akta.example.go.id/verifikasi/3274-LU-22112026-0001?kode=8f3a9c2d"


def content_for(model: str = "recorded_marriage", **changes: Any) -> AktaContent:
    """Aisyah's akta in the given wording model, with the parents that model names."""
    content = AktaContent(
        registration_number="3274-LU-22112026-0001",
        child_nik="3274055807170001",
        child_name="Aisyah Putri",
        child_sex="female",
        birth_place="Cirebon",
        birth_date=date(2017, 7, 18),
        birth_order=1,
        wording_model=model,
        father_name="Agus Setiawan" if model in MODELS[:2] else None,
        mother_name="Dewi Lestari" if model in MODELS[:3] else None,
        region_name="Kota Cirebon",
        issue_place="Cirebon",
        issue_date=date(2026, 11, 22),
        officer_title="Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Cirebon",
        officer_name="Drs. Bambang Sutrisno, M.Si.",
        officer_nip="197001011990031001",
        verification_url=URL,
    )
    return replace(content, **changes)


@pytest.fixture(scope="module")
def pdfs() -> dict[str, bytes]:
    """One rendered akta per wording model."""
    return {model: render_akta_pdf(content_for(model)) for model in MODELS}


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def resources(pdf: bytes) -> Any:
    """The page's resource dictionary (fonts, forms)."""
    return reader(pdf).pages[0]["/Resources"]


def page_text(pdf: bytes) -> str:
    """The page's text with every run of whitespace (line breaks too) as one space."""
    return " ".join(reader(pdf).pages[0].extract_text().split())


def test_model_1_sentences_read_like_a_real_akta() -> None:
    assert akta_sentences(content_for()) == [
        "Berdasarkan Akta Kelahiran Nomor 3274-LU-22112026-0001",
        "bahwa di CIREBON pada tanggal delapan belas bulan Juli tahun dua ribu tujuh belas",
        "telah lahir AISYAH PUTRI",
        "anak ke SATU, PEREMPUAN, dari ayah AGUS SETIAWAN dan ibu DEWI LESTARI",
        "Kutipan ini dikeluarkan di Cirebon pada tanggal 22 November 2026",
    ]


@pytest.mark.parametrize(
    ("model", "parents_line"),
    [
        (
            "recorded_marriage",
            "anak ke SATU, PEREMPUAN, dari ayah AGUS SETIAWAN dan ibu DEWI LESTARI",
        ),
        (
            "unrecorded_marriage",
            "anak ke SATU, PEREMPUAN, dari ayah AGUS SETIAWAN dan ibu DEWI LESTARI",
        ),
        ("mother_only", "anak ke SATU, PEREMPUAN, anak seorang ibu DEWI LESTARI"),
        ("unknown_origin", "anak ke SATU, PEREMPUAN"),
    ],
)
def test_pdf_prints_the_wording_of_each_model(
    pdfs: dict[str, bytes], model: str, parents_line: str
) -> None:
    text = page_text(pdfs[model])
    assert parents_line in akta_sentences(content_for(model))
    for sentence in akta_sentences(content_for(model)):
        assert sentence in text
    for heading in (
        "REPUBLIK INDONESIA",
        "PENCATATAN SIPIL REGISTRY OFFICE",
        "WARGA NEGARA: INDONESIA",
        "NATIONALITY: INDONESIAN",
        "KUTIPAN AKTA KELAHIRAN EXCERPT OF BIRTH CERTIFICATE",
        "Nomor Induk Kependudukan Personal Registration Number 3274055807170001",
        "Tempat lambang Garuda Pancasila",
        "PEJABAT PENCATATAN SIPIL KOTA CIREBON",
        "DRS. BAMBANG SUTRISNO, M.SI. NIP. 197001011990031001",
        "ditandatangani secara elektronik menggunakan sertifikat elektronik",
    ):
        assert heading in text


@pytest.mark.parametrize("model", MODELS)
def test_pdf_prints_the_english_glosses(pdfs: dict[str, bytes], model: str) -> None:
    text = page_text(pdfs[model])
    glosses = [line.gloss for line in akta_lines(content_for(model))]
    assert glosses[:3] == [
        "By virtue of Birth Certificate Number",
        "that in, on the date of",
        "was born",
    ]
    for gloss in glosses:
        assert gloss in text
    assert "This excerpt is issued in, on the date of" in text


def test_dates_and_birth_order_are_written_in_words() -> None:
    text = page_text(render_akta_pdf(content_for(birth_order=2, birth_date=date(2026, 2, 21))))
    assert "pada tanggal dua puluh satu bulan Februari tahun dua ribu dua puluh enam" in text
    assert "anak ke DUA, PEREMPUAN" in text
    twelfth = akta_sentences(content_for(birth_order=12, child_sex="male"))[3]
    assert twelfth.startswith("anak ke DUA BELAS, LAKI-LAKI, dari ayah")


@pytest.mark.parametrize(
    ("model", "names_father"),
    list(zip(MODELS, (True, True, False, False), strict=True)),
)
def test_father_named_only_when_the_marriage_is_on_the_kk(
    pdfs: dict[str, bytes], model: str, names_father: bool
) -> None:
    text = page_text(pdfs[model])
    assert ("AGUS SETIAWAN" in text) is names_father
    assert ("dari ayah" in text) is names_father


@pytest.mark.parametrize("model", MODELS)
def test_unrecorded_marriage_phrase_only_in_model_2(pdfs: dict[str, bytes], model: str) -> None:
    text = page_text(pdfs[model])
    assert ("perkawinannya belum tercatat" in text) is (model == "unrecorded_marriage")
    assert (UNRECORDED in text) is (model == "unrecorded_marriage")


def test_unknown_origin_names_no_parent(pdfs: dict[str, bytes]) -> None:
    text = page_text(pdfs["unknown_origin"])
    assert "DEWI LESTARI" not in text
    assert " ibu " not in text


def test_metadata_title_author_language_and_date(pdfs: dict[str, bytes]) -> None:
    pdf = reader(pdfs["recorded_marriage"])
    assert pdf.metadata is not None
    assert pdf.metadata.title == "Kutipan Akta Kelahiran 3274-LU-22112026-0001"
    assert pdf.metadata.author == "Pejabat Pencatatan Sipil Kota Cirebon"
    assert pdf.metadata.subject == "Kutipan Akta Kelahiran / Excerpt of Birth Certificate"
    assert pdf.metadata.creator == "akta-service"
    assert pdf.root_object["/Lang"] == "id-ID"
    assert pdf.metadata.creation_date is not None
    assert pdf.metadata.creation_date.date() == date(2026, 11, 22)


def test_same_content_same_bytes_different_name_different_bytes() -> None:
    first, again = render_akta_pdf(content_for()), render_akta_pdf(content_for())
    assert first == again
    assert render_akta_pdf(content_for(child_name="Aisyah Putri Rahma")) != first


def test_page_is_a4_portrait(pdfs: dict[str, bytes]) -> None:
    box = reader(pdfs["recorded_marriage"]).pages[0].mediabox
    assert len(reader(pdfs["recorded_marriage"]).pages) == 1
    assert float(box.width) == pytest.approx(595.27, abs=0.01)
    assert float(box.height) == pytest.approx(841.89, abs=0.01)


def test_every_font_is_an_embedded_truetype(pdfs: dict[str, bytes]) -> None:
    fonts = resources(pdfs["unrecorded_marriage"])["/Font"]
    assert len(fonts) >= 3  # regular, bold, italic
    for font in fonts.values():
        font = font.get_object()
        assert font["/Subtype"] == "/TrueType"
        assert "/FontFile2" in font["/FontDescriptor"]


def test_no_text_where_the_signature_stamp_goes(pdfs: dict[str, bytes]) -> None:
    baselines: list[float] = []

    def visit(text: str, _cm: Any, tm: Any, _font: Any, _size: Any) -> None:
        if text.strip():
            baselines.append(float(tm[5]))

    reader(pdfs["recorded_marriage"]).pages[0].extract_text(visitor_text=visit)
    assert baselines
    x1, y1, x2, y2 = SIGNATURE_BOX
    assert x2 - x1 >= 150
    assert y2 - y1 >= 50
    assert not [y for y in baselines if y1 - 2 <= y <= y2 + 2]


def qr_cells(text: str) -> set[tuple[int, int]]:
    """The dark modules (row, column) of the QR code segno makes for text (level M)."""
    code = segno.make_qr(text, error="m")
    return {(r, c) for r, row in enumerate(code.matrix) for c, dark in enumerate(row) if dark}


def drawn_qr_cells(pdf: bytes) -> set[tuple[int, int]]:
    """The dark modules drawn in the akta's QR form, read back from its rectangles."""
    form = resources(pdf)["/XObject"][f"/FormXob.{QR_FORM_NAME}"].get_object()
    size = float(form["/BBox"][2])
    rects = [ops for ops, op in ContentStream(form, None).operations if op == b"re"]
    modules = round(size / float(rects[0][3]))
    box = size / modules
    cells: set[tuple[int, int]] = set()
    for x, y, width, _height in rects:
        row = round((size - float(y)) / box) - 1
        first = round(float(x) / box)
        cells.update((row, column) for column in range(first, first + round(float(width) / box)))
    return cells


def test_a_sealed_akta_draws_its_sealed_text_not_the_url() -> None:
    sealed = "AK1:" + "6BFOXN*TS0BI$ZD-PHQ7I9AD66V5B22CH9M9ESI9XBHXK-%69LQOGI.*V76GCV4*XUA2P-FHT-H"
    pdf = render_akta_pdf(content_for(seal=sealed))
    assert drawn_qr_cells(pdf) == qr_cells(sealed)
    assert drawn_qr_cells(pdf) != qr_cells(URL)
    assert segno.make_qr(sealed, error="m").mode == "alphanumeric"


def test_a_preview_qr_code_encodes_the_verification_url_at_its_place(
    pdfs: dict[str, bytes],
) -> None:
    pdf = pdfs["recorded_marriage"]
    assert drawn_qr_cells(pdf) == qr_cells(URL)
    assert drawn_qr_cells(pdf) != qr_cells(URL.replace("8f3a9c2d", "00000000"))
    page = reader(pdf).pages[0]
    operations = ContentStream(page.get_contents(), None).operations
    at = operations.index(([f"/FormXob.{QR_FORM_NAME}"], b"Do"))
    scale, _b, _c, _d, x, y = (float(value) for value in operations[at - 1][0])
    form = resources(pdf)["/XObject"][f"/FormXob.{QR_FORM_NAME}"].get_object()
    side = float(form["/BBox"][2]) * scale
    # The form lands exactly on QR_BOX: its corner and its size.
    assert operations[at - 1][1] == b"cm"
    assert (x, y, x + side, y + side) == pytest.approx(QR_BOX, abs=0.01)
    assert "Pindai untuk memeriksa keaslian" in page_text(pdf)


def test_correction_is_marked_discreetly() -> None:
    assert "Perbaikan" not in page_text(render_akta_pdf(content_for()))
    assert "Perbaikan ke-1" in page_text(render_akta_pdf(content_for(version=2)))


def test_nik_box_stays_empty_until_dukcapil_assigns_one() -> None:
    text = page_text(render_akta_pdf(content_for(child_nik=None)))
    assert "Personal Registration Number" in text
    assert not re.search(r"\b\d{16}\b", text)


def test_long_names_shrink_to_fit_instead_of_overflowing() -> None:
    content = content_for(
        "unrecorded_marriage",
        child_name="Muhammad Rizky Ananda Pratama Wijayakusuma Hadiningrat Putra Mahkota",
        father_name="Raden Mas Haji Abdurrahman Wijayakusuma Hadiningrat Soeryosoemarno",
        mother_name="Siti Nurhaliza Kartikasari Dewi Lestari Ningsih Purwaningtyas",
        birth_date=date(2027, 12, 27),
    )
    text = page_text(render_akta_pdf(content))
    for sentence in akta_sentences(content):
        assert sentence in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"wording_model": "married"}, "not a valid WordingModel"),
        ({"child_sex": "unknown"}, "not a valid Sex"),
        ({"father_name": None}, "names the father"),
        ({"birth_order": 0}, "start at 1"),
    ],
)
def test_incoherent_content_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        content_for(**changes)


def test_characters_the_font_cannot_print_are_refused() -> None:
    with pytest.raises(UnprintableTextError, match="李"):
        render_akta_pdf(content_for(child_name="Aisyah 李"))


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


@pytest.mark.parametrize("model", MODELS)
def test_page_renders_to_png_for_a_person_to_look_at(pdfs: dict[str, bytes], model: str) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pdftoppm is missing on CI: install poppler-utils")
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    source = ARTIFACTS / f"akta-{model}.pdf"
    source.write_bytes(pdfs[model])
    subprocess.run(  # noqa: S603 - fixed arguments, our own file
        [pdftoppm, "-png", "-r", "100", "-singlefile", str(source), str(source.with_suffix(""))],
        check=True,
        timeout=60,
    )
    png = source.with_suffix(".png").read_bytes()
    width, height = png_size(png)
    assert abs(width - 827) <= 1  # A4 at 100 dpi: 8.27 x 11.69 inches
    assert abs(height - 1169) <= 1
    assert len(png) > 20_000  # text, frame and QR code, not a blank page


def _narrowest_step_by_step(text: str, font: str, size: float, width: float) -> list[str]:
    """What the renderer's wrapping must give: narrowed 4 pt at a time while no line is added."""
    lines = list(simpleSplit(text, font, size, width))
    if len(lines) < 2:
        return lines
    while width > 40 and len(simpleSplit(text, font, size, width - 4)) == len(lines):
        width -= 4
    return list(simpleSplit(text, font, size, width))


@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyzAIKLMW-,.", min_size=1, max_size=14),
        min_size=1,
        max_size=40,
    ),
    size=st.sampled_from([8.5, 10.0, 11.5, 13.0]),
    width=st.floats(min_value=20, max_value=500),
)
def test_wrapping_takes_the_same_lines_as_narrowing_step_by_step(
    words: list[str], size: float, width: float
) -> None:
    render_akta_pdf(content_for())  # the fonts registered
    text = " ".join(words)
    assert list(_wrap(text, FONT, size, width)) == _narrowest_step_by_step(text, FONT, size, width)
