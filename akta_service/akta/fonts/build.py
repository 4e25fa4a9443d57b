"""Make the akta's fonts from Bitstream Vera (shipped with ReportLab): `python -m
akta_service.akta.fonts.build` (fontTools, a development dependency) writes the three files
beside this one. They are committed; the service only reads them.

What changes from Vera, and why:
- the TrueType hinting goes (the glyphs' instructions, `fpgm`, `prep`, `cvt `, `hdmx`,
  `gasp`): a PDF viewer draws the outlines at any size, and the instructions were most of
  each glyph ReportLab embeds;
- the `kern` and `PCLT` tables go: ReportLab sets text without kerning and never reads them;
- the naming table keeps the copyright and the version, in English, under the names "Akta
  Sans": Vera's licence allows a changed font only under a name without "Bitstream" or
  "Vera" (LICENSE beside this file).

Every character keeps its glyph and its advance width, so the text is set exactly as with
Vera: the same lines, the same breaks. tests/akta/test_fonts.py checks both.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

import reportlab
from fontTools import subset
from fontTools.ttLib import TTFont

from akta_service.akta.fonts import FOLDER

#: Each font the akta uses: (Vera's file in ReportLab, the file made here, its style).
FONTS: Final = (
    ("Vera.ttf", "AktaSans-Regular.ttf", "Regular"),
    ("VeraBd.ttf", "AktaSans-Bold.ttf", "Bold"),
    ("VeraIt.ttf", "AktaSans-Italic.ttf", "Italic"),
)
FAMILY: Final = "Akta Sans"
#: The naming table's records kept: copyright, family, style, unique name, full name,
#: version, PostScript name.
NAME_IDS: Final = (0, 1, 2, 3, 4, 5, 6)
DROPPED_TABLES: Final = ("kern", "hdmx", "PCLT", "gasp")


def vera_folder() -> Path:
    """Where ReportLab keeps Bitstream Vera."""
    return Path(reportlab.__file__).parent / "fonts"


def build(source: Path, target: Path, style: str) -> None:
    """`source` (a Vera file) without hinting, under the Akta Sans names, to `target`."""
    font = TTFont(source, recalcTimestamp=False)
    options = subset.Options()
    options.hinting = False
    options.name_IDs = list(NAME_IDS)
    options.name_languages = [0x409]
    options.layout_features = []
    options.drop_tables += list(DROPPED_TABLES)
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=font.getBestCmap().keys())
    subsetter.subset(font)
    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    names = font["name"]
    for name_id, text in (
        (1, FAMILY),
        (2, style),
        (3, f"{postscript};{names.getDebugName(5) or ''}"),
        (4, f"{FAMILY} {style}"),
        (6, postscript),
    ):
        names.setName(text, name_id, 3, 1, 0x409)
        names.removeNames(nameID=name_id, platformID=1)
    font.save(target)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    target_folder = Path(args[0]) if args else FOLDER
    for source, target, style in FONTS:
        build(vera_folder() / source, target_folder / target, style)
        print(f"{target_folder / target}: {(target_folder / target).stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
