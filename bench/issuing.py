"""From the pejabat's signature to the issued akta: sign (registration number) + issue
(3-in-1 with the sandbox, render, PAdES B-LT through the sandbox signing service with
SoftHSM2: authorise, sign the hash, timestamp, OCSP; store, `issued`), each committed.
Target: well under a second."""

from __future__ import annotations

import time

from akta_service.akta.operations import authorise_issue, issue_akta
from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.db import db
from akta_service.regions.models import Region
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.workflow.engine import fire
from bench.common import BENCH_SIGNER, bench_app, bench_signer, bench_staff, percentiles

REPORTS = 60


def run_backend(backend: str) -> None:
    with bench_app(backend, {"AKTA_JOBS": "manual"}) as app, app.app_context():
        region = db.session.get(Region, "3274")
        assert region is not None
        region.signing_officer_name = "Drs. Bambang Sutrisno, M.Si."
        region.signing_officer_nip = "197001011990031001"
        operator, signer = bench_staff("operator"), bench_signer(app)
        pejabat = signer.as_actor()
        informant = Actor(id="informant:web", name="Bench", role=Role.INFORMANT)
        families = dukcapil().population.sample_families(REPORTS + 1, region="3274")  # type: ignore[attr-defined]
        sign_ms: list[float] = []
        issue_ms: list[float] = []
        for family in families:
            report = submit_birth_report(
                load_report_input(family["example_report"]), Channel.WEB, informant
            )
            verify_report(report.id)
            fire(report, "approve", operator)
            db.session.commit()
            report_id = report.id
            started = time.perf_counter()
            current = db.session.get(BirthReport, report_id)
            assert current is not None
            authorise_issue(current, signer, BENCH_SIGNER[2])
            fire(current, "sign", pejabat)
            db.session.commit()
            signed = time.perf_counter()
            assert issue_akta(report_id) == "issued"
            db.session.commit()
            done = time.perf_counter()
            sign_ms.append((signed - started) * 1000)
            issue_ms.append((done - signed) * 1000)
            db.session.expunge_all()
        # The first one pays for starting the signing service and loading fonts: left out.
        print(f"issuing[{backend}] sign (number allocated, committed): {percentiles(sign_ms[1:])}")
        print(f"issuing[{backend}] issue (3-in-1, PDF, PAdES, store): {percentiles(issue_ms[1:])}")
        total = [a + b for a, b in zip(sign_ms[1:], issue_ms[1:], strict=True)]
        print(f"issuing[{backend}] signature to issued akta: {percentiles(total)}")


def main() -> None:
    from bench.common import postgres_available

    run_backend("sqlite")
    if postgres_available():
        run_backend("postgresql")
