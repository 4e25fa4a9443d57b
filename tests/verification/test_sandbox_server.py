"""The sandbox server's contract: wire format, errors and the fault controls."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from akta_service.verification.sandbox import FamilyKind, SandboxPopulation
from akta_service.verification.sandbox_server import Faults, create_sandbox_app

KEY = {"Authorization": "Bearer k"}


@pytest.fixture(scope="module")
def population() -> SandboxPopulation:
    return SandboxPopulation.build(families_per_region=10)


@pytest.fixture
def server(population: SandboxPopulation) -> FlaskClient:
    return create_sandbox_app(population, api_key="k").test_client()


def mother_claim(population: SandboxPopulation) -> dict[str, Any]:
    family = population.families(FamilyKind.RECORDED)[0]
    mother = population.person(family.mother_nik)
    assert mother is not None
    return {
        "nik": mother.nik,
        "name": mother.name,
        "birth_date": mother.birth_date.isoformat(),
        "sex": "female",
        "kk_number": family.kk_number,
    }


def test_a_person_answer_is_one_match_value_per_field(
    server: FlaskClient, population: SandboxPopulation
) -> None:
    response = server.post("/v1/person/verify", json=mother_claim(population), headers=KEY)

    assert response.status_code == 200
    assert response.get_json() == {
        "nik": "match",
        "name": "match",
        "name_score": 100.0,
        "birth_date": "match",
        "sex": "match",
        "alive": "match",
        "resident": "match",
        "in_kk": "match",
    }


def test_without_the_api_key_only_health_answers(
    server: FlaskClient, population: SandboxPopulation
) -> None:
    refused = server.post("/v1/person/verify", json=mother_claim(population))

    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert refused.get_json()["error"] == "unauthorised"
    assert server.get("/_faults").status_code == 401
    assert server.get("/_health").get_json() == {"status": "ok", "requests": 1, "families": 30}
    assert server.get("/nowhere").status_code == 404


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"birth_date": "12-10-1984"}, "birth_date: expected a date as YYYY-MM-DD"),
        ({"sex": 1}, "sex: expected str"),
        ({"nama": "x"}, "unknown field(s): nama"),
        ({"nik": None}, "nik: must not be null"),
    ],
)
def test_a_malformed_claim_is_a_400_naming_the_field(
    server: FlaskClient, population: SandboxPopulation, change: dict[str, Any], problem: str
) -> None:
    response = server.post(
        "/v1/person/verify", json={**mother_claim(population), **change}, headers=KEY
    )

    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_request", "message": problem}


def test_a_registration_for_an_unknown_kk_is_a_404(
    server: FlaskClient, population: SandboxPopulation
) -> None:
    claim = mother_claim(population)
    response = server.post(
        "/v1/births",
        json={
            "registration_number": "3274-LU-22112026-0001",
            "kk_number": "3274010101010001",
            "child_name": "Aisyah",
            "child_sex": "female",
            "child_birth_date": "2026-11-20",
            "mother_nik": claim["nik"],
            "father_nik": None,
        },
        headers=KEY,
    )

    assert response.status_code == 404
    assert response.get_json()["error"] == "kk_not_found"


def test_faults_are_replaced_as_a_whole_and_checked(server: FlaskClient) -> None:
    assert server.get("/_faults", headers=KEY).get_json() == {
        "latency_ms": 0,
        "error_rate": 0.0,
        "down": False,
        "malformed_rate": 0.0,
        "seed": 2026,
    }

    assert server.put("/_faults", json={"down": True}, headers=KEY).status_code == 200
    assert server.post("/v1/family/verify", json={}, headers=KEY).status_code == 503
    bad = server.put("/_faults", json={"error_rate": 1.5}, headers=KEY)
    assert bad.status_code == 400
    assert bad.get_json()["message"] == "error_rate must be between 0 and 1"
    assert server.get("/_faults", headers=KEY).get_json()["down"] is True
    assert server.put("/_faults", json={}, headers=KEY).get_json()["down"] is False


def test_the_same_fault_seed_fails_the_same_calls(population: SandboxPopulation) -> None:
    def statuses() -> list[int]:
        app = create_sandbox_app(population, Faults(error_rate=0.5, seed=3))
        client = app.test_client()
        claim = mother_claim(population)
        return [client.post("/v1/person/verify", json=claim).status_code for _ in range(20)]

    first = statuses()

    assert first == statuses()
    assert set(first) == {200, 503}


def test_faults_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="latency_ms"):
        Faults(latency_ms=-1)
    with pytest.raises(ValueError, match="malformed_rate"):
        Faults(malformed_rate=2.0)
