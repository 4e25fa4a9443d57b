"""The fonts of the service's PDFs (the akta, the KIA card, the KK print, the parents'
receipts): Akta Sans, Bitstream Vera without its hinting (build.py says what and why).
Importing this loads nothing else: a web worker makes a receipt without the akta's modules."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

FOLDER: Final = Path(__file__).parent
REGULAR: Final = FOLDER / "AktaSans-Regular.ttf"
BOLD: Final = FOLDER / "AktaSans-Bold.ttf"
ITALIC: Final = FOLDER / "AktaSans-Italic.ttf"
#: The names ReportLab knows them by, once :func:`register` ran.
FONT: Final = "AktaSans"
FONT_BOLD: Final = "AktaSans-Bold"
FONT_ITALIC: Final = "AktaSans-Italic"


@cache
def register() -> None:
    """Make the three fonts known to ReportLab, once per process (every PDF uses them)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, path in ((FONT, REGULAR), (FONT_BOLD, BOLD), (FONT_ITALIC, ITALIC)):
        pdfmetrics.registerFont(TTFont(name, str(path)))
