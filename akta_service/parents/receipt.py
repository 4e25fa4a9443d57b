"""The receipt after submitting: kept for this browser so that a reload or a later visit still
says the report was sent, with its code; the PIN shown on the first view only; a receipt PDF;
and a last chance to leave a phone number or e-mail for a lost PIN.

The PIN rides in the signed session cookie encrypted (Fernet, key derived from the secret
key), only until the receipt has been shown once and reloaded, and never longer than
PIN_WINDOW. It is never stored on the server.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Final

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import session
from flask_babel import format_datetime
from flask_babel import gettext as _
from marshmallow import ValidationError

from akta_service.akta import fonts
from akta_service.births.codes import format_tracking_code
from akta_service.births.models import BirthReport
from akta_service.births.schemas import InformantSchema
from akta_service.core.audit import record
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import FieldError, field_errors
from akta_service.parents.operations import informant_of

#: The session key of the receipt of the report sent from this browser.
RECEIPT_KEY = "parents_receipt"
#: How long this browser can reopen the receipt.
RECEIPT_DAYS: Final = timedelta(days=30)
#: The PIN is forgotten at the latest this long after submitting.
PIN_WINDOW: Final = timedelta(minutes=30)


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"akta receipt pin").derive(
        current_settings().secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def remember_receipt(report: BirthReport, pin: str) -> None:
    """After submitting: this browser keeps the receipt (the PIN until it has been seen)."""
    session[RECEIPT_KEY] = {
        "report": report.id,
        "at": utcnow().timestamp(),
        "pin": _fernet().encrypt(pin.encode()).decode(),
        "views": 0,
    }
    session.permanent = True


@dataclass(frozen=True)
class Shown:
    """The receipt as this view shows it."""

    report: BirthReport
    #: The PIN, on the first view only (and for the PDF offered on it).
    pin: str | None
    first: bool


def _entry() -> dict[str, Any] | None:
    entry = session.get(RECEIPT_KEY)
    if not isinstance(entry, dict):
        return None
    try:
        since = float(entry.get("at", 0))
    except (TypeError, ValueError):
        since = 0
    if utcnow().timestamp() - since > RECEIPT_DAYS.total_seconds():
        session.pop(RECEIPT_KEY, None)
        return None
    return entry


def _pin(entry: dict[str, Any]) -> str | None:
    token = entry.get("pin")
    if not isinstance(token, str):
        return None
    try:
        ttl = int(PIN_WINDOW.total_seconds())
        return _fernet().decrypt(token.encode(), ttl=ttl).decode()
    except InvalidToken:  # expired, or sealed under another secret key
        return None


def _report(entry: dict[str, Any]) -> BirthReport | None:
    report_id = entry.get("report")
    return db.session.get(BirthReport, report_id) if isinstance(report_id, int) else None


def view_receipt() -> Shown | None:
    """The receipt for a view of its page: the PIN on the first view, never after a reload."""
    entry = _entry()
    report = _report(entry) if entry else None
    if entry is None or report is None:
        return None
    views = int(entry.get("views", 0) or 0)
    pin = _pin(entry) if views == 0 else None
    updated = {**entry, "views": views + 1}
    if views >= 1:
        updated.pop("pin", None)  # seen and reloaded: gone for good
    session[RECEIPT_KEY] = updated
    return Shown(report, pin, first=views == 0)


def receipt_for_pdf() -> Shown | None:
    """The receipt for its PDF: with the PIN while the page that shows it is the latest view."""
    entry = _entry()
    report = _report(entry) if entry else None
    if entry is None or report is None:
        return None
    pin = _pin(entry) if int(entry.get("views", 0) or 0) <= 1 else None
    return Shown(report, pin, first=False)


def sent_at(report: BirthReport) -> str:
    """When the report was sent, in the city's time, as the receipt writes it."""
    return str(format_datetime(report.submitted_at, "d MMMM y, HH.mm"))


def needs_contact(report: BirthReport) -> bool:
    return not (report.informant_email or report.informant_phone)


