"""The Kutipan Akta Kelahiran: its bilingual wording and its PDF (Permendagri 109/2019, plain A4).

The PDF is deterministic: the same content gives the same bytes, so a stored akta can be
re-rendered and compared, and a signature over it stays reproducible. Fonts come from the
Bitstream Vera TTFs that ReportLab ships (the family DejaVu grew from), never from the system.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Final

import segno
from babel.dates import format_date
from num2words import num2words
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from akta_service.akta import fonts, qr_masks
from akta_service.births.models import Sex, WordingModel

# segno's mask choice, done faster with the same result (see qr_masks).
qr_masks.install()

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN: Final = 56.0
CENTRE: Final = PAGE_WIDTH / 2
#: Where a signer puts the visible signature field, (x1, y1, x2, y2) in PDF points.
SIGNATURE_BOX: Final = (338.0, 168.0, 508.0, 232.0)
#: The sealed QR code (or, on a preview, the verification URL), (x1, y1, x2, y2) in PDF
#: points: 39 mm square, so that a version-13 code has modules of 0.57 mm.
QR_BOX: Final = (MARGIN + 4, 128.0, MARGIN + 114, 238.0)
#: Name of the form XObject that holds the QR code's modules.
QR_FORM_NAME: Final = "VerificationQR"

FONT: Final = fonts.FONT
FONT_BOLD: Final = fonts.FONT_BOLD
FONT_ITALIC: Final = fonts.FONT_ITALIC
_GREY: Final = Color(0.35, 0.35, 0.35)
_LIGHT_GREY: Final = Color(0.6, 0.6, 0.6)

_SEX_WORDS: Final = {Sex.MALE: "laki-laki", Sex.FEMALE: "perempuan"}
UNRECORDED_MARRIAGE_PHRASE: Final = (
    "yang perkawinannya belum tercatat sesuai dengan ketentuan peraturan perundang-undangan"
)
_PARENTS_GLOSS: Final = {
    WordingModel.RECORDED_MARRIAGE: "child number, sex, of father and mother",
    WordingModel.UNRECORDED_MARRIAGE: "child number, sex, of father and mother",
    WordingModel.MOTHER_ONLY: "child number, sex, child of a mother",
    WordingModel.UNKNOWN_ORIGIN: "child number, sex",
}
FOOTER_LINES: Final = (
    "Dokumen ini telah ditandatangani secara elektronik menggunakan sertifikat elektronik "
    "yang diterbitkan oleh Penyelenggara Sertifikasi Elektronik.",
    "Sesuai Pasal 5 ayat (1) UU No. 11 Tahun 2008 tentang Informasi dan Transaksi Elektronik, "
    "dokumen elektronik dan/atau hasil cetaknya merupakan alat bukti hukum yang sah.",
    "Keaslian dokumen ini dapat diperiksa dengan memindai kode QR.",
)


@dataclass(frozen=True)
class AktaContent:
    """Everything the certificate prints, already decided (wording model, number, officer)."""

    registration_number: str
    child_nik: str | None
    child_name: str
    #: "male" or "female" (Sex).
    child_sex: str
    #: The kab/kota of birth as the register writes it ("Cirebon"), not the facility.
    birth_place: str
    birth_date: date
    birth_order: int
    #: One of WordingModel's values.
    wording_model: str
    father_name: str | None
    mother_name: str | None
    #: The kab/kota, e.g. "Kota Cirebon".
    region_name: str
    #: City printed after "dikeluarkan di", e.g. "Cirebon".
    issue_place: str
    issue_date: date
    officer_title: str
    officer_name: str
    officer_nip: str
    #: What the QR code opens: the public verification page of this akta.
    verification_url: str
    #: 1 for the first issue; a corrected akta is printed with "Perbaikan ke-(version - 1)".
    version: int = 1
    #: A staff print after the first: which one it is, printed as "Salinan ke-N".
    copy_number: int | None = None
    #: The sealed QR text (akta.seal); empty on a preview, whose QR is the URL.
    seal: str = ""

    def __post_init__(self) -> None:
        model = WordingModel(self.wording_model)
        Sex(self.child_sex)
        if self.birth_order < 1 or self.version < 1:
            raise ValueError("birth order and version start at 1")
        if model in _NEEDS_FATHER and not self.father_name:
            raise ValueError(f"wording model {model} names the father")
        if model in _NEEDS_MOTHER and not self.mother_name:
            raise ValueError(f"wording model {model} names the mother")


_NEEDS_FATHER: Final = {WordingModel.RECORDED_MARRIAGE, WordingModel.UNRECORDED_MARRIAGE}
_NEEDS_MOTHER: Final = _NEEDS_FATHER | {WordingModel.MOTHER_ONLY}


@dataclass(frozen=True)
class AktaLine:
    """One printed line of wording with the English gloss printed beneath it."""

    text: str
    gloss: str


class UnprintableTextError(ValueError):
    """The content holds characters the embedded font cannot print."""


def in_words(number: int) -> str:
    """An integer written out in Indonesian, e.g. 2017 -> "dua ribu tujuh belas"."""
    return str(num2words(number, lang="id"))


def birth_date_words(day: date) -> str:
    """A birth date as the akta writes it: day and year in words, the month by name."""
    month = format_date(day, "MMMM", locale="id")
    return f"tanggal {in_words(day.day)} bulan {month} tahun {in_words(day.year)}"


def issue_date_text(day: date) -> str:
    """The issue date as printed in the closing line, e.g. "22 November 2026"."""
    return format_date(day, "d MMMM y", locale="id")


def printed_names(content: AktaContent) -> dict[str, str | None]:
    """The names, sex and birth place exactly as the akta prints them."""
    model = WordingModel(content.wording_model)
    return {
        "child_name": content.child_name.upper(),
        "child_sex": _SEX_WORDS[Sex(content.child_sex)],
        "birth_place": content.birth_place.upper(),
        "father_name": str(content.father_name).upper() if model in _NEEDS_FATHER else None,
        "mother_name": str(content.mother_name).upper() if model in _NEEDS_MOTHER else None,
    }


def _parents_text(content: AktaContent) -> str:
    model = WordingModel(content.wording_model)
    # The register's data in capitals, as the place and the names: "anak ke SATU, PEREMPUAN".
    order, sex = in_words(content.birth_order), _SEX_WORDS[Sex(content.child_sex)]
    child = f"anak ke {order.upper()}, {sex.upper()}"
    if model in _NEEDS_FATHER:
        father, mother = str(content.father_name).upper(), str(content.mother_name).upper()
        return f"{child}, dari ayah {father} dan ibu {mother}"
    if model is WordingModel.MOTHER_ONLY:
        return f"{child}, anak seorang ibu {str(content.mother_name).upper()}"
    return child


def akta_lines(content: AktaContent) -> list[AktaLine]:
    """The certificate's body: each Indonesian line with its English gloss."""
    lines = [
        AktaLine(
            f"Berdasarkan Akta Kelahiran Nomor {content.registration_number}",
            "By virtue of Birth Certificate Number",
        ),
        AktaLine(
            f"bahwa di {content.birth_place.upper()} pada {birth_date_words(content.birth_date)}",
            "that in, on the date of",
        ),
        AktaLine(f"telah lahir {content.child_name.upper()}", "was born"),
        AktaLine(_parents_text(content), _PARENTS_GLOSS[WordingModel(content.wording_model)]),
    ]
    if content.wording_model == WordingModel.UNRECORDED_MARRIAGE:
        lines.append(
            AktaLine(
                UNRECORDED_MARRIAGE_PHRASE,
                "whose marriage has not been recorded in accordance with the laws and regulations",
            )
        )
    return lines


