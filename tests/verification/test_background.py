"""Background verification with real services: the sandbox as an HTTP server, Dukcapil
outages, Celery workers on Redis, a worker killed mid-task, and the production topology."""

from __future__ import annotations

import copy
import re
import signal
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from flask import Flask

from akta_service.births.models import BirthReport, Channel, ReportStatus, VerificationCheck
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.background import start_sweeper
from akta_service.notifications.models import Delivery, DeliveryChannel
from akta_service.verification.gateway import close_dukcapil
from akta_service.verification.sandbox import SandboxPopulation
from tests.conftest import app_config, make_migrated_app
from tests.databases import fresh_database
from tests.services import (
    REDIS_HOST,
    REDIS_PORT,
    SANDBOX_API_KEY,
    SandboxServer,
    own_redis_database,
    start_gunicorn,
    start_sandbox,
    start_worker,
    stop,
    stop_all,
    wait_until,
)

S = ReportStatus
SEED = 2026
INFORMANT = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)
FAMILIES = 400  # per kab/kota: enough different families for 200 births at once
POPULATION = SandboxPopulation.build(seed=SEED, families_per_region=FAMILIES)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox("--seed", str(SEED), "--families", str(FAMILIES))
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture(autouse=True)
def _healthy_sandbox(sandbox: SandboxServer) -> None:
    sandbox.set_faults()


def _http_dukcapil(sandbox: SandboxServer, **extra: str) -> dict[str, str]:
    return {
        "AKTA_DUKCAPIL": "http",
        "AKTA_DUKCAPIL_URL": sandbox.url,
        "AKTA_DUKCAPIL_API_KEY": SANDBOX_API_KEY,
        "AKTA_DUKCAPIL_CONNECT_TIMEOUT": "0.5",
        "AKTA_DUKCAPIL_READ_TIMEOUT": "3",
        "AKTA_DUKCAPIL_ATTEMPTS": "2",
        "AKTA_DUKCAPIL_BREAKER_RESET_SECONDS": "0.5",
        "AKTA_VERIFY_RETRY_BASE_SECONDS": "0.2",
        "AKTA_VERIFY_RETRY_MAX_SECONDS": "0.5",
        "AKTA_SWEEP_INTERVAL_SECONDS": "0.2",
        "AKTA_SWEEP_GRACE_SECONDS": "2",
        **extra,
    }


def _payloads(count: int, kind: str = "recorded") -> list[dict[str, Any]]:
    families = POPULATION.sample_families(count, kind, region="3274")
    return [copy.deepcopy(f["example_report"]) for f in families]


def _statuses(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(BirthReport.status, sa.func.count()).group_by(BirthReport.status)
        ).all()
        db.session.remove()
        return {str(status): count for status, count in rows}


def _trigger_counts(app: Flask) -> dict[tuple[int, str], int]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(JournalEntry.report_id, JournalEntry.action, sa.func.count()).group_by(
                JournalEntry.report_id, JournalEntry.action
            )
        ).all()
        db.session.remove()
        return {(report_id, action): count for report_id, action, count in rows}


def _assert_each_verified_once(app: Flask, expected_state: str = "pass_verification") -> None:
    counts = _trigger_counts(app)
    report_ids = {report_id for report_id, _ in counts}
    for report_id in report_ids:
        assert counts[(report_id, "workflow:birth_report:start_verification")] == 1, report_id
        assert counts[(report_id, f"workflow:birth_report:{expected_state}")] == 1, report_id
    with app.app_context():
        per_version = db.session.execute(
            sa.select(VerificationCheck.report_id, VerificationCheck.name, sa.func.count())
            .group_by(VerificationCheck.report_id, VerificationCheck.name)
            .having(sa.func.count() > 1)
        ).all()
        db.session.remove()
    assert per_version == [], "a check was recorded twice"


