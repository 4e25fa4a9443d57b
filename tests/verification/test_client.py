"""HttpDukcapil against a real sandbox server in a subprocess: answers, retries, breaker, logs."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date

import httpx
import pytest

from akta_service.verification.client import DukcapilRequestError, HttpDukcapil
from akta_service.verification.dukcapil import (
    BirthRegistration,
    DukcapilRefused,
    DukcapilUnavailable,
    FamilyClaim,
    PersonClaim,
    Relation,
)
from akta_service.verification.masking import mask_nik
from akta_service.verification.sandbox import (
    FamilyKind,
    PersonStatus,
    SandboxDukcapil,
    SandboxPopulation,
)
from tests.services import (
    FAST_RETRIES,
    SANDBOX_API_KEY,
    free_port,
    start_sandbox,
    stop,
)
from tests.services import SandboxServer as Sandbox

API_KEY = SANDBOX_API_KEY
FAST = FAST_RETRIES


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    server = start_sandbox("--seed", "2026")
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture(autouse=True)
def _healthy(request: pytest.FixtureRequest) -> None:
    """Each test starts from a healthy shared sandbox."""
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").set_faults()


@pytest.fixture(scope="module")
def local() -> SandboxDukcapil:
    """The same registry in process, to compare the server's answers with."""
    return SandboxDukcapil(SandboxPopulation.build(seed=2026))


def person_claims(local: SandboxDukcapil) -> list[PersonClaim]:
    """Claims that take every path of verify_person."""
    population = local.population
    mother = population.person(population.families(FamilyKind.RECORDED)[0].mother_nik)
    assert mother is not None
    exact = PersonClaim(mother.nik, mother.name, mother.birth_date, "female", mother.kk_number)
    other_kk = population.families(FamilyKind.UNRECORDED)[0].kk_number
    claims = [
        exact,
        replace(exact, name=f"Hj. {mother.name.replace('u', 'oe')}"),
        replace(exact, name="Bambang Pamungkas"),
        replace(exact, birth_date=date(1990, 1, 1)),
        replace(exact, sex="male"),
        replace(exact, nik=mother.nik[:12] + "9999"),
        replace(exact, kk_number=other_kk),
        replace(exact, kk_number=None),
    ]
    for status in (PersonStatus.DECEASED, PersonStatus.MOVED_OUT):
        person = population.persons(status)[0]
        claims.append(PersonClaim(person.nik, person.name, person.birth_date, person.sex))
    return claims


def family_claims(local: SandboxDukcapil) -> list[FamilyClaim]:
    """Claims that take every path of verify_family."""
    claims = []
    for kind in FamilyKind:
        family = local.population.families(kind, "3274")[0]
        recorded = kind == FamilyKind.RECORDED
        claims.append(FamilyClaim(family.kk_number, family.mother_nik, family.father_nik, recorded))
        claims.append(FamilyClaim(family.kk_number, family.mother_nik, None, not recorded))
    other = local.population.families(FamilyKind.RECORDED, "3673")[0]
    claims.append(FamilyClaim(other.kk_number, other.mother_nik, other.father_nik, True))
    claims.append(FamilyClaim("3274010101010001", other.mother_nik, None, False))
    return claims


def test_answers_over_http_equal_the_in_process_sandbox(
    sandbox: Sandbox, local: SandboxDukcapil
) -> None:
    with sandbox.client() as client:
        for person in person_claims(local):
            assert client.verify_person(person) == local.verify_person(person), person
        for family in family_claims(local):
            assert client.verify_family(family) == local.verify_family(family), family


def test_a_registration_over_http_is_the_in_process_one_and_idempotent(
    sandbox: Sandbox,
) -> None:
    local = SandboxDukcapil(SandboxPopulation.build(seed=2026))  # registers too: its own copy
    family = local.population.families(FamilyKind.UNRECORDED, "3672")[0]
    registration = BirthRegistration(
        registration_number="3672-LU-22112026-0001",
        kk_number=family.kk_number,
        child_name="Raka Pratama",
        child_sex="male",
        child_birth_date=date(2026, 11, 19),
        mother_nik=family.mother_nik,
        father_nik=family.father_nik,
    )
    claim = FamilyClaim(family.kk_number, family.mother_nik, family.father_nik, False)

    with sandbox.client() as client:
        before = client.verify_family(claim).children_count
        nik = client.register_birth(registration).child_nik
        again = client.register_birth(registration).child_nik
        after = client.verify_family(claim).children_count

    assert nik == again == local.register_birth(registration).child_nik
    assert after == before + 1


