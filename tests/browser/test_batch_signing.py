"""The issue's scenario in Chromium: a pejabat enrols TOTP, previews, signs 20 reports in one
batch with one passphrase and one TOTP code, and a parent downloads an akta signed by that
officer, on a 360 px phone. Screenshots at 360 and 1280 px are kept as test artefacts."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect

from akta_service.akta.operations import current_akta
from akta_service.akta.signing import validate_pdf
from akta_service.births.models import ReportStatus
from akta_service.births.operations import get_report_by_tracking_code, issue_status_pin
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from tests.browser.conftest import REGION, LiveServer
from tests.browser.office import (
    OFFICE_SCREEN,
    add_staff,
    enrol_totp,
    give_signing_key,
    totp_code,
    wait_for_status,
)
from tests.browser.parents import PHONE_WIDTH, Shots, open_status, phone, reload_until_stage
from tests.conftest import SIGNING_OFFICERS
from tests.factories import BirthReportFactory
from tests.services import SigningServer
from tests.web import STAFF_PASSWORD

NewContext = Callable[..., BrowserContext]
REPORTS = 20
OFFICER = SIGNING_OFFICERS["pj2"]


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node)


def _awaiting_signature(live: LiveServer, count: int) -> list[tuple[str, str]]:
    """Reports of real sandbox families (so that Dukcapil's 3-in-1 takes them), written
    straight into the database as approved and awaiting signature: (tracking code, child)."""
    reports = [live.family("recorded")["example_report"] for _ in range(count)]
    # The longest names the sandbox gives, whichever families come: a phone's page must hold
    # them beside the akta number.
    reports[0]["child"]["name"] = "Bahuwarna Iswahyudiningrat"

    def seed() -> list[tuple[str, str]]:
        made = []
        for data in reports:
            child, mother, father = data["child"], data["mother"], data["father"]
            report = BirthReportFactory(
                status=ReportStatus.AWAITING_SIGNATURE,
                region_code=REGION,
                kk_number=data["kk_number"],
                child_name=child["name"],
                child_sex=child["sex"],
                child_birth_date=date.fromisoformat(child["birth_date"]),
                child_birth_place=child["birth_place"],
                mother_nik=mother["nik"],
                mother_name=mother["name"],
                mother_birth_date=date.fromisoformat(mother["birth_date"]),
                father_nik=father["nik"],
                father_name=father["name"],
                father_birth_date=date.fromisoformat(father["birth_date"]),
            )
            made.append((report.tracking_code, report.child_name))
        return made

    return live.run(seed)


def _fits(page: Page, width: int) -> None:
    page.wait_for_load_state("load")
    wide = page.evaluate("() => document.documentElement.scrollWidth")
    assert wide <= width, f"{page.url}: {wide} px wide on a {width} px screen"


def _both_widths(page: Page, shots: Shots, step: str) -> None:
    """The page at the office's 1280 px and on a 360 px phone, each kept as a screenshot."""
    for width, height in ((1280, 800), (PHONE_WIDTH, 740)):
        page.set_viewport_size({"width": width, "height": height})
        _fits(page, width)
        shots.take(page, f"{step}-{width}")
    page.set_viewport_size(OFFICE_SCREEN["viewport"])


def _enrolled_pejabat(new_context: NewContext, username: str) -> Page:
    """The pejabat's first sign-in: the password, then enrolling the authenticator app."""
    page = new_context(**OFFICE_SCREEN).new_page()
    page.goto("/kantor/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    assert len(enrol_totp(page, username)) == 10  # recovery codes, shown once
    expect(page).to_have_url(re.compile(r"/kantor/$"))
    return page


def _preview_width(line: Any, name: str) -> int:
    line.get_by_text("Pratinjau akta").click()
    preview = line.get_by_role("img", name=f"Pratinjau akta {name}")
    expect(preview).to_be_visible()
    return int(
        preview.evaluate(
            "img => img.complete && img.naturalWidth ? img.naturalWidth"
            " : new Promise(done => { img.onload = () => done(img.naturalWidth); })"
        )
    )


def test_a_pejabat_signs_twenty_reports_at_once_and_a_parent_downloads_one_signed_by_them(
    live_server: LiveServer,
    new_context: NewContext,
    shots: Shots,
    signing_server: SigningServer,
) -> None:
    reports = _awaiting_signature(live_server, REPORTS)
    username = add_staff(live_server, "pejabat", OFFICER.name)
    passphrase = give_signing_key(live_server, username, "pj2")
    pejabat = _enrolled_pejabat(new_context, username)

    pejabat.goto("/kantor/tanda-tangan")
    expect(pejabat.get_by_role("heading", level=1)).to_have_text("Tanda tangan akta")
    for position, (code, name) in enumerate(reports):
        line = pejabat.locator(f"#report-{code}")
        expect(line).to_contain_text(name)
        if position < 2:  # what will be signed, as it will be issued
            assert _preview_width(line, name) > 800  # the rendered page, not a broken image
        line.get_by_role("checkbox").check()
    _both_widths(pejabat, shots, "pilih-laporan")
    pejabat.get_by_label("Passphrase tanda tangan elektronik Anda").fill(passphrase)
    pejabat.get_by_label("Kode verifikasi dua langkah").fill(totp_code(username))
    pejabat.get_by_role("button", name="Tanda tangani yang dipilih").click()

    expect(pejabat.get_by_role("heading", level=1)).to_have_text("Status tanda tangan")
    expect(pejabat.locator("#batch-status tbody tr")).to_have_count(REPORTS)
    for code, _ in reports:
        wait_for_status(live_server, code, "issued", timeout=180)
    # The page refreshes itself while the batch runs (a reload of ours could collide with
    # its own); once everything is issued its next refresh says so and stops.
    expect(pejabat.locator("#done")).to_have_text("Selesai.", timeout=30_000)
    expect(pejabat.locator("#in-progress")).to_have_count(0)
    for code, _ in reports:
        expect(pejabat.locator(f"#line-{code}")).to_contain_text("terbit")
        expect(pejabat.locator(f"#line-{code}")).to_contain_text(re.compile(r"3274-LU-\d{8}-"))
    _both_widths(pejabat, shots, "status-tanda-tangan")

    # A parent, with the tracking code and PIN, downloads the akta on their phone.
    code, child = reports[-1]
    pin = live_server.run(lambda: issue_status_pin(get_report_by_tracking_code(code)))
    parent = phone(new_context)
    open_status(parent, code, pin)
    reload_until_stage(parent, "ready", "done")
    expect(parent.get_by_role("main")).to_contain_text(child)
    _fits(parent, PHONE_WIDTH)
    shots.take(parent, "orang-tua-akta-terbit-360")
    with parent.expect_download() as saving:
        parent.get_by_role("link", name="Unduh akta (PDF)").click()
    pdf = Path(saving.value.path()).read_bytes()

    # The akta is signed by that officer: pyHanko names them from the certificate.
    # (In a thread of its own: pyHanko runs asyncio, and Playwright's loop runs in this one.)
    with ThreadPoolExecutor(max_workers=1) as thread:
        checked = thread.submit(validate_pdf, pdf, signing_server.trust_root()).result()
    assert checked.valid, checked.summary
    assert (checked.signer, checked.signer_nip) == (OFFICER.name, OFFICER.nip)
    assert checked.timestamped_at is not None
    assert checked.validation_data_embedded

    def issued_by() -> set[tuple[str, str]]:
        documents = [current_akta(get_report_by_tracking_code(c)) for c, _ in reports]
        return {(d.signer_name, d.signer_nip) for d in documents if d is not None}

    assert live_server.run(issued_by) == {(OFFICER.name, OFFICER.nip)}

    def signatures() -> int:  # each signature its own journal entry, in the officer's name
        return len(
            db.session.scalars(
                sa.select(JournalEntry).where(
                    JournalEntry.trigger == "sign", JournalEntry.actor_name == OFFICER.name
                )
            ).all()
        )

    assert live_server.run(signatures) == REPORTS