@pytest.fixture
def inprocess_app(backend: str, tmp_path: Path, sandbox: SandboxServer) -> Iterator[Flask]:
    """The embedded default's topology: jobs in threads of this process, the sweep running."""
    with fresh_database(backend, tmp_path) as url:
        app = make_migrated_app(
            url, tmp_path / "instance", AKTA_JOBS="inprocess", **_http_dukcapil(sandbox)
        )
        stop_sweeper = start_sweeper(app)
        yield app
        stop_sweeper.set()
        app.extensions["akta_jobs"].pool.shutdown(wait=True)
        close_dukcapil(app)
        with app.app_context():
            db.engine.dispose()


def _submit_all(app: Flask, payloads: list[dict[str, Any]]) -> None:
    for payload in payloads:
        with app.app_context():
            submit_birth_report(load_report_input(payload), Channel.WEB, INFORMANT)
            db.session.commit()
            db.session.remove()


def test_reports_verify_in_the_background(inprocess_app: Flask) -> None:
    _submit_all(inprocess_app, _payloads(6))
    wait_until(lambda: _statuses(inprocess_app) == {"in_review": 6}, 30, "6 reports in review")
    _assert_each_verified_once(inprocess_app)


def test_dukcapil_down_for_a_while_then_back_nothing_lost_or_doubled(
    inprocess_app: Flask, sandbox: SandboxServer
) -> None:
    sandbox.set_faults(down=True)
    _submit_all(inprocess_app, _payloads(12))

    def all_waiting() -> bool:
        with inprocess_app.app_context():
            waiting = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(BirthReport)
                .where(BirthReport.status == S.VERIFYING, BirthReport.dukcapil_unavailable)
            )
            db.session.remove()
            return waiting == 12

    wait_until(all_waiting, 30, "every report to wait for Dukcapil with the flag set")
    sandbox.set_faults()  # Dukcapil is back
    wait_until(lambda: _statuses(inprocess_app) == {"in_review": 12}, 60, "all 12 in review")
    _assert_each_verified_once(inprocess_app)
    counts = _trigger_counts(inprocess_app)
    outages = [n for (_, action), n in counts.items() if action.endswith("dukcapil_unavailable")]
    assert outages == [1] * 12  # journalled once per report, however many retries
    with inprocess_app.app_context():
        flagged = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(BirthReport)
            .where(BirthReport.dukcapil_unavailable)
        )
        db.session.remove()
    assert flagged == 0


# --- Celery on Redis, PostgreSQL: the production topology -------------------------------


@pytest.fixture
def production(tmp_path: Path, sandbox: SandboxServer) -> Iterator[dict[str, Any]]:
    """PostgreSQL database, a Redis database of its own, settings for every process."""
    with own_redis_database() as (redis_db, _broker), fresh_database("postgresql", tmp_path) as url:
        env = {
            **app_config(url, tmp_path / "instance"),
            **_http_dukcapil(sandbox),
            "AKTA_JOBS": "celery",
            "AKTA_BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
        }
        app = make_migrated_app(
            url, tmp_path / "instance", **{k: v for k, v in env.items() if k.startswith("AKTA_")}
        )
        processes: list[Any] = []
        try:
            yield {"env": env, "app": app, "processes": processes}
        finally:
            stop_all(processes)
            close_dukcapil(app)
            with app.app_context():
                db.engine.dispose()


def test_a_worker_killed_mid_task_the_sweep_finishes_the_work(
    production: dict[str, Any], sandbox: SandboxServer
) -> None:
    app, env = production["app"], production["env"]
    sandbox.set_faults(latency_ms=1500)  # each Dukcapil answer takes 1.5 s: the job is mid-way
    first = start_worker(env, "--concurrency=1")
    production["processes"].append(first)
    _submit_all(app, _payloads(4))
    requests_before = sandbox.requests()
    wait_until(lambda: sandbox.requests() > requests_before, 30, "the worker to ask Dukcapil")
    stop(first, signal.SIGKILL)  # the worker dies mid-task: no ack, no commit
    assert _statuses(app).get("in_review", 0) < 4

    sandbox.set_faults()
    second = start_worker(env, "--concurrency=1", "--beat")
    production["processes"].append(second)
    wait_until(lambda: _statuses(app) == {"in_review": 4}, 90, "all 4 in review after the kill")
    _assert_each_verified_once(app)


