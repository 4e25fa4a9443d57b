"""Cost of the core write path: submit a report, then move it to `registered`.

Each step is one committed transaction, as a request or a job would make it:
validation, the state machine, guards, the journal entry and, for `sign`,
the registration number.
"""

from __future__ import annotations

import time

from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.db import db
from akta_service.verification.sandbox import SandboxPopulation
from akta_service.workflow.engine import fire
from bench.common import bench_app, bench_staff, percentiles, postgres_available

REPORTS = 300


def run_backend(backend: str) -> None:
    with bench_app(backend) as app, app.app_context():
        operator, pejabat, system = bench_staff("operator"), bench_staff("pejabat"), Actor.system()
        informant = Actor(id="informant:web", name="Bench", role=Role.INFORMANT)
        submit_ms: list[float] = []
        step_ms: list[float] = []
        families = SandboxPopulation.build(families_per_region=REPORTS).sample_families(
            REPORTS, region="3274"
        )
        for family in families:
            payload = family["example_report"]
            started = time.perf_counter()
            report = submit_birth_report(load_report_input(payload), Channel.WEB, informant)
            db.session.commit()
            submit_ms.append((time.perf_counter() - started) * 1000)
            report_id = report.id
            for trigger, actor in (
                ("start_verification", system),
                ("pass_verification", system),
                ("approve", operator),
                ("sign", pejabat),
            ):
                started = time.perf_counter()
                current = db.session.get(BirthReport, report_id)
                assert current is not None
                fire(current, trigger, actor)
                db.session.commit()
                step_ms.append((time.perf_counter() - started) * 1000)
            db.session.expunge_all()
        print(f"workflow[{backend}] submit (validate + insert + journal): {percentiles(submit_ms)}")
        step = "one trigger (load + fire + journal + commit)"
        print(f"workflow[{backend}] {step}: {percentiles(step_ms)}")


def main() -> None:
    run_backend("sqlite")
    if postgres_available():
        run_backend("postgresql")
    else:
        print("workflow[postgresql] skipped: PostgreSQL not reachable at 127.0.0.1:5432")
