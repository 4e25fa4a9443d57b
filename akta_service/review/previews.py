"""Pictures of a PDF's pages for the review page.

Clerks see every page as a PNG image: any browser shows it, on any device, without a PDF
viewer plugin (headless and mobile browsers have none) and without running the uploaded
file in the clerk's browser.
"""

from __future__ import annotations

import io
import threading

import pypdfium2 as pdfium

#: PDFium is not thread-safe: one document at a time in this process.
_PDFIUM = threading.Lock()

#: Pages shown on the review page; longer files are read in full through the original.
MAX_PREVIEW_PAGES = 10
#: 1.5 × 72 dpi: a scanned form stays legible on screen.
SCALE = 1.5
#: The longest side of a page picture, whatever page size the file claims.
MAX_SIDE_PX = 2200


def pdf_page_count(data: bytes) -> int | None:
    """How many pages the PDF has; None when it cannot be read (damaged, password-protected)."""
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return None
        try:
            return len(pdf)
        finally:
            pdf.close()


def render_pdf_page(data: bytes, number: int) -> bytes | None:
    """Page `number` (from 1) as PNG bytes; None when the file has no such page or is unreadable."""
    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError:
            return None
        try:
            if not 1 <= number <= min(len(pdf), MAX_PREVIEW_PAGES):
                return None
            page = pdf[number - 1]
            try:
                width, height = page.get_size()
                scale = min(SCALE, MAX_SIDE_PX / max(width, height, 1.0))
                bitmap = page.render(scale=scale)
                try:
                    picture = io.BytesIO()
                    # The image shares PDFium's memory: encode it before anything is freed.
                    bitmap.to_pil().save(picture, "PNG", compress_level=3)
                finally:
                    bitmap.close()
            finally:
                page.close()
        finally:
            pdf.close()
    return picture.getvalue()
