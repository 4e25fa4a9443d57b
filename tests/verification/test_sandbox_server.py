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


def _registration(population: SandboxPopulation, number: str) -> dict[str, Any]:
    family = population.families(FamilyKind.RECORDED)[1]
    return {
        "registration_number": number,
        "kk_number": family.kk_number,
        "child_name": "Aisyah Putri",
        "child_sex": "female",
        "child_birth_date": "2026-11-20",
        "mother_nik": family.mother_nik,
        "father_nik": family.father_nik,
    }


def test_a_registered_birth_can_be_looked_up_and_an_unknown_one_is_a_404() -> None:
    population = SandboxPopulation.build(families_per_region=10)
    server = create_sandbox_app(population, api_key="k").test_client()
    number = "3274-LU-20112026-0007"
    registered = server.post("/v1/births", json=_registration(population, number), headers=KEY)
    assert registered.status_code == 200

    looked_up = server.get(f"/_registrations/{number}", headers=KEY)
    assert looked_up.get_json() == {
        "registration_number": number,
        "child_nik": registered.get_json()["child_nik"],
    }
    unknown = server.get("/_registrations/3274-LU-20112026-0008", headers=KEY)
    assert unknown.status_code == 404
    assert unknown.get_json()["error"] == "not_registered"
    assert server.get(f"/_registrations/{number}").status_code == 401  # the key guards it


def test_the_snapshot_is_the_same_for_the_same_seed_and_shows_a_registration() -> None:
    first = create_sandbox_app(SandboxPopulation.build(families_per_region=10)).test_client()
    second = create_sandbox_app(SandboxPopulation.build(families_per_region=10)).test_client()
    assert first.get("/_snapshot").data == second.get("/_snapshot").data

    population = SandboxPopulation.build(families_per_region=10)
    third = create_sandbox_app(population).test_client()
    third.post("/v1/births", json=_registration(population, "3274-LU-20112026-0009"))
    changed = third.get("/_snapshot")
    assert changed.data != first.get("/_snapshot").data
    assert changed.get_json()["registrations"]["3274-LU-20112026-0009"]
