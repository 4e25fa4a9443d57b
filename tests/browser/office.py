"""Office work as people do it in the browser, and the data it starts from."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterable

import pyotp
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.births.documents import attach_document
from akta_service.births.models import Channel
from akta_service.births.operations import (
    get_report_by_tracking_code,
    load_report_input,
    submit_birth_report,
)
from akta_service.core.actors import Actor, Role
from akta_service.core.db import db, utcnow
from tests.browser.conftest import REGION, SCREENS, LiveServer
from tests.web import STAFF_PASSWORD

INFORMANT = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)


def add_staff(live: LiveServer, role: str, full_name: str, region: str = REGION) -> str:
    """A new staff account; returns its (unique) user name."""
    username = f"{role}-{secrets.token_hex(4)}"
    live.run(
        lambda: create_user(username, full_name, role, STAFF_PASSWORD, [region], Actor.system("t"))
    )
    return username


def give_signing_key(live: LiveServer, username: str, officer: str = "pj2") -> str:
    """Link the account to an officer enrolled at the sandbox signing service (the
    session's SIGNING_OFFICERS); returns that officer's passphrase."""
    from tests.conftest import SIGNING_OFFICERS

    enrolled = SIGNING_OFFICERS[officer]

    def link() -> None:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        user.nik, user.nip = enrolled.nik, enrolled.nip

    live.run(link)
    return enrolled.passphrase


def change_role(live: LiveServer, username: str, role: str) -> None:
    """Give an account another role, as when an operator is appointed pejabat."""

    def change() -> None:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        user.role = role

    live.run(change)


#: Each account's TOTP secret as its person's authenticator app holds it, and the last time
#: step whose code was typed (a code is good once: the next sign-in types a later one).
PHONES: dict[str, str] = {}
_LAST_STEP: dict[str, int] = {}


def totp_code(username: str) -> str:
    """The code the person's app shows that the service has not seen yet (the current step's
    or the next one's, within the drift the service accepts, or a later one's once the clock
    gets there)."""
    totp = pyotp.TOTP(PHONES[username])
    while True:
        current = totp.timecode(utcnow())
        # Not the step before: on a busy machine the post may reach the service a step
        # later, where the step before the current one is outside the drift it accepts.
        step = max(current, _LAST_STEP.get(username, 0) + 1)
        if step <= current + 1:
            _LAST_STEP[username] = step
            return totp.generate_otp(step)
        time.sleep(1)


def enrol_totp(page: Page, username: str) -> list[str]:
    """On the enrolment page: "scan" the QR code (type the secret shown beside it into the
    app), type the app's first code; answers the recovery codes shown once."""
    expect(page).to_have_url(re.compile(r"/kantor/2fa$"))
    expect(page.locator("#totp-qr svg")).to_be_visible()
    PHONES[username] = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Kode dari aplikasi").fill(totp_code(username))
    page.get_by_role("button", name="Aktifkan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verifikasi dua langkah aktif")
    expect(page.locator("#recovery-codes li")).to_have_count(10)  # the whole list, parsed
    codes = page.locator("#recovery-codes li").all_inner_texts()
    page.get_by_role("link", name="Saya sudah menyimpannya, lanjutkan").click()
    expect(page).to_have_url(re.compile(r"/kantor/$"))
    return codes


#: The office's screens.
OFFICE_SCREEN = SCREENS["office"]


def sign_in(new_context: Callable[..., BrowserContext], username: str, **options: object) -> Page:
    """A person at their own browser, signed in, on the office home page: with the code of
    their authenticator app when the account has one; a pejabat or admin without one enrols.
    `options` go to the browser context (e.g. OFFICE_SCREEN)."""
    page = new_context(**options).new_page()
    page.goto("/kantor/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
    # Where the password leads (not the sign-in page itself): the code, the enrolment, home.
    expect(page).to_have_url(re.compile(r"/kantor/(masuk/kode|2fa)?$"))
    if page.url.endswith("/kantor/masuk/kode"):
        page.get_by_label("Kode verifikasi atau kode pemulihan").fill(totp_code(username))
        page.get_by_role("button", name="Lanjut").click()
    elif page.url.endswith("/kantor/2fa"):
        enrol_totp(page, username)
    expect(page).to_have_url(re.compile(r"/kantor/$"))
    return page


def submit_report(
    live: LiveServer,
    payload: dict[str, object] | None = None,
    documents: Iterable[tuple[str, bytes]] = (),
) -> str:
    """Submit a report of a real sandbox family (with documents) as a parent would; returns
    its tracking code. Verification runs in the background: see wait_for_status."""
    data = payload or live.family()["example_report"]

    def submit() -> str:
        report = submit_birth_report(load_report_input(data), Channel.WEB, INFORMANT)
        parent = Actor.informant(report.tracking_code, report.informant_name)
        for kind, content in documents:
            attach_document(report, kind, content, parent)
        return report.tracking_code

    return live.run(submit)


def wait_for_status(live: LiveServer, code: str, status: str, timeout: float = 60) -> None:
    live.wait_for(
        lambda: str(get_report_by_tracking_code(code).status) == status,
        f"report {code} to reach {status}",
        timeout,
    )


def open_from_queue(page: Page, code: str, tab: str) -> None:
    """Office home → the queue's tab → search by tracking code → the review page."""
    if not re.search(r"/kantor/$", page.url):
        page.get_by_role("navigation", name="Menu kantor").get_by_role(
            "link", name="Beranda"
        ).click()
    page.get_by_role("link", name=tab, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Antrian: {tab}")
    page.get_by_label("Cari (kode, NIK, nomor akta atau nama)").fill(code)
    page.get_by_role("button", name="Cari").click()
    page.get_by_role("link", name=code, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Laporan {code}")


def claim(page: Page) -> None:
    page.get_by_role("button", name="Tangani laporan ini").click()
    expect(page.get_by_role("status")).to_have_text("Laporan ini Anda tangani.")


def status_line(page: Page) -> str:
    return page.locator("#status").inner_text()
