"""Office work as people do it in the browser, and the data it starts from."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable

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
from akta_service.core.db import db
from tests.browser.conftest import REGION, LiveServer
from tests.web import STAFF_PASSWORD

INFORMANT = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)


def add_staff(live: LiveServer, role: str, full_name: str, region: str = REGION) -> str:
    """A new staff account; returns its (unique) user name."""
    username = f"{role}-{secrets.token_hex(4)}"
    live.run(
        lambda: create_user(username, full_name, role, STAFF_PASSWORD, [region], Actor.system("t"))
    )
    return username


def change_role(live: LiveServer, username: str, role: str) -> None:
    """Give an account another role, as when an operator is appointed pejabat."""

    def change() -> None:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        user.role = role

    live.run(change)


def sign_in(new_context: Callable[..., BrowserContext], username: str) -> Page:
    """A person at their own browser, signed in, on the office home page."""
    page = new_context().new_page()
    page.goto("/kantor/masuk")
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Masuk").click()
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
