"""Small real files for upload tests: a JPEG and a PNG made with Pillow, a PDF with ReportLab;
and hostile ones: a decompression bomb, a polyglot, a truncated image, PDF bombs."""

from __future__ import annotations

import functools
import io
import struct
import subprocess
import zlib

from PIL import ExifTags, Image, PngImagePlugin
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def pdf_text(pdf: bytes) -> str:
    """A PDF's text as a reader sees it on the page (poppler's pdftotext), on one line."""
    assert pdf.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],  # noqa: S607 - poppler-utils
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return " ".join(text.split())


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


@functools.cache
def png_bomb(width: int = 7680, height: int = 7680) -> bytes:
    """A single-colour RGB PNG of width × height (59 megapixels by default) that is small on
    disk (172 KB): written row by row through zlib, so the test never holds its pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer = zlib.compressobj(9)
    row = b"\x00" * (width * 3 + 1)  # filter byte, then black pixels
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


#: Where a photo was taken: the family's home, which must never reach a clerk's browser.
GPS_LATITUDE = (6.0, 43.0, 12.0)


def gps_jpeg() -> bytes:
    """A phone photo with its camera and GPS position in EXIF, and a comment."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(
        {1: "S", 2: GPS_LATITUDE, 3: "E", 4: (108.0, 33.0, 0.0)}
    )
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (120, 160, 90)).save(out, "JPEG", exif=exif, comment=b"RumahKami")
    return out.getvalue()


#: Script a browser would run if the file were ever taken for a page.
HTML = b"<html><body><script>alert(document.cookie)</script></body></html>"


def html_polyglot_png() -> bytes:
    """A real PNG that is also a page: HTML in a text chunk and after the end of the image."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", HTML.decode())
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (250, 250, 250)).save(out, "PNG", pnginfo=info)
    return out.getvalue() + HTML


def truncated_png() -> bytes:
    """A PNG cut short halfway through its pixels (an upload that broke off)."""
    out = io.BytesIO()
    Image.effect_noise((400, 300), 60).convert("RGB").save(out, "PNG")
    data = out.getvalue()
    return data[: len(data) // 2]


def pdf_with_page_size(width_pt: float, height_pt: float, pages: int = 1) -> bytes:
    """A PDF whose pages claim the given size in points."""
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(width_pt, height_pt))
    for _ in range(pages):
        pdf.drawString(72, 72, "HALAMAN")
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF that opens only with a password."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer.encrypt(user_password="rahasia", owner_password="rahasia-pemilik")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
