"""The parents' form and status page as a parent uses them on a phone, and the office work
that happens in between (done through the operations layer)."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image, ImageDraw
from playwright.sync_api import BrowserContext, Page, expect

from akta_service.accounts.models import User
from akta_service.akta.operations import authorise_issue, current_akta
from akta_service.births.operations import get_report_by_tracking_code, issue_status_pin
from akta_service.core.db import db
from akta_service.review.operations import claim
from akta_service.workflow.engine import fire
from tests.browser.conftest import ARTIFACTS, SCREENS, LiveServer
from tests.browser.office import add_staff, submit_report
from tests.conftest import SIGNING_OFFICERS, with_signing_identity
from tests.parents.form import PDF, STEP_SLUGS, form_answers

NewContext = Callable[..., BrowserContext]

PHONE_WIDTH = 360
PHONE: dict[str, Any] = SCREENS["phone"]
#: The step pages' headings, in the order a parent meets them.
STEP_TITLES = {
    "bayi": "Bayi",
    "ibu": "Ibu",
    "ayah": "Ayah dan perkawinan",
    "keluarga": "KK dan pelapor",
    "saksi": "Dua saksi",
    "dokumen": "Dokumen",
    "periksa": "Periksa dan kirim",
}
SAVE = "Simpan dan lanjutkan"

#: Visible form controls without a label (script run in the page).
_UNLABELLED = """() => Array.from(document.querySelectorAll("input, select, textarea"))
  .filter(el => el.type !== "hidden" && el.getClientRects().length > 0)
  .filter(el => !el.labels || el.labels.length === 0)
  .map(el => el.id || el.name || el.outerHTML.slice(0, 80))"""


def phone(new_context: NewContext, javascript: bool = True) -> Page:
    """A parent's cheap Android phone: 360 px wide, touch, Indonesian."""
    return new_context(java_script_enabled=javascript, **PHONE).new_page()


class Shots:
    """Full-page screenshots of each step, kept as test artefacts whether the test passes
    or not, next to the ones the browser fixtures keep of a failure."""

    def __init__(self, node: pytest.Item) -> None:
        name = re.sub(r"[^\w.-]+", "_", node.nodeid)[-150:]
        self.folder = node.config.rootpath / ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("[0-9][0-9]-*.png"):
            old.unlink()
        self.count = 0

    def take(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def check_phone_page(page: Page, shots: Shots, step: str) -> None:
    """What every page must be at 360 px: nothing to scroll sideways, every input labelled;
    then its screenshot. Measured once the page and its stylesheet have loaded: on a busy
    machine an unstyled page, half-loaded, is wider than the page a parent sees."""
    page.wait_for_load_state("load")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"{step}: the page is {width} px wide, wider than the phone"
    unlabelled = page.evaluate(_UNLABELLED)
    assert unlabelled == [], f"{step}: inputs without a label: {unlabelled}"
    shots.take(page, step)


def photo_jpeg() -> bytes:
    """A phone photo of a document: large, which the service makes smaller."""
    picture = Image.new("RGB", (3000, 4000), (236, 232, 220))
    pen = ImageDraw.Draw(picture)
    for line in range(40):
        pen.rectangle((200, 300 + line * 90, 2800, 340 + line * 90), fill=(40, 40, 40))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=80)
    return out.getvalue()


def fill_fields(page: Page, answers: dict[str, str]) -> None:
    """Type the answers of one step: choose options, pick from lists, type the rest."""
    for name, value in answers.items():
        if value in ("", None):
            continue
        value = str(value)
        control = page.locator(f'[name="{name}"]')
        kind = control.first.evaluate("el => el.type")
        if kind == "radio":
            control.and_(page.locator(f'[value="{value}"]')).check()
        elif kind.startswith("select"):
            control.select_option(value)
        else:
            control.fill(value)


def begin(page: Page) -> None:
    """From the form's first page to its first step."""
    page.goto("/lapor")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lapor kelahiran bayi")
    page.get_by_role("button", name="Mulai mengisi").click()
    expect(page).to_have_url(re.compile(r"/lapor/bayi$"))


def save_step(page: Page, next_slug: str) -> None:
    """Save the step; returns on the next step's page, loaded (a committed page may not be
    parsed yet: what is read of it next would be read of half of it)."""
    page.get_by_role("button", name=SAVE).click()
    try:
        expect(page).to_have_url(re.compile(rf"/lapor/{next_slug}$"))
    except AssertionError:
        summary = page.locator("#error-summary")
        refused = summary.inner_text() if summary.count() else "no error summary"
        raise AssertionError(f"the step was not saved ({page.url}): {refused}") from None
    page.wait_for_load_state("load")