def issue_line(content: AktaContent) -> AktaLine:
    """The closing line: where and when this excerpt is issued."""
    return AktaLine(
        f"Kutipan ini dikeluarkan di {content.issue_place} "
        f"pada tanggal {issue_date_text(content.issue_date)}",
        "This excerpt is issued in, on the date of",
    )


def akta_sentences(content: AktaContent) -> list[str]:
    """The Indonesian wording the PDF prints, body then closing line, one string each."""
    return [line.text for line in (*akta_lines(content), issue_line(content))]


def copy_label(copy_number: int | None) -> str | None:
    """The mark of a staff print after the first, e.g. "Salinan ke-2"."""
    return f"Salinan ke-{copy_number}" if copy_number and copy_number > 1 else None


def correction_label(version: int) -> str | None:
    """The discreet mark of a corrected akta, e.g. "Perbaikan ke-1" for version 2."""
    return f"Perbaikan ke-{version - 1}" if version > 1 else None


def unprintable_characters(content: AktaContent) -> str:
    """The characters of the printed text the embedded font has no glyph for, sorted."""
    fonts.register()
    glyphs = pdfmetrics.getFont(FONT).face.charToGlyph
    text = "".join(
        (*akta_sentences(content), content.officer_name, content.officer_title, content.region_name)
    )
    return "".join(sorted({char for char in text if ord(char) not in glyphs and char != " "}))


