"""The hostile corpus (tests/hostile_corpus.py) against every public page and the API, on
both databases: no answer is a 5xx; the pages answer a page in Indonesian, the API
problem+json naming the field."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from akta_service.akta.models import AktaDocument
from akta_service.births.models import ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.limits import limiter
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.queue import run_pending
from tests import hostile_corpus as corpus
from tests.notified.bundles import bundle
from tests.notified.notifying import notification_of
from tests.parents.conftest import sandbox_report
from tests.parents.form import (
    PDF,
    STEP_SLUGS,
    fill_steps,
    finish_documents,
    form_answers,
    required_kinds,
    start,
    submit,
    text_of,
    upload,
)
from tests.parents.reporting import find_report, open_status, with_wrong_mother_name
from tests.web import csrf_token

ADMIN = Actor.system("test")

#: The endpoints anyone may call, without an office login, and what covers them here.
PUBLIC_ENDPOINTS = {
    "home",
    "static",
    "health.healthz",
    "health.readyz",
    "office.login",
    "akta_public.verify",
    "akta_seal.keys",
    "akta_seal.status",
    "akta_seal.verifier",
    "akta_seal.service_worker",
    "parents.start",
    "parents.begin",
    "parents.step",
    "parents.submit",
    "parents.resume",
    "notified.family_link",
    "parents.status_form",
    "parents.status_open",
    "parents.status_page",
    "parents.status_new_pin",
    "parents.correction",
    "parents.cancel",
    "parents.akta_download",
    "parents.kia_download",
    "parents.kk_download",
    "parents.akta_correction",
    "parents.status_sptjm",
    "parents.status_close",
    "parents.document_preview",
    "parents.draft_sptjm",
    "parents.remove_document",
    "parents.receipt_page",
    "parents.receipt_download",
    "parents.receipt_contact",
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
}

_FIELD_NAME = re.compile(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"')


def test_every_public_endpoint_is_covered_by_the_corpus(app: Flask) -> None:
    """A new public page or API operation must be added here (and to the runs below)."""
    public = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith("/kantor/") or rule.endpoint == "office.login"
    }
    api = {
        e
        for e in public
        if e.startswith(("births_api.", "webhook_api.", "notified_api.", "fhir_api."))
    }
    assert public - api == PUBLIC_ENDPOINTS
    assert api == set(API_OPERATIONS_COVERED)


def _names(html: str) -> list[str]:
    return [n for n in dict.fromkeys(_FIELD_NAME.findall(html)) if n != "csrf_token"]


def _is_a_page(response: TestResponse) -> None:
    """No 5xx; a page in Indonesian (or a redirect), never JSON."""
    assert response.status_code < 500, (response.request.path, response.status_code)
    if response.status_code in (301, 302, 303):
        return
    if response.mimetype == "application/pdf":
        return
    assert response.mimetype == "text/html", (response.request.path, response.mimetype)
    assert '<html lang="id">' in response.get_data(as_text=True)


def _post_raw(client: FlaskClient, path: str, fields: dict[str, Any]) -> TestResponse:
    response = client.post(
        path,
        data=corpus.urlencoded(fields),
        content_type="application/x-www-form-urlencoded",
        headers={"Accept": "text/html"},
    )
    _is_a_page(response)
    return response


VALUES = list(corpus.FORM_VALUES.values())


def _hostile_posts(client: FlaskClient, path: str, page: str | None = None) -> None:
    """The page's form posted with every field set to each hostile value in turn; then once
    as multipart (file names too), once with a field name 10,000 characters long, and the
    page read with every value in its query string."""
    html = client.get(page or path).get_data(as_text=True)
    token = csrf_token(html)
    names = _names(html)
    for value in VALUES:
        _post_raw(client, path, {"csrf_token": token, **dict.fromkeys(names, value)})
    _post_raw(client, path, {"csrf_token": token, corpus.LONG_FIELD_NAME: b"x", b"\xff": b"x"})
    fields = {"csrf_token": token, **{n: VALUES[i % len(VALUES)] for i, n in enumerate(names)}}
    body, content_type = corpus.multipart(
        fields, files={"file": (b"\xff\x00.pdf", PDF), "pdf": (corpus.LONG_FIELD_NAME, PDF)}
    )
    multi = client.post(path, data=body, content_type=content_type, headers={"Accept": "text/html"})
    _is_a_page(multi)
    for value in VALUES:
        query = corpus.query_string(dict.fromkeys([*names, "next", "lang", "q"], value))
        _is_a_page(client.get(f"{page or path}?{query}", headers={"Accept": "text/html"}))


def test_no_public_page_answers_a_5xx_to_hostile_input(app: Flask, client: FlaskClient) -> None:
    family = with_wrong_mother_name(sandbox_report("recorded"))
    answers = form_answers(family)
    # Anonymous pages, before anything exists.
    for value in VALUES:
        query = corpus.query_string({"q": value, "next": value, "lang": value})
        for path in ("/", "/lapor", "/status", "/kantor/masuk"):
            _is_a_page(client.get(f"{path}?{query}", headers={"Accept": "text/html"}))
        for path in ("/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/docs"):
            assert client.get(f"{path}?{query}").status_code < 500
        for path in ("/.well-known/akta-keys.json", "/periksa-akta/status", "/periksa-akta/sw.js"):
            assert client.get(f"{path}?{query}").status_code < 500
        _is_a_page(client.get(f"/periksa-akta/?{query}", headers={"Accept": "text/html"}))
        segment = quote_from_bytes(value, safe="") or "x"
        assert client.get(f"/static/{segment}").status_code < 500
        for path in (
            f"/verifikasi/{segment}",
            f"/lapor/lanjut/{segment}",
            f"/lapor/{segment}",
            f"/lapor/kelahiran/{segment}",
        ):
            _is_a_page(client.get(path, headers={"Accept": "text/html"}))
    _hostile_posts(client, "/kantor/masuk")

    # The form: each step, from the last (a step refused keeps those before it open).
    start(client)
    fill_steps(client, answers)
    for slug in reversed(STEP_SLUGS):
        _hostile_posts(client, f"/lapor/{slug}")
    fill_steps(client, answers)
    for kind in required_kinds(client):
        assert upload(client, kind, PDF).status_code == 302
    _hostile_posts(client, "/lapor/dokumen")
    for value in VALUES:
        segment = quote_from_bytes(value, safe="") or "x"
        for path in (
            f"/lapor/dokumen/lihat/{segment}",
            f"/lapor/dokumen/hapus/{segment}",
            f"/lapor/dokumen/sptjm/{segment}.pdf",
        ):
            assert client.get(path, headers={"Accept": "text/html"}).status_code < 500
    assert finish_documents(client).status_code == 302
    _hostile_posts(client, "/lapor/kirim", page="/lapor/periksa")
    limiter.reset()  # the hostile posts used up this address's submissions
    receipt = submit(client)
    assert receipt.status_code == 200, receipt.status_code
    html = receipt.get_data(as_text=True)
    code, pin = text_of(html, "tracking-code"), text_of(html, "pin")
    # The receipt, reloaded and downloaded with hostile queries, and its contact form.
    for value in VALUES:
        query = corpus.query_string({"q": value, "lang": value})
        _is_a_page(client.get(f"/lapor/terkirim?{query}", headers={"Accept": "text/html"}))
        assert client.get(f"/lapor/terkirim.pdf?{query}").status_code < 500
    # A report with a contact shows no contact form; its post is refused all the same.
    token = csrf_token(client.get("/status").get_data(as_text=True))
    for value in VALUES:
        names = ("informant.phone", "informant.email", "pin")
        _post_raw(
            client, "/lapor/terkirim/kontak", {"csrf_token": token, **dict.fromkeys(names, value)}
        )
    run_pending(app)
    assert find_report(code).status == ReportStatus.NEEDS_CORRECTION

    # The status pages of the report: correct it, then cancel it; then the lookups (their
    # rate limits answer 429 soon, which is a 4xx too).
    limiter.reset()
    open_status(client, code, pin)
    for value in VALUES:
        query = corpus.query_string({"q": value, "lang": value})
        for path in ("/status/laporan", "/status/akta.pdf", "/status/kia.pdf", "/status/kk.pdf"):
            _is_a_page(client.get(f"{path}?{query}", headers={"Accept": "text/html"}))
        segment = quote_from_bytes(value, safe="") or "x"
        answer = client.get(f"/status/sptjm/{segment}.pdf", headers={"Accept": "text/html"})
        assert answer.status_code < 500
    _hostile_posts(client, "/status/perbaiki")
    # Not issued: the akta's correction form is not offered, and its posts store nothing.
    _hostile_posts(client, "/status/perbaikan-akta", page="/status/laporan")
    _hostile_posts(client, "/status/batal")
    for value in VALUES:
        _post_raw(client, "/status/keluar", {"x": value})
    _hostile_posts(client, "/status")
    _hostile_posts(client, "/status/pin")

    # The public check of an akta: a row as issuing leaves it (the page compares hashes).
    db.session.add(
        AktaDocument(
            report_id=find_report(code).id,
            version=1,
            registration_number="3274-LU-01122026-0001",
            sha256="0" * 64,
            size_bytes=1,
            storage_key="korpus/akta.pdf",
            verification_token="korpus-uji",
            signer_name="Pejabat Uji",
        )
    )
    db.session.commit()
    limiter.reset()
    _hostile_posts(client, "/verifikasi/korpus-uji")


# --- the API ---------------------------------------------------------------------------

API_OPERATIONS_COVERED = (
    "births_api.BirthReportCollection",
    "births_api.BirthReportItem",
    "births_api.BirthReportCancel",
    "births_api.BirthReportDocuments",
    "births_api.BirthReportAkta",
    "births_api.BirthReportAktaCorrections",
    "webhook_api.WebhookItem",
    "webhook_api.WebhookDeliveries",
    "notified_api.NotificationCollection",
    "notified_api.NotificationItem",
    "notified_api.NotificationBirthLetter",
    "fhir_api.FhirBundleIntake",
)


@pytest.fixture
def token(session: Any) -> str:
    create_facility("RS-HOST", "RS Uji", "hospital", "3274", ADMIN)
    return issue_credential("RS-HOST", ADMIN).token


def _api(client: FlaskClient, method: str, path: str, token: str, **kwargs: Any) -> TestResponse:
    headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
    response = client.open(path, method=method, headers=headers, **kwargs)
    assert response.status_code < 500, (method, path, response.status_code)
    errors = ("application/problem+json", "application/fhir+json")
    assert response.status_code < 300 or response.mimetype in errors
    return response


def _fields_named(response: TestResponse) -> list[str]:
    return [e["field"] for e in (response.get_json(silent=True) or {}).get("errors", [])]


def test_every_field_of_a_report_refuses_every_hostile_value_naming_the_field(
    client: FlaskClient, token: str
) -> None:
    report = sandbox_report("recorded")
    values = {**corpus.TEXT, **corpus.JSON_VALUES}
    for path in corpus.leaf_paths(report):
        dotted = ".".join(str(p) for p in path if not isinstance(p, int))
        for name, value in values.items():
            body = corpus.json_with(report, path, value)
            response = _api(client, "POST", "/api/v1/births", token, json=body)
            if response.status_code == 422:
                named = _fields_named(response)
                assert any(f == dotted or f.startswith(dotted) for f in named) or any(
                    dotted.startswith(f) for f in named
                ), (dotted, name, named)


def test_raw_bodies_and_query_strings_get_a_4xx_from_every_operation(
    client: FlaskClient, token: str
) -> None:
    created = _api(client, "POST", "/api/v1/births", token, json=sandbox_report("recorded"))
    assert created.status_code == 201
    code = created.get_json()["tracking_code"]
    writes = [
        ("POST", "/api/v1/births"),
        ("PUT", f"/api/v1/births/{code}"),
        ("PUT", "/api/v1/webhook"),
        ("POST", f"/api/v1/births/{code}/akta-corrections"),
        ("POST", f"/api/v1/births/{code}/cancel"),  # an empty body cancels: last
    ]
    for method, path in writes:
        for name, body in corpus.JSON_BODIES.items():
            response = _api(client, method, path, token, data=body, content_type="application/json")
            refused = response.status_code in (400, 409, 422)
            assert refused or (path.endswith("/cancel") and name == "empty"), (path, name)
    reads = [
        "/api/v1/births",
        f"/api/v1/births/{code}",
        f"/api/v1/births/{code}/akta-corrections",
        "/api/v1/webhook/deliveries",
    ]
    for path in reads:
        for value in corpus.FORM_VALUES.values():
            query = corpus.query_string(
                {"status": value, "updated_since": value, "cursor": value, "limit": value}
            )
            _api(client, "GET", f"{path}?{query}", token)
    for value in corpus.FORM_VALUES.values():
        segment = quote_from_bytes(value, safe="") or "x"
        for suffix in ("", "/akta.pdf", "/akta-corrections"):
            _api(client, "GET", f"/api/v1/births/{segment}{suffix}", token)
        body, content_type = corpus.multipart(
            {"kind": value, corpus.LONG_FIELD_NAME: value}, files={"file": (value, PDF)}
        )
        documents = f"/api/v1/births/{code}/documents"
        _api(client, "POST", documents, token, data=body, content_type=content_type)
        _api(
            client,
            "PUT",
            "/api/v1/webhook",
            token,
            data=b'{"url": "https://' + value + b'.example/"}',
            content_type="application/json",
        )
        if b"\n" in value:
            continue  # no header can carry a line break
        # A header's bytes reach the app as latin-1 text (WSGI).
        key = {"Idempotency-Key": value.decode("latin-1")}
        assert client.post("/api/v1/births", json={}, headers=key).status_code == 401
        _api(client, "POST", "/api/v1/births", token, json={}, headers=key)


def _oversized(token: str) -> dict[str, tuple[bytes, str]]:
    """Bodies beyond Werkzeug's limits: the whole body, one field, the number of parts."""
    return {
        "body": corpus.multipart({"csrf_token": token}, files={"file": ("a.pdf", PDF * 300_000)}),
        "field": corpus.multipart({"csrf_token": token, "kind": b"x" * 600_000}),
        "parts": corpus.multipart({"csrf_token": token, **{f"f{i}": "x" for i in range(1_100)}}),
    }


