"""The parents' form and status page in Chromium on a 360 px phone: a sandbox family reports a
birth, sees it checked with Dukcapil, fixes a correction and downloads the akta; the same
without JavaScript; the messages a parent sees; English.

Every page is checked for sideways scrolling and unlabelled inputs, and each step's
full-page screenshot is kept in test-artifacts/browser/<test>/.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from akta_service.core.clock import local_today
from tests.browser.conftest import LiveServer
from tests.browser.parents import (
    SAVE,
    NewContext,
    Shots,
    approve_and_sign,
    begin,
    check_phone_page,
    document_kinds,
    fill_every_step,
    fill_fields,
    issued_akta,
    open_status,
    phone,
    photo_jpeg,
    reload_until_stage,
    remove_document,
    review_and_submit,
    stored_mother_name,
    submit_with_pin,
    upload,
    upload_documents,
)
from tests.files import pdf_text
from tests.parents.form import PDF, form_answers

#: The documents a family with a recorded marriage is asked for.
RECORDED_DOCUMENTS = ["birth_letter", "marriage_certificate", "kk"]


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node)


def _see_verification_complete(page: Page) -> None:
    expect(page.locator("#stage-received")).to_have_class(re.compile(r"\bstage-done\b"))
    reload_until_stage(page, "checked", "done")
    expect(page.locator("#stage-officer")).to_contain_text(
        "Menunggu petugas memeriksa laporan Anda."
    )
    expect(page.locator("#reasons")).to_have_count(0)


def test_a_parent_reports_from_a_phone_sees_it_checked_and_downloads_the_akta(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    report = live_server.family("recorded")["example_report"]
    page = phone(new_context)
    begin(page)
    check_phone_page(page, shots, "mulai")
    fill_every_step(page, report, shots)
    assert upload_documents(page, shots) == RECORDED_DOCUMENTS
    code, pin = review_and_submit(page, report, shots)

    page.get_by_role("link", name="Lihat status laporan").click()
    expect(page).to_have_url(re.compile(r"/status$"))
    check_phone_page(page, shots, "status-masuk")
    open_status(page, code, pin)
    expect(page.get_by_role("main")).to_contain_text(report["child"]["name"])
    _see_verification_complete(page)
    expect(page.locator("#akta")).to_have_count(0)  # nothing to download yet
    check_phone_page(page, shots, "status-diperiksa")

    # The office approves and signs; the parent, waiting, sees the akta ready.
    approve_and_sign(live_server, code)
    reload_until_stage(page, "ready", "done", timeout=120)
    for stage in ("officer", "signed"):
        expect(page.locator(f"#stage-{stage}")).to_have_class(re.compile(r"\bstage-done\b"))
    nik, sha256 = issued_akta(live_server, code)
    expect(page.locator("#child-nik")).to_have_text(nik)
    expect(page.get_by_role("link", name="Batalkan laporan")).to_have_count(0)
    check_phone_page(page, shots, "status-akta-terbit")
    with page.expect_download() as saving:
        page.get_by_role("link", name="Unduh akta (PDF)").click()
    assert re.fullmatch(r"akta-kelahiran-.+\.pdf", saving.value.suggested_filename)
    pdf = Path(saving.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).hexdigest() == sha256  # the signed akta the office issued
    words = pdf_text(pdf)
    # The kab/kota of birth, as on the KTP; the facility is not the place of birth.
    assert "bahwa di CIREBON pada tanggal" in words
    assert report["child"]["birth_place"].upper() not in words
    assert re.search(r"anak ke [A-Z ]+, (LAKI-LAKI|PEREMPUAN)", words), words


def test_without_javascript_the_same_report_is_completed(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    report = live_server.family("recorded")["example_report"]
    page = phone(new_context, javascript=False)
    begin(page)
    fill_every_step(page, report, shots)
    # The phone is lost mid-way: the resume link brings every answer back on another one.
    resume = page.locator("a.resume-link").first.get_attribute("href")
    assert resume is not None
    assert resume.startswith(f"{live_server.url}/lapor/lanjut/"), resume
    page.context.close()
    page = phone(new_context, javascript=False)
    page.goto(resume)
    expect(page).to_have_url(re.compile(r"/lapor/dokumen$"))
    assert upload_documents(page, shots) == RECORDED_DOCUMENTS
    code, pin = review_and_submit(page, report, shots)
    open_status(page, code, pin)
    expect(page.get_by_role("main")).to_contain_text(code)
    _see_verification_complete(page)
    check_phone_page(page, shots, "status-diperiksa")


def test_the_receipt_survives_a_reload_and_asks_for_a_contact(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    report = live_server.family("recorded")["example_report"]
    report["informant"] = {**report["informant"], "phone": None, "email": None}
    page = phone(new_context)
    begin(page)
    fill_every_step(page, report, shots)
    upload_documents(page, shots)
    code, pin = review_and_submit(page, report, shots)
    with page.expect_download() as saving:
        page.get_by_role("link", name="Simpan tanda terima (PDF)").click()
    assert saving.value.suggested_filename == f"tanda-terima-{code}.pdf"
    assert Path(saving.value.path()).read_bytes().startswith(b"%PDF-")

    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laporan terkirim")
    expect(page.locator("#tracking-code")).to_have_text(code)
    expect(page.locator("#receipt-status")).to_contain_text("sudah terkirim")
    expect(page.locator("#pin")).to_have_count(0)
    expect(page.get_by_role("main")).not_to_contain_text(pin)
    expect(page.get_by_role("main")).not_to_contain_text("Mulai baru")
    check_phone_page(page, shots, "terkirim-dimuat-ulang")

    page.get_by_label("PIN laporan ini").fill(pin)  # no longer on the phone: typed
    page.get_by_role("textbox", name=re.compile("^Nomor HP")).fill("0812-3456-7890")
    page.get_by_role("button", name="Simpan kontak").click()
    expect(page.locator(".notice")).to_contain_text("Terima kasih. Kabar laporan")
    expect(page.get_by_role("heading", name="Tambahkan nomor HP atau e-mail")).to_have_count(0)
    check_phone_page(page, shots, "terkirim-kontak")

    # Days later, from the same phone: the receipt still says it was sent.
    page.goto("/lapor/periksa")
    expect(page).to_have_url(re.compile(r"/lapor/terkirim$"))
    expect(page.locator("#tracking-code")).to_have_text(code)


def _focused_text(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.textContent.trim()"))


def test_the_parent_sees_what_is_wrong_next_to_the_field_and_in_the_summary(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    report = live_server.family("recorded")["example_report"]
    answers = form_answers(report)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    page = phone(new_context)
    begin(page)

    # As the parent types: the date is questioned when the field is left.
    fill_fields(page, {**answers["bayi"], "child.birth_date": tomorrow})
    date = page.get_by_label("Tanggal lahir", exact=True)
    date.blur()
    future = "Tanggal lahir bayi tidak boleh di masa depan"
    expect(page.locator("#live-f-child-birth_date")).to_have_text(future)

    # Sent anyway: the server says it next to the field and in the summary, which has focus.
    page.get_by_role("button", name=SAVE).click()
    expect(page).to_have_url(re.compile(r"/lapor/bayi$"))
    expect(page).to_have_title(re.compile("^Kesalahan: "))
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("heading")).to_have_text("Ada 1 hal yang perlu diperbaiki")
    link = summary.get_by_role("link", name=f"Tanggal lahir: {future}")
    expect(link).to_be_visible()
    expect(page.locator("#err-f-child-birth_date")).to_have_text(f"Kesalahan: {future}")
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(date).to_have_value(tomorrow)  # what was typed is kept
    check_phone_page(page, shots, "bayi-salah")

    # By keyboard: from the summary to its link, Enter, and the date field has the focus.
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(date).to_be_focused()
    date.fill(answers["bayi"]["child.birth_date"])
    for _ in range(30):  # Tab through the fields below to the button, then Enter
        if _focused_text(page) == SAVE:
            break
        page.keyboard.press("Tab")
    assert _focused_text(page) == SAVE
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/lapor/ibu$"))

    # A NIK one digit short, as typed and as sent.
    fifteen = answers["ibu"]["mother.nik"][:15]
    fill_fields(page, {**answers["ibu"], "mother.nik": fifteen})
    nik = page.get_by_label("NIK", exact=True)
    nik.blur()
    expect(page.locator("#live-f-mother-nik")).to_have_text("NIK harus 16 angka")
    page.get_by_role("button", name=SAVE).click()
    expect(page).to_have_url(re.compile(r"/lapor/ibu$"))
    expect(page.locator("#err-f-mother-nik")).to_have_text("Kesalahan: NIK harus 16 angka")
    expect(
        page.locator("#error-summary").get_by_role("link", name="NIK: NIK harus 16 angka")
    ).to_be_visible()
    expect(nik).to_have_value(fifteen)
    check_phone_page(page, shots, "ibu-salah")
    page.locator("#error-summary").get_by_role("link").click()
    expect(nik).to_be_focused()


def test_english_is_one_tap_away(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    page = phone(new_context)
    begin(page)
    page.get_by_role("navigation", name="Bahasa").get_by_role("link", name="English").click()
    expect(page).to_have_url(re.compile(r"/lapor/bayi\?lang=en$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Baby")
    expect(page.get_by_text("Step 1 of 7")).to_be_visible()
    expect(page.get_by_label("Name of the baby")).to_be_visible()
    expect(page.get_by_role("group", name="Sex")).to_be_visible()
    expect(page.get_by_role("button", name="Save and continue")).to_be_visible()
    check_phone_page(page, shots, "bayi-en")


def test_what_was_typed_survives_the_language_switch_and_a_reload_after_an_error(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    page = phone(new_context)
    begin(page)
    page.get_by_label("Nama bayi").fill("Siti Aminah")
    page.get_by_role("navigation", name="Bahasa").get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Baby")
    expect(page.get_by_label("Name of the baby")).to_have_value("Siti Aminah")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page).to_have_url(
        re.compile(r"/lapor/bayi$")
    )  # shown by a GET: a reload re-sends nothing
    page.reload()
    expect(page.locator("#error-summary")).to_be_visible()
    expect(page.get_by_label("Name of the baby")).to_have_value("Siti Aminah")
    check_phone_page(page, shots, "bayi-galat-dimuat-ulang")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_father_s_fields_go_when_the_parents_are_not_married_and_removing_asks(
    live_server: LiveServer, new_context: NewContext, shots: Shots, javascript: bool
) -> None:
    report = live_server.family("recorded")["example_report"]
    answers = form_answers(report)
    page = phone(new_context, javascript=javascript)
    begin(page)
    for slug, following in (("bayi", "ibu"), ("ibu", "ayah")):
        fill_fields(page, answers[slug])
        page.get_by_role("button", name="Simpan dan lanjutkan").click()
        expect(page).to_have_url(re.compile(rf"/lapor/{following}$"))
    fill_fields(page, answers["ayah"])
    father = page.locator("#group-father")
    expect(father).to_be_visible()
    page.get_by_label("Tidak menikah").check()
    if javascript:
        expect(father).to_be_hidden()
        page.get_by_label(re.compile("^Menikah, perkawinan tercatat")).check()
        expect(father).to_be_visible()
        page.get_by_label("Tidak menikah").check()
        expect(father).to_be_hidden()
    check_phone_page(page, shots, "ayah-tidak-menikah")
    page.get_by_label("Nomor buku nikah / akta perkawinan").fill("")
    page.get_by_label("Tanggal perkawinan").fill("")
    page.get_by_role("button", name="Simpan dan lanjutkan").click()
    expect(page).to_have_url(re.compile(r"/lapor/keluarga$"))
    page.goto("/lapor/ayah")
    expect(page.locator("#f-father-nik")).to_have_value("")  # set aside, not kept
    page.goto("/lapor/keluarga")
    fill_fields(page, answers["keluarga"])
    page.get_by_role("button", name="Simpan dan lanjutkan").click()
    fill_fields(page, answers["saksi"])
    page.get_by_role("button", name="Simpan dan lanjutkan").click()
    expect(page).to_have_url(re.compile(r"/lapor/dokumen$"))
    upload(page, "kk", "kk.pdf", "application/pdf", PDF)
    remove_document(page, "kk")
    expect(page.locator(".notice")).to_contain_text("Kartu Keluarga (KK) dihapus.")
    check_phone_page(page, shots, "dokumen-dihapus")


# The status page's actions -------------------------------------------------------------------


def test_the_parent_fixes_what_verification_found_and_sends_it_again(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    report = live_server.family("recorded")["example_report"]
    right_name = report["mother"]["name"]
    wrong_name = "Nama Yang Lain Sekali"
    code, pin = submit_with_pin(
        live_server, {**report, "mother": {**report["mother"], "name": wrong_name}}
    )
    page = phone(new_context)
    open_status(page, code, pin)
    reload_until_stage(page, "checked", "attention")
    mismatch = "Nama ibu tidak sesuai data Dukcapil; tulis nama sesuai KTP."
    expect(page.locator("#reasons-title")).to_have_text("Yang perlu diperbaiki")
    expect(page.locator("#reasons")).to_have_text(mismatch)
    expect(page.locator("#fix-fields")).to_have_text("Data yang perlu diubah: Nama ibu")
    check_phone_page(page, shots, "status-perlu-perbaikan")

    page.get_by_role("link", name="Perbaiki laporan").click()
    expect(page).to_have_url(re.compile(r"/status/perbaiki$"))
    expect(page.locator("#reasons")).to_have_text(mismatch)
    mother = page.get_by_role("group", name="Data ibu kandung")
    name = mother.get_by_label("Nama lengkap")
    expect(name).to_have_value(wrong_name)  # what was sent, ready to be fixed
    expect(page.get_by_label("Nomor KK")).to_have_count(0)  # only what was asked
    expect(page.locator("#document-kk")).to_contain_text("sudah diunggah (foto")
    check_phone_page(page, shots, "perbaiki")
    name.fill(right_name)
    page.get_by_label("Jenis dokumen").select_option(label="Dokumen lain")
    page.get_by_label(re.compile("^Berkas")).set_input_files(
        {"name": "ktp-ibu.jpg", "mimeType": "image/jpeg", "buffer": photo_jpeg()}
    )
    check_phone_page(page, shots, "perbaiki-diisi")
    page.get_by_role("button", name="Kirim perbaikan").click()

    expect(page).to_have_url(re.compile(r"/status/laporan$"))
    expect(page.locator(".notice")).to_have_text(
        "Perbaikan terkirim. Laporan Anda diperiksa lagi dengan data Dukcapil."
    )
    reload_until_stage(page, "checked", "done")
    expect(page.locator("#reasons")).to_have_count(0)
    expect(page.get_by_role("link", name="Perbaiki laporan")).to_have_count(0)
    expect(page.locator("#stage-officer")).to_have_class(re.compile(r"\bstage-current\b"))
    check_phone_page(page, shots, "status-diperbaiki")
    assert stored_mother_name(live_server, code) == right_name
    assert "other" in document_kinds(live_server, code)  # the photo went with it


def test_the_parent_cancels_a_report_only_after_confirming(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    code, pin = submit_with_pin(live_server, live_server.family("recorded")["example_report"])
    page = phone(new_context)
    open_status(page, code, pin)
    reload_until_stage(page, "checked", "done")

    page.get_by_role("link", name="Batalkan laporan").click()
    expect(page).to_have_url(re.compile(r"/status/batal$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Batalkan laporan ini?")
    check_phone_page(page, shots, "batal")
    page.get_by_role("link", name="Tidak, kembali ke halaman status").click()
    expect(page).to_have_url(re.compile(r"/status/laporan$"))
    expect(page.locator(".ended")).to_have_count(0)  # changing one's mind changes nothing

    page.get_by_role("link", name="Batalkan laporan").click()
    page.get_by_label(re.compile("^Alasan pembatalan")).fill("Sudah melapor di kantor.")
    page.get_by_role("button", name="Ya, batalkan laporan").click()
    expect(page).to_have_url(re.compile(r"/status/laporan$"))
    expect(page.locator(".ended")).to_have_text("Laporan dibatalkan.")
    expect(page.get_by_role("link", name="Batalkan laporan")).to_have_count(0)
    check_phone_page(page, shots, "dibatalkan")