def render_akta_pdf(content: AktaContent) -> bytes:
    """The Kutipan Akta Kelahiran as a one-page A4 PDF, byte-identical for the same content."""
    missing = unprintable_characters(content)
    if missing:
        raise UnprintableTextError(f"no glyph for {missing!r} in the akta font")
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer,
        A4,
        content.issue_date,
        f"Kutipan Akta Kelahiran {content.registration_number}",
        f"Pejabat Pencatatan Sipil {content.region_name}",
    )
    canvas.setSubject("Kutipan Akta Kelahiran / Excerpt of Birth Certificate")
    canvas.setKeywords(f"akta kelahiran, {content.registration_number}")
    _draw_frame(canvas)
    _draw_header(canvas, content)
    _draw_body(canvas, content)
    _draw_closing(canvas, content)
    _draw_qr(canvas, content.seal or content.verification_url)
    _draw_footer(canvas)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def new_canvas(
    buffer: io.BytesIO, pagesize: tuple[float, float], issued_on: date, title: str, author: str
) -> Canvas:
    """A page of the office's documents (akta, KIA, KK print): the same bytes for the same
    content (invariant, dated by the issue day), compressed, in Indonesian."""
    canvas = Canvas(
        buffer,
        pagesize=pagesize,
        invariant=1,
        pageCompression=1,
        lang="id-ID",
        initialFontName=FONT,
    )
    stamp = f"D:{issued_on:%Y%m%d}000000"
    canvas.setDateFormatter(lambda *_parts: stamp)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("akta-service")
    return canvas


def _centred(
    canvas: Canvas, y: float, text: str, font: str, size: float, x: float = CENTRE
) -> None:
    canvas.setFont(font, size)
    canvas.drawCentredString(x, y, text)


def _draw_frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(black)
    canvas.setLineWidth(1.2)
    canvas.rect(28, 28, PAGE_WIDTH - 56, PAGE_HEIGHT - 56)
    canvas.setLineWidth(0.4)
    canvas.rect(32, 32, PAGE_WIDTH - 64, PAGE_HEIGHT - 64)


def _draw_header(canvas: Canvas, content: AktaContent) -> None:
    _draw_nik(canvas, content.child_nik)
    label = correction_label(content.version)
    if label:
        canvas.setFillColor(_GREY)
        canvas.setFont(FONT_ITALIC, 7.5)
        canvas.drawString(MARGIN, 790, label)
        canvas.setFillColor(black)
    _draw_copy_mark(canvas, content)
    _draw_emblem_place(canvas)
    _centred(canvas, 680, "REPUBLIK INDONESIA", FONT_BOLD, 14)
    _draw_pair(canvas, MARGIN + 8, 650, ("PENCATATAN SIPIL", "REGISTRY OFFICE"), "left")
    pair = ("WARGA NEGARA: INDONESIA", "NATIONALITY: INDONESIAN")
    _draw_pair(canvas, PAGE_WIDTH - MARGIN - 8, 650, pair, "right")
    _centred(canvas, 606, "KUTIPAN AKTA KELAHIRAN", FONT_BOLD, 17)
    _centred(canvas, 592, "EXCERPT OF BIRTH CERTIFICATE", FONT_ITALIC, 9.5)


