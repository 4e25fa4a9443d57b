"""A family reports through the form and follows its report on the status page, as a parent
does: every page read, every form posted with its CSRF token, no JavaScript."""

from __future__ import annotations

import copy
import re
from html import unescape
from typing import Any

import sqlalchemy as sa
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from akta_service.births.models import BirthReport
from akta_service.core.db import db
from tests.parents.form import (
    PDF,
    fill_steps,
    finish_documents,
    form_answers,
    required_kinds,
    start,
    submit,
    text_of,
    upload,
)
from tests.web import csrf_token

WRONG_MOTHER_NAME = "Nama Yang Lain Sekali"


def with_wrong_mother_name(report: dict[str, Any]) -> dict[str, Any]:
    """The family's report with the mother's name mistyped (Dukcapil will say so)."""
    wrong = copy.deepcopy(report)
    wrong["mother"]["name"] = WRONG_MOTHER_NAME
    return wrong


def report_through_the_form(
    client: FlaskClient, report: dict[str, Any], email: str | None = None
) -> tuple[str, str]:
    """Fill every step, upload the documents asked for, submit; returns (code, PIN) as the
    receipt shows them."""
    answers = form_answers(report)
    if email is not None:
        answers["keluarga"]["informant.email"] = email
    page = send_answers(client, answers)
    return text_of(page, "tracking-code"), text_of(page, "pin")


def send_answers(client: FlaskClient, answers: dict[str, dict[str, Any]]) -> str:
    """Fill every step with `answers`, upload the documents asked for, submit; returns the
    receipt's first view."""
    start(client)
    fill_steps(client, answers)
    for kind in required_kinds(client):
        assert upload(client, kind, PDF).status_code == 302
    assert finish_documents(client).status_code == 302
    receipt = submit(client)
    assert receipt.status_code == 200
    return receipt.get_data(as_text=True)


def find_report(code: str) -> BirthReport:
    report = db.session.scalar(
        sa.select(BirthReport).where(BirthReport.tracking_code == code.replace("-", ""))
    )
    assert report is not None
    db.session.refresh(report)
    return report


def open_status(client: FlaskClient, code: str, pin: str) -> str:
    """Type the code and PIN; returns the status page."""
    form = client.get("/status").get_data(as_text=True)
    opened = client.post("/status", data={"csrf_token": csrf_token(form), "code": code, "pin": pin})
    assert opened.status_code == 302, opened.get_data(as_text=True)
    return client.get("/status/laporan").get_data(as_text=True)


def stage(page: str, key: str) -> str:
    match = re.search(rf'class="stage stage-(\w+)" id="stage-{key}"', page)
    assert match, key
    return match.group(1)


def post_page_form(
    client: FlaskClient, page_url: str, action: str, fields: dict[str, Any]
) -> TestResponse:
    """Post a form of the page as a browser does: with the page's CSRF token and the report
    version the page was shown for."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    data = {"csrf_token": csrf_token(html), **fields}
    if 'name="version"' in html:
        data.setdefault("version", hidden_version(html))
    return client.post(action, data=data, content_type="multipart/form-data")


def input_value(html: str, element_id: str) -> str | None:
    """The value an input is shown with, or None when the page has no such input."""
    match = re.search(rf'<input[^>]*\bid="{re.escape(element_id)}"[^>]*>', html, re.S)
    if match is None:
        return None
    value = re.search(r'\bvalue="([^"]*)"', match.group(0))
    return unescape(value.group(1)) if value else ""


def hidden_version(html: str) -> str:
    match = re.search(r'name="version" value="(\d+)"', html)
    assert match, "no version on the form"
    return match.group(1)