def test_an_oversized_body_is_a_413_that_says_the_limits_in_indonesian(
    client: FlaskClient, token: str
) -> None:
    created = _api(client, "POST", "/api/v1/births", token, json=sandbox_report("recorded"))
    documents = f"/api/v1/births/{created.get_json()['tracking_code']}/documents"
    start(client)
    page_token = csrf_token(client.get("/lapor/bayi").get_data(as_text=True))
    for name, (body, content_type) in _oversized(page_token).items():
        for path in ("/lapor/bayi", "/kantor/masuk", "/status"):
            page = client.post(
                path, data=body, content_type=content_type, headers={"Accept": "text/html"}
            )
            assert page.status_code == 413, (name, path)
            _is_a_page(page)
            assert "terlalu besar" in page.get_data(as_text=True), (name, path)
        problem = _api(client, "POST", documents, token, data=body, content_type=content_type)
        assert problem.status_code == 413, name
        assert problem.get_json()["code"] == "payload_too_large"
        assert "10 MB" in problem.get_json()["detail"]


def test_notifications_and_fhir_bundles_refuse_every_hostile_value_with_a_4xx(
    client: FlaskClient, token: str
) -> None:
    report = sandbox_report("recorded")
    notification = notification_of(report)
    for path in corpus.leaf_paths(notification):
        limiter.reset()  # a credential's limit is for real traffic, not this corpus
        dotted = ".".join(str(p) for p in path if not isinstance(p, int))
        for value in {**corpus.TEXT, **corpus.JSON_VALUES}.values():
            body = corpus.json_with(notification, path, value)
            response = _api(client, "POST", "/api/v1/notifications", token, json=body)
            if response.status_code == 422:
                named = _fields_named(response)
                assert any(f.startswith(dotted) or dotted.startswith(f) for f in named), (
                    dotted,
                    named,
                )
    created = _api(client, "POST", "/api/v1/notifications", token, json=notification)
    code = created.get_json()["tracking_code"]
    hospital = bundle("single_birth_hospital", report)
    for number, path in enumerate(corpus.leaf_paths(hospital)):
        limiter.reset()
        for name, value in corpus.JSON_VALUES.items():
            body = corpus.json_with(hospital, path, value)
            if path[0] != "identifier":  # each its own Bundle, not a re-send
                body["identifier"]["value"] = f"korpus-{number}-{name}"
            response = _api(client, "POST", "/api/v1/fhir", token, json=body)
            assert response.status_code in (200, 201, 409, 422), (path, response.status_code)
    limiter.reset()
    for body in corpus.JSON_BODIES.values():
        for path in ("/api/v1/notifications", "/api/v1/fhir"):
            response = _api(client, "POST", path, token, data=body, content_type="application/json")
            assert response.status_code in (400, 422), (path, body[:40])
    for value in corpus.FORM_VALUES.values():
        segment = quote_from_bytes(value, safe="") or "x"
        _api(client, "GET", f"/api/v1/notifications/{segment}", token)
        body, content_type = corpus.multipart(
            {corpus.LONG_FIELD_NAME: value}, files={"file": (value, PDF)}
        )
        letter = f"/api/v1/notifications/{code}/birth-letter"
        _api(client, "POST", letter, token, data=body, content_type=content_type)