def _draw_copy_mark(canvas: Canvas, content: AktaContent) -> None:
    """A boxed "Salinan ke-N" left of the emblem, so a reprint is never taken for the first,
    and in the signature's place where the signature is: on the signed original."""
    label = copy_label(content.copy_number)
    if not label:
        return
    canvas.setLineWidth(1)
    canvas.rect(MARGIN, 740, 110, 22)
    _centred(canvas, 747, label.upper(), FONT_BOLD, 10, MARGIN + 55)
    x1, _y1, x2, y2 = SIGNATURE_BOX
    canvas.setFillColor(_GREY)
    lines = (
        f"{label}: tanda tangan elektronik",
        f"{content.officer_name[:40]}",
        "ada pada akta asli (PDF bertanda tangan);",
        "keaslian diperiksa lewat kode QR",
    )
    for index, line in enumerate(lines):
        _centred(canvas, y2 - 16 - index * 11, line, FONT_ITALIC, 7.5, (x1 + x2) / 2)
    canvas.setFillColor(black)


def _draw_pair(canvas: Canvas, x: float, y: float, pair: tuple[str, str], align: str) -> None:
    draw = canvas.drawString if align == "left" else canvas.drawRightString
    canvas.setFont(FONT_BOLD, 10)
    draw(x, y, pair[0])
    canvas.setFont(FONT_ITALIC, 8)
    draw(x, y - 11, pair[1])


def _draw_nik(canvas: Canvas, nik: str | None) -> None:
    right, width = PAGE_WIDTH - MARGIN, 170.0
    canvas.setFont(FONT, 8)
    canvas.drawRightString(right, 792, "Nomor Induk Kependudukan")
    canvas.setFont(FONT_ITALIC, 7)
    canvas.drawRightString(right, 783, "Personal Registration Number")
    canvas.setLineWidth(0.8)
    canvas.rect(right - width, 758, width, 19)
    if nik:
        canvas.setFont(FONT_BOLD, 11)
        canvas.drawCentredString(right - width / 2, 763.5, nik, charSpace=2)


def _draw_emblem_place(canvas: Canvas) -> None:
    """Leave the Garuda's place empty and marked: the emblem is printed, never shipped."""
    size, top = 66.0, 762.0
    canvas.setStrokeColor(_LIGHT_GREY)
    canvas.setDash(3, 2)
    canvas.setLineWidth(0.6)
    canvas.rect(CENTRE - size / 2, top - size, size, size)
    canvas.setDash()
    canvas.setFillColor(_LIGHT_GREY)
    _centred(canvas, top - size / 2 + 2, "Tempat lambang", FONT, 6.5)
    _centred(canvas, top - size / 2 - 6, "Garuda Pancasila", FONT, 6.5)
    canvas.setFillColor(black)
    canvas.setStrokeColor(black)


#: The body runs from _BODY_TOP down to no lower than _BODY_BOTTOM, where the closing starts.
_BODY_TOP: Final = 552.0
_BODY_BOTTOM: Final = 336.0
_BODY_WIDTH: Final = PAGE_WIDTH - 88
#: Body font sizes, tried largest first until the wording fits (long names shrink the text).
_BODY_SIZES: Final = (11.5, 10.5, 9.5, 8.5)
#: From a line's last baseline down to its gloss's, and from a gloss down to the next line.
_GLOSS_DROP: Final = 10.5
_ENTRY_GAP: Final = 18.5


