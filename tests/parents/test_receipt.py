"""The receipt after submitting: reloadable from the same browser, the PIN on the first view
only, a receipt PDF, and one more chance to leave a phone number or e-mail."""

from __future__ import annotations

import io
import re
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from akta_service.births.models import BirthReport
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.jobs.queue import run_pending
from tests.mail import Inbox
from tests.parents.conftest import sandbox_report
from tests.parents.form import (
    errors_of,
    form_answers,
    text_of,
)
from tests.parents.reporting import find_report, open_status, send_answers
from tests.web import csrf_token


def _send(client: FlaskClient, phone: str | None = None, email: str | None = None) -> str:
    """Report a sandbox family through the form; returns the receipt's first view."""
    answers = form_answers(sandbox_report("recorded"))
    if phone is not None:
        answers["keluarga"]["informant.phone"] = phone
    if email is not None:
        answers["keluarga"]["informant.email"] = email
    return send_answers(client, answers)


def _pdf_text(client: FlaskClient) -> str:
    response = client.get("/lapor/terkirim.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.get_data()))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def _reports() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)))


def test_a_reload_says_the_report_was_sent_with_its_code_but_not_the_pin_again(
    client: FlaskClient, session: Any
) -> None:
    first = _send(client)
    code, pin = text_of(first, "tracking-code"), text_of(first, "pin")
    assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{4}", code)
    assert "Isian tidak ditemukan" not in first
    # The PDF offered with the first view carries the PIN, the code and what comes next.
    printed = _pdf_text(client)
    assert code in printed
    assert pin in printed
    assert "Langkah berikutnya" in printed

    again = client.get("/lapor/terkirim")
    assert again.status_code == 200
    page = again.get_data(as_text=True)
    assert text_of(page, "tracking-code") == code
    assert "sudah terkirim" in text_of(page, "receipt-status")
    assert 'id="pin"' not in page
    assert pin not in page
    assert "Minta PIN baru" in text_of(page, "pin-gone")
    assert "Mulai baru" not in page
    # Once reloaded, the PDF no longer has the PIN; it says how to get a new one.
    printed = _pdf_text(client)
    assert code in printed
    assert pin not in printed
    assert "PIN baru" in printed
    assert _reports() == 1

    # Back to the review, or the send button's address: the receipt again, nothing re-sent.
    back = client.get("/lapor/periksa")
    assert back.status_code == 302
    assert back.headers["Location"].endswith("/lapor/terkirim")
    assert _reports() == 1
    # The PIN seen once still opens the status page.
    assert "Laporan diterima" in open_status(client, code, pin)


def test_another_browser_has_no_receipt(client: FlaskClient, app: Flask, session: Any) -> None:
    _send(client)
    other = app.test_client()
    assert other.get("/lapor/terkirim").headers["Location"].endswith("/status")
    assert other.get("/lapor/terkirim.pdf").headers["Location"].endswith("/status")
    token = csrf_token(other.get("/status").get_data(as_text=True))
    posted = other.post(
        "/lapor/terkirim/kontak", data={"csrf_token": token, "informant.phone": "081234567890"}
    )
    assert posted.headers["Location"].endswith("/status")


def test_a_report_with_a_contact_is_not_asked_for_one(client: FlaskClient, session: Any) -> None:
    first = _send(client, email="ibu@example.id")
    assert "Tambahkan nomor HP atau e-mail" not in first
    code = text_of(first, "tracking-code")
    kept = find_report(code).informant_phone
    posted = client.post(
        "/lapor/terkirim/kontak",
        data={
            "csrf_token": csrf_token(client.get("/status").get_data(as_text=True)),
            "informant.phone": "089999999999",
        },
    )
    assert posted.headers["Location"].endswith("/lapor/terkirim")
    assert find_report(code).informant_phone == kept  # nothing overwritten


def test_a_report_without_phone_or_email_asks_for_one_and_keeps_it(
    app: Flask, client: FlaskClient, session: Any, smtp: Inbox
) -> None:
    first = _send(client, phone="", email="")
    assert "Tambahkan nomor HP atau e-mail" in first
    code, pin = text_of(first, "tracking-code"), text_of(first, "pin")
    token = csrf_token(first)

    def post(phone: str, email: str, **more: str) -> Any:
        data = {"csrf_token": token, "informant.phone": phone, "informant.email": email}
        return client.post("/lapor/terkirim/kontak", data={**data, **more})

    assert 'id="f-pin"' not in first  # the PIN is still on this device: not asked
    nothing = post("", "")
    assert nothing.status_code == 400
    assert errors_of(nothing.get_data(as_text=True)) == [
        "Nomor HP: Isi nomor HP atau alamat e-mail, atau keduanya"
    ]
    wrong = post("12ab", "bukan-email")
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 400
    assert len(errors_of(page)) == 2
    assert 'value="bukan-email"' in page  # what was typed stays

    # Reloaded, the PIN is gone from the device: whoever holds the phone next must know it.
    reloaded = client.get("/lapor/terkirim").get_data(as_text=True)
    assert 'id="f-pin"' in reloaded
    refused = post("0812 3456 7890", "ibu@example.id", pin="000000")
    assert refused.status_code == 400
    assert errors_of(refused.get_data(as_text=True)) == [
        "PIN: Kode pelacakan atau PIN salah. Periksa kembali keduanya."
    ]
    assert find_report(code).informant_phone is None

    saved = post("0812 3456 7890", "ibu@example.id", pin=pin)
    assert saved.status_code == 302
    report = find_report(code)
    assert report.informant_phone == "081234567890"
    assert report.informant_email == "ibu@example.id"
    entry = db.session.scalar(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id,
            JournalEntry.action == "public:birth_report:contact_added",
        )
    )
    assert entry is not None
    assert entry.data == {"added": ["phone", "email"]}
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Tambahkan nomor HP atau e-mail" not in page
    assert "Terima kasih. Kabar laporan" in page

    # Now a lost PIN can be sent again.
    form = client.get("/status/pin").get_data(as_text=True)
    client.post("/status/pin", data={"csrf_token": csrf_token(form), "code": code})
    run_pending(app)
    assert any(m["To"] == "ibu@example.id" for m in smtp.messages)


def test_the_english_receipt_is_in_english(client: FlaskClient, session: Any) -> None:
    _send(client)
    page = client.get("/lapor/terkirim?lang=en").get_data(as_text=True)
    assert "Report sent" in page
    assert "What happens next" in page


def test_an_old_receipt_is_forgotten_and_a_pin_that_no_longer_opens_is_not_shown(
    client: FlaskClient, session: Any
) -> None:
    _send(client)
    with client.session_transaction() as kept:
        kept["parents_receipt"] = {**kept["parents_receipt"], "views": 0, "pin": "damaged"}
    page = client.get("/lapor/terkirim").get_data(as_text=True)
    assert 'id="pin"' not in page  # sealed under another key, or past its half hour
    assert "PIN baru" in _pdf_text(client)

    with client.session_transaction() as kept:
        kept["parents_receipt"] = {**kept["parents_receipt"], "at": "not a time"}
    gone = client.get("/lapor/terkirim")
    assert gone.headers["Location"].endswith("/status")
    with client.session_transaction() as kept:
        assert "parents_receipt" not in kept
    # Without a receipt or a draft, the form's pages say the draft is not found.
    page = client.get(client.get("/lapor/periksa").headers["Location"]).get_data(as_text=True)
    assert "Isian tidak ditemukan" in page
