"""A pejabat enrols a TOTP second factor in Chromium and signs in with it."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import BrowserContext, expect

from tests.browser.conftest import LiveServer
from tests.browser.office import add_staff, enrol_totp, totp_code
from tests.web import STAFF_PASSWORD

NewContext = Callable[..., BrowserContext]


def test_a_pejabat_enrols_totp_and_signs_in_with_it(
    live_server: LiveServer, new_context: NewContext
) -> None:
    username = add_staff(live_server, "pejabat", "Ratna Kusuma")
    page = new_context().new_page()

    def password_step() -> None:
        page.goto("/kantor/masuk")
        page.get_by_label("Nama pengguna").fill(username)
        page.get_by_label("Kata sandi").fill(STAFF_PASSWORD)
        page.get_by_role("button", name="Masuk").click()

    password_step()
    # A pejabat cannot work before enrolling: every office page leads to the enrolment.
    expect(page).to_have_url(re.compile(r"/kantor/2fa$"))
    expect(page.locator("#totp-required")).to_contain_text("wajib memakai verifikasi dua langkah")
    page.goto("/kantor/antrian")
    expect(page).to_have_url(re.compile(r"/kantor/2fa$"))
    # The QR code is drawn by the service into the page: no image from anywhere.
    assert page.locator("img").count() == 0
    page.get_by_label("Kode dari aplikasi").fill("000000")
    page.get_by_role("button", name="Aktifkan").click()
    expect(page.locator("#code-error")).to_contain_text("Kode salah")

    codes = enrol_totp(page, username)
    assert len(codes) == 10
    assert all(re.fullmatch(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}", c) for c in codes)
    expect(page).to_have_url(re.compile(r"/kantor/$"))
    expect(page.locator("#sign-out")).to_contain_text("Ratna Kusuma")
    page.get_by_role("button", name="Keluar").click()
    expect(page).to_have_url(re.compile(r"/kantor/masuk$"))

    # Next time: the password, then the code from the app.
    password_step()
    expect(page).to_have_url(re.compile(r"/kantor/masuk/kode$"))
    page.goto("/kantor/")
    expect(page).to_have_url(re.compile(r"/kantor/masuk"))  # the password alone opens nothing
    page.goto("/kantor/masuk/kode")  # still waiting for the code
    page.get_by_label("Kode verifikasi atau kode pemulihan").fill(totp_code(username))
    page.get_by_role("button", name="Lanjut").click()
    expect(page).to_have_url(re.compile(r"/kantor/$"))
    expect(page.locator("#sign-out")).to_contain_text("Ratna Kusuma (pejabat)")
