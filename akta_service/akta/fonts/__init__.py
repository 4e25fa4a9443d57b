"""The fonts of the service's PDFs (the akta, the KIA card, the KK print, the parents'
receipts): Akta Sans, Bitstream Vera without its hinting (build.py says what and why).
Importing this loads nothing else: a web worker makes a receipt without the akta's modules."""

from __future__ import annotations

from pathlib import Path
from typing import Final

FOLDER: Final = Path(__file__).parent
REGULAR: Final = FOLDER / "AktaSans-Regular.ttf"
BOLD: Final = FOLDER / "AktaSans-Bold.ttf"
ITALIC: Final = FOLDER / "AktaSans-Italic.ttf"
