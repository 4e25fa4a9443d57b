"""The akta's fonts (Akta Sans, Bitstream Vera without its hinting): every character Vera
printed prints the same width, the documents are half the bytes, and the names follow Vera's
licence."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from akta_service.akta.document import render_akta_pdf
from akta_service.akta.fonts import FOLDER as FONT_FOLDER
from akta_service.akta.fonts import build
from tests.akta.test_document import content_for

#: The longest names the akta's lines take at full size, in every wording model's longest.
LONG_NAMES = {
    "child_name": "Muhammad Rizky Ramadhan Saputra Wijayakusuma",
    "father_name": "Raden Mas Bambang Hadiningrat Sastrowardoyo",
    "mother_name": "Siti Nurhaliza Kusumawardhani Prameswari",
}


def _widths(font: TTFont) -> dict[int, int]:
    """Each character's advance width, in font units."""
    metrics = font["hmtx"]
    return {char: metrics[glyph][0] for char, glyph in font.getBestCmap().items()}


@pytest.mark.parametrize(("vera", "akta_sans", "style"), build.FONTS)
def test_every_character_vera_printed_prints_at_the_same_width(
    vera: str, akta_sans: str, style: str
) -> None:
    original = TTFont(build.vera_folder() / vera)
    ours = TTFont(FONT_FOLDER / akta_sans)
    # The same characters at the same widths: every line of an akta breaks where it did.
    assert _widths(ours) == _widths(original)
    assert ours["head"].unitsPerEm == original["head"].unitsPerEm
    # Without the hinting, that a PDF viewer never runs.
    assert not {"fpgm", "prep", "cvt ", "hdmx"} & set(ours.keys())
    size, vera_size = (
        (FONT_FOLDER / akta_sans).stat().st_size,
        (build.vera_folder() / vera).stat().st_size,
    )
    assert size < vera_size / 2


@pytest.mark.parametrize(("_vera", "akta_sans", "style"), build.FONTS)
def test_the_changed_fonts_carry_their_own_name_and_vera_s_copyright(
    _vera: str, akta_sans: str, style: str
) -> None:
    names = TTFont(FONT_FOLDER / akta_sans)["name"]
    # Vera's licence: a changed font may not be called "Bitstream" or "Vera"...
    for name_id in (1, 3, 4, 6):
        text = names.getDebugName(name_id)
        assert text is not None
        assert "Vera" not in text
        assert "Bitstream" not in text
    assert names.getDebugName(6) == f"AktaSans-{style}"
    # ...and its copyright and licence go with every copy.
    assert "Bitstream" in (names.getDebugName(0) or "")
    licence = (FONT_FOLDER / "LICENSE").read_text()
    assert "Copyright (c) 2003 by Bitstream, Inc." in licence
    assert "renamed" in licence


def test_the_build_makes_the_committed_fonts_again(tmp_path: Path) -> None:
    build.main([str(tmp_path)])
    for _vera, akta_sans, _style in build.FONTS:
        made, committed = TTFont(tmp_path / akta_sans), TTFont(FONT_FOLDER / akta_sans)
        assert sorted(made.keys()) == sorted(committed.keys())
        assert _widths(made) == _widths(committed)
        glyphs = made.getGlyphOrder()
        assert glyphs == committed.getGlyphOrder()
        assert all(
            made["glyf"][glyph].getCoordinates(made["glyf"])[0]
            == committed["glyf"][glyph].getCoordinates(committed["glyf"])[0]
            for glyph in glyphs
        )


@pytest.mark.parametrize("model", ["recorded_marriage", "unrecorded_marriage", "mother_only"])
def test_the_akta_a_parent_downloads_is_small_and_names_akta_sans(model: str) -> None:
    pdf = render_akta_pdf(content_for(model, **LONG_NAMES))
    # With Vera's hinting embedded the same akta was about 66 KB: a phone on a poor
    # connection now fetches half of that.
    assert len(pdf) < 40_000
    fonts = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]["/Font"]
    embedded = sorted(str(font.get_object()["/BaseFont"]).split("+")[1] for font in fonts.values())
    assert embedded == ["AktaSans-Bold", "AktaSans-Italic", "AktaSans-Regular"]
