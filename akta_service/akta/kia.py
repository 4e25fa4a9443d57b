"""The Kartu Identitas Anak (Permendagri 2/2016) of a child under five: its facts and its PDF,
one card of ID-1 size (85.6 x 54 mm), issued with the akta in the same step (the 3-in-1).

Below five the card has no photo and is valid until the fifth birthday. Religion and address,
which the regulation also lists, are not asked by the birth report: the card leaves them out
rather than print a guess.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Final

from babel.dates import format_date
from reportlab.lib.colors import Color, black
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from akta_service.akta import fonts
from akta_service.akta.document import (
    FONT,
    FONT_BOLD,
    draw_qr_code,
    new_canvas,
)
from akta_service.births.models import BirthReport, InformantRelation, Sex

#: ISO/IEC 7810 ID-1, the size of a KTP-el: 85.6 x 54 mm.
CARD_WIDTH: Final = 85.6 * mm
CARD_HEIGHT: Final = 54 * mm
#: The card's QR code, (x1, y1, x2, y2) in points: the same code as the akta's.
KIA_QR_BOX: Final = (CARD_WIDTH - 62.0, 38.0, CARD_WIDTH - 10.0, 90.0)
#: Age from which a child's card needs a photo and is another card: the KIA issued here ends.
KIA_AGE_LIMIT: Final = 5

_BAND: Final = Color(0.12, 0.33, 0.55)
_GREY: Final = Color(0.35, 0.35, 0.35)
_SEX_WORDS: Final = {Sex.MALE: "LAKI-LAKI", Sex.FEMALE: "PEREMPUAN"}


@dataclass(frozen=True)
class KiaContent:
    """Everything the card prints, already decided."""

    child_nik: str
    child_name: str
    child_sex: str
    birth_place: str
    birth_date: date
    kk_number: str
    head_of_family: str
    registration_number: str
    region_name: str
    issue_place: str
    issue_date: date
    valid_until: date
    officer_name: str
    #: What the QR code carries: the same text the akta's code carries.
    qr_text: str


def fifth_birthday(birth_date: date) -> date:
    """The day the card stops being valid (a child born on 29 February: 28 February)."""
    try:
        return birth_date.replace(year=birth_date.year + KIA_AGE_LIMIT)
    except ValueError:
        return birth_date.replace(year=birth_date.year + KIA_AGE_LIMIT, day=28)


def under_five(birth_date: date, on: date) -> bool:
    """The child gets this card: it is not yet five on the issue day."""
    return on < fifth_birthday(birth_date)


def head_of_family(report: BirthReport) -> str:
    """The head of the family as far as the report tells it: the informant when they said
    they are the head, else the father, else the mother. Only for an akta issued before the
    3-in-1 answered with the KK; the card of every other names the head Dukcapil's KK names."""
    if report.informant_relation == InformantRelation.HEAD_OF_FAMILY:
        return report.informant_name
    return report.father_name or report.mother_name


def kia_lines(content: KiaContent) -> list[tuple[str, str]]:
    """The card's facts as (label, value), in the order printed."""
    born = f"{content.birth_place}, {format_date(content.birth_date, 'dd-MM-yyyy', locale='id')}"
    return [
        ("NIK", content.child_nik),
        ("Nama", content.child_name.upper()),
        ("Tempat/Tgl Lahir", born.upper()),
        ("Jenis Kelamin", _SEX_WORDS[Sex(content.child_sex)]),
        ("No. KK", content.kk_number),
        ("Kepala Keluarga", content.head_of_family.upper()),
        ("No. Akta Kelahiran", content.registration_number),
        ("Kewarganegaraan", "WNI"),
        ("Berlaku Hingga", format_date(content.valid_until, "dd-MM-yyyy", locale="id")),
    ]


def render_kia_pdf(content: KiaContent) -> bytes:
    """The card as a one-page PDF of ID-1 size, byte-identical for the same content."""
    fonts.register()
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer,
        (CARD_WIDTH, CARD_HEIGHT),
        content.issue_date,
        f"Kartu Identitas Anak {content.child_nik}",
        f"Dinas Kependudukan dan Pencatatan Sipil {content.region_name}",
    )
    canvas.setStrokeColor(_GREY)
    canvas.setLineWidth(0.3)
    canvas.roundRect(0.5, 0.5, CARD_WIDTH - 1, CARD_HEIGHT - 1, 3 * mm)  # where to cut
    _draw_band(canvas, content)
    _draw_facts(canvas, content)
    _draw_issue(canvas, content)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_band(canvas: Canvas, content: KiaContent) -> None:
    canvas.setFillColor(_BAND)
    canvas.rect(0, CARD_HEIGHT - 30, CARD_WIDTH, 30, stroke=0, fill=1)
    canvas.setFillColor(Color(1, 1, 1))
    canvas.setFont(FONT_BOLD, 9)
    canvas.drawCentredString(CARD_WIDTH / 2, CARD_HEIGHT - 12, "KARTU IDENTITAS ANAK")
    canvas.setFont(FONT, 5.5)
    office = f"REPUBLIK INDONESIA · {content.region_name.upper()}"
    canvas.drawCentredString(CARD_WIDTH / 2, CARD_HEIGHT - 22, office)
    canvas.setFillColor(black)


def _draw_facts(canvas: Canvas, content: KiaContent) -> None:
    y = CARD_HEIGHT - 39
    for label, value in kia_lines(content):
        canvas.setFillColor(_GREY)
        canvas.setFont(FONT, 4.6)
        canvas.drawString(7, y, label)
        canvas.setFillColor(black)
        _fitted(canvas, 56, y, f": {value}", KIA_QR_BOX[0] - 60)
        y -= 8.6


def _fitted(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    width: float,
    *,
    size: float = 5.2,
    centred: bool = False,
) -> None:
    """Bold text at `size`, smaller when it would not fit in `width`: never cut short."""
    size = min(size, size * width / max(1.0, pdfmetrics.stringWidth(text, FONT_BOLD, size)))
    canvas.setFont(FONT_BOLD, size)
    (canvas.drawCentredString if centred else canvas.drawString)(x, y, text)


def _draw_issue(canvas: Canvas, content: KiaContent) -> None:
    draw_qr_code(canvas, content.qr_text, KIA_QR_BOX)
    centre = (KIA_QR_BOX[0] + KIA_QR_BOX[2]) / 2
    when = format_date(content.issue_date, "dd-MM-yyyy", locale="id")
    canvas.setFont(FONT, 4.2)
    canvas.drawCentredString(centre, 30, f"{content.issue_place.upper()}, {when}")
    canvas.drawCentredString(centre, 24, "KEPALA DINAS DUKCAPIL")
    _fitted(canvas, centre, 10, content.officer_name.upper(), 74, size=4.2, centred=True)
    canvas.setFillColor(_GREY)
    canvas.setFont(FONT, 3.6)
    canvas.drawCentredString(centre, 4, "Ditandatangani secara elektronik")
    canvas.setFillColor(black)
