"""What a reporter learns from verification: which field does not match and what to check,
never what Dukcapil holds about someone else (a parent's death or move, the children on the
KK) nor another report's tracking code or registration number. Clerks read the whole
answer. Through the facility API, the parents' status page and e-mail, and the office."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor
from akta_service.core.clock import local_today
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.queue import run_pending
from akta_service.notifications.models import Delivery, DeliveryChannel
from akta_service.parents.operations import WEB_INFORMANT, issue_status_pin
from akta_service.review.operations import DUPLICATE_REASON, decide_duplicate
from akta_service.verification.gateway import dukcapil
from akta_service.verification.sandbox import PersonStatus, SandboxPopulation
from tests.parents.reporting import open_status
from tests.web import STAFF_PASSWORD, sign_in

ADMIN = Actor.system("test")
REGISTRATION_NUMBER = "3274-LU-01122026-0001"


@pytest.fixture
def population(app: Flask, session: Any) -> SandboxPopulation:
    return dukcapil().population  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
def token(session: Any) -> str:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", ADMIN)
    value = issue_credential("RSUD-GJ", ADMIN).token
    create_user("siti", "Siti Operator", "operator", STAFF_PASSWORD, ["3274"], ADMIN)
    db.session.commit()
    return value


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _birth_with_a_deceased_parent(population: SandboxPopulation) -> tuple[dict[str, Any], str, int]:
    """The report of a child one of whose parents Dukcapil records as deceased, which parent
    ("mother" or "father"), and how many children the family's KK lists."""
    deceased = {p.nik for p in population.persons(PersonStatus.DECEASED)}
    family = next(
        f for f in population.families(region="3274") if {f.mother_nik, f.father_nik} & deceased
    )
    role = "mother" if family.mother_nik in deceased else "father"
    # sample_families() leaves such families out; the sandbox builds their report the same way.
    sample = population._sample(family, local_today())
    return copy.deepcopy(sample["example_report"]), role, int(sample["existing_children"])


def _report_through_the_api(app: Flask, client: FlaskClient, token: str, payload: Any) -> str:
    answer = client.post("/api/v1/births", json=payload, headers=_auth(token))
    assert answer.status_code == 201, answer.get_json()
    run_pending(app)  # verification
    db.session.commit()
    return str(answer.get_json()["tracking_code"])


def _api_checks(client: FlaskClient, token: str, code: str) -> dict[str, str]:
    body = client.get(f"/api/v1/births/{code}", headers=_auth(token)).get_json()
    return {check["name"]: check["message"] for check in body["checks"]}


def _clerk_page(client: FlaskClient, code: str) -> str:
    sign_in(client, "siti")
    return client.get(f"/kantor/laporan/{code}").get_data(as_text=True)


def test_a_facility_is_not_told_a_parent_died_nor_the_children_on_the_kk_a_clerk_is(
    app: Flask, client: FlaskClient, token: str, population: SandboxPopulation
) -> None:
    payload, role, children = _birth_with_a_deceased_parent(population)
    payload["child"]["birth_order"] = children + 3  # the KK lists fewer children
    word = {"mother": "ibu", "father": "ayah"}[role]

    code = _report_through_the_api(app, client, token, payload)

    checks = _api_checks(client, token, code)
    assert checks[f"{role}_registry"].startswith(f"Data {word} perlu diperiksa petugas")
    assert f"KK mencatat {children} anak" not in checks["plausibility"]
    assert "Periksa isian anak ke-" in checks["plausibility"]
    everything = " ".join(checks.values())
    assert "meninggal" not in everything
    assert "pindah" not in everything

    page = _clerk_page(client, code)
    assert f"{word.title()} tercatat telah meninggal dunia di Dukcapil" in page
    assert f"KK mencatat {children} anak" in page


def test_a_facility_is_not_told_the_original_of_a_duplicate_a_clerk_is(
    app: Flask, client: FlaskClient, token: str, population: SandboxPopulation
) -> None:
    (family,) = population.sample_families(1, "recorded", region="3274")
    first = _report_through_the_api(app, client, token, family["example_report"])
    original = db.session.scalars(
        sa.select(BirthReport).where(BirthReport.tracking_code == first)
    ).one()
    original.status = ReportStatus.ISSUED  # it went all the way: it has its number
    original.registration_number = REGISTRATION_NUMBER
    db.session.commit()

    again = _report_through_the_api(app, client, token, family["example_report"])

    body = client.get(f"/api/v1/births/{again}", headers=_auth(token))
    assert "potential_duplicate" in body.get_json()["flags"]
    text = body.get_data(as_text=True)
    assert first not in text
    assert REGISTRATION_NUMBER not in text
    assert "mirip kelahiran yang sudah dilaporkan" in _api_checks(client, token, again)["duplicate"]

    page = _clerk_page(client, again)
    assert f"Mirip kelahiran yang sudah dilaporkan ({first}, {REGISTRATION_NUMBER})" in page


def test_a_parent_whose_duplicate_is_rejected_is_not_given_the_originals_code(
    app: Flask, client: FlaskClient, population: SandboxPopulation, actors: dict[str, Actor]
) -> None:
    (family,) = population.sample_families(1, "recorded", region="3274")
    report = family["example_report"]
    report["informant"]["email"] = "ibu@example.id"
    original = submit_birth_report(load_report_input(report), Channel.WEB, WEB_INFORMANT)
    repeated = submit_birth_report(load_report_input(report), Channel.WEB, WEB_INFORMANT)
    pin = issue_status_pin(repeated)
    db.session.commit()
    run_pending(app)
    db.session.refresh(repeated)
    assert repeated.potential_duplicate

    decide_duplicate(repeated, True, actors["operator"], None)
    db.session.commit()

    page = open_status(client, repeated.tracking_code, pin)
    assert DUPLICATE_REASON in page
    assert original.tracking_code not in page
    rejected_mail = db.session.scalars(
        sa.select(Delivery).where(
            Delivery.report_id == repeated.id,
            Delivery.channel == DeliveryChannel.EMAIL,
            Delivery.event == "birth_report.rejected",
        )
    ).one()
    assert "sudah dilaporkan sebelumnya" in rejected_mail.body
    assert original.tracking_code not in rejected_mail.body


def test_a_parent_reads_what_to_fix_and_nothing_of_a_deceased_parent(
    app: Flask, client: FlaskClient, population: SandboxPopulation
) -> None:
    report, role, _children = _birth_with_a_deceased_parent(population)
    other = "father" if role == "mother" else "mother"
    if report.get(other) is None:
        pytest.fail("the sandbox family has no second parent to mistype")
    report[other]["name"] = "Nama Yang Lain Sekali"
    submitted = submit_birth_report(load_report_input(report), Channel.WEB, WEB_INFORMANT)
    pin = issue_status_pin(submitted)
    db.session.commit()
    run_pending(app)

    page = open_status(client, submitted.tracking_code, pin)

    word = {"mother": "ibu", "father": "ayah"}[other]
    assert f"Nama {word} tidak sesuai data Dukcapil; tulis nama sesuai KTP." in page
    assert "meninggal" not in page
