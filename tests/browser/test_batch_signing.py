"""Batch signing in Chromium: a pejabat previews reports and signs them all with one
passphrase and one TOTP code, then follows them to issued."""

from __future__ import annotations

import re
from collections.abc import Callable

import sqlalchemy as sa
from playwright.sync_api import BrowserContext, expect

from akta_service.accounts.models import User
from akta_service.births.operations import get_report_by_tracking_code
from akta_service.workflow.engine import fire
from tests.browser.conftest import LiveServer
from tests.browser.office import add_staff, sign_in, submit_report, totp_code, wait_for_status
from tests.conftest import SIGNING_OFFICERS

NewContext = Callable[..., BrowserContext]
REPORTS = 3


def _awaiting_signature(live: LiveServer) -> list[str]:
    operator = add_staff(live, "operator", "Sari Operator")
    codes = [submit_report(live) for _ in range(REPORTS)]
    for code in codes:
        wait_for_status(live, code, "in_review")

    def approve(code: str) -> None:
        user = live_user(operator)
        fire(get_report_by_tracking_code(code), "approve", user.as_actor())

    for code in codes:
        live.run(approve, code)
    return codes


def live_user(username: str) -> User:
    from akta_service.core.db import db

    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    return user


def _with_signing_key(live: LiveServer, username: str) -> None:
    def link() -> None:
        user = live_user(username)
        user.nik, user.nip = SIGNING_OFFICERS["pj2"].nik, SIGNING_OFFICERS["pj2"].nip

    live.run(link)


def test_a_pejabat_previews_and_signs_a_batch_with_one_passphrase(
    live_server: LiveServer, new_context: NewContext
) -> None:
    codes = _awaiting_signature(live_server)
    username = add_staff(live_server, "pejabat", "Ratna Pejabat")
    _with_signing_key(live_server, username)
    page = sign_in(new_context, username)
    page.goto("/kantor/tanda-tangan")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tanda tangan akta")
    names = [
        live_server.run(lambda c=code: get_report_by_tracking_code(c).child_name) for code in codes
    ]
    for code, name in zip(codes, names, strict=True):
        line = page.locator(f"#report-{code}")
        expect(line).to_contain_text(name)
        line.get_by_text("Pratinjau akta").click()
        preview = line.get_by_role("img", name=f"Pratinjau akta {name}")
        expect(preview).to_be_visible()
        width = preview.evaluate(
            "img => img.complete && img.naturalWidth ? img.naturalWidth"
            " : new Promise(done => { img.onload = () => done(img.naturalWidth); })"
        )
        assert width > 800  # the rendered page, not a broken image
        line.get_by_role("checkbox").check()
    page.get_by_label("Passphrase tanda tangan elektronik Anda").fill(
        SIGNING_OFFICERS["pj2"].passphrase
    )
    page.get_by_label("Kode verifikasi dua langkah").fill(totp_code(username))
    page.get_by_role("button", name="Tanda tangani yang dipilih").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Status tanda tangan")
    for code in codes:
        wait_for_status(live_server, code, "issued", timeout=120)
    page.reload()
    expect(page.locator("#done")).to_have_text("Selesai.")
    for code in codes:
        expect(page.locator(f"#line-{code}")).to_contain_text("terbit")
        expect(page.locator(f"#line-{code}")).to_contain_text(re.compile(r"3274-LU-\d{8}-"))

    def signer_of(code: str) -> str:
        from akta_service.akta.operations import current_akta

        document = current_akta(get_report_by_tracking_code(code))
        assert document is not None
        return document.signer_name

    assert {live_server.run(signer_of, code) for code in codes} == {"Ratna Pejabat"}
    page.get_by_role("link", name=names[0]).click()
    expect(page.locator("#journal")).to_contain_text("Ratna Pejabat (pejabat): Ditandatangani")
