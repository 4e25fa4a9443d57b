"""A hospital notifies a birth at 3 a.m.; the family opens the link from their e-mail on a
360 px phone in Chromium, finds the hospital's facts and birth letter already there, adds the
rest and sends the report, which keeps the notification's tracking code."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from akta_service.births.operations import get_report_by_tracking_code
from akta_service.core.actors import Actor
from akta_service.facilities.operations import create_facility, issue_credential
from tests.browser.conftest import LiveServer
from tests.browser.parents import (
    SAVE,
    NewContext,
    Shots,
    check_phone_page,
    fill_fields,
    phone,
    review_and_submit,
    save_step,
    upload,
)
from tests.mail import local_smtp
from tests.notified.notifying import LINK, auth, notification_of
from tests.parents.form import PDF, STEP_SLUGS, form_answers


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node)


def _facility_token(code: str) -> str:
    admin = Actor.system("test admin")
    create_facility(code, "RSUD Gunung Jati", "hospital", "3274", admin)
    return issue_credential(code, admin).token


def test_the_family_completes_a_hospitals_notification_from_a_phone(
    live_server: LiveServer, new_context: NewContext, shots: Shots
) -> None:
    report: dict[str, Any] = live_server.family("recorded")["example_report"]
    token = live_server.run(_facility_token, "RSUD-NOTIF")
    api = live_server.app.test_client()
    with local_smtp(live_server.app) as inbox:
        created = api.post(
            "/api/v1/notifications", json=notification_of(report), headers=auth(token)
        )
        assert created.status_code == 201, created.get_json()
        code = created.get_json()["tracking_code"]
        letter = api.post(
            f"/api/v1/notifications/{code}/birth-letter",
            data={"file": (io.BytesIO(PDF), "skl.pdf")},
            content_type="multipart/form-data",
            headers=auth(token),
        )
        assert letter.status_code == 201, letter.get_json()
        mail = live_server.wait_for(lambda: inbox.messages[:1], "the family's e-mail")[0]
    text = mail.get_payload(decode=True).decode()
    link = re.search(r"https?://\S+/lapor/kelahiran/[A-Za-z0-9_-]+", text)
    assert link is not None
    assert LINK.search(link.group(0))

    page = phone(new_context)
    page.goto(link.group(0))
    expect(page).to_have_url(re.compile(r"/lapor/bayi$"))
    expect(page.locator('[name="child.birth_place"]')).to_have_value("RSUD Gunung Jati")
    expect(page.locator('[name="child.weight_grams"]')).to_have_value("3100")
    expect(page.locator('[name="birth_letter_number"]')).to_have_value("SKL/2026/0042")
    check_phone_page(page, shots, "bayi-terisi")
    # The family adds the name the hospital did not know.
    page.locator('[name="child.name"]').fill(report["child"]["name"])
    save_step(page, "ibu")
    expect(page.locator('[name="mother.nik"]')).to_have_value(report["mother"]["nik"])
    answers = form_answers(report)
    slugs = (*STEP_SLUGS, "dokumen")
    for number, slug in enumerate(STEP_SLUGS[1:], start=1):
        fill_fields(page, answers[slug])
        check_phone_page(page, shots, slug)
        page.get_by_role("button", name=SAVE).click()
        expect(page).to_have_url(re.compile(rf"/lapor/{slugs[number + 1]}$"))

    # The hospital's birth letter is the family's document already.
    expect(page.locator("#uploaded-birth_letter")).to_contain_text("Sudah diunggah")
    check_phone_page(page, shots, "dokumen")
    for kind in ("marriage_certificate", "kk"):
        upload(page, kind, f"{kind}.pdf", "application/pdf", PDF)
    page.get_by_role("button", name="Lanjut: periksa semua data").click()
    shown_code, _pin = review_and_submit(page, report, shots)
    assert shown_code.replace("-", "") == code

    stored = live_server.run(lambda: get_report_by_tracking_code(code).facility_code)
    assert stored == "RSUD-NOTIF"
    followed = api.get(f"/api/v1/notifications/{code}", headers=auth(token)).get_json()
    assert followed["status"] == "completed"