def test_the_api_key_is_enforced(sandbox: Sandbox, local: SandboxDukcapil) -> None:
    claim = person_claims(local)[0]
    before = sandbox.requests()

    with sandbox.client(api_key=None) as anonymous, pytest.raises(DukcapilRequestError) as refused:
        anonymous.verify_person(claim)
    with sandbox.client(api_key="wrong") as wrong, pytest.raises(DukcapilRequestError):
        wrong.verify_person(claim)

    assert refused.value.status_code == 401
    assert "HTTP 401" in str(refused.value)
    assert sandbox.requests() == before + 2  # a refusal is not retried
    assert httpx.get(f"{sandbox.url}/_faults").status_code == 401
    with sandbox.client() as client:
        assert client.verify_person(claim) == local.verify_person(claim)


def test_retries_get_answers_from_a_sandbox_failing_half_the_time(
    sandbox: Sandbox, local: SandboxDukcapil
) -> None:
    sandbox.set_faults(error_rate=0.5, seed=7)
    claims = person_claims(local)
    before = sandbox.requests()

    with sandbox.client(attempts=10, breaker_fail_max=100) as client:
        answers = [client.verify_person(claim) for claim in claims]

    assert answers == [local.verify_person(claim) for claim in claims]
    assert sandbox.requests() - before > len(claims)  # some calls needed several tries


def test_one_client_serves_many_threads_at_once(sandbox: Sandbox, local: SandboxDukcapil) -> None:
    sandbox.set_faults(latency_ms=300)
    claims = person_claims(local)[:8]

    with sandbox.client() as client, ThreadPoolExecutor(max_workers=8) as pool:
        started = time.monotonic()
        answers = list(pool.map(client.verify_person, claims))
        elapsed = time.monotonic() - started

    assert answers == [local.verify_person(claim) for claim in claims]
    # Side by side, not one after another (8 x 0.3 s): the breaker must not serialise calls.
    assert elapsed < 1.2


def test_a_sandbox_slower_than_the_read_timeout_is_unavailable(
    sandbox: Sandbox, local: SandboxDukcapil
) -> None:
    sandbox.set_faults(latency_ms=1500)
    started = time.monotonic()

    with (
        sandbox.client(read_timeout=0.2, attempts=2) as client,
        pytest.raises(DukcapilUnavailable, match="timed out"),
    ):
        client.verify_person(person_claims(local)[0])

    assert time.monotonic() - started < 1.4  # gave up on its own timeout, not the server's


