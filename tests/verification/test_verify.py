"""Verification end to end in process: sandbox Dukcapil, every check's pass and fail path."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from akta_service.births.models import (
    BirthReport,
    Channel,
    CheckOutcome,
    ReportStatus,
    VerificationCheck,
    WordingModel,
)
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.clock import local_today
from akta_service.core.db import db, utcnow
from akta_service.core.errors import GuardRefused
from akta_service.core.sweep import sweep
from akta_service.verification.client import HttpDukcapil
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import stalled, verify_report
from akta_service.verification.sandbox import SandboxDukcapil, SandboxPopulation
from akta_service.workflow.engine import fire
from tests.services import SandboxServer, start_sandbox, stop

S = ReportStatus
INFORMANT = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)


@pytest.fixture
def population(app: Flask, session: Any) -> SandboxPopulation:
    registry = dukcapil()
    assert isinstance(registry, SandboxDukcapil)
    return registry.population


def _family(
    population: SandboxPopulation, kind: str = "recorded", index: int = 0
) -> dict[str, Any]:
    families = population.sample_families(index + 1, kind, region="3274")
    return copy.deepcopy(families[index])


def _submit(payload: dict[str, Any]) -> BirthReport:
    return submit_birth_report(load_report_input(payload), Channel.WEB, INFORMANT)


#: The Dukcapil each test verifies against: the app's in-process sandbox (None) or the
#: sandbox as a real HTTP server in a subprocess, with the same seed and so the same people.
_REGISTRY: dict[str, Any] = {"current": None}


@pytest.fixture(scope="module")
def sandbox_server() -> Iterator[SandboxServer]:
    server = start_sandbox("--seed", "2026")
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture(autouse=True, params=["in_process", "http"])
def _registry(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.param == "in_process":
        yield
        return
    server = request.getfixturevalue("sandbox_server")
    with server.client() as client:
        _REGISTRY["current"] = client
        try:
            yield
        finally:
            _REGISTRY["current"] = None


def _verify(report: BirthReport, registry: Any = None) -> str:
    outcome = verify_report(report.id, registry or _REGISTRY["current"])
    db.session.flush()
    db.session.refresh(report)
    return outcome


def _checks(report: BirthReport) -> dict[str, VerificationCheck]:
    rows = db.session.scalars(
        sa.select(VerificationCheck).where(VerificationCheck.report_id == report.id)
    )
    return {row.name: row for row in rows}


def _triggers(report: BirthReport) -> list[str | None]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry.trigger)
            .where(JournalEntry.report_id == report.id, JournalEntry.trigger.is_not(None))
            .order_by(JournalEntry.id)
        )
    )


@pytest.mark.parametrize(
    ("kind", "wording"),
    [
        ("recorded", WordingModel.RECORDED_MARRIAGE),
        ("unrecorded", WordingModel.UNRECORDED_MARRIAGE),
        ("single_mother", WordingModel.MOTHER_ONLY),
    ],
)
def test_a_real_family_reaches_review_with_its_wording(
    population: SandboxPopulation, kind: str, wording: WordingModel
) -> None:
    report = _submit(_family(population, kind)["example_report"])
    assert _verify(report) == "pass_verification"
    assert report.status == S.IN_REVIEW
    assert report.wording_model == wording
    checks = _checks(report)
    assert {c.outcome for c in checks.values()} == {CheckOutcome.PASS}, {
        n: c.message for n, c in checks.items() if c.outcome != CheckOutcome.PASS
    }
    assert "kk" in checks
    assert "marriage" in checks
    assert "duplicate" in checks
    assert _triggers(report) == ["start_verification", "pass_verification"]
    assert report.next_verification_at is None


def _fails_with(report: BirthReport, check: str, words: str) -> VerificationCheck:
    assert _verify(report) == "fail_verification"
    assert report.status == S.NEEDS_CORRECTION
    row = _checks(report)[check]
    assert row.outcome == CheckOutcome.FAIL
    assert words.lower() in row.message.lower(), row.message
    reason = db.session.scalar(
        sa.select(JournalEntry.reason).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "fail_verification"
        )
    )
    assert reason is not None
    assert row.message in reason
    return row


def test_wrong_mother_name_asks_for_the_name_on_the_ktp(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    payload["mother"]["name"] = "Nama Yang Sama Sekali Lain"
    row = _fails_with(_submit(payload), "mother_registry", "nama ibu tidak sesuai")
    assert row.detail["fields"] == ["mother.name"]


def test_a_title_and_old_spelling_still_match(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    payload["mother"]["name"] = "Hj. " + payload["mother"]["name"].upper() + ", S.Pd."
    report = _submit(payload)
    assert _verify(report) == "pass_verification"


def test_unknown_mother_nik(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    nik = payload["mother"]["nik"]
    payload["mother"]["nik"] = nik[:12] + "9999"
    _fails_with(_submit(payload), "mother_registry", "tidak terdaftar di Dukcapil")


def test_mother_birth_date_that_contradicts_the_nik(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    born = payload["mother"]["birth_date"]
    payload["mother"]["birth_date"] = f"{int(born[:4]) - 1}{born[4:]}"
    row = _fails_with(_submit(payload), "mother_nik_structure", "tidak cocok dengan tanggal lahir")
    assert row.detail["birth_date_matches"] is False


def test_parents_swapped_is_caught_by_sex(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    payload["mother"], payload["father"] = payload["father"], payload["mother"]
    report = _submit(payload)
    assert _verify(report) == "fail_verification"
    checks = _checks(report)
    assert checks["mother_nik_structure"].outcome == CheckOutcome.FAIL
    assert "perempuan" in checks["mother_nik_structure"].message


def test_kk_of_another_city_is_refused_with_that_office(population: SandboxPopulation) -> None:
    serang = copy.deepcopy(population.sample_families(1, "recorded", region="3673")[0])
    report = _submit(serang["example_report"])
    assert _verify(report) == "refuse"
    assert report.status == S.REJECTED
    reason = db.session.scalar(
        sa.select(JournalEntry.reason).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "refuse"
        )
    )
    assert reason is not None
    assert "Dinas Kependudukan dan Pencatatan Sipil Kota Serang" in reason


def test_mother_not_on_the_claimed_kk(population: SandboxPopulation) -> None:
    first, second = population.sample_families(2, "recorded", region="3274")
    payload = copy.deepcopy(first["example_report"])
    payload["kk_number"] = second["kk_number"]
    _fails_with(_submit(payload), "kk", "ibu tidak tercantum dalam KK")


def test_unknown_kk(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    payload["kk_number"] = payload["kk_number"][:12] + "0000"
    _fails_with(_submit(payload), "kk", "Nomor KK tidak terdaftar")


def test_claimed_recorded_marriage_not_in_the_registry(population: SandboxPopulation) -> None:
    payload = _family(population, "unrecorded")["example_report"]
    payload["marriage"] = {"recorded": True, "certificate_number": "99/XX/2020", "date": None}
    row = _fails_with(_submit(payload), "marriage", "belum tercatat di Dukcapil")
    assert "SPTJM" in row.message


def test_late_report_is_flagged_for_the_pejabat(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    payload["child"]["birth_date"] = (local_today() - timedelta(days=75)).isoformat()
    report = _submit(payload)
    assert _verify(report) == "pass_verification"
    assert report.is_late
    timeliness = _checks(report)["timeliness"]
    assert timeliness.outcome == CheckOutcome.WARNING
    assert "terlambat" in timeliness.message


def test_birth_order_against_the_kk_warns(population: SandboxPopulation) -> None:
    family = _family(population)
    payload = family["example_report"]
    payload["child"]["birth_order"] = family["existing_children"] + 3
    report = _submit(payload)
    assert _verify(report) == "pass_verification"
    plausibility = _checks(report)["plausibility"]
    assert plausibility.outcome == CheckOutcome.WARNING
    assert f"KK mencatat {family['existing_children']} anak" in plausibility.message


def test_a_second_report_of_the_same_birth_is_flagged_not_rejected(
    population: SandboxPopulation, actors: dict[str, Actor]
) -> None:
    payload = _family(population)["example_report"]
    original = _submit(payload)
    _verify(original)
    again = copy.deepcopy(payload)
    again["child"]["name"] = payload["child"]["name"] + "h"  # one letter off
    duplicate = _submit(again)
    assert _verify(duplicate) == "pass_verification"
    assert duplicate.status == S.IN_REVIEW
    assert duplicate.potential_duplicate
    assert duplicate.duplicate_of_id == original.id
    assert original.tracking_code in _checks(duplicate)["duplicate"].message
    with pytest.raises(GuardRefused):
        fire(duplicate, "approve", actors["operator"])


def test_twins_are_not_duplicates(population: SandboxPopulation) -> None:
    payload = _family(population)["example_report"]
    payload["child"]["birth_type"] = "twin"
    first = _submit(payload)
    second_payload = copy.deepcopy(payload)
    second_payload["child"]["birth_order"] = payload["child"]["birth_order"] + 1
    second = _submit(second_payload)
    _verify(first)
    _verify(second)
    assert not second.potential_duplicate
    assert _checks(second)["duplicate"].outcome == CheckOutcome.PASS


def test_verifying_twice_changes_nothing_the_second_time(population: SandboxPopulation) -> None:
    report = _submit(_family(population)["example_report"])
    assert _verify(report) == "pass_verification"
    journal = _triggers(report)
    checks = len(_checks(report))
    version = report.version
    assert _verify(report) == "not_waiting"
    assert _triggers(report) == journal
    assert len(_checks(report)) == checks
    assert report.version == version


def test_a_report_no_longer_waiting_is_not_sent_to_dukcapil_again(
    population: SandboxPopulation, sandbox_server: SandboxServer
) -> None:
    # The questions go out before the job's database work: only once it knows the report waits.
    report = _submit(_family(population)["example_report"])
    with sandbox_server.client() as registry:
        assert _verify(report, registry) == "pass_verification"
        asked = sandbox_server.requests()
        assert _verify(report, registry) == "not_waiting"
    assert sandbox_server.requests() == asked
    assert report.status == S.IN_REVIEW


def test_dukcapil_down_keeps_the_report_waiting_then_it_resumes(
    population: SandboxPopulation,
) -> None:
    report = _submit(_family(population)["example_report"])
    down = HttpDukcapil("http://127.0.0.1:9", attempts=1, connect_timeout=0.2, read_timeout=0.2)
    assert _verify(report, down) == "dukcapil_unavailable"
    assert report.status == S.VERIFYING
    assert report.dukcapil_unavailable
    assert report.next_verification_at is not None
    assert report.next_verification_at > utcnow()
    first_retry = report.next_verification_at
    assert _verify(report, down) == "dukcapil_unavailable"
    assert report.verification_attempts == 2
    assert report.next_verification_at > first_retry  # backs off
    outages = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(JournalEntry)
        .where(
            JournalEntry.report_id == report.id,
            JournalEntry.action == "verification:birth_report:dukcapil_unavailable",
        )
    )
    assert outages == 1  # journalled when it started, not on every retry
    assert _checks(report) == {}

    assert _verify(report) == "pass_verification"
    assert report.status == S.IN_REVIEW
    assert not report.dukcapil_unavailable
    assert report.dukcapil_unavailable_since is None
    assert report.verification_attempts == 0


def test_stalled_reports_surface_after_the_configured_wait(
    app: Flask, population: SandboxPopulation
) -> None:
    report = _submit(_family(population)["example_report"])
    down = HttpDukcapil("http://127.0.0.1:9", attempts=1, connect_timeout=0.2, read_timeout=0.2)
    _verify(report, down)
    settings = app.config["AKTA_SETTINGS"]
    listed = lambda: db.session.scalars(sa.select(BirthReport).where(stalled(settings))).all()  # noqa: E731
    assert report not in listed()
    report.dukcapil_unavailable_since = utcnow() - timedelta(
        minutes=settings.stalled_after_minutes + 1
    )
    db.session.flush()
    assert report in listed()


def test_the_sweep_requeues_a_report_whose_job_was_lost(
    app: Flask, population: SandboxPopulation
) -> None:
    report = _submit(_family(population)["example_report"])
    runner = app.extensions["akta_jobs"]
    db.session.commit()
    verifications = lambda: [j for j in runner.pending if j[0] == "verification.verify_report"]  # noqa: E731
    assert verifications() == [("verification.verify_report", (report.id,))]
    runner.pending.clear()  # the jobs were lost (broker restarted, worker killed)
    report.next_verification_at = utcnow() - timedelta(
        seconds=app.config["AKTA_SETTINGS"].sweep_grace_seconds + 5
    )
    db.session.flush()
    assert sweep() >= 1
    db.session.commit()  # jobs leave only after commit
    assert verifications() == [("verification.verify_report", (report.id,))]


def test_a_new_report_is_not_swept_while_its_job_is_queued(
    app: Flask, population: SandboxPopulation
) -> None:
    _submit(_family(population)["example_report"])
    assert sweep() == 0
