"""Chromium: the akta verifier opened once, then with the network cut, still opens and
checks pasted codes: a sealed one valid with its printed facts, a forged one invalid, an
annulled one "dibatalkan" as of the status list it kept."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import cbor2
from playwright.sync_api import BrowserContext, expect

from akta_service.akta.models import AktaDocument
from akta_service.akta.seal import seal_text
from akta_service.births.models import ReportStatus
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from tests.akta.test_document import content_for
from tests.akta.test_seal import _cose, _pack
from tests.browser.conftest import LiveServer
from tests.factories import BirthReportFactory


def _sealed(number: str) -> str:
    return seal_text(content_for(registration_number=number), current_settings().public_base_url)


def _annulled(number: str) -> str:
    """An issued akta, annulled; its sealed code."""
    report = BirthReportFactory(status=ReportStatus.ANNULLED, registration_number=number)
    db.session.add(
        AktaDocument(
            report_id=report.id,
            version=1,
            registration_number=number,
            sha256="0" * 64,
            size_bytes=1,
            storage_key=f"akta/test/{number}.pdf",
            verification_token=secrets.token_urlsafe(24),
            signer_name="Drs. Bambang Sutrisno, M.Si.",
            annulled_at=utcnow(),
            annulment_reason="Putusan pengadilan",
        )
    )
    db.session.flush()
    return _sealed(number)


def _forged(code: str) -> str:
    protected, unprotected, payload, signature = _cose(code)
    claims = cbor2.loads(payload)
    facts = {**claims[-65537], 3: "ANISA PUTRI"}
    return _pack([protected, unprotected, cbor2.dumps({**claims, -65537: facts}), signature])


def test_the_verifier_checks_pasted_codes_offline(
    live_server: LiveServer, new_context: Callable[..., BrowserContext]
) -> None:
    serial = secrets.randbelow(9000) + 1000
    valid = live_server.run(_sealed, f"3274-LU-01122026-{serial}")
    annulled = live_server.run(_annulled, f"3274-LU-01122026-{serial + 1}")

    context = new_context()
    page = context.new_page()
    page.goto("/periksa-akta/")
    expect(page.locator("body")).to_have_attribute("data-ready", "yes")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")

    context.set_offline(True)
    page.reload()
    expect(page.get_by_role("heading", name="Periksa Kutipan Akta Kelahiran")).to_be_visible()

    def check(code: str) -> None:
        page.get_by_label("Teks kode QR").fill(code)
        page.get_by_role("button", name="Periksa", exact=True).click()

    check(valid)
    expect(page.locator("#verdict")).to_contain_text("SAH — segel kantor cocok")
    expect(page.locator("#fact-child")).to_have_text("AISYAH PUTRI")
    expect(page.locator("#fact-mother")).to_have_text("DEWI LESTARI")
    expect(page.locator("#fact-birthPlace")).to_have_text("CIREBON")
    expect(page.locator("#status-as-of")).to_contain_text("tersimpan")

    check(_forged(valid))
    expect(page.locator("#verdict")).to_contain_text("TIDAK SAH")
    expect(page.locator("#facts")).to_have_count(0)

    check(annulled)
    expect(page.locator("#verdict")).to_contain_text("DIBATALKAN")
    expect(page.locator("#verdict")).to_contain_text(" pada 20")

    check("https://contoh.go.id/verifikasi/abc")
    expect(page.locator("#problem")).to_contain_text("bukan kode QR akta")
