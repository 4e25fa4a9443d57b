"""Reports of real sandbox families taken to an issued akta, for the akta's tests."""

from __future__ import annotations

import copy
import io
import subprocess
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.operations import authorise_issue, issue_akta
from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.db import db
from akta_service.jobs.queue import run_pending
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.workflow.engine import fire
from tests.conftest import SIGNING_OFFICERS, sign_as, with_signing_identity
from tests.parents.conftest import sandbox_report
from tests.parents.reporting import find_report, report_through_the_form
from tests.web import STAFF_PASSWORD

INFORMANT = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)


def signed_from_the_form(
    app: Flask, client: FlaskClient, operator: Actor
) -> tuple[str, str, BirthReport]:
    """A sandbox family's report sent through the parents' form (in `client`'s session),
    checked with Dukcapil, approved and signed, its issue step still waiting (nothing
    committed after the signature): its tracking code, PIN and report."""
    code, pin = report_through_the_form(client, sandbox_report("recorded"))
    run_pending(app)
    report = find_report(code)
    fire(report, "approve", operator)
    sign_as(report)
    return code, pin, report


def office_staff() -> dict[str, User]:
    """An operator and a pejabat (with pj1's signing key) who can sign in, of Kota Cirebon."""
    system = Actor.system("test")
    people = {
        "siti": create_user("siti", "Siti Operator", "operator", STAFF_PASSWORD, ["3274"], system),
        "ahmad": create_user("ahmad", "Ahmad Pejabat", "pejabat", STAFF_PASSWORD, ["3274"], system),
    }
    with_signing_identity(people["ahmad"], "pj1")
    db.session.commit()
    return people


def issued_report(
    staff: dict[str, User],
    kind: str = "recorded",
    index: int = 0,
    before_issue: Callable[[BirthReport], Any] | None = None,
) -> BirthReport:
    """Reported, verified, approved by the operator, signed by the pejabat and issued."""
    population = dukcapil().population  # type: ignore[attr-defined]
    family = population.sample_families(index + 1, kind, region="3274")[index]
    payload = copy.deepcopy(family["example_report"])
    report = submit_birth_report(load_report_input(payload), Channel.WEB, INFORMANT)
    assert verify_report(report.id) == "pass_verification"
    fire(report, "approve", staff["siti"].as_actor())
    authorise_issue(report, staff["ahmad"], SIGNING_OFFICERS["pj1"].passphrase)
    fire(report, "sign", staff["ahmad"].as_actor())
    if before_issue is not None:
        before_issue(report)
    db.session.commit()
    assert issue_akta(report.id) == "issued"
    db.session.commit()
    assert report.status == ReportStatus.ISSUED
    return report


def pdf_text(pdf: bytes) -> str:
    """The text poppler's pdftotext reads from the PDF, in its layout."""
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"],  # noqa: S607 - poppler-utils, as an integrator runs it
        input=pdf,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


def page_size_mm(pdf: bytes) -> tuple[float, float]:
    """The first page's width and height in millimetres."""
    from pypdf import PdfReader

    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width) * 25.4 / 72, float(box.height) * 25.4 / 72