def add_contact(report: BirthReport, phone: str, email: str) -> list[FieldError]:
    """Save a phone number or e-mail to a report that had none, journalled as the informant's
    change. Returns what is wrong (nothing is saved then)."""
    phone = "".join(ch for ch in (phone or "")[:40] if ch not in " ().-")
    email = (email or "").strip()[:254]
    if not phone and not email:
        return [FieldError("informant.phone", "contact_required")]
    try:
        loaded = InformantSchema(only=("phone", "email")).load(
            {"phone": phone or None, "email": email or None}
        )
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {}
        return [
            FieldError(f"informant.{e.field}", e.code, e.params) for e in field_errors(messages)
        ]
    added = []
    if loaded.get("phone") and not report.informant_phone:
        report.informant_phone = loaded["phone"]
        added.append("phone")
    if loaded.get("email") and not report.informant_email:
        report.informant_email = loaded["email"]
        added.append("email")
    db.session.flush()
    record(
        "public:birth_report:contact_added",
        informant_of(report),
        report=report,
        data={"added": added},
    )
    return []


# The PDF ------------------------------------------------------------------------------------
# ReportLab loads with the first PDF (a receipt, an SPTJM), not in every web worker.

PDF_FONT, PDF_FONT_BOLD = fonts.FONT, fonts.FONT_BOLD
_GREY = (0.35, 0.35, 0.35)
_MARGIN = 56.0


def register_pdf_fonts() -> None:
    """The akta's own fonts (registered once per process, whichever PDF comes first)."""
    fonts.register()


def next_steps() -> list[str]:
    """What happens after submitting, as the receipt page and its PDF say it."""
    return [
        _("Data laporan diperiksa dengan data kependudukan (Dukcapil)."),
        _("Petugas Disdukcapil memeriksa laporan dan dokumennya."),
        _(
            "Bila ada yang perlu diperbaiki, kami beri tahu; perbaikan dikirim lewat halaman "
            "status."
        ),
        _(
            "Setelah akta kelahiran terbit dan ditandatangani secara elektronik, akta dapat "
            "diunduh di halaman status dengan kode pelacakan dan PIN."
        ),
    ]


def receipt_pdf(shown: Shown) -> bytes:
    """A one-page A4 receipt: the code, when it was sent, what happens next; the PIN only while
    the receipt's first view is the latest."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfgen.canvas import Canvas

    register_pdf_fonts()
    report = shown.report
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(_("Tanda terima laporan kelahiran"))
    y = height - _MARGIN - 10
    canvas.setFont(PDF_FONT_BOLD, 16)
    canvas.drawString(_MARGIN, y, _("Tanda terima laporan kelahiran"))
    y -= 20
    canvas.setFont(PDF_FONT, 10)
    canvas.setFillColorRGB(*_GREY)
    canvas.drawString(
        _MARGIN, y, "Brojol Aja Klalen — " + _("Dinas Kependudukan dan Pencatatan Sipil")
    )
    canvas.setFillColorRGB(0, 0, 0)
    y -= 36
    sent = sent_at(report)
    rows = [
        (_("Kode pelacakan"), format_tracking_code(report.tracking_code)),
        (_("Dikirim"), sent),
        (_("Nama bayi"), report.child_name),
    ]
    if shown.pin:
        rows.append((_("PIN"), shown.pin))
    for label, value in rows:
        canvas.setFont(PDF_FONT, 11)
        canvas.drawString(_MARGIN, y, label)
        canvas.setFont(PDF_FONT_BOLD, 13)
        canvas.drawString(_MARGIN + 130, y, value)
        y -= 24
    text_width = width - 2 * _MARGIN
    notes = (
        [_("Simpan PIN ini baik-baik. PIN tidak dapat kami lihat lagi.")]
        if shown.pin
        else [
            _(
                "PIN tidak dicetak di sini: PIN hanya ditampilkan sekali setelah laporan "
                "dikirim. Bila PIN hilang, minta PIN baru di halaman status."
            )
        ]
    )
    y -= 6
    canvas.setFont(PDF_FONT, 10)
    for note in notes:
        for line in simpleSplit(note, PDF_FONT, 10, text_width):
            canvas.drawString(_MARGIN, y, line)
            y -= 14
    y -= 16
    canvas.setFont(PDF_FONT_BOLD, 12)
    canvas.drawString(_MARGIN, y, _("Langkah berikutnya"))
    y -= 18
    canvas.setFont(PDF_FONT, 10)
    for number, step in enumerate(next_steps(), start=1):
        lines = simpleSplit(step, PDF_FONT, 10, text_width - 18)
        canvas.drawString(_MARGIN, y, f"{number}.")
        for line in lines:
            canvas.drawString(_MARGIN + 18, y, line)
            y -= 14
        y -= 4
    y -= 12
    status_url = current_settings().public_base_url + "/status"
    canvas.drawString(_MARGIN, y, _("Halaman status: %(url)s", url=status_url))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
