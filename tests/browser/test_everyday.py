"""Everyday use in Chromium, on a 360 px phone and a 1280 px screen: the SPTJM forms filled in
with the report's data, a PDF shown by its first page, the back button that never sends a
report twice, and the akta's wording as the parent downloads it. Screenshots of each page go
to test-artifacts/browser/<test>/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from akta_service.births.models import BirthReport
from akta_service.core.db import db
from tests.browser.accessibility import Audit
from tests.browser.conftest import LiveServer
from tests.browser.parents import (
    PHONE,
    NewContext,
    Shots,
    begin,
    fill_fields,
    photo_jpeg,
    review_and_submit,
    save_step,
    upload,
)
from tests.files import pdf_text
from tests.parents.form import STEP_SLUGS, form_answers


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node)


def _to_documents(page: Page, report: dict[str, Any], shots: Shots) -> None:
    begin(page)
    answers = form_answers(report)
    slugs = (*STEP_SLUGS, "dokumen")
    for number, slug in enumerate(STEP_SLUGS):
        fill_fields(page, answers[slug])
        save_step(page, slugs[number + 1])
    shots.take(page, "dokumen")


def _download(page: Page, link_id: str) -> bytes:
    with page.expect_download() as saving:
        page.locator(f"#{link_id}").click()
    return Path(saving.value.path()).read_bytes()


def _reports_of(live: LiveServer, mother_nik: str) -> int:
    return live.run(
        lambda: db.session.scalar(
            sa.select(sa.func.count())
            .select_from(BirthReport)
            .where(BirthReport.mother_nik == mother_nik)
        )
    )


def test_the_sptjm_forms_come_filled_in_and_the_signed_one_shows_its_first_page(
    live_server: LiveServer, new_context: NewContext, screen: dict[str, Any], shots: Shots
) -> None:
    report = live_server.family("unrecorded")["example_report"]
    report["birth_letter_number"] = None  # born at home: no letter, so F-2.03 as well
    page = new_context(**screen).new_page()
    _to_documents(page, report, shots)
    expect(page.locator("#sptjm-sptjm_birth")).to_have_text(
        "Unduh formulir F-2.03 yang sudah terisi (PDF)"
    )
    birth = _download(page, "sptjm-sptjm_birth")
    marriage = _download(page, "sptjm-sptjm_marriage")
    birth_text, marriage_text = pdf_text(birth), pdf_text(marriage)
    assert "KEBENARAN DATA KELAHIRAN" in birth_text
    assert "KEBENARAN SEBAGAI PASANGAN SUAMI ISTRI" in marriage_text
    for witness in report["witnesses"]:
        assert witness["nik"] in birth_text
        assert witness["name"].upper() in marriage_text
    assert report["mother"]["nik"] in birth_text
    assert report["father"]["nik"] in marriage_text
    assert report["child"]["name"].upper() in birth_text

    # Printed, signed and scanned: the PDF goes back up and shows its first page.
    upload(page, "sptjm_birth", "sptjm-f-2.03.pdf", "application/pdf", birth)
    upload(page, "sptjm_marriage", "sptjm-f-2.04.pdf", "application/pdf", marriage)
    upload(page, "kk", "kk.jpg", "image/jpeg", photo_jpeg())
    for kind in ("sptjm_birth", "sptjm_marriage", "kk"):
        thumbnail = page.locator(f"#thumbnail-{kind}")
        thumbnail.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
        )
    first_page = page.get_by_role("img", name=re.compile("^Halaman pertama SPTJM kebenaran data"))
    size = first_page.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    assert size[1] > size[0]  # an upright A4 page
    expect(page.locator("#error-summary")).to_have_count(0)
    audit = Audit(shots)
    audit(page, "dokumen-diunggah")
    audit.assert_clean()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_back_shows_what_was_saved_and_never_sends_the_report_twice(
    live_server: LiveServer, new_context: NewContext, shots: Shots, javascript: bool
) -> None:
    report = live_server.family("recorded")["example_report"]
    page = new_context(java_script_enabled=javascript, **PHONE).new_page()
    begin(page)
    answers = form_answers(report)
    fill_fields(page, answers["bayi"])
    save_step(page, "ibu")
    page.go_back()
    expect(page).to_have_url(re.compile(r"/lapor/bayi$"))
    expect(page.get_by_label("Nama bayi")).to_have_value(report["child"]["name"])
    shots.take(page, "kembali-ke-bayi")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"/lapor/ibu$"))
    slugs = (*STEP_SLUGS, "dokumen")
    for number, slug in enumerate(STEP_SLUGS[1:], start=1):
        fill_fields(page, answers[slug])
        save_step(page, slugs[number + 1])
    for section in page.locator("section.document").all():
        if section.locator("h2 .optional").count():
            continue
        kind = (section.get_attribute("id") or "").removeprefix("doc-")
        upload(page, kind, f"{kind}.jpg", "image/jpeg", photo_jpeg())
    page.get_by_role("button", name="Lanjut: periksa semua data").click()
    code, _pin = review_and_submit(page, report, shots)
    # Back from the receipt, and again: the form is gone, the report was sent once.
    page.go_back()
    page.wait_for_load_state("load")
    shots.take(page, "kembali-setelah-kirim")
    expect(page.get_by_role("button", name="Kirim laporan")).to_have_count(0)
    page.go_back()
    page.wait_for_load_state("load")
    page.goto("/lapor/periksa")
    expect(page).to_have_url(re.compile(r"/lapor/terkirim$"))
    expect(page.locator("#tracking-code")).to_have_text(code)
    assert _reports_of(live_server, report["mother"]["nik"]) == 1
