"""Filling the parents' form as a person does: read each page, post it, follow the redirect."""

from __future__ import annotations

import io
import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.files import pdf_bytes
from tests.web import csrf_token

#: A real one-page PDF: every upload is opened before it is stored.
PDF = pdf_bytes()
STEP_SLUGS = ("bayi", "ibu", "ayah", "keluarga", "saksi")


def form_answers(report: dict[str, Any]) -> dict[str, dict[str, str]]:
    """An example report (BirthReportInput shape) as the form's fields, per step."""
    child, mother, father = report["child"], report["mother"], report["father"]
    marriage, informant = report["marriage"], report["informant"]
    situations = {True: "recorded", False: "unrecorded" if father else "not_married"}
    situation = situations[bool(marriage["recorded"])]
    answers = {
        "bayi": {f"child.{k}": "" if v is None else str(v) for k, v in child.items()},
        "ibu": {f"mother.{k}": v for k, v in mother.items()},
        "ayah": {
            "marriage.situation": situation,
            "marriage.certificate_number": marriage["certificate_number"] or "",
            "marriage.date": marriage["date"] or "",
            **{f"father.{k}": v for k, v in (father or {}).items()},
        },
        "keluarga": {
            "kk_number": report["kk_number"],
            **{f"informant.{k}": v or "" for k, v in informant.items()},
        },
        "saksi": {
            f"witnesses.{i}.{k}": v for i, w in enumerate(report["witnesses"]) for k, v in w.items()
        },
    }
    answers["bayi"]["birth_letter_number"] = report["birth_letter_number"] or ""
    return answers


def start(client: FlaskClient) -> TestResponse:
    """Open the form and begin a new draft; returns the first step's page."""
    intro = client.get("/lapor")
    begun = client.post("/lapor/mulai", data={"csrf_token": csrf_token(intro.get_data(True))})
    assert begun.status_code == 302
    return client.get(begun.headers["Location"])


def refused_again(response: TestResponse, slug: str, client: FlaskClient) -> TestResponse:
    """A refused post redirects back to its step with its messages kept for that page (a
    reload never posts again): follow it, as the browser does. Other answers are returned as
    they are."""
    location = response.headers.get("Location", "")
    with client.session_transaction() as session:
        refused = "parents_posted" in session
    if response.status_code == 302 and urlsplit(location).path == f"/lapor/{slug}" and refused:
        return client.get(location)
    return response


def post_step(client: FlaskClient, slug: str, fields: dict[str, str]) -> TestResponse:
    page = client.get(f"/lapor/{slug}")
    assert page.status_code == 200, page.status_code
    posted = client.post(
        f"/lapor/{slug}", data={"csrf_token": csrf_token(page.get_data(True)), **fields}
    )
    return refused_again(posted, slug, client)


def fill_steps(client: FlaskClient, answers: dict[str, dict[str, str]]) -> None:
    for slug in STEP_SLUGS:
        response = post_step(client, slug, answers[slug])
        assert response.status_code == 302, errors_of(response.get_data(True))


def upload(client: FlaskClient, kind: str, content: bytes, name: str = "scan.pdf") -> TestResponse:
    page = client.get("/lapor/dokumen")
    response = client.post(
        "/lapor/dokumen",
        data={
            "csrf_token": csrf_token(page.get_data(True)),
            "kind": kind,
            "action": "upload",
            "file": (io.BytesIO(content), name),
        },
        content_type="multipart/form-data",
    )
    # The test client spools a large multipart body to a temporary file it never closes.
    response.request.environ["wsgi.input"].close()
    return refused_again(response, "dokumen", client)


def required_kinds(client: FlaskClient) -> list[str]:
    """The documents the page asks for (optional ones left out)."""
    page = client.get("/lapor/dokumen").get_data(True)
    sections = re.findall(r'<section class="document[^"]*" id="doc-(\w+)".*?</h2>', page, re.S)
    optional = set(
        re.findall(r'id="doc-(\w+)"[^>]*>\s*<h2[^>]*>[^<]*<span class="optional">', page)
    )
    return [kind for kind in sections if kind not in optional]


def finish_documents(client: FlaskClient) -> TestResponse:
    page = client.get("/lapor/dokumen")
    done = client.post(
        "/lapor/dokumen",
        data={"csrf_token": csrf_token(page.get_data(True)), "action": "next"},
    )
    return refused_again(done, "dokumen", client)


def submit(client: FlaskClient, declaration: bool = True) -> TestResponse:
    """Send the report; returns the page the browser lands on (the receipt, or the review)."""
    page = client.get("/lapor/periksa")
    data = {"csrf_token": csrf_token(page.get_data(True))}
    if declaration:
        data["declaration"] = "yes"
    sent = client.post("/lapor/kirim", data=data)
    assert sent.status_code == 302, sent.status_code  # a reload never sends it again
    return client.get(sent.headers["Location"])


def text_of(html: str, element_id: str) -> str:
    """The text inside the element with this id (tags removed)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(2))).split())


def errors_of(html: str) -> list[str]:
    """The error summary's lines."""
    summary = re.search(r'id="error-summary".*?</div>', html, re.S)
    if not summary:
        return []
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", "", item)).split())
        for item in re.findall(r"<li>(.*?)</li>", summary.group(0), re.S)
    ]


def summary_links(html: str) -> dict[str, str]:
    """Summary link target -> its text."""
    summary = re.search(r'id="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary on the page"
    return {
        href: " ".join(unescape(text).split())
        for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', summary.group(0), re.S)
    }


def input_tag(html: str, element_id: str) -> str:
    match = re.search(rf'<(?:input|select)[^>]*\bid="{re.escape(element_id)}"[^>]*>', html, re.S)
    assert match, f"no input #{element_id}"
    return match.group(0)
