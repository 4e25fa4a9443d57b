"""The facility API: submit a birth with a bearer token, follow it through verification."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.facilities.models import ApiCredential, Facility
from akta_service.facilities.operations import (
    create_facility,
    issue_credential,
    revoke_credential,
)
from akta_service.jobs.queue import run_pending
from akta_service.notifications.models import Delivery, DeliveryChannel
from akta_service.verification.gateway import dukcapil

ADMIN = Actor.system("test admin")


@pytest.fixture
def tokens(session: Any) -> dict[str, str]:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", ADMIN)
    create_facility("BIDAN-SRI", "Bidan Sri Wahyuni", "midwife", "3274", ADMIN)
    return {
        "hospital": issue_credential("RSUD-GJ", ADMIN).token,
        "midwife": issue_credential("BIDAN-SRI", ADMIN).token,
    }


@pytest.fixture
def payload(app: Flask, session: Any) -> dict[str, Any]:
    family = dukcapil().population.sample_families(1, "recorded", region="3274")[0]  # type: ignore[attr-defined]
    return copy.deepcopy(family["example_report"])


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_hospital_submits_and_follows_a_birth(
    app: Flask, client: FlaskClient, tokens: dict[str, str], payload: dict[str, Any]
) -> None:
    created = client.post("/api/v1/births", json=payload, headers=_auth(tokens["hospital"]))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["status"] == "submitted"
    assert len(body["tracking_code"]) == 10
    assert created.headers["Location"] == body["links"]["self"]

    run_pending(app)  # the verification job the submission queued

    followed = client.get(body["links"]["self"], headers=_auth(tokens["hospital"]))
    assert followed.status_code == 200
    report = followed.get_json()
    assert report["status"] == "in_review"
    assert {c["name"] for c in report["checks"]} >= {"mother_registry", "kk", "marriage"}
    assert [j["to_state"] for j in report["journal"]] == ["submitted", "verifying", "in_review"]
    assert report["journal"][0]["actor_role"] == "facility"


def test_a_facility_sees_only_its_own_reports(
    client: FlaskClient, tokens: dict[str, str], payload: dict[str, Any]
) -> None:
    created = client.post("/api/v1/births", json=payload, headers=_auth(tokens["hospital"]))
    other = client.get(created.get_json()["links"]["self"], headers=_auth(tokens["midwife"]))
    assert other.status_code == 404
    assert other.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer akta_000000000000_wrong", "Basic dXNlcjpwYXNz", "Bearer nonsense"],
)
def test_without_a_valid_token_nothing_is_accepted(
    client: FlaskClient, tokens: dict[str, str], payload: dict[str, Any], header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.post("/api/v1/births", json=payload, headers=headers)
    assert response.status_code == 401
    problem = response.get_json()
    assert problem["code"] == "unauthorised"
    assert "Authorization: Bearer" in problem["detail"]


def test_a_revoked_token_stops_working_and_use_is_recorded(
    client: FlaskClient, tokens: dict[str, str], payload: dict[str, Any]
) -> None:
    key_id = tokens["hospital"].split("_")[1]
    assert (
        client.post("/api/v1/births", json=payload, headers=_auth(tokens["hospital"])).status_code
        == 201
    )
    credential = db.session.query(ApiCredential).filter_by(key_id=key_id).one()
    assert credential.last_used_at is not None
    revoke_credential(key_id, ADMIN)
    again = client.post("/api/v1/births", json=payload, headers=_auth(tokens["hospital"]))
    assert again.status_code == 401


def test_a_facility_made_inactive_is_refused_at_once(
    client: FlaskClient, tokens: dict[str, str], payload: dict[str, Any]
) -> None:
    hospital = _auth(tokens["hospital"])
    assert client.post("/api/v1/births", json=payload, headers=hospital).status_code == 201
    facility = db.session.get(Facility, "RSUD-GJ")
    assert facility is not None
    facility.active = False
    db.session.commit()
    refused = client.post("/api/v1/births", json=payload, headers=hospital)
    assert refused.status_code == 401
    assert refused.get_json()["code"] == "unauthorised"


def test_a_request_reads_its_facility_as_stored_when_the_session_holds_none(
    client: FlaskClient, tokens: dict[str, str], payload: dict[str, Any]
) -> None:
    """The caller's facility comes with the credential check's one query; what that query
    leaves out (when it was registered) still reads as stored."""
    stored = db.session.get(Facility, "RSUD-GJ")
    assert stored is not None
    stored.webhook_url = "https://rsud-gj.example/hook"  # as set_webhook stores it
    db.session.commit()
    registered = stored.created_at
    db.session.expunge_all()  # as a served request starts: nothing in the session

    created = client.post("/api/v1/births", json=payload, headers=_auth(tokens["hospital"]))

    assert created.status_code == 201
    assert created.get_json()["journal"][0]["actor_role"] == "facility"
    report = db.session.scalars(
        sa.select(BirthReport).filter_by(tracking_code=created.get_json()["tracking_code"])
    ).one()
    hooks = db.session.scalars(
        sa.select(Delivery).filter_by(report_id=report.id, channel=DeliveryChannel.WEBHOOK)
    ).all()
    assert [hook.recipient for hook in hooks] == ["https://rsud-gj.example/hook"]
    entry = db.session.scalars(sa.select(JournalEntry).filter_by(report_id=report.id)).one()
    assert entry.actor_name == "RSUD Gunung Jati"
    facility = db.session.get(Facility, "RSUD-GJ")
    assert facility is not None
    assert facility.created_at == registered


def test_bad_input_lists_every_problem_and_saves_nothing(
    client: FlaskClient, tokens: dict[str, str], payload: dict[str, Any]
) -> None:
    payload["mother"]["nik"] = "123"
    payload["child"]["birth_date"] = "2999-01-01"
    payload["surprise"] = True
    response = client.post("/api/v1/births", json=payload, headers=_auth(tokens["hospital"]))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = {e["field"]: e for e in response.get_json()["errors"]}
    assert errors["mother.nik"]["message"] == "NIK harus 16 angka"
    assert errors["child.birth_date"]["code"] == "future_birth"
    assert errors["surprise"]["code"] == "unknown"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ("x=1", "text/plain")],
)
def test_malformed_bodies_are_4xx_not_5xx(
    client: FlaskClient, tokens: dict[str, str], body: str, content_type: str
) -> None:
    response = client.post(
        "/api/v1/births", data=body, content_type=content_type, headers=_auth(tokens["hospital"])
    )
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"


def test_openapi_describes_the_births_endpoints(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/births" in spec["paths"]
    assert "post" in spec["paths"]["/api/v1/births"]


def test_a_tracking_code_drawn_twice_stores_nothing_and_asks_to_send_again(
    client: FlaskClient,
    tokens: dict[str, str],
    payload: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sqlalchemy as sa

    from akta_service.births import operations
    from akta_service.births.models import BirthReport

    first = client.post("/api/v1/births", json=payload, headers=_auth(tokens["hospital"]))
    assert first.status_code == 201
    taken = first.get_json()["tracking_code"]
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport))

    # The random draw repeats a code in use (about once in 10^8 submissions).
    monkeypatch.setattr(operations, "new_tracking_code", lambda: taken)
    clash = client.post(
        "/api/v1/births",
        json=payload,
        headers={**_auth(tokens["hospital"]), "Idempotency-Key": "retry-me-1"},
    )
    assert clash.status_code == 503
    assert clash.headers["Retry-After"] == "1"
    assert clash.get_json()["code"] == "try_again"
    assert "Kirim sekali lagi" in clash.get_json()["detail"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)) == stored

    monkeypatch.undo()  # the next draw is fresh: the same request, sent again, is stored
    again = client.post(
        "/api/v1/births",
        json=payload,
        headers={**_auth(tokens["hospital"]), "Idempotency-Key": "retry-me-1"},
    )
    assert again.status_code == 201
    assert again.get_json()["tracking_code"] != taken