def _line_with(process: Any, text: str, timeout: float) -> str:
    """The first line of the process's output holding `text` (read on a thread of its own:
    the process goes on running)."""

    def find() -> str:
        for line in process.stdout:
            if text in line:
                return str(line)
        return ""

    reader = ThreadPoolExecutor(max_workers=1)
    try:
        found = reader.submit(find).result(timeout=timeout)
    finally:
        reader.shutdown(wait=False)  # on a timeout the thread ends when the process is stopped
    assert found, f"the process ended without printing {text!r}"
    return found


def test_a_worker_loads_the_issue_step_before_its_pool_and_keeps_it_out_of_the_collector(
    production: dict[str, Any],
) -> None:
    app, env = production["app"], production["env"]
    worker = start_worker(env, "--concurrency=1")
    production["processes"].append(worker)
    # What the operator starting it reads: the akta's modules loaded before the pool forks,
    # and how many objects no full collection walks again.
    line = _line_with(worker, "gc.freeze", timeout=60)
    assert "jalur penerbitan akta dimuat" in line
    kept = re.search(r"; ([\d,]+) objek", line)
    assert kept is not None, line
    assert int(kept.group(1).replace(",", "")) > 100_000
    # The pool forked after it does its work.
    _submit_all(app, _payloads(1))
    wait_until(lambda: _statuses(app) == {"in_review": 1}, 60, "the worker to verify the report")


def test_production_topology_200_reports_at_once(production: dict[str, Any]) -> None:
    app, env = production["app"], production["env"]
    with app.app_context():
        create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", Actor.system("test"))
        token = issue_credential("RSUD-GJ", Actor.system("test")).token
        db.session.commit()
        db.session.remove()
    for options in (("--concurrency=2", "--beat"), ("--concurrency=2",)):
        production["processes"].append(start_worker(env, *options))
    url, server = start_gunicorn(env)
    production["processes"].append(server)

    good = _payloads(170)
    wrong_name = _payloads(20, "unrecorded")
    for payload in wrong_name:
        payload["mother"]["name"] = "Nama Yang Tidak Ada"
    elsewhere = [
        copy.deepcopy(f["example_report"]) for f in POPULATION.sample_families(10, region="3673")
    ]
    expected = {"in_review": 170, "needs_correction": 20, "rejected": 10}

    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:

        def submit(payload: dict[str, Any]) -> str:
            response = http.post("/api/v1/births", json=payload)
            assert response.status_code == 201, response.text
            return str(response.json()["links"]["self"])

        with ThreadPoolExecutor(max_workers=20) as pool:
            links = list(pool.map(submit, [*good, *wrong_name, *elsewhere]))
        assert len(set(links)) == 200

        wait_until(lambda: _statuses(app) == expected, 120, f"200 reports to reach {expected}")
        sample = http.get(links[-1]).json()
        assert sample["status"] == "rejected"
        assert "Kota Serang" in sample["journal"][-1]["reason"]

    counts = _trigger_counts(app)
    assert (
        sum(1 for (_, action) in counts if action == "workflow:birth_report:start_verification")
        == 200
    )
    assert all(n == 1 for n in counts.values() if n)  # no action journalled twice for a report

    # Each submission's verification and its SMS receipt travelled as one message: the
    # receipts went out too, once each.
    def receipts() -> dict[str, int]:
        with app.app_context():
            rows = db.session.execute(
                sa.select(Delivery.status, sa.func.count())
                .where(
                    Delivery.event == "birth_report.submitted",
                    Delivery.channel == DeliveryChannel.SMS,
                )
                .group_by(Delivery.status)
            ).all()
            db.session.remove()
            return {str(status): count for status, count in rows}

    wait_until(lambda: receipts() == {"sent": 200}, 60, "200 SMS receipts to be sent")
