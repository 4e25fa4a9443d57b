"""FHIR intake: SATUSEHAT-shaped Bundles become notifications; problems are OperationOutcomes
that point at the element."""

from __future__ import annotations

import copy
import json
from datetime import time, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.core.actors import Actor
from akta_service.core.clock import local_today
from akta_service.core.db import db
from akta_service.notified.models import NotifiedBirth
from tests.notified.bundles import bundle
from tests.notified.notifying import auth
from tests.parents.conftest import sandbox_report

ADMIN = Actor.system("test admin")
FHIR = "application/fhir+json"


@pytest.fixture
def token(tokens: dict[str, str]) -> str:
    return tokens["hospital"]


@pytest.fixture
def family(app: Flask, session: Any) -> dict[str, Any]:
    return sandbox_report()


def _send(client: FlaskClient, token: str, body: Any) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/api/v1/fhir", data=data, content_type=FHIR, headers=auth(token))


def _notice(code: str) -> NotifiedBirth:
    found = db.session.scalar(sa.select(NotifiedBirth).where(NotifiedBirth.tracking_code == code))
    assert found is not None
    return found


def _expressions(response: Any) -> dict[str, str]:
    outcome = response.get_json(force=True)
    assert outcome["resourceType"] == "OperationOutcome"
    return {issue["expression"][0]: issue["code"] for issue in outcome["issue"]}


def test_a_hospitals_bundle_becomes_a_notification(
    client: FlaskClient, token: str, family: dict[str, Any]
) -> None:
    sent = _send(client, token, bundle("single_birth_hospital", family))
    assert sent.status_code == 201, sent.get_data(as_text=True)
    assert sent.mimetype == FHIR
    answer = sent.get_json(force=True)
    assert answer["resourceType"] == "Bundle"
    assert answer["identifier"]["system"].endswith("/tracking-code")
    notice = _notice(answer["identifier"]["value"])
    assert notice.mother_nik == family["mother"]["nik"]
    assert notice.mother_name == family["mother"]["name"]
    assert notice.provisional_name == f"Bayi Ny. {family['mother']['name']}"
    # 20:10 UTC the day before is 03:10 WIB on the day of birth.
    assert notice.birth_date == local_today() - timedelta(days=1)
    assert notice.birth_time == time(3, 10)
    assert (notice.weight_grams, notice.length_cm) == (3100, 49)
    assert str(notice.birth_type) == "single"
    assert str(notice.attendant) == "doctor"
    assert str(notice.birth_place_kind) == "facility"
    assert notice.birth_place == "Ruang Bersalin RSUD Gunung Jati"
    assert notice.birth_letter_number == "SKL/RSUD-GJ/2026/0042"
    assert notice.contact_phone == "+6281234567890"
    assert notice.contact_email == "keluarga@example.test"
    followed = client.get(sent.headers["Location"], headers=auth(token))
    assert followed.get_json()["status"] == "notified"


def test_twins_are_two_notifications_of_a_twin_birth(
    client: FlaskClient, token: str, family: dict[str, Any]
) -> None:
    codes = []
    for name in ("twin_birth_first", "twin_birth_second"):
        sent = _send(client, token, bundle(name, family))
        assert sent.status_code == 201, sent.get_data(as_text=True)
        codes.append(sent.get_json(force=True)["identifier"]["value"])
    first, second = (_notice(code) for code in codes)
    assert (str(first.birth_type), str(second.birth_type)) == ("twin", "twin")
    assert (first.weight_grams, second.weight_grams) == (2450, 2310)  # sent in kg
    assert first.provisional_name.endswith(" I")  # type: ignore[union-attr]


def test_a_home_birth_attended_by_a_midwife_as_a_message(
    client: FlaskClient, token: str, family: dict[str, Any]
) -> None:
    sent = _send(client, token, bundle("home_birth_midwife", family))
    assert sent.status_code == 201, sent.get_data(as_text=True)
    notice = _notice(sent.get_json(force=True)["identifier"]["value"])
    assert str(notice.birth_place_kind) == "home"
    assert str(notice.attendant) == "midwife"
    assert notice.birth_place.startswith("Rumah keluarga")
    assert notice.contact_phone == "081234567890"
    assert notice.length_cm is None


def test_the_same_bundle_again_answers_the_first_notification(
    client: FlaskClient, token: str, family: dict[str, Any]
) -> None:
    body = bundle("single_birth_hospital", family)
    first = _send(client, token, body)
    again = _send(client, token, body)
    assert again.status_code == 200
    assert again.get_json(force=True)["identifier"] == first.get_json(force=True)["identifier"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotifiedBirth)) == 1
    other = copy.deepcopy(body)
    other["entry"][0]["resource"]["gender"] = (
        "male" if body["entry"][0]["resource"]["gender"] == "female" else "female"
    )
    refused = _send(client, token, other)
    assert refused.status_code == 409
    assert _expressions(refused) == {"Bundle.identifier": "conflict"}


def test_fhir_errors_point_at_their_element(
    client: FlaskClient, token: str, family: dict[str, Any]
) -> None:
    body = bundle("single_birth_hospital", family)
    broken = copy.deepcopy(body)
    broken["entry"][0]["resource"]["birthDate"] = "2026-13-45"
    broken["entry"][3]["resource"]["valueQuantity"]["value"] = "berat"
    refused = _send(client, token, broken)
    assert refused.status_code == 422
    assert set(_expressions(refused)) == {
        "Bundle.entry[0].resource.birthDate",
        "Bundle.entry[3].resource.valueQuantity.value",
    }

    wrong = copy.deepcopy(body)
    wrong["entry"][0]["resource"]["identifier"][0]["value"] = "1234"
    wrong["entry"][0]["resource"]["gender"] = "unknown"
    wrong["entry"][1]["resource"]["telecom"] = []
    found = _expressions(_send(client, token, wrong))
    assert found == {
        "Bundle.entry[0].resource.identifier": "value",
        "Bundle.entry[0].resource.gender": "value",
        "Bundle.entry[1].resource.telecom": "value",
    }

    no_mother_nik = copy.deepcopy(body)
    no_mother_nik["entry"][0]["resource"]["identifier"] = []
    assert list(_expressions(_send(client, token, no_mother_nik)).values()) == ["required"]

    no_identifier = {k: v for k, v in body.items() if k != "identifier"}
    assert _expressions(_send(client, token, no_identifier)) == {"Bundle.identifier": "required"}
    batch = {**body, "type": "batch"}
    assert _expressions(_send(client, token, batch)) == {"Bundle.type": "value"}
    assert _expressions(_send(client, token, {"resourceType": "Patient"})) == {
        "Bundle": "structure"
    }
    not_json = _send(client, token, b"{not json")
    assert not_json.status_code == 400
    assert _expressions(not_json) == {"Bundle": "structure"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotifiedBirth)) == 0
    assert client.post("/api/v1/fhir", json=body).status_code == 401
