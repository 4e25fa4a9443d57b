"""The office in Chromium: claim, approve, sign, duplicates, two clerks at once, a viewer.

Reports come from real sandbox families and are verified for real in the background.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect

from akta_service.births.operations import get_report_by_tracking_code
from tests.browser.conftest import LiveServer
from tests.browser.office import (
    OFFICE_SCREEN,
    add_staff,
    change_role,
    claim,
    enrol_totp,
    give_signing_key,
    open_from_queue,
    sign_in,
    submit_report,
    totp_code,
    wait_for_status,
)
from tests.browser.parents import Shots
from tests.files import jpeg_bytes, pdf_bytes

NewContext = Callable[..., BrowserContext]


def _verified_report(live_server: LiveServer, **options: object) -> str:
    code = submit_report(live_server, **options)  # type: ignore[arg-type]
    wait_for_status(live_server, code, "in_review")
    return code


def _status(live_server: LiveServer, code: str) -> str:
    return live_server.run(lambda: str(get_report_by_tracking_code(code).status))


def test_an_operator_approves_and_a_pejabat_signs_so_the_akta_is_issued(
    live_server: LiveServer, new_context: NewContext
) -> None:
    code = _verified_report(live_server)
    operator = sign_in(new_context, add_staff(live_server, "operator", "Sari Operator"))
    open_from_queue(operator, code, "Perlu diperiksa")
    expect(operator.locator("#status")).to_contain_text("Menunggu pemeriksaan operator")
    expect(operator.locator("#checks")).to_contain_text("Susunan NIK ibu: sesuai")  # verified
    expect(operator.get_by_role("button", name="Setujui")).to_have_count(0)  # claim first
    claim(operator)
    expect(operator.locator("#holder")).to_contain_text("Ditangani oleh Sari Operator")
    operator.get_by_role("button", name="Setujui").click()
    # The next report of her tab opens (or the tab itself), saying what became of this one.
    expect(operator.get_by_role("status")).to_contain_text(
        f"Laporan {code} disetujui dan diteruskan ke pejabat."
    )
    operator.goto(f"/kantor/laporan/{code}")
    expect(operator.locator("#status")).to_contain_text("Menunggu tanda tangan Pejabat")
    expect(operator.get_by_role("button", name="Tanda tangani")).to_have_count(0)

    ratna = add_staff(live_server, "pejabat", "Ratna Pejabat")
    passphrase = give_signing_key(live_server, ratna)
    pejabat = sign_in(new_context, ratna)
    open_from_queue(pejabat, code, "Menunggu tanda tangan")
    claim(pejabat)
    pejabat.get_by_label(re.compile("Passphrase tanda tangan")).fill(passphrase)
    pejabat.get_by_label("Kode verifikasi dua langkah").fill(totp_code(ratna))
    pejabat.get_by_role("button", name="Tanda tangani").click()
    expect(pejabat.get_by_role("status")).to_contain_text(
        f"Laporan {code} ditandatangani; akta sedang diterbitkan."
    )
    pejabat.goto(f"/kantor/laporan/{code}")
    expect(pejabat.locator("#status")).to_contain_text(re.compile(r"nomor akta 3274-LU-\d{8}-"))
    wait_for_status(live_server, code, "issued", timeout=120)
    pejabat.reload()
    expect(pejabat.locator("#status")).to_contain_text("Akta kelahiran terbit")
    journal = pejabat.locator("#journal")
    expect(journal).to_contain_text("Sari Operator (operator): Disetujui")
    expect(journal).to_contain_text("Ratna Pejabat (pejabat): Ditandatangani")
    # The issued akta opens from the report page, as the signed PDF.
    link = pejabat.get_by_role("link", name="Buka akta versi 1 (PDF)")
    answer = pejabat.request.get(f"{live_server.url}{link.get_attribute('href')}")
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF")


def test_the_person_who_approved_cannot_also_sign(
    live_server: LiveServer, new_context: NewContext
) -> None:
    code = _verified_report(live_server)
    username = add_staff(live_server, "operator", "Joko Susanto")
    page = sign_in(new_context, username)
    open_from_queue(page, code, "Perlu diperiksa")
    claim(page)
    page.get_by_role("button", name="Setujui").click()
    expect(page.get_by_role("status")).to_contain_text(f"Laporan {code} disetujui")
    report_page = f"/kantor/laporan/{code}"
    page.goto(report_page)
    expect(page.get_by_role("button", name="Tanda tangani")).to_have_count(0)  # not an operator's

    # Appointed pejabat later, he still may not sign the report he approved himself.
    change_role(live_server, username, "pejabat")
    passphrase = give_signing_key(live_server, username)
    page.reload()
    enrol_totp(page, username)  # a pejabat works with a second factor
    page.goto(report_page)
    claim(page)
    page.get_by_label(re.compile("Passphrase tanda tangan")).fill(passphrase)
    page.get_by_label("Kode verifikasi dua langkah").fill(totp_code(username))
    page.get_by_role("button", name="Tanda tangani").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Anda yang menyetujui laporan ini, sehingga tidak boleh juga menandatanganinya. "
        "Tanda tangan harus oleh pejabat lain."
    )
    expect(page.locator("#status")).to_contain_text("Menunggu tanda tangan Pejabat")
    assert _status(live_server, code) == "awaiting_signature"


def test_a_suspected_duplicate_is_compared_with_its_original_and_decided(
    live_server: LiveServer, new_context: NewContext
) -> None:
    payload = live_server.family()["example_report"]
    original = _verified_report(live_server, payload=payload)
    repeated = _verified_report(live_server, payload=payload)
    again = _verified_report(live_server, payload=payload)
    page = sign_in(new_context, add_staff(live_server, "operator", "Wulan Operator"))

    open_from_queue(page, repeated, "Kemungkinan ganda")
    section = page.get_by_role("region", name="Kemungkinan ganda: bandingkan dengan laporan asal")
    columns = section.get_by_role("columnheader")
    expect(columns.nth(1)).to_have_text(f"Laporan ini ({repeated})")
    expect(columns.nth(2)).to_have_text(f"Laporan asal ({original})")
    child = payload["child"]["name"]
    expect(section.get_by_role("row", name=re.compile("^Nama anak"))).to_have_text(
        re.compile(f"{child}.*{child}")
    )
    expect(page.get_by_role("button", name="Ganda — tolak laporan ini")).to_have_count(0)
    claim(page)
    page.get_by_role("checkbox", name=re.compile("Ya, laporan ini ganda")).check()
    page.get_by_role("button", name="Ganda — tolak laporan ini").click()
    expect(page.get_by_role("status")).to_have_text("Keputusan laporan ganda disimpan.")
    expect(page.locator("#status")).to_contain_text("Ditolak")
    # The reason is what the reporter reads: never the original's code.
    expect(page.locator("#journal")).to_contain_text(
        "Kelahiran ini sudah dilaporkan sebelumnya; akta diproses dari laporan yang pertama."
    )
    expect(page.get_by_role("link", name=original, exact=True)).to_be_visible()

    open_from_queue(page, again, "Kemungkinan ganda")
    claim(page)
    page.get_by_label("Catatan keputusan").fill("Dicek dengan KK: kelahiran yang berbeda.")
    page.get_by_role("button", name="Bukan ganda — hapus tanda").click()
    expect(page.get_by_role("status")).to_have_text("Keputusan laporan ganda disimpan.")
    expect(page.locator("#duplicate")).to_have_count(0)
    expect(page.locator("#flags")).to_have_count(0)
    page.get_by_role("button", name="Setujui").click()
    expect(page.get_by_role("status")).to_contain_text(f"Laporan {again} disetujui")
    assert _status(live_server, again) == "awaiting_signature"
    assert _status(live_server, original) == "in_review"


def test_when_two_clerks_act_at_once_the_second_sees_who_did_what_and_keeps_the_text(
    live_server: LiveServer, new_context: NewContext
) -> None:
    code = _verified_report(live_server)
    siti = sign_in(new_context, add_staff(live_server, "operator", "Siti Aminah"))
    open_from_queue(siti, code, "Perlu diperiksa")
    claim(siti)
    reason = "Foto KK buram; mohon unggah ulang foto yang jelas dan lengkap."
    siti.get_by_label("Apa yang harus diperbaiki pelapor (dibaca pelapor)").fill(reason)

    # While Siti types, an admin frees the report, and Budi takes it and approves it.
    admin = sign_in(new_context, add_staff(live_server, "admin", "Admin Kantor"))
    admin.goto(f"/kantor/laporan/{code}")
    expect(admin.locator("#holder")).to_contain_text("Ditangani oleh Siti Aminah")
    admin.get_by_role("button", name="Lepaskan").click()
    expect(admin.get_by_role("status")).to_have_text("Laporan dilepas.")
    budi = sign_in(new_context, add_staff(live_server, "operator", "Budi Santoso"))
    open_from_queue(budi, code, "Perlu diperiksa")
    claim(budi)
    budi.get_by_role("button", name="Setujui").click()
    expect(budi.get_by_role("status")).to_contain_text(f"Laporan {code} disetujui")

    siti.get_by_role("button", name="Minta perbaikan").click()
    expect(siti.get_by_role("alert")).to_have_text(
        re.compile(
            r"Laporan ini sudah diubah oleh Budi Santoso \(operator\) "
            r"pada \d{2}-\d{2}-\d{4} \d{2}:\d{2} WIB \(Disetujui\)\."
        )
    )
    expect(
        siti.get_by_label("Isian Anda belum tersimpan; salin bila masih diperlukan:")
    ).to_have_value(reason)
    expect(siti.locator("#status")).to_contain_text("Menunggu tanda tangan Pejabat")
    assert _status(live_server, code) == "awaiting_signature"


def test_a_viewer_sees_the_dashboard_and_cannot_act(
    live_server: LiveServer, new_context: NewContext
) -> None:
    code = _verified_report(live_server)
    viewer = sign_in(new_context, add_staff(live_server, "viewer", "Kepala Dinas"))
    viewer.get_by_role("main").get_by_role("link", name="Dasbor").click()
    expect(viewer.get_by_role("heading", level=1)).to_have_text("Dasbor")
    expect(viewer.locator("svg#per-week")).to_be_visible()

    # The dashboard only: a report's page (personal data) is refused in plain words.
    viewer.goto(f"/kantor/laporan/{code}")
    expect(viewer.get_by_role("heading", level=1)).to_have_text(
        "Anda tidak berhak membuka halaman ini"
    )
    expect(viewer.get_by_role("main")).not_to_contain_text(code)
    viewer.goto("/kantor/dasbor")
    token = viewer.locator("#sign-out input[name=csrf_token]").input_value()
    for step in ("klaim", "approve", "reject"):
        answer = viewer.request.post(
            f"{live_server.url}/kantor/laporan/{code}/{step}",
            form={"csrf_token": token, "version": "3", "reason": "coba"},
        )
        assert answer.status == 403, step
    assert _status(live_server, code) == "in_review"


def test_the_documents_are_shown_inline(live_server: LiveServer, new_context: NewContext) -> None:
    letter = pdf_bytes(2)
    code = _verified_report(live_server, documents=[("kk", jpeg_bytes()), ("birth_letter", letter)])
    page = sign_in(new_context, add_staff(live_server, "operator", "Dewi Operator"))
    open_from_queue(page, code, "Perlu diperiksa")
    documents = page.get_by_role("region", name="Dokumen")
    expect(documents.locator("figure")).to_have_count(2)
    for name in (
        "Kartu Keluarga",
        "Surat keterangan lahir, halaman 1 dari 2",
        "Surat keterangan lahir, halaman 2 dari 2",
    ):
        picture = documents.get_by_role("img", name=name, exact=True)
        picture.scroll_into_view_if_needed()
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=picture.element_handle()
        )
    page_one = documents.get_by_role("img", name="Surat keterangan lahir, halaman 1 dari 2")
    box = page_one.bounding_box()
    assert box is not None
    assert box["height"] > box["width"] > 300  # an upright page, wide enough to read
    # What is saved is the picture of the page, never the uploaded file.
    with page.expect_download() as saving:
        documents.get_by_role("link", name="Unduh halaman 2").click()
    assert re.fullmatch(rf"{code}-birth_letter-\d+-halaman-2\.png", saving.value.suggested_filename)
    saved = Path(saving.value.path()).read_bytes()
    assert saved.startswith(b"\x89PNG\r\n\x1a\n")
    assert saved != letter


def test_the_action_panel_stays_in_view_asks_before_rejecting_and_opens_the_next_report(
    live_server: LiveServer, new_context: NewContext, request: pytest.FixtureRequest
) -> None:
    shots = Shots(request.node)
    first = _verified_report(live_server, documents=[("birth_letter", pdf_bytes(3))])
    second = _verified_report(live_server)
    page = sign_in(
        new_context, add_staff(live_server, "operator", "Rina Operator"), **OFFICE_SCREEN
    )
    page.get_by_role("link", name="Perlu diperiksa", exact=True).click()
    table = page.get_by_role("table")
    expect(table.get_by_role("columnheader", name=re.compile("^Menunggu"))).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(page.locator(f"#row-{first}")).to_contain_text("Warga (web)")
    expect(page.locator("#claims")).to_contain_text("belum ditangani")
    shots.take(page, "queue")
    page.get_by_role("link", name="Menunggu ▼ (urutkan terbaru di atas)").click()
    expect(table.get_by_role("columnheader", name=re.compile("^Menunggu"))).to_have_attribute(
        "aria-sort", "ascending"
    )
    expect(page.locator(f"#row-{first}")).to_be_attached()  # the last of the two, parsed
    codes = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.id)")
    assert codes.index(f"row-{second}") < codes.index(f"row-{first}")  # newest first

    page.goto(f"/kantor/laporan/{first}?tab=in_review")
    panel = page.get_by_role("complementary", name="Tindakan")
    page.keyboard.press("a")  # the shortcut of "Tangani laporan ini"
    expect(page.get_by_role("status")).to_have_text("Laporan ini Anda tangani.")
    expect(panel.locator("#holder")).to_contain_text("Ditangani oleh Rina Operator")
    expect(panel).to_contain_text("Laporan ditolak untuk selamanya")
    shots.take(page, "report")
    # Scrolled down to the documents, the panel and its buttons are still on the screen.
    page.locator("#journal").scroll_into_view_if_needed()
    box = panel.get_by_role("button", name="Setujui").bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= 800
    assert page.evaluate("window.scrollY") > 0
    # Approve and reject do not look alike.
    colours = [
        panel.get_by_role("button", name=name).evaluate("b => getComputedStyle(b).backgroundColor")
        for name in ("Setujui", "Tolak")
    ]
    assert colours[0] != colours[1]

    # Tolak without the confirmation box: the browser asks for it, nothing is sent.
    panel.get_by_label("Alasan penolakan (dibaca pelapor)").fill("Data kelahiran tidak benar.")
    panel.get_by_role("button", name="Tolak").click()
    assert panel.get_by_role("checkbox", name=re.compile("Ya, tolak laporan ini")).evaluate(
        "box => !box.validity.valid"
    )
    assert _status(live_server, first) == "in_review"
    panel.get_by_role("checkbox", name=re.compile("Ya, tolak laporan ini")).check()
    panel.get_by_role("button", name="Tolak").click()
    expect(page.get_by_role("status")).to_contain_text(f"Laporan {first} ditolak.")
    assert _status(live_server, first) == "rejected"
    # The next report of the tab is open, or the tab when nothing else waits.
    expect(page).to_have_url(
        re.compile(r"/kantor/(laporan/\w+\?tab=in_review|antrian\?tab=in_review)$")
    )
    shots.take(page, "after-reject")
