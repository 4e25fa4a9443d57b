"""Every page runs under the Content-Security-Policy, is never framed, and an answer with
personal data is never kept by a browser or a proxy; HSTS in production only."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.births.documents import attach_document
from akta_service.core.actors import Actor
from akta_service.core.config import Environment
from akta_service.core.db import db
from akta_service.core.resources import resource_dir
from akta_service.core.security_headers import DOCS_POLICY, POLICY
from akta_service.facilities.models import Facility, FacilityKind
from tests.factories import BirthReportFactory
from tests.files import jpeg_bytes
from tests.web import STAFF_PASSWORD, sign_in

_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


@pytest.fixture
def data(session: Any) -> dict[str, Any]:
    """A report with a picture, a facility and staff who may see them."""
    for name, role in (("siti", "operator"), ("adi", "admin")):
        create_user(
            name, f"{name.title()} Kantor", role, STAFF_PASSWORD, ["3274"], Actor.system("t")
        )
    db.session.add(
        Facility(code="RS001", name="RSUD", kind=FacilityKind.HOSPITAL, region_code="3274")
    )
    report = BirthReportFactory(status="in_review")
    document = attach_document(report, "birth_letter", jpeg_bytes(), Actor.system("t"))
    db.session.commit()
    return {
        "code": report.tracking_code,
        "tracking_code": report.tracking_code,
        "document_id": document.id,
        "number": 1,
        "version": 1,
        "slug": "bayi",
        "kind": "kk",
        "token": "no-such-token",
        "key_id": "000000000000",
        "user_id": 1,
        "batch_id": "0" * 32,
        "filename": "base.css",
    }


def _urls(app: Flask, values: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(endpoint, URL) of every GET route, its parameters filled with real data."""
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        args = {name: values[name] for name in rule.arguments}
        if rule.endpoint.startswith(("facilities_admin.", "regions_admin.")) and "code" in args:
            args["code"] = "RS001" if rule.endpoint.startswith("facilities") else "3274"
        _, path = rule.build(args, append_unknown=False) or ("", "")
        yield rule.endpoint, path


def _html_answers(app: Flask, client: FlaskClient, values: dict[str, Any]) -> dict[str, Any]:
    answers = {}
    for endpoint, url in _urls(app, values):
        response = client.get(url, headers={"Accept": "text/html"})
        if response.mimetype == "text/html":
            answers[endpoint] = response
        response.close()
    return answers


@pytest.mark.parametrize("who", [None, "siti", "adi"])
def test_every_page_carries_the_policy_and_has_nothing_inline(
    app: Flask, client: FlaskClient, data: dict[str, Any], who: str | None
) -> None:
    if who:
        assert sign_in(client, who) == 302
    answers = _html_answers(app, client, data)
    # The pages a person reads are among them, whoever they are (a stranger is sent to
    # sign in: the office's addresses answer with a redirect, not a page).
    assert {"home", "parents.start", "parents.step", "office.login"} <= set(answers)
    if who == "siti":
        assert {"review.queue", "review.report", "stats.dashboard", "office.home"} <= set(answers)
    if who == "adi":
        assert {"accounts_admin.users", "facilities_admin.facility"} <= set(answers)
    for endpoint, response in answers.items():
        expected = DOCS_POLICY if endpoint == "api-docs.openapi_swagger_ui" else POLICY
        assert response.headers.get("Content-Security-Policy") == expected, endpoint
        assert "frame-ancestors 'none'" in expected
        assert response.headers["X-Content-Type-Options"] == "nosniff", endpoint
        html = response.get_data(as_text=True)
        assert not _INLINE.search(html), f"{endpoint}: {_INLINE.search(html)}"


def test_no_template_has_inline_script_or_style() -> None:
    """Also the templates of pages the walk above does not reach (e-mails are text)."""
    templates = sorted(resource_dir("templates").rglob("*.html"))
    assert len(templates) > 20
    for template in templates:
        text = template.read_text(encoding="utf-8")
        assert not _INLINE.search(text), f"{template.name}: {_INLINE.search(text)}"


def test_the_policy_forbids_inline_script_and_style_and_framing() -> None:
    directives = dict(d.split(" ", 1) for d in POLICY.split("; "))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in POLICY


def test_an_error_page_carries_the_policy_too(client: FlaskClient) -> None:
    response = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["Content-Security-Policy"] == POLICY
    assert response.headers["X-Frame-Options"] == "DENY"


def test_office_pages_and_downloads_with_personal_data_are_not_stored(
    client: FlaskClient, data: dict[str, Any]
) -> None:
    assert sign_in(client, "siti") == 302
    code, document = data["code"], data["document_id"]
    for url in (
        "/kantor/",
        "/kantor/antrian",
        f"/kantor/laporan/{code}",
        f"/kantor/laporan/{code}/dokumen/{document}",
        "/kantor/dasbor",
        "/lapor",
        "/status",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url
        response.close()
    assert client.get("/kantor/laporan/NOSUCHCODE").headers["Cache-Control"] == "no-store"


def test_public_pages_without_personal_data_may_be_cached(client: FlaskClient) -> None:
    home = client.get("/")
    assert "no-store" not in home.headers.get("Cache-Control", "")
    assert home.headers["Referrer-Policy"] == "same-origin"


def test_hsts_only_in_production(app: Flask, client: FlaskClient) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(original, env=Environment.PRODUCTION)
    try:
        response = client.get("/")
    finally:
        app.config["AKTA_SETTINGS"] = original
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