def fill_every_step(page: Page, report: dict[str, Any], shots: Shots) -> None:
    """The five steps of fields, from the baby to the witnesses, each checked at 360 px."""
    answers = form_answers(report)
    slugs = (*STEP_SLUGS, "dokumen")
    for number, slug in enumerate(STEP_SLUGS):
        expect(page.get_by_role("heading", level=1)).to_have_text(STEP_TITLES[slug])
        expect(page.get_by_text(f"Langkah {number + 1} dari 7")).to_be_visible()
        fill_fields(page, answers[slug])
        check_phone_page(page, shots, slug)
        save_step(page, slugs[number + 1])


def scripted(page: Page) -> bool:
    """The page's own JavaScript runs (form.js marks the page)."""
    return page.locator("html[data-scripted]").count() > 0


def upload(page: Page, kind: str, name: str, mime: str, content: bytes) -> None:
    """Pick the file; with JavaScript it is sent on choosing it, without, by "Unggah"."""
    section = page.locator(f"#doc-{kind}")
    # Asked before choosing: once chosen, the script's upload may already be loading the next
    # page, whose script has not run yet (a click there would send no file).
    page.wait_for_load_state("load")  # the page's script has run, if it runs at all
    sends_itself = scripted(page)
    # Until the page the upload answers with has loaded: on a busy machine the next page can
    # commit seconds after the upload was sent, and what is asked of the page in between
    # would be asked of the one that is going away.
    with page.expect_navigation(wait_until="load"):
        section.get_by_label(re.compile("^(Pilih foto atau PDF|Ganti berkas)$")).set_input_files(
            {"name": name, "mimeType": mime, "buffer": content}
        )
        if not sends_itself:
            section.get_by_role("button", name=re.compile("^Unggah")).click()
    expect(page.locator(f"#uploaded-{kind}")).to_contain_text("Sudah diunggah")


def upload_documents(page: Page, shots: Shots) -> list[str]:
    """Upload what the documents step asks for: the KK as a phone photo, the others as PDFs.
    Returns the kinds asked for."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Dokumen")
    check_phone_page(page, shots, "dokumen")
    asked = [
        (section.get_attribute("id") or "").removeprefix("doc-")
        for section in page.locator("section.document").all()
        if not section.locator("h2 .optional").count()
    ]
    last = asked[-1]
    for kind in asked:
        if kind == last and not scripted(page):
            # Without JavaScript, a file picked and not sent goes with "Lanjut".
            page.locator(f"#doc-{kind}").get_by_label("Pilih foto atau PDF").set_input_files(
                {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": PDF}
            )
            continue
        if kind == "kk":
            upload(page, kind, "IMG_20250101_101010.jpg", "image/jpeg", photo_jpeg())
            expect(page.locator("#uploaded-kk")).to_contain_text("foto")
            thumbnail = page.locator("#thumbnail-kk")
            expect(thumbnail).to_be_visible()
            page.wait_for_function("() => document.getElementById('thumbnail-kk').complete")
            assert thumbnail.evaluate("img => img.naturalWidth") > 0  # loaded, not blocked
        else:
            upload(page, kind, f"{kind}.pdf", "application/pdf", PDF)
            expect(page.locator(f"#uploaded-{kind}")).to_contain_text("PDF")
    check_phone_page(page, shots, "dokumen-diunggah")
    page.get_by_role("button", name="Lanjut: periksa semua data").click()
    expect(page).to_have_url(re.compile(r"/lapor/periksa$"))
    return asked


def remove_document(page: Page, kind: str) -> None:
    """Remove an uploaded document, saying yes to the question asked first."""
    section = page.locator(f"#doc-{kind}")
    page.wait_for_load_state("load")  # the page's script has run, if it runs at all
    if scripted(page):
        page.once("dialog", lambda dialog: dialog.accept())
        section.get_by_role("button", name=re.compile("^Hapus")).click()
    else:
        section.get_by_role("button", name=re.compile("^Hapus")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Hapus dokumen?")
        page.get_by_role("button", name="Ya, hapus").click()
    expect(page.locator(".notice")).to_contain_text("dihapus")  # the documents page again
    expect(page.locator(f"#uploaded-{kind}")).to_have_count(0)


def review_and_submit(page: Page, report: dict[str, Any], shots: Shots) -> tuple[str, str]:
    """Read the review, declare, send; returns the tracking code and PIN shown once."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Periksa dan kirim")
    expect(page.locator("#error-summary")).to_have_count(0)
    main = page.get_by_role("main")
    expect(main).to_contain_text(report["child"]["name"])
    expect(main).to_contain_text(report["mother"]["nik"])
    expect(main).to_contain_text(report["witnesses"][1]["name"])
    page.get_by_role("checkbox", name=re.compile("^Saya menyatakan")).check()
    check_phone_page(page, shots, "periksa")
    page.get_by_role("button", name="Kirim laporan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Laporan terkirim")
    expect(page).to_have_url(re.compile(r"/lapor/terkirim$"))  # a reload sends nothing again
    code = page.locator("#tracking-code").inner_text()
    pin = page.locator("#pin").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{4}", code), code
    assert re.fullmatch(r"\d{6}", pin), pin
    check_phone_page(page, shots, "terkirim")
    return code, pin


