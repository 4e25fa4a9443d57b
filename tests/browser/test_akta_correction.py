"""A parent on a 360 px phone finds the 3-in-1 on the status page and asks for a correction of
the issued akta, with a reason and a photo of the supporting document."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from akta_service.akta.models import AktaCorrectionRequest
from akta_service.births.operations import get_report_by_tracking_code
from akta_service.core.db import db
from tests.browser.conftest import LiveServer
from tests.browser.office import wait_for_status
from tests.browser.parents import (
    NewContext,
    Shots,
    approve_and_sign,
    check_phone_page,
    open_status,
    phone,
    photo_jpeg,
    reload_until_stage,
    submit_with_pin,
)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node)


def _requests(code: str) -> list[tuple[str, dict[str, str], str]]:
    report = get_report_by_tracking_code(code)
    return [
        (str(asked.status), asked.changes, asked.reason)
        for asked in db.session.scalars(
            sa.select(AktaCorrectionRequest).where(AktaCorrectionRequest.report_id == report.id)
        )
    ]


def test_a_parent_asks_from_a_phone_for_a_correction_of_the_issued_akta(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    report = live_server.family("recorded")["example_report"]
    code, pin = submit_with_pin(live_server, report)
    wait_for_status(live_server, code, "in_review")  # Dukcapil's checks come first
    approve_and_sign(live_server, code)
    page = phone(new_context)
    open_status(page, code, pin)
    reload_until_stage(page, "ready", "done", timeout=120)
    three = page.locator("#three-in-one")
    expect(three.locator("#document-akta")).to_contain_text("terbit")
    expect(three.locator("#document-kk")).to_contain_text("terbit")
    expect(three.locator("#document-kia")).to_contain_text("berlaku hingga")
    expect(page.get_by_role("link", name="Unduh KIA (PDF)")).to_be_visible()
    check_phone_page(page, shots, "status-3-in-1")

    page.get_by_role("link", name="Ajukan perbaikan akta").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajukan perbaikan akta")
    expect(page.get_by_label("Nama ibu")).to_have_value(report["mother"]["name"])
    check_phone_page(page, shots, "perbaikan-akta")
    new_name = report["mother"]["name"] + " Rahmawati"
    page.get_by_label("Nama ibu").fill(new_name)
    page.get_by_label("Alasan perbaikan").fill("Nama ibu kurang lengkap, lihat buku nikah.")
    page.get_by_role("button", name="Kirim permohonan perbaikan").click()

    # No document yet: the page says so, keeps what was typed, and nothing is sent.
    expect(page.locator("#error-summary")).to_contain_text("Unggah dokumen pendukung")
    expect(page.get_by_label("Nama ibu")).to_have_value(new_name)
    check_phone_page(page, shots, "perbaikan-akta-kurang")
    assert live_server.run(_requests, code) == []

    page.get_by_label("Jenis dokumen").select_option("marriage_certificate")
    page.get_by_label("Berkas").set_input_files(
        {"name": "IMG_buku_nikah.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}
    )
    page.get_by_role("button", name="Kirim permohonan perbaikan").click()
    expect(page).to_have_url(re.compile(r"/status/laporan$"))
    corrections = page.locator("#akta-corrections")
    expect(corrections).to_contain_text("menunggu pemeriksaan petugas")
    expect(corrections).to_contain_text(new_name)
    expect(page.get_by_role("link", name="Ajukan perbaikan akta")).to_have_count(0)
    check_phone_page(page, shots, "perbaikan-akta-terkirim")
    assert live_server.run(_requests, code) == [
        ("requested", {"mother_name": new_name}, "Nama ibu kurang lengkap, lihat buku nikah.")
    ]
