"""Hostile files are opened in a child process with limits: a decompression bomb is refused
before it is decoded, the child's memory stays bounded, and what comes out is a picture
written again from pixels alone."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from akta_service.core.untrusted_files import (
    MAX_PDF_PAGES,
    MAX_PICTURE_SIDE,
    FileRefused,
    allowed_pixels,
    inspect_file,
)
from tests.files import (
    HTML,
    encrypted_pdf,
    gps_jpeg,
    html_polyglot_png,
    pdf_bytes,
    pdf_with_page_size,
    png_bomb,
    truncated_png,
)

#: What no upload may make the child hold (resident memory), in KiB.
MEMORY_BOUND_KIB = 200 * 1024


@pytest.fixture(scope="session")
def bomb() -> bytes:
    return png_bomb()


def _refused(data: bytes, **limits: float) -> FileRefused:
    with pytest.raises(FileRefused) as refused:
        inspect_file(data, **limits)  # type: ignore[arg-type]
    return refused.value


def test_a_59_megapixel_png_of_172_kb_is_refused_before_it_is_decoded(bomb: bytes) -> None:
    assert len(bomb) < 200_000
    assert Image.open(io.BytesIO(bomb)).size == (7680, 7680)
    assert allowed_pixels(len(bomb)) < 7680 * 7680
    assert _refused(bomb).code == "image_too_large"


def test_a_large_real_photo_is_scaled_down_with_bounded_memory() -> None:
    # 24 megapixels of a camera at full resolution: the child decodes it at half its size.
    width, height = 6000, 4000
    photo = Image.blend(
        Image.linear_gradient("L").resize((width, height)).convert("RGB"),
        Image.effect_noise((width, height), 10).convert("RGB"),
        0.1,
    )
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=90)
    inspection = inspect_file(out.getvalue())
    (picture,) = inspection.pictures
    assert (picture.width, picture.height) == (MAX_PICTURE_SIDE, 1600)
    assert Image.open(io.BytesIO(picture.data)).size == (MAX_PICTURE_SIDE, 1600)
    assert 0 < inspection.peak_memory_kib < MEMORY_BOUND_KIB


def test_a_file_that_needs_more_memory_than_the_limit_is_refused_not_fatal() -> None:
    # 8 megapixels decode in about 32 MB: with 16 MB the child runs out and says so.
    out = io.BytesIO()
    Image.effect_noise((3200, 2500), 50).convert("RGB").save(out, "PNG", compress_level=1)
    refused = _refused(out.getvalue(), memory_limit=16 * 1024 * 1024)
    assert refused.code in {"image_too_large", "file_too_complex"}


def test_a_child_past_its_time_limit_is_stopped() -> None:
    assert _refused(pdf_bytes(MAX_PDF_PAGES), time_limit=0.001).code == "file_too_complex"


def test_exif_gps_and_comments_do_not_reach_the_picture() -> None:
    (picture,) = inspect_file(gps_jpeg()).pictures
    assert b"PhoneMaker" not in picture.data
    assert b"RumahKami" not in picture.data
    shown = Image.open(io.BytesIO(picture.data))
    assert dict(shown.getexif()) == {}
    assert shown.size == (640, 480)


def test_html_in_or_after_a_png_is_not_in_its_picture() -> None:
    (picture,) = inspect_file(html_polyglot_png()).pictures
    assert picture.content_type == "image/png"
    assert b"<script" not in picture.data
    assert HTML not in picture.data


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (truncated_png(), "unreadable_file"),
        (b"\xff\xd8\xff\xe0" + b"rusak" * 50, "unreadable_file"),
        (b"%PDF-1.7\n this is not really a PDF at all", "pdf_unreadable"),
        (pdf_bytes()[:300], "pdf_unreadable"),
        (encrypted_pdf(), "pdf_encrypted"),
        (pdf_with_page_size(595, 842, pages=MAX_PDF_PAGES + 1), "pdf_too_many_pages"),
        (pdf_with_page_size(14400, 14400), "pdf_page_too_large"),
        (b"<html>not a document</html>", "unsupported_type"),
    ],
)
def test_files_that_cannot_be_taken_are_refused_with_their_reason(data: bytes, code: str) -> None:
    assert _refused(data).code == code


def test_too_many_pages_says_how_many_are_allowed() -> None:
    refused = _refused(pdf_with_page_size(595, 842, pages=MAX_PDF_PAGES + 1))
    assert refused.params == {"max": MAX_PDF_PAGES}


def test_every_page_of_a_pdf_becomes_a_picture() -> None:
    inspection = inspect_file(pdf_bytes(3))
    assert inspection.pages == 3
    assert [p.content_type for p in inspection.pictures] == ["image/png"] * 3
    page = Image.open(io.BytesIO(inspection.pictures[2].data))
    assert page.height > page.width > 500
    assert 0 < inspection.peak_memory_kib < MEMORY_BOUND_KIB