def open_status(page: Page, code: str, pin: str) -> None:
    """The status page, opened with the tracking code and PIN as the parent types them."""
    page.goto("/status")
    page.get_by_label("Kode pelacakan").fill(code)
    page.get_by_label("PIN").fill(pin)
    page.get_by_role("button", name="Lihat status").click()
    expect(page).to_have_url(re.compile(r"/status/laporan$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Status laporan kelahiran")


def stage_state(page: Page, key: str) -> str:
    """done, current, attention or todo: how the timeline shows this stage."""
    classes = page.locator(f"#stage-{key}").get_attribute("class") or ""
    found = re.search(r"\bstage-(done|current|attention|todo)\b", classes)
    return found.group(1) if found else ""


def reload_until_stage(page: Page, key: str, state: str, timeout: float = 60) -> None:
    """Reload the status page, as a waiting parent does, until the stage shows `state`."""
    deadline = time.monotonic() + timeout
    pause_ms = 100.0
    while (shown := stage_state(page, key)) != state:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"after {timeout:.0f} s the timeline still shows stage {key!r} as {shown!r}, "
                f"not {state!r}:\n{page.locator('.timeline').inner_text()}"
            )
        page.wait_for_timeout(pause_ms)  # between reloads, not a wait for the result
        pause_ms = min(pause_ms * 2, 1000)
        page.reload()


def submit_with_pin(live: LiveServer, payload: dict[str, Any]) -> tuple[str, str]:
    """A report of a family with a recorded marriage as the form submits it (with its
    documents), through the operations layer; returns its tracking code and the PIN the
    parent was shown."""
    documents = [("birth_letter", PDF), ("marriage_certificate", PDF), ("kk", photo_jpeg())]
    code = submit_report(live, payload, documents)
    return code, live.run(lambda: issue_status_pin(get_report_by_tracking_code(code)))


def document_kinds(live: LiveServer, code: str) -> list[str]:
    """The kinds of the documents on the report, as the office sees them."""
    return live.run(
        lambda: sorted(str(d.kind) for d in get_report_by_tracking_code(code).documents)
    )


def _act(code: str, username: str, trigger: str) -> None:
    report = get_report_by_tracking_code(code)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    assert user is not None
    claim(report, user)
    if trigger == "sign":
        # The pejabat signs with an enrolled officer's key, typing its passphrase.
        with_signing_identity(user, "pj1")
        authorise_issue(report, user, SIGNING_OFFICERS["pj1"].passphrase)
    fire(report, trigger, user.as_actor())


def approve_and_sign(live: LiveServer, code: str) -> None:
    """The office's part: an operator claims and approves, a pejabat claims and signs; the
    akta is then issued by the background job."""
    operator = add_staff(live, "operator", "Sari Operator")
    pejabat = add_staff(live, "pejabat", "Ratna Pejabat")
    live.run(_act, code, operator, "approve")
    live.run(_act, code, pejabat, "sign")


def issued_akta(live: LiveServer, code: str) -> tuple[str, str]:
    """The child's NIK and the SHA-256 of the akta in force, as the office issued them."""

    def read() -> tuple[str, str]:
        report = get_report_by_tracking_code(code)
        document = current_akta(report)
        assert report.child_nik is not None
        assert document is not None
        return report.child_nik, document.sha256

    return live.run(read)


def stored_mother_name(live: LiveServer, code: str) -> str:
    return live.run(lambda: get_report_by_tracking_code(code).mother_name)
