"""axe-core over every public and office page in Chromium, on a 360 px phone and a 1280 px
office screen: no violation of WCAG 2.1 A or AA. Each page's screenshot is kept in
test-artifacts/browser/<test>/."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from akta_service.accounts.models import User
from akta_service.akta.operations import current_akta
from akta_service.births.operations import get_report_by_tracking_code
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.facilities.models import FacilityKind
from akta_service.facilities.operations import create_facility, issue_credential
from tests.browser.accessibility import Audit, violations
from tests.browser.conftest import REGION, LiveServer
from tests.browser.office import (
    PHONES,
    add_staff,
    claim,
    enrol_totp,
    give_signing_key,
    open_from_queue,
    sign_in,
    submit_report,
    totp_code,
    wait_for_status,
)
from tests.browser.parents import (
    SAVE,
    NewContext,
    Shots,
    approve_and_sign,
    begin,
    fill_fields,
    open_status,
    photo_jpeg,
    reload_until_stage,
    save_step,
    submit_with_pin,
    upload,
)
from tests.files import jpeg_bytes, pdf_bytes
from tests.parents.form import PDF, STEP_SLUGS, form_answers
from tests.web import STAFF_PASSWORD


@pytest.fixture
def audit(request: pytest.FixtureRequest) -> Audit:
    return Audit(Shots(request.node))


def _visit(page: Page, audit: Audit, url: str, name: str) -> None:
    page.goto(url)
    audit(page, name)


def _password_step(page: Page, username: str) -> Page:
    """The sign-in page's first step: name and password (the second factor comes next)."""
    page.goto("/kantor/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    return page


def _user_id(live: LiveServer, username: str) -> int:
    found = live.run(lambda: db.session.scalar(sa.select(User.id).where(User.username == username)))
    assert found is not None
    return int(found)


def _a_facility_credential() -> tuple[str, str]:
    """A new facility of the office's region and an API credential of it."""
    code = f"RS{secrets.token_hex(3).upper()}"
    create_facility(code, "RSUD Contoh", FacilityKind.HOSPITAL, REGION, Actor.system("t"))
    issued = issue_credential(code, Actor.system("t"))
    return code, issued.credential.key_id


def _verification_token(live: LiveServer, code: str) -> str:
    def read() -> str:
        akta = current_akta(get_report_by_tracking_code(code))
        assert akta is not None
        return akta.verification_token

    return live.wait_for(read, f"the akta of {code}", timeout=120)


def test_every_public_page_passes_axe(
    live_server: LiveServer, new_context: NewContext, screen: dict[str, Any], audit: Audit
) -> None:
    report = live_server.family("unrecorded")["example_report"]
    answers = form_answers(report)
    page = new_context(**screen).new_page()
    _visit(page, audit, "/", "beranda")
    _visit(page, audit, "/lapor", "lapor")
    begin(page)
    page.get_by_role("button", name=SAVE).click()
    expect(page.locator("#error-summary")).to_be_visible()
    audit(page, "bayi-salah")
    slugs = (*STEP_SLUGS, "dokumen")
    for number, slug in enumerate(STEP_SLUGS):
        fill_fields(page, answers[slug])
        audit(page, slug)
        save_step(page, slugs[number + 1])
    audit(page, "dokumen")
    asked = [
        (section.get_attribute("id") or "").removeprefix("doc-")
        for section in page.locator("section.document").all()
        if not section.locator("h2 .optional").count()
    ]
    for kind in asked:
        if kind == "kk":
            upload(page, kind, "kk.jpg", "image/jpeg", photo_jpeg())
        else:
            upload(page, kind, f"{kind}.pdf", "application/pdf", PDF)
    audit(page, "dokumen-diunggah")
    _visit(page, audit, "/lapor/dokumen/hapus/kk", "hapus")
    page.goto("/lapor/dokumen")
    page.get_by_role("button", name="Lanjut: periksa semua data").click()
    expect(page).to_have_url(re.compile(r"/lapor/periksa$"))
    audit(page, "periksa")
    page.get_by_role("checkbox", name=re.compile("^Saya menyatakan")).check()
    page.get_by_role("button", name="Kirim laporan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laporan terkirim")
    code, pin = page.locator("#tracking-code").inner_text(), page.locator("#pin").inner_text()
    audit(page, "terkirim")
    page.reload()
    audit(page, "terkirim-lagi")
    _visit(page, audit, "/status", "status")
    page.get_by_label("Kode pelacakan").fill(code)
    page.get_by_label("PIN").fill("000000" if pin != "000000" else "111111")
    page.get_by_role("button", name="Lihat status").click()
    expect(page.locator("#status-error")).to_be_visible()
    audit(page, "status-pin-salah")
    open_status(page, code, pin)
    audit(page, "status-laporan")
    _visit(page, audit, "/status/batal", "batal")
    _visit(page, audit, "/status/pin", "pin-baru")
    _visit(page, audit, "/lapor/lanjut/tidak-ada", "lanjut-tidak-ada")
    _visit(page, audit, "/halaman-yang-tidak-ada", "404")

    # A report sent back for a correction, and one issued, with its public verification.
    family = live_server.family("recorded")["example_report"]
    wrong = {**family, "mother": {**family["mother"], "name": "Nama Yang Lain Sekali"}}
    fix_code, fix_pin = submit_with_pin(live_server, wrong)
    issued_code, issued_pin = submit_with_pin(live_server, live_server.family()["example_report"])
    other = new_context(**screen).new_page()
    open_status(other, fix_code, fix_pin)
    reload_until_stage(other, "checked", "attention")
    audit(other, "status-perlu-perbaikan")
    _visit(other, audit, "/status/perbaiki", "perbaiki")
    wait_for_status(live_server, issued_code, "in_review")
    approve_and_sign(live_server, issued_code)
    third = new_context(**screen).new_page()
    open_status(third, issued_code, issued_pin)
    reload_until_stage(third, "ready", "done", timeout=120)
    audit(third, "status-akta-terbit")
    token = _verification_token(live_server, issued_code)
    _visit(third, audit, f"/verifikasi/{token}", "verifikasi")
    _visit(third, audit, "/verifikasi/tidak-ada", "verifikasi-tidak-ada")
    _visit(third, audit, "/periksa-akta/", "periksa-akta")
    audit.assert_clean()


def test_every_office_page_passes_axe(
    live_server: LiveServer, new_context: NewContext, screen: dict[str, Any], audit: Audit
) -> None:
    code = submit_report(
        live_server, documents=[("kk", jpeg_bytes()), ("birth_letter", pdf_bytes(2))]
    )
    issued = submit_report(live_server)
    wait_for_status(live_server, code, "in_review")
    wait_for_status(live_server, issued, "in_review")
    approve_and_sign(live_server, issued)

    stranger = new_context(**screen).new_page()
    _visit(stranger, audit, "/kantor/masuk", "masuk")
    stranger.get_by_label("Nama pengguna").fill("tidak-ada")
    stranger.get_by_label("Kata sandi").fill("salah-sekali")
    stranger.get_by_role("button", name="Masuk").click()
    expect(stranger.locator("#login-error")).to_be_visible()
    audit(stranger, "masuk-salah")

    operator = sign_in(new_context, add_staff(live_server, "operator", "Tono Operator"), **screen)
    audit(operator, "beranda")
    for tab in ("in_review", "needs_correction", "awaiting_signature", "issued"):
        _visit(operator, audit, f"/kantor/antrian?tab={tab}", f"antrian-{tab}")
    operator.goto("/kantor/")
    open_from_queue(operator, code, "Perlu diperiksa")
    audit(operator, "laporan")
    claim(operator)
    audit(operator, "laporan-ditangani")
    wait_for_status(live_server, issued, "issued", timeout=120)
    _visit(operator, audit, f"/kantor/laporan/{issued}", "laporan-terbit")
    _visit(operator, audit, "/kantor/dasbor", "dasbor")
    _visit(operator, audit, "/kantor/pemberitahuan", "pemberitahuan")
    _visit(operator, audit, "/kantor/kelengkapan", "kelengkapan")
    _visit(operator, audit, "/kantor/sandi", "sandi")

    # A pejabat enrols the second factor, signs in with it and opens the signing pages.
    username = add_staff(live_server, "pejabat", "Ratna Pejabat")
    give_signing_key(live_server, username)
    pejabat = _password_step(new_context(**screen).new_page(), username)
    expect(pejabat).to_have_url(re.compile(r"/kantor/2fa$"))
    audit(pejabat, "2fa")
    enrol_totp(pejabat, username)
    assert username in PHONES
    again = _password_step(new_context(**screen).new_page(), username)
    expect(again).to_have_url(re.compile(r"/kantor/masuk/kode$"))
    audit(again, "kode")
    again.get_by_label("Kode verifikasi atau kode pemulihan").fill(totp_code(username))
    again.get_by_role("button", name="Lanjut").click()
    expect(again).to_have_url(re.compile(r"/kantor/$"))
    _visit(again, audit, "/kantor/tanda-tangan", "tanda-tangan")
    _visit(again, audit, f"/kantor/laporan/{issued}/akta/perbaiki", "akta-perbaiki")
    _visit(again, audit, f"/kantor/laporan/{issued}/akta/batalkan", "akta-batalkan")

    admin = sign_in(new_context, add_staff(live_server, "admin", "Adi Admin"), **screen)
    for url, name in (
        ("/kantor/admin/pengguna", "pengguna"),
        ("/kantor/admin/fasilitas", "fasilitas"),
        ("/kantor/admin/wilayah", "wilayah"),
        ("/kantor/admin/wilayah/3274", "wilayah-3274"),
        (f"/kantor/admin/pengguna/{_user_id(live_server, username)}/tanda-tangan", "pejabat-tte"),
    ):
        _visit(admin, audit, url, name)
    facility, key_id = live_server.run(_a_facility_credential)
    _visit(admin, audit, f"/kantor/admin/fasilitas/{facility}", "fasilitas-satu")
    _visit(admin, audit, f"/kantor/admin/fasilitas/{facility}/kredensial/{key_id}/cabut", "cabut")
    audit.assert_clean()


def test_the_audit_sees_a_violation(new_context: NewContext, live_server: LiveServer) -> None:
    """The check itself: a page with an unlabelled input, pale text and no language fails."""
    context = new_context()
    context.route(
        "**/axe-probe",
        lambda route: route.fulfill(
            status=200,
            headers={"Content-Type": "text/html"},
            body=(
                "<!doctype html><html><head><title>x</title></head><body><main>"
                '<p style="color:#ccc;background:#fff">pucat</p><input type="text">'
                "</main></body></html>"
            ),
        ),
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/axe-probe")
    found = " ".join(violations(page))
    for rule in ("color-contrast", "label", "html-has-lang"):
        assert f": {rule} (" in found, found