@lru_cache(maxsize=512)
def _wrap(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    """Split text into as few lines as fit in width, each about as long as the others.
    Kept for the texts every akta of an office repeats (the footer, the office, the
    officer's title), whose search would otherwise run again for each."""
    lines = tuple(simpleSplit(text, font, size, width))
    if len(lines) < 2:
        return lines
    # The narrowest of width, width - 4, ... (stopping at 40) that still takes as few
    # lines: greedy wrapping never takes fewer lines when narrower, so halve the steps.
    fits, beyond = 0, 1 + max(0, math.ceil((width - 40) / 4))
    while beyond - fits > 1:
        steps = (fits + beyond) // 2
        if len(simpleSplit(text, font, size, width - 4 * steps)) == len(lines):
            fits = steps
        else:
            beyond = steps
    return tuple(simpleSplit(text, font, size, width - 4 * fits))


def _body_items(content: AktaContent, size: float) -> list[tuple[float, str, str, float]]:
    """The body as (baseline, text, font, size), wording at the given size, glosses beneath."""
    items, y = [], _BODY_TOP
    for line in akta_lines(content):
        for part in _wrap(line.text, FONT, size, _BODY_WIDTH):
            items.append((y, part, FONT, size))
            y -= size + 3
        y += size + 3 - _GLOSS_DROP
        items.append((y, line.gloss, FONT_ITALIC, 8.5))
        y -= _ENTRY_GAP + size
    return items


def _body_layout(content: AktaContent) -> list[tuple[float, str, str, float]]:
    """The body at the largest font size at which it ends above the closing block."""
    for size in _BODY_SIZES:
        items = _body_items(content, size)
        if items[-1][0] - 3 >= _BODY_BOTTOM:
            return items
    raise ValueError("the akta's wording does not fit on the page, even in the smallest size")


def _draw_body(canvas: Canvas, content: AktaContent) -> None:
    for y, text, font, size in _body_layout(content):
        canvas.setFillColor(_GREY if font == FONT_ITALIC else black)
        _centred(canvas, y, text, font, size)
    canvas.setFillColor(black)


def _draw_closing(canvas: Canvas, content: AktaContent) -> None:
    x, width = (SIGNATURE_BOX[0] + SIGNATURE_BOX[2]) / 2, 250.0
    closing = issue_line(content)
    place, _, when = closing.text.partition(" pada ")
    y = 318.0
    for part in (*_wrap(place, FONT, 10, width), *_wrap(f"pada {when}", FONT, 10, width)):
        _centred(canvas, y, part, FONT, 10, x)
        y -= 12.5
    canvas.setFillColor(_GREY)
    _centred(canvas, y + 3, closing.gloss, FONT_ITALIC, 7.5, x)
    canvas.setFillColor(black)
    y -= 14
    for part in (
        "PEJABAT PENCATATAN SIPIL",
        *_wrap(content.region_name.upper(), FONT_BOLD, 9.5, width),
    ):
        _centred(canvas, y, part, FONT_BOLD, 9.5, x)
        y -= 11.5
    for part in _wrap(content.officer_title, FONT, 8.5, width):
        _centred(canvas, y, part, FONT, 8.5, x)
        y -= 10.5
    _draw_signature_place(canvas)
    _draw_officer(canvas, content, x)


def _draw_signature_place(canvas: Canvas) -> None:
    """Corner marks around SIGNATURE_BOX: visible on a draft, hidden under a signature stamp."""
    x1, y1, x2, y2 = SIGNATURE_BOX
    arm = 8.0
    canvas.setStrokeColor(_LIGHT_GREY)
    canvas.setLineWidth(0.6)
    for x, y, dx, dy in ((x1, y1, arm, arm), (x2, y1, -arm, arm), (x1, y2, arm, -arm)):
        canvas.lines([(x, y, x + dx, y), (x, y, x, y + dy)])
    canvas.lines([(x2, y2, x2 - arm, y2), (x2, y2, x2, y2 - arm)])
    canvas.setStrokeColor(black)


def _draw_officer(canvas: Canvas, content: AktaContent, x: float) -> None:
    name = content.officer_name.upper()
    y = SIGNATURE_BOX[1] - 14
    size = min(10.0, 10.0 * 240 / pdfmetrics.stringWidth(name, FONT_BOLD, 10))
    _centred(canvas, y, name, FONT_BOLD, size, x)
    half = pdfmetrics.stringWidth(name, FONT_BOLD, size) / 2
    canvas.setLineWidth(0.6)
    canvas.line(x - half, y - 2, x + half, y - 2)
    _centred(canvas, y - 13, f"NIP. {content.officer_nip}", FONT, 9, x)


def draw_qr_code(
    canvas: Canvas, text: str, box: tuple[float, float, float, float] = QR_BOX
) -> None:
    """The QR code (segno) of `text` filling `box`, the akta's and the KIA's alike: an
    alphanumeric code for a sealed text, a byte code for a URL."""
    x1, y1, x2, _y2 = box
    modules = len(_qr_matrix(text))
    module = (x2 - x1) / modules
    # The modules in a form of their own (no font state, easy to find and compare), one
    # module to the unit: the same path serves every size, placed by the form's matrix.
    canvas.beginForm(QR_FORM_NAME, upperx=modules, uppery=modules)
    canvas.setFillColor(black)
    canvas.addLiteral(_qr_path(text))
    canvas.endForm()
    canvas.saveState()
    canvas.transform(module, 0, 0, module, x1, y1)
    canvas.doForm(QR_FORM_NAME)
    canvas.restoreState()


@lru_cache(maxsize=16)
def _qr_path(text: str) -> str:
    """The filled modules of the code of `text` as one PDF path, one rectangle per run of a
    row, in module units from the bottom left. Written once per text, as the matrix is: the
    akta, the KIA and the KK print draw the same code, and drawing it rectangle by rectangle
    through ReportLab's path object was a third of rendering the KIA."""
    matrix = _qr_matrix(text)
    rects = [
        f"{run.start()} {len(matrix) - 1 - row} {run.end() - run.start()} 1 re"
        for row, modules in enumerate(matrix)
        for run in _DARK_RUN.finditer(modules)
    ]
    return "\n".join((*rects, "f*"))


#: A run of dark modules in a row of the QR code's matrix.
_DARK_RUN: Final = re.compile(rb"\x01+")


@lru_cache(maxsize=16)
def _qr_matrix(text: str) -> tuple[bytes, ...]:
    """The modules of the QR code of `text`, row by row. Kept for a few texts: the akta and
    the KIA card issued with it carry the same seal, and encoding it (segno tries all eight
    masks to pick the best) is most of rendering either."""
    return tuple(bytes(row) for row in segno.make_qr(text, error="m").matrix)


def _draw_qr(canvas: Canvas, text: str) -> None:
    """The QR code (the sealed text, or a preview's URL) with its caption, left of the
    signature."""
    x1, y1, x2, _y2 = QR_BOX
    draw_qr_code(canvas, text)
    centre = (x1 + x2) / 2
    canvas.setFillColor(_GREY)
    # Captions start below the quiet zone (four modules) that scanners need around the code.
    _centred(canvas, y1 - 12, "Pindai untuk memeriksa keaslian", FONT, 7, centre)
    _centred(canvas, y1 - 20, "Scan to verify authenticity", FONT_ITALIC, 6.5, centre)
    canvas.setFillColor(black)


def _draw_footer(canvas: Canvas) -> None:
    canvas.setStrokeColor(_LIGHT_GREY)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, 92, PAGE_WIDTH - MARGIN, 92)
    canvas.setFillColor(_GREY)
    y = 82.0
    for text in FOOTER_LINES:
        for part in _wrap(text, FONT, 7, PAGE_WIDTH - 2 * MARGIN):
            _centred(canvas, y, part, FONT, 7)
            y -= 9
    canvas.setFillColor(black)
    canvas.setStrokeColor(black)
