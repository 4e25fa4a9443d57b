"""The updated Kartu Keluarga of the 3-in-1 as this office prints it: the KK's data exactly as
Dukcapil returned it after adding the child (number, head of family, address, the members in
the KK's order), on one A4 landscape page, signed like the akta in the same issue step.

The KK itself is Dukcapil's: the page says that it is this office's print of Dukcapil's data,
not a blank of the KK. Religion, education, occupation, marital status and blood type, which
a KK also lists, are not in Dukcapil's answer: the print leaves them out rather than guess.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Final
from xml.sax.saxutils import escape

from babel.dates import format_date
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from akta_service.akta import fonts
from akta_service.akta.document import (
    FONT,
    FONT_BOLD,
    draw_qr_code,
    new_canvas,
)
from akta_service.verification.dukcapil import FamilyCard, FamilyMember, Relation

PAGE_WIDTH, PAGE_HEIGHT = landscape(A4)
MARGIN: Final = 36.0
#: The QR code of the akta issued with it, (x1, y1, x2, y2) in points: 30 mm square.
KK_QR_BOX: Final = (MARGIN, 40.0, MARGIN + 85.0, 125.0)
#: What the page says it is, in its band under the title.
PRINT_MARK: Final = "CETAKAN DATA KARTU KELUARGA DARI DUKCAPIL, BUKAN BLANGKO KARTU KELUARGA"

_GREY: Final = Color(0.35, 0.35, 0.35)
_BAND: Final = Color(0.93, 0.93, 0.93)
_NEW_ROW: Final = Color(0.9, 0.95, 1.0)
_SEX_WORDS: Final = {"male": "LAKI-LAKI", "female": "PEREMPUAN"}
_RELATION_WORDS: Final = {
    Relation.HEAD: "KEPALA KELUARGA",
    Relation.WIFE: "ISTRI",
    Relation.CHILD: "ANAK",
}
COLUMNS: Final = (
    "No",
    "Nama Lengkap",
    "NIK",
    "Jenis Kelamin",
    "Tempat Lahir",
    "Tanggal Lahir",
    "Status Hubungan dalam Keluarga",
    "Nama Ayah",
    "Nama Ibu",
)
_WIDTHS: Final = (24, 118, 96, 62, 70, 58, 86, 128, 128)


@dataclass(frozen=True)
class KkContent:
    """Everything the print shows, already decided."""

    card: FamilyCard
    #: The child the 3-in-1 added: its row is marked.
    new_child_nik: str
    registration_number: str
    office_name: str
    issue_place: str
    issue_date: date
    officer_name: str
    #: What the QR code carries: the sealed facts of the akta issued with it.
    qr_text: str


def member_row(number: int, member: FamilyMember) -> tuple[str, ...]:
    """One member's line of the table, as printed (upper case, dates dd-MM-yyyy)."""
    return (
        str(number),
        member.name.upper(),
        member.nik,
        _SEX_WORDS.get(member.sex, member.sex.upper()),
        member.birth_place.upper(),
        format_date(member.birth_date, "dd-MM-yyyy", locale="id"),
        _RELATION_WORDS[member.relation],
        (member.father_name or "-").upper(),
        (member.mother_name or "-").upper(),
    )


