"""Reading a QR code from an image or a PDF page (zxing-cpp; PDFs through pdftoppm)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import zxingcpp
from PIL import Image

#: The resolution a PDF page is rendered at before it is read: a printout scanned plainly.
PDF_DPI = 150


def read_qr(path: Path) -> str | None:
    """The text of the first QR code in the image (or the PDF's first page); None if none."""
    if path.read_bytes()[:5] == b"%PDF-":
        return _read_pdf(path)
    with Image.open(path) as image:
        found = zxingcpp.read_barcodes(
            image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
        )
    return found[0].text if found else None


def _read_pdf(path: Path) -> str | None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise RuntimeError("pdftoppm (poppler-utils) is needed to read a PDF")
    with tempfile.TemporaryDirectory() as folder:
        stem = Path(folder) / "page"
        subprocess.run(  # noqa: S603 - a fixed program and our own arguments
            [pdftoppm, "-r", str(PDF_DPI), "-png", "-singlefile", "-f", "1", str(path), str(stem)],
            check=True,
            capture_output=True,
        )
        return read_qr(stem.with_suffix(".png"))
