"""The SPTJM forms (Permendagri 108/2019) as PDFs filled in with the report's data, to print,
sign by hand before two witnesses and upload as a photo:

- F-2.03, kebenaran data kelahiran: when there is no surat keterangan lahir; the reporter
  signs, with the two witnesses;
- F-2.04, kebenaran sebagai pasangan suami istri: when the marriage is not recorded; both
  parents sign, with the two witnesses.

The data comes from the parent's own draft or report (never from anything typed in the
address); what is not known yet is left as a dotted line to fill in by hand. The forms are
official Indonesian text: they are printed in Indonesian whatever the page's language.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Final

from babel.dates import format_date
from flask import Response

from akta_service.births.models import BirthReport
from akta_service.parents.receipt import PDF_FONT, PDF_FONT_BOLD, register_pdf_fonts

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

BIRTH: Final = "sptjm_birth"
MARRIAGE: Final = "sptjm_marriage"
#: The form number of each kind, as the documents step names it.
FORM_NUMBERS: Final = {BIRTH: "F-2.03", MARRIAGE: "F-2.04"}
_TITLES: Final = {
    BIRTH: "KEBENARAN DATA KELAHIRAN",
    MARRIAGE: "KEBENARAN SEBAGAI PASANGAN SUAMI ISTRI",
}
_BLANK: Final = "." * 48
_MARGIN: Final = 62.0
_LABEL_WIDTH: Final = 150.0
_SEX: Final = {"male": "Laki-laki", "female": "Perempuan"}
_STATEMENT_END: Final = (
    "Demikian surat pernyataan ini {we} buat dengan sebenar-benarnya dan apabila di kemudian "
    "hari ternyata pernyataan ini tidak benar, {we} bersedia diproses secara hukum sesuai "
    "dengan ketentuan peraturan perundang-undangan dan dokumen yang diterbitkan berdasarkan "
    "pernyataan ini menjadi tidak sah."
)


@dataclass(frozen=True)
class Person:
    name: str
    nik: str


@dataclass(frozen=True)
class SptjmFacts:
    """What the forms print, from a draft's answers or a submitted report."""

    informant: Person
    mother: Person
    father: Person
    child_name: str
    child_sex: str
    birth_place: str
    birth_date: str
    witnesses: tuple[Person, Person]


def _day(value: date | str | None) -> str:
    if not value:
        return ""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(value)
    except ValueError:
        return ""
    return format_date(day, "d MMMM y", locale="id")


def facts_of_answers(answers: Mapping[str, str]) -> SptjmFacts:
    """The facts as far as the parent has typed them (the form's field names)."""

    def value(name: str) -> str:
        return (answers.get(name) or "").strip()

    def person(prefix: str) -> Person:
        return Person(value(f"{prefix}.name"), value(f"{prefix}.nik"))

    informant = person("informant")
    relation = value("informant.relation")
    if relation in ("mother", "father"):  # a parent who reports does not type it twice
        informant = Person(
            informant.name or value(f"{relation}.name"), informant.nik or value(f"{relation}.nik")
        )
    return SptjmFacts(
        informant=informant,
        mother=person("mother"),
        father=person("father"),
        child_name=value("child.name"),
        child_sex=_SEX.get(value("child.sex"), ""),
        birth_place=value("child.birth_place"),
        birth_date=_day(value("child.birth_date")),
        witnesses=(person("witnesses.0"), person("witnesses.1")),
    )


def facts_of_report(report: BirthReport) -> SptjmFacts:
    """The facts as the report holds them."""
    return SptjmFacts(
        informant=Person(report.informant_name, report.informant_nik),
        mother=Person(report.mother_name, report.mother_nik),
        father=Person(report.father_name or "", report.father_nik or ""),
        child_name=report.child_name,
        child_sex=_SEX.get(str(report.child_sex), ""),
        birth_place=report.child_birth_place,
        birth_date=_day(report.child_birth_date),
        witnesses=(
            Person(report.witness1_name, report.witness1_nik),
            Person(report.witness2_name, report.witness2_nik),
        ),
    )


def report_needs(report: BirthReport) -> list[str]:
    """The SPTJM kinds a submitted report calls for: F-2.03 without a birth letter, F-2.04
    for a father named without a recorded marriage."""
    kinds = [] if report.birth_letter_number else [BIRTH]
    if report.father_nik and not report.marriage_recorded:
        kinds.append(MARRIAGE)
    return kinds


