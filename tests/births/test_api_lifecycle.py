"""The rest of the facility API: idempotency, English errors, listing, documents,
corrections, cancelling, rate limits, oversized bodies."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from akta_service.births.models import BirthReport, Document
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.storage import storage
from akta_service.core.untrusted_files import MAX_PDF_PAGES
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.queue import run_pending
from akta_service.verification.gateway import dukcapil
from akta_service.workflow.engine import fire
from tests.files import (
    encrypted_pdf,
    gps_jpeg,
    jpeg_bytes,
    pdf_bytes,
    pdf_with_page_size,
    png_bomb,
    png_bytes,
    truncated_png,
)

ADMIN = Actor.system("test admin")
#: Real files: every upload is opened before it is stored.
PDF = pdf_bytes()
JPEG = jpeg_bytes()
PNG = png_bytes()


@pytest.fixture
def token(session: Any) -> str:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", ADMIN)
    create_facility("BIDAN-SRI", "Bidan Sri", "midwife", "3274", ADMIN)
    value = issue_credential("RSUD-GJ", ADMIN).token
    db.session.commit()  # requests share the test's session; see test_issue.py
    return value


@pytest.fixture
def other_token(token: str) -> str:
    value = issue_credential("BIDAN-SRI", ADMIN).token
    db.session.commit()
    return value


def _families(count: int, kind: str = "recorded") -> list[dict[str, Any]]:
    population = dukcapil().population  # type: ignore[attr-defined]
    return [
        copy.deepcopy(f["example_report"])
        for f in population.sample_families(count, kind, region="3274")
    ]


def _auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


def _upload(
    client: FlaskClient, token: str, code: str, kind: str, content: bytes, name: str
) -> Any:
    response = client.post(
        f"/api/v1/births/{code}/documents",
        data={"kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=_auth(token),
    )
    # The test client spools a large multipart body to a temporary file it never closes.
    response.request.environ["wsgi.input"].close()
    return response


def _count_reports() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)) or 0)


def test_a_retry_with_the_same_key_returns_the_first_answer(
    client: FlaskClient, token: str
) -> None:
    (payload,) = _families(1)
    headers = _auth(token, **{"Idempotency-Key": "rsud-2026-0001"})
    first = client.post("/api/v1/births", json=payload, headers=headers)
    again = client.post("/api/v1/births", json=payload, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["tracking_code"] == first.get_json()["tracking_code"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert _count_reports() == 1


def test_the_same_key_with_another_body_is_refused(client: FlaskClient, token: str) -> None:
    one, two = _families(2)
    headers = _auth(token, **{"Idempotency-Key": "rsud-2026-0002"})
    assert client.post("/api/v1/births", json=one, headers=headers).status_code == 201
    refused = client.post("/api/v1/births", json=two, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "idempotency_key_reused"
    assert _count_reports() == 1


def test_keys_belong_to_one_facility(client: FlaskClient, token: str, other_token: str) -> None:
    (payload,) = _families(1)
    key = {"Idempotency-Key": "same-key"}
    first = client.post("/api/v1/births", json=payload, headers=_auth(token, **key))
    other = client.post("/api/v1/births", json=payload, headers=_auth(other_token, **key))
    assert first.get_json()["tracking_code"] != other.get_json()["tracking_code"]
    assert _count_reports() == 2


def test_a_refused_request_does_not_use_up_its_key(client: FlaskClient, token: str) -> None:
    (payload,) = _families(1)
    headers = _auth(token, **{"Idempotency-Key": "fix-and-retry"})
    broken = copy.deepcopy(payload)
    broken["kk_number"] = "123"
    assert client.post("/api/v1/births", json=broken, headers=headers).status_code == 422
    # The same key, after fixing the body: accepted (the refusal was not stored as the answer).
    headers["Idempotency-Key"] = "fix-and-retry-2"
    assert client.post("/api/v1/births", json=payload, headers=headers).status_code == 201


def test_errors_in_english_on_request(client: FlaskClient, token: str) -> None:
    (payload,) = _families(1)
    payload["mother"]["nik"] = "12"
    payload["child"]["birth_date"] = "2026-02-30"
    english = client.post(
        "/api/v1/births", json=payload, headers=_auth(token, **{"Accept-Language": "en-US,en"})
    )
    problem = english.get_json()
    assert english.status_code == 422
    assert problem["title"] == "Some fields are not valid"
    errors = {e["field"]: e for e in problem["errors"]}
    assert errors["mother.nik"]["message"] == "A NIK is 16 digits"
    assert errors["child.birth_date"]["code"] == "date"
    indonesian = client.post("/api/v1/births", json=payload, headers=_auth(token))
    assert {e["field"]: e for e in indonesian.get_json()["errors"]}["mother.nik"][
        "message"
    ] == "NIK harus 16 angka"
    anonymous = client.get("/api/v1/births", headers={"Accept-Language": "en"})
    assert anonymous.status_code == 401
    assert "live facility credential" in anonymous.get_json()["detail"]


def test_an_english_client_gets_english_field_errors_and_refusals(
    client: FlaskClient, token: str
) -> None:
    (payload,) = _families(1)
    broken = copy.deepcopy(payload)
    broken["witnesses"][1]["nik"] = broken["witnesses"][0]["nik"]
    english = _auth(token, **{"Accept-Language": "en"})
    refused = client.post("/api/v1/births", json=broken, headers=english).get_json()
    assert refused["detail"] == "The birth report is not valid yet. Fix the fields listed."
    assert refused["errors"] == [
        {
            "field": "witnesses",
            "code": "same_witness",
            "message": "The two witnesses must be different people",
        }
    ]
    code = client.post("/api/v1/births", json=payload, headers=english).get_json()["tracking_code"]
    reason = {"reason": "Reported twice by our staff"}
    assert (
        client.post(f"/api/v1/births/{code}/cancel", json=reason, headers=english).status_code
        == 200
    )
    again = client.post(f"/api/v1/births/{code}/cancel", json=reason, headers=english)
    assert again.status_code == 409
    problem = again.get_json()
    assert problem["code"] == "illegal_transition"
    assert problem["title"] == "The action does not apply in this status"
    assert problem["detail"] == (
        "The action 'cancel' does not apply to a report in status 'Cancelled by the informant'. "
        "No action applies now."
    )
    assert (problem["state"], problem["trigger"]) == ("cancelled", "cancel")  # for machines
    indonesian = client.post(f"/api/v1/births/{code}/cancel", json=reason, headers=_auth(token))
    assert indonesian.get_json()["title"] == "Tindakan tidak berlaku pada status ini"


def test_listing_pages_through_the_facilitys_own_reports(
    client: FlaskClient, token: str, other_token: str
) -> None:
    payloads = _families(5)
    codes = [
        client.post("/api/v1/births", json=p, headers=_auth(token)).get_json()["tracking_code"]
        for p in payloads
    ]
    client.post("/api/v1/births", json=_families(6)[5], headers=_auth(other_token))
    seen: list[str] = []
    url = "/api/v1/births?limit=2"
    pages = 0
    while url:
        page = client.get(url, headers=_auth(token)).get_json()
        seen += [item["tracking_code"] for item in page["items"]]
        pages += 1
        url = f"/api/v1/births?limit=2&cursor={page['next_cursor']}" if page["next_cursor"] else ""
    assert pages == 3
    assert seen == codes  # oldest change first, each once, none of the other facility
    filtered = client.get("/api/v1/births?status=in_review", headers=_auth(token)).get_json()
    assert filtered["items"] == []
    bad = client.get("/api/v1/births?cursor=%%%", headers=_auth(token))
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("content", "name", "expected_type"),
    [
        (PDF, "surat.pdf", "application/pdf"),
        (JPEG, "foto.png", "image/jpeg"),
        (PNG, "x.bin", "image/png"),
    ],
)
def test_documents_are_judged_by_content(
    client: FlaskClient, token: str, content: bytes, name: str, expected_type: str
) -> None:
    (payload,) = _families(1)
    code = client.post("/api/v1/births", json=payload, headers=_auth(token)).get_json()[
        "tracking_code"
    ]
    response = _upload(client, token, code, "birth_letter", content, name)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["content_type"] == expected_type
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    assert body["size_bytes"] == len(content)


def test_a_report_s_documents_stop_at_the_quota_keeping_those_stored(
    app: Flask, client: FlaskClient, token: str
) -> None:
    (payload,) = _families(1)
    code = client.post("/api/v1/births", json=payload, headers=_auth(token)).get_json()[
        "tracking_code"
    ]
    scan = PDF + b"%" * (600 * 1024)
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(original, document_quota_bytes=1024 * 1024)
    try:
        first = _upload(client, token, code, "birth_letter", scan, "surat.pdf")
        second = _upload(client, token, code, "kk", scan, "kk.pdf")
        english = client.post(
            f"/api/v1/births/{code}/documents",
            data={"kind": "kk", "file": (io.BytesIO(scan), "kk.pdf")},
            content_type="multipart/form-data",
            headers=_auth(token, **{"Accept-Language": "en"}),
        )
        english.request.environ["wsgi.input"].close()
        small = _upload(client, token, code, "kk", PDF, "kk.pdf")
    finally:
        app.config["AKTA_SETTINGS"] = original

    assert first.status_code == 201
    assert second.status_code == 413
    assert second.mimetype == "application/problem+json"
    problem = second.get_json()
    assert problem["code"] == "document_quota_exceeded"
    assert problem["quota_mb"] == 1
    assert problem["errors"][0]["field"] == "file"
    assert "paling banyak 1 MB" in problem["detail"]
    assert "1 MB in all" in english.get_json()["detail"]
    assert small.status_code == 201  # what still fits is taken
    stored = db.session.scalars(sa.select(Document.kind).order_by(Document.id)).all()
    assert [str(kind) for kind in stored] == ["birth_letter", "kk"]


@pytest.mark.parametrize(
    ("kind", "content", "code"),
    [
        ("birth_letter", b"MZ\x90\x00 not a pdf at all", "unsupported_type"),
        ("birth_letter", b"", "required"),
        ("passport", PDF, "choice"),
        ("birth_letter", PDF + b"\x00" * (10 * 1024 * 1024), "too_large"),
    ],
)
def test_document_rules(
    client: FlaskClient, token: str, kind: str, content: bytes, code: str
) -> None:
    (payload,) = _families(1)
    report = client.post("/api/v1/births", json=payload, headers=_auth(token)).get_json()
    response = _upload(client, token, report["tracking_code"], kind, content, "file.pdf")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["code"] == code
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0


def test_a_body_over_the_limit_is_413_not_500(client: FlaskClient, token: str) -> None:
    response = client.post(
        "/api/v1/births",
        data=b"{" + b" " * (12 * 1024 * 1024) + b"}",
        content_type="application/json",
        headers=_auth(token),
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_a_correction_is_sent_back_to_verification(
    app: Flask, client: FlaskClient, token: str
) -> None:
    (payload,) = _families(1)
    wrong = copy.deepcopy(payload)
    wrong["mother"]["name"] = "Nama Yang Salah Sekali"
    code = client.post("/api/v1/births", json=wrong, headers=_auth(token)).get_json()[
        "tracking_code"
    ]
    run_pending(app)
    db.session.commit()
    assert client.get(f"/api/v1/births/{code}", headers=_auth(token)).get_json()["status"] == (
        "needs_correction"
    )
    fixed = client.put(f"/api/v1/births/{code}", json=payload, headers=_auth(token))
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["status"] == "submitted"
    run_pending(app)
    db.session.commit()
    after = client.get(f"/api/v1/births/{code}", headers=_auth(token)).get_json()
    assert after["status"] == "in_review"
    again = client.put(f"/api/v1/births/{code}", json=payload, headers=_auth(token))
    assert again.status_code == 409
    refused = again.get_json()
    assert (refused["state"], refused["trigger"]) == ("in_review", "resubmit")
    assert "'kirim perbaikan' tidak berlaku" in refused["detail"]  # in words for a person


def test_cancel_before_approval_only(
    client: FlaskClient, token: str, actors: dict[str, Actor]
) -> None:
    one, two = _families(2)
    first = client.post("/api/v1/births", json=one, headers=_auth(token)).get_json()
    cancelled = client.post(
        f"/api/v1/births/{first['tracking_code']}/cancel",
        json={"reason": "Dilaporkan ganda oleh petugas kami"},
        headers=_auth(token),
    )
    assert cancelled.status_code == 200
    assert cancelled.get_json()["status"] == "cancelled"

    second = client.post("/api/v1/births", json=two, headers=_auth(token)).get_json()
    report = db.session.scalar(
        sa.select(BirthReport).where(BirthReport.tracking_code == second["tracking_code"])
    )
    assert report is not None
    report.status = "in_review"  # type: ignore[assignment]
    db.session.flush()
    fire(report, "approve", actors["operator"])
    db.session.commit()
    late = client.post(
        f"/api/v1/births/{second['tracking_code']}/cancel", json={}, headers=_auth(token)
    )
    assert late.status_code == 409
    assert late.get_json()["state"] == "awaiting_signature"
    assert "berstatus 'Menunggu tanda tangan'" in late.get_json()["detail"]


def test_each_credential_is_rate_limited(app: Flask, client: FlaskClient, token: str) -> None:
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(original, api_rate_limit="3 per minute")
    try:
        answers = [client.get("/api/v1/births", headers=_auth(token)) for _ in range(4)]
    finally:
        app.config["AKTA_SETTINGS"] = original
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["code"] == "rate_limited"
    assert "coba lagi dalam" in refused.get_json()["detail"]
    # Answers that are let through carry no counter headers: only a refusal reads the window.
    assert "X-RateLimit-Remaining" not in answers[0].headers


def test_the_rate_limit_counts_each_credential_and_each_view_apart(
    app: Flask, client: FlaskClient, token: str, other_token: str
) -> None:
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(original, api_rate_limit="2 per minute")
    try:
        spent = [client.get("/api/v1/births", headers=_auth(token)) for _ in range(3)]
        other = client.get("/api/v1/births", headers=_auth(other_token))
        another_view = client.get("/api/v1/webhook/deliveries", headers=_auth(token))
    finally:
        app.config["AKTA_SETTINGS"] = original
    assert [a.status_code for a in spent] == [200, 200, 429]
    assert other.status_code == 200  # another facility's credential has its own count
    assert another_view.status_code == 200  # and each view its own


def test_a_facility_registers_its_webhook_and_reads_the_delivery_log(
    app: Flask, client: FlaskClient, token: str
) -> None:
    refused = client.put("/api/v1/webhook", json={"url": "not a url"}, headers=_auth(token))
    assert refused.status_code == 422
    answer = client.put(
        "/api/v1/webhook", json={"url": "http://127.0.0.1:9/hooks"}, headers=_auth(token)
    )
    assert answer.status_code == 200
    assert answer.get_json()["url"] == "http://127.0.0.1:9/hooks"
    assert len(answer.get_json()["secret"]) >= 32
    (payload,) = _families(1)
    client.post("/api/v1/births", json=payload, headers=_auth(token))
    run_pending(app)  # nobody listens on port 9: the delivery fails and is logged
    db.session.commit()
    log = client.get("/api/v1/webhook/deliveries", headers=_auth(token)).get_json()
    assert log, "the delivery log is empty"
    assert {entry["event"] for entry in log} >= {"birth_report.submitted"}
    assert all(entry["status"] == "pending" and entry["attempts"] == 1 for entry in log)
    assert all(entry["last_result"] == "unreachable" for entry in log)


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (png_bomb, "image_too_large"),
        (truncated_png, "unreadable_file"),
        (encrypted_pdf, "pdf_encrypted"),
        (lambda: pdf_with_page_size(595, 842, pages=MAX_PDF_PAGES + 1), "pdf_too_many_pages"),
        (lambda: pdf_with_page_size(14400, 14400), "pdf_page_too_large"),
    ],
)
def test_a_hostile_file_is_refused_with_its_code_and_nothing_is_stored(
    app: Flask, client: FlaskClient, token: str, make: Any, code: str
) -> None:
    (payload,) = _families(1)
    tracking_code = client.post("/api/v1/births", json=payload, headers=_auth(token)).get_json()[
        "tracking_code"
    ]
    response = _upload(client, token, tracking_code, "birth_letter", make(), "surat.png")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert [(e["field"], e["code"]) for e in body["errors"]] == [("file", code)]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
    report = db.session.scalar(sa.select(BirthReport).filter_by(tracking_code=tracking_code))
    assert report is not None
    folder = f"documents/{report.region_code}/{tracking_code}/"
    stored = storage().keys()
    assert not [key for key in stored if key.startswith(folder)]
    # The service still answers, and the report is as it was.
    shown = client.get(f"/api/v1/births/{tracking_code}", headers=_auth(token))
    assert shown.status_code == 200


def test_an_api_photo_is_kept_as_sent_and_shown_without_its_gps(
    client: FlaskClient, token: str
) -> None:
    (payload,) = _families(1)
    tracking_code = client.post("/api/v1/births", json=payload, headers=_auth(token)).get_json()[
        "tracking_code"
    ]
    photo = gps_jpeg()
    response = _upload(client, token, tracking_code, "kk", photo, "kk.jpg")
    assert response.status_code == 201
    assert response.get_json()["sha256"] == hashlib.sha256(photo).hexdigest()
    document = db.session.get(Document, response.get_json()["id"])
    assert document is not None
    assert storage().get(document.storage_key) == photo
    (picture,) = document.pictures
    shown = storage().get(picture.storage_key)
    assert b"PhoneMaker" not in shown
    assert dict(Image.open(io.BytesIO(shown)).getexif()) == {}
