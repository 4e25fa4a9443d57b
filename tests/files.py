"""Small real files for upload tests: a JPEG and a PNG made with Pillow, a PDF with ReportLab."""

from __future__ import annotations

import io

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def jpeg_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (90, 60), (30, 30, 200)).save(out, "PNG")
    return out.getvalue()


def pdf_bytes(pages: int = 1) -> bytes:
    """An A4 PDF with big black text on each page."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 48)
        pdf.drawString(72, 700, f"KARTU KELUARGA {number}")
        pdf.showPage()
    pdf.save()
    return out.getvalue()