def address_lines(card: FamilyCard) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The head of family and the address as (label, value): the left and the right column."""
    left = [
        ("Nama Kepala Keluarga", card.head_name.upper()),
        ("Alamat", card.address.upper()),
        ("RT/RW", f"{card.rt}/{card.rw}"),
        ("Desa/Kelurahan", card.village.upper()),
    ]
    right = [
        ("Kecamatan", card.district.upper()),
        ("Kabupaten/Kota", card.regency.upper()),
        ("Provinsi", card.province.upper()),
    ]
    return left, right


def render_kk_pdf(content: KkContent) -> bytes:
    """The print as a one-page A4 landscape PDF, byte-identical for the same content."""
    fonts.register()
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer,
        (PAGE_WIDTH, PAGE_HEIGHT),
        content.issue_date,
        f"Kartu Keluarga {content.card.kk_number} (cetakan data Dukcapil)",
        content.office_name,
    )
    _draw_header(canvas, content)
    _draw_members(canvas, content)
    _draw_issue(canvas, content)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_header(canvas: Canvas, content: KkContent) -> None:
    centre = PAGE_WIDTH / 2
    top = PAGE_HEIGHT - MARGIN
    canvas.setFont(FONT_BOLD, 16)
    canvas.drawCentredString(centre, top - 8, "KARTU KELUARGA")
    canvas.setFont(FONT_BOLD, 12)
    canvas.drawCentredString(centre, top - 26, f"No. {content.card.kk_number}")
    canvas.setFillColor(_BAND)
    canvas.rect(MARGIN, top - 62, PAGE_WIDTH - 2 * MARGIN, 28, stroke=0, fill=1)
    canvas.setFillColor(black)
    canvas.setFont(FONT_BOLD, 8.5)
    canvas.drawCentredString(centre, top - 45, PRINT_MARK)
    canvas.setFont(FONT, 7.5)
    canvas.drawCentredString(
        centre,
        top - 56,
        f"Data sebagaimana dijawab Dukcapil setelah kelahiran dicatat (akta "
        f"{content.registration_number}); dicetak oleh {content.office_name}.",
    )
    left, right = address_lines(content.card)
    for column, (x, lines) in enumerate(((MARGIN, left), (PAGE_WIDTH / 2 + 60, right))):
        y = top - 80
        for label, value in lines:
            canvas.setFont(FONT, 8.5)
            canvas.drawString(x, y, label)
            canvas.setFont(FONT_BOLD, 8.5)
            canvas.drawString(x + (110 if column == 0 else 85), y, f": {value}")
            y -= 12


def _draw_members(canvas: Canvas, content: KkContent) -> None:
    """The members' table under the address."""
    head = ParagraphStyle("head", fontName=FONT_BOLD, fontSize=7, leading=8.5, alignment=1)
    cell = ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9)
    rows: list[list[Paragraph]] = [[Paragraph(title, head) for title in COLUMNS]]
    marked = []
    for number, member in enumerate(content.card.members, start=1):
        rows.append([Paragraph(escape(value), cell) for value in member_row(number, member)])
        if member.nik == content.new_child_nik:
            marked.append(("BACKGROUND", (0, number), (-1, number), _NEW_ROW))
    table = Table(rows, colWidths=_WIDTHS, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, _GREY),
                ("BACKGROUND", (0, 0), (-1, 0), _BAND),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                *marked,
            ]
        )
    )
    _width, height = table.wrapOn(canvas, PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT)
    top = PAGE_HEIGHT - MARGIN - 130
    table.drawOn(canvas, MARGIN, top - height)
    canvas.setFont(FONT, 7)
    canvas.setFillColor(_GREY)
    canvas.drawString(
        MARGIN, top - height - 11, "Baris berwarna: anak yang baru dicatat bersama akta ini."
    )
    canvas.setFillColor(black)


def _draw_issue(canvas: Canvas, content: KkContent) -> None:
    draw_qr_code(canvas, content.qr_text, KK_QR_BOX)
    canvas.setFont(FONT, 6.5)
    canvas.setFillColor(_GREY)
    canvas.drawString(KK_QR_BOX[2] + 8, KK_QR_BOX[1] + 40, "Kode QR akta kelahiran anak:")
    canvas.drawString(KK_QR_BOX[2] + 8, KK_QR_BOX[1] + 31, "pindai untuk memeriksa keasliannya.")
    canvas.setFillColor(black)
    x = PAGE_WIDTH - MARGIN - 130
    when = format_date(content.issue_date, "dd-MM-yyyy", locale="id")
    canvas.setFont(FONT, 8.5)
    canvas.drawCentredString(x, 118, f"Dicetak di {content.issue_place.upper()}, {when}")
    canvas.drawCentredString(x, 106, "KEPALA DINAS KEPENDUDUKAN DAN PENCATATAN SIPIL")
    canvas.setFont(FONT_BOLD, 9)
    canvas.drawCentredString(x, 62, content.officer_name.upper())
    canvas.setFont(FONT, 7)
    canvas.setFillColor(_GREY)
    canvas.drawCentredString(x, 50, "Ditandatangani secara elektronik")
    canvas.setFillColor(black)