def test_garbled_answers_are_unavailable(sandbox: Sandbox, local: SandboxDukcapil) -> None:
    sandbox.set_faults(malformed_rate=1.0)
    claim = person_claims(local)[0]
    raw = httpx.post(
        f"{sandbox.url}/v1/person/verify",
        json={"nik": claim.nik, "name": claim.name, "birth_date": "1990-01-01", "sex": "female"},
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert raw.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        raw.json()

    with (
        sandbox.client(attempts=2) as client,
        pytest.raises(DukcapilUnavailable, match="malformed"),
    ):
        client.verify_person(claim)


def test_a_registration_garbled_on_the_way_back_is_not_registered_twice(
    sandbox: Sandbox, local: SandboxDukcapil
) -> None:
    family = local.population.families(FamilyKind.RECORDED, "3673")[1]
    registration = BirthRegistration(
        "3673-LU-22112026-0007",
        family.kk_number,
        "Salsabila",
        "female",
        date(2026, 11, 20),
        family.mother_nik,
        family.father_nik,
    )
    claim = FamilyClaim(family.kk_number, family.mother_nik, family.father_nik, True)
    with sandbox.client() as client:
        before = client.verify_family(claim).children_count
        sandbox.set_faults(malformed_rate=1.0)
        with pytest.raises(DukcapilUnavailable):
            client.register_birth(registration)
        sandbox.set_faults()

        nik = client.register_birth(registration).child_nik

        assert client.verify_family(claim).children_count == before + 1
    assert nik.startswith(family.kk_number[:6])


def test_a_down_sandbox_opens_the_circuit_and_a_recovered_one_closes_it(
    local: SandboxDukcapil,
) -> None:
    server = start_sandbox(
        "--down", "--latency-ms", "5", "--error-rate", "0.25", "--malformed-rate", "0.5"
    )
    claim = person_claims(local)[0]
    try:
        with server.admin() as admin:
            assert admin.get("/_faults").json() == {
                "latency_ms": 5,
                "error_rate": 0.25,
                "down": True,
                "malformed_rate": 0.5,
                "seed": 2026,
            }
        client = server.client(attempts=3, breaker_fail_max=3, breaker_reset_seconds=1.0)
        with client:
            with pytest.raises(DukcapilUnavailable, match="3 attempt"):
                client.verify_person(claim)
            assert server.requests() == 3
            assert client.circuit_state == "open"

            started = time.monotonic()
            with pytest.raises(DukcapilUnavailable, match="circuit open"):
                client.verify_person(claim)
            assert time.monotonic() - started < 0.2
            assert server.requests() == 3  # failed fast, without calling

            server.set_faults()
            with pytest.raises(DukcapilUnavailable, match="circuit open"):
                client.verify_person(claim)  # healthy now, but the circuit is still cooling
            time.sleep(1.1)

            assert client.verify_person(claim) == local.verify_person(claim)
            assert client.circuit_state == "closed"
            assert server.requests() == 4
    finally:
        output = stop(server.process)
    assert f"berjalan di {server.url}/" in output


def test_nobody_listening_is_unavailable(local: SandboxDukcapil) -> None:
    client = HttpDukcapil(f"http://127.0.0.1:{free_port()}", connect_timeout=0.5, **FAST)

    with client, pytest.raises(DukcapilUnavailable, match="no connection"):
        client.verify_person(person_claims(local)[0])


def test_logs_never_show_a_whole_nik_or_kk_number(
    sandbox: Sandbox, local: SandboxDukcapil, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The service's app sets "akta_service" to INFO; this test wants the debug lines too.
    caplog.set_level(logging.DEBUG, logger="akta_service.dukcapil")
    claim = person_claims(local)[0]
    family = family_claims(local)[0]
    registration = BirthRegistration(
        "3274-LU-22112026-0042",
        family.kk_number,
        "Nadia Rahma",
        "female",
        date(2026, 11, 21),
        family.mother_nik,
        family.father_nik,
    )
    failures: list[Exception] = []

    with sandbox.client(attempts=2, breaker_fail_max=2, breaker_reset_seconds=0.5) as client:
        client.verify_person(claim)
        client.verify_family(family)
        child_nik = client.register_birth(registration).child_nik
        sandbox.set_faults(error_rate=1.0)
        for _ in range(2):  # the second one finds the circuit open
            with pytest.raises(DukcapilUnavailable) as unavailable:
                client.verify_person(claim)
            failures.append(unavailable.value)
        sandbox.set_faults()
        with sandbox.client(api_key="wrong") as wrong, pytest.raises(DukcapilRequestError) as bad:
            wrong.verify_person(claim)
        failures.append(bad.value)

    logged = "\n".join(
        record.getMessage()
        + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        for record in caplog.records
    )
    texts = [logged, *map(str, failures)]
    for number in (claim.nik, family.kk_number, family.mother_nik, child_nik):
        assert all(number not in text for text in texts)
    assert not any(re.search(r"\d{16}", text) for text in texts)
    assert mask_nik(claim.nik) in logged  # masked, not left out: the logs still say who
    assert mask_nik(child_nik) in logged
    assert "circuit opened" in logged


def test_the_3_in_1_answer_carries_the_updated_kk_with_the_child(
    sandbox: Sandbox, local: SandboxDukcapil
) -> None:
    # A family no other test registers a birth in: the server's KK and the local one agree.
    family = local.population.families(FamilyKind.RECORDED, "3274")[5]
    father = local.population.person(family.father_nik or "")
    mother = local.population.person(family.mother_nik)
    assert father is not None
    assert mother is not None
    registration = BirthRegistration(
        "3274-LU-01122026-0077",
        family.kk_number,
        "Kirana Ayu",
        "female",
        date(2026, 11, 28),
        family.mother_nik,
        family.father_nik,
    )
    with sandbox.client() as client:
        answer = client.register_birth(registration)
        again = client.register_birth(registration)

    card = answer.family_card
    assert again == answer  # a retry: the same NIK, the same KK, the child listed once
    assert answer == local.register_birth(registration)
    assert card.kk_number == family.kk_number
    assert (card.head_name, card.head_nik) == (father.name, father.nik)
    assert (card.regency, card.province) == ("Kota Cirebon", "Jawa Barat")
    assert card.district in {"Kejaksan", "Lemahwungkuk", "Harjamukti", "Pekalipan", "Kesambi"}
    assert all((card.address, card.village, card.rt, card.rw))
    relations = [member.relation for member in card.members]
    assert relations[:2] == [Relation.HEAD, Relation.WIFE]
    assert set(relations[2:]) == {Relation.CHILD}
    child = card.members[-1]
    assert (child.nik, child.name, child.sex) == (answer.child_nik, "Kirana Ayu", "female")
    assert child.birth_date == date(2026, 11, 28)
    assert (child.father_name, child.mother_name) == (father.name, mother.name)
    children = card.members[2:]
    assert [c.birth_date for c in children] == sorted(c.birth_date for c in children)


def test_a_refused_3_in_1_is_dukcapil_refused_with_its_code(
    sandbox: Sandbox, local: SandboxDukcapil
) -> None:
    family = local.population.families(FamilyKind.RECORDED, "3274")[6]
    registration = BirthRegistration(
        "3274-LU-01122026-0078",
        "3274010101260001",  # no such KK
        "Kirana Ayu",
        "female",
        date(2026, 11, 28),
        family.mother_nik,
        family.father_nik,
    )
    with sandbox.client() as client, pytest.raises(DukcapilRefused) as refused:
        client.register_birth(registration)
    assert refused.value.code == "kk_not_found"
