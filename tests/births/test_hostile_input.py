"""Input an attacker or a broken client sends: a 4xx naming what to fix, never a 5xx, and
nothing stored, through the API and the parents' form alike, on both databases."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.parents.models import Draft
from akta_service.verification.gateway import dukcapil
from tests.parents.form import post_step, start

ADMIN = Actor.system("test")

#: Text fields of a report and what a hostile client puts in them: (path, value, code).
HOSTILE_TEXT = [
    (("child", "name"), "Budi\x00Santoso", "control_characters"),
    (("child", "name"), "Budi\x07", "control_characters"),
    (("child", "birth_place"), "RSUD\x1b[31m", "control_characters"),
    (("mother", "name"), "Siti\x85", "control_characters"),
    (("informant", "name"), "\ud800Ani", "invalid_characters"),
    (("marriage", "certificate_number"), "123\x00", "control_characters"),
    (("birth_letter_number",), "SKL/\x00/2026", "control_characters"),
]


@pytest.fixture
def token(session: Any) -> str:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", ADMIN)
    return issue_credential("RSUD-GJ", ADMIN).token


@pytest.fixture
def payload(app: Flask, session: Any) -> dict[str, Any]:
    family = dukcapil().population.sample_families(1, "recorded", region="3274")[0]  # type: ignore[attr-defined]
    return copy.deepcopy(family["example_report"])


def _reports() -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)))


def _post(client: FlaskClient, token: str, body: str | bytes) -> Any:
    return client.post(
        "/api/v1/births",
        data=body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.mark.parametrize(("path", "value", "code"), HOSTILE_TEXT)
def test_control_characters_and_lone_surrogates_are_refused_naming_the_field(
    client: FlaskClient,
    token: str,
    payload: dict[str, Any],
    path: tuple[str, ...],
    value: str,
    code: str,
) -> None:
    target = payload
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    before = _reports()
    # ensure_ascii keeps a lone surrogate as the \ud800 escape a client would send.
    response = _post(client, token, json.dumps(payload, ensure_ascii=True))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    named = [e for e in response.get_json()["errors"] if e["field"] == ".".join(path)]
    assert code in [e["code"] for e in named]
    assert any("ketik ulang" in e["message"] for e in named)
    assert _reports() == before


def test_a_reason_may_have_line_breaks_but_no_other_control_character(
    client: FlaskClient, token: str, payload: dict[str, Any]
) -> None:
    created = _post(client, token, json.dumps(payload))
    assert created.status_code == 201
    code = created.get_json()["tracking_code"]
    cancel = f"/api/v1/births/{code}/cancel"
    auth = {"Authorization": f"Bearer {token}"}
    refused = client.post(cancel, json={"reason": "salah\x00input"}, headers=auth)
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "reason"
    kept = client.post(cancel, json={"reason": "Salah input.\nDilaporkan lagi."}, headers=auth)
    assert kept.status_code == 200
    assert client.get(f"/api/v1/births/{code}", headers=auth).get_json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "body",
    [
        "[" * 50_000 + "]" * 50_000,
        '{"child":' * 20_000 + "1" + "}" * 20_000,
        b'{"child": {"name": "\xff\xfe"}}',
    ],
    ids=["deep-array", "deep-object", "not-utf-8"],
)
def test_a_body_nested_too_deeply_or_not_utf8_is_a_400(
    client: FlaskClient, token: str, body: str | bytes
) -> None:
    before = _reports()
    response = _post(client, token, body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert _reports() == before


def test_the_webhook_api_answers_a_body_nested_too_deeply_with_a_400(
    client: FlaskClient, token: str
) -> None:
    response = client.put(
        "/api/v1/webhook",
        data='{"url":' * 20_000 + '"x"' + "}" * 20_000,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"


def test_the_form_refuses_a_control_character_and_stores_none(
    client: FlaskClient, session: Any
) -> None:
    start(client)
    step = post_step(
        client,
        "bayi",
        {"child.name": "Budi\x00Santoso", "child.sex": "male", "child.birth_date": "2026-11-20"},
    )
    assert step.status_code in (200, 422)
    page = step.get_data(as_text=True)
    assert "karakter kendali" in page
    stored = db.session.scalars(sa.select(Draft)).all()
    assert stored
    assert all("\x00" not in json.dumps(d.answers) for d in stored)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/births", {"GET", "POST"}),
        ("PATCH", "/api/v1/webhook", {"PUT"}),
        ("PUT", "/lapor", {"GET"}),
    ],
)
def test_an_undeclared_method_is_a_405_that_says_which_methods_work(
    client: FlaskClient, token: str, method: str, path: str, allowed: set[str]
) -> None:
    response = client.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
    if path.startswith("/api/"):
        assert response.mimetype == "application/problem+json"