class _Form:
    """A canvas with a cursor: labelled rows, paragraphs, signature places."""

    def __init__(self, canvas: Canvas) -> None:
        from reportlab.lib.pagesizes import A4

        self.canvas = canvas
        self.width, height = A4
        self.y = height - _MARGIN

    def centred(self, text: str, size: float, bold: bool = True) -> None:
        self.canvas.setFont(PDF_FONT_BOLD if bold else PDF_FONT, size)
        self.canvas.drawCentredString(self.width / 2, self.y, text)
        self.y -= size + 6

    def paragraph(self, text: str) -> None:
        from reportlab.lib.utils import simpleSplit

        self.canvas.setFont(PDF_FONT, 10.5)
        for line in simpleSplit(text, PDF_FONT, 10.5, self.width - 2 * _MARGIN):
            self.canvas.drawString(_MARGIN, self.y, line)
            self.y -= 15
        self.y -= 5

    def row(self, label: str, value: str, indent: float = 0) -> None:
        self.canvas.setFont(PDF_FONT, 10.5)
        self.canvas.drawString(_MARGIN + indent, self.y, label)
        self.canvas.drawString(_MARGIN + _LABEL_WIDTH, self.y, ":")
        self.canvas.setFont(PDF_FONT_BOLD, 10.5)
        self.canvas.drawString(_MARGIN + _LABEL_WIDTH + 10, self.y, value or _BLANK)
        self.y -= 16

    def person(self, who: Person, heading: str | None = None) -> None:
        if heading:
            self.canvas.setFont(PDF_FONT_BOLD, 10.5)
            self.canvas.drawString(_MARGIN, self.y, heading)
            self.y -= 16
        self.row("Nama lengkap", who.name.upper(), indent=12)
        self.row("NIK", who.nik, indent=12)
        self.y -= 4

    def signatures(self, places: list[tuple[str, Person]]) -> None:
        """Signature places side by side: the role, room to sign, the name printed."""
        self.y -= 8
        self.canvas.setFont(PDF_FONT, 10.5)
        self.canvas.drawRightString(self.width - _MARGIN, self.y, f"{_BLANK[:24]}, {_BLANK[:24]}")
        self.y -= 24
        column = (self.width - 2 * _MARGIN) / len(places)
        for index, (role, who) in enumerate(places):
            centre = _MARGIN + column * (index + 0.5)
            self.canvas.setFont(PDF_FONT, 10)
            self.canvas.drawCentredString(centre, self.y, role)
            self.canvas.drawCentredString(
                centre, self.y - 70, f"( {who.name.upper() or _BLANK[:28]} )"
            )
        self.y -= 90


def render_sptjm(kind: str, facts: SptjmFacts) -> bytes:
    """The form `kind` (BIRTH or MARRIAGE) as a one-page A4 PDF (ReportLab loads here)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    register_pdf_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"SPTJM {_TITLES[kind].title()} ({FORM_NUMBERS[kind]})")
    form = _Form(canvas)
    canvas.setFont(PDF_FONT, 9)
    canvas.drawRightString(form.width - _MARGIN, form.y + 20, FORM_NUMBERS[kind])
    form.centred("SURAT PERNYATAAN TANGGUNG JAWAB MUTLAK", 13)
    form.centred(_TITLES[kind], 13)
    form.y -= 14
    if kind == BIRTH:
        _birth_body(form, facts)
    else:
        _marriage_body(form, facts)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _child_rows(form: _Form, facts: SptjmFacts) -> None:
    form.row("Nama anak", facts.child_name.upper(), indent=12)
    form.row("Jenis kelamin", facts.child_sex, indent=12)
    form.row("Tempat lahir", facts.birth_place.upper(), indent=12)
    form.row("Tanggal lahir", facts.birth_date, indent=12)
    form.y -= 4


def _birth_body(form: _Form, facts: SptjmFacts) -> None:
    form.paragraph("Yang bertanda tangan di bawah ini:")
    form.person(facts.informant)
    form.paragraph(
        "menyatakan dengan sesungguhnya bahwa data kelahiran di bawah ini adalah benar, "
        "sedangkan surat keterangan lahir dari rumah sakit, puskesmas, dokter, bidan atau "
        "kepala desa/lurah tidak dapat saya serahkan:"
    )
    _child_rows(form, facts)
    form.paragraph("anak dari:")
    form.person(facts.mother, "Ibu")
    if facts.father.name or facts.father.nik:
        form.person(facts.father, "Ayah")
    _witnesses(form, facts)
    form.signatures(
        [
            ("Saksi I", facts.witnesses[0]),
            ("Saksi II", facts.witnesses[1]),
            ("Yang membuat pernyataan", facts.informant),
        ]
    )


def _marriage_body(form: _Form, facts: SptjmFacts) -> None:
    form.paragraph("Kami yang bertanda tangan di bawah ini:")
    form.person(facts.father, "Suami")
    form.person(facts.mother, "Istri")
    form.paragraph(
        "menyatakan dengan sesungguhnya bahwa kami adalah pasangan suami istri yang "
        "perkawinannya belum tercatat sesuai dengan ketentuan peraturan perundang-undangan, "
        "dan bahwa anak di bawah ini adalah anak kami:"
    )
    _child_rows(form, facts)
    _witnesses(form, facts, we="kami")
    form.signatures(
        [
            ("Saksi I", facts.witnesses[0]),
            ("Saksi II", facts.witnesses[1]),
            ("Suami", facts.father),
            ("Istri", facts.mother),
        ]
    )


def _witnesses(form: _Form, facts: SptjmFacts, we: str = "saya") -> None:
    form.paragraph(_STATEMENT_END.format(we=we))
    form.paragraph("Pernyataan ini disaksikan oleh:")
    form.person(facts.witnesses[0], "Saksi I")
    form.person(facts.witnesses[1], "Saksi II")


def sptjm_download(kind: str, facts: SptjmFacts) -> Response:
    """The filled-in form as a download, kept by no browser cache or proxy."""
    response = Response(render_sptjm(kind, facts), mimetype="application/pdf")
    filename = f"sptjm-{FORM_NUMBERS[kind].lower()}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
