"""Verifying a report: ask Dukcapil, record the checks, move the workflow on its own.

Safe to run twice and from several workers at once: the report row is locked
for the run (others skip it), and a report no longer waiting is left alone.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from akta_service.births.locking import lock_for_job
from akta_service.births.models import (
    AWAITING_VERIFICATION,
    BirthReport,
    ReportStatus,
    VerificationCheck,
)
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.clock import local_today
from akta_service.core.config import Settings, current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.jobs import enqueue, job
from akta_service.core.sweep import SweepTimes, sweeper
from akta_service.verification import checks as c
from akta_service.verification.dukcapil import (
    Dukcapil,
    DukcapilUnavailable,
    FamilyAnswer,
    FamilyClaim,
    PersonAnswer,
    PersonClaim,
)
from akta_service.verification.gateway import dukcapil
from akta_service.verification.masking import mask_nik
from akta_service.workflow.engine import fire
from akta_service.workflow.rules import effect

log = logging.getLogger("akta_service.verification")

VERIFY_JOB = "verification.verify_report"
SYSTEM = Actor.system("Verifikasi Dukcapil")


@effect("schedule_verification")
def schedule_verification(report: BirthReport, when: datetime | None = None) -> None:
    """Record that the report is due for verification and queue the job after commit."""
    report.next_verification_at = when or utcnow()
    enqueue(VERIFY_JOB, report.id)


def _due_verifications(lost_before: datetime, now: datetime) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(BirthReport.id).where(
                BirthReport.status.in_(AWAITING_VERIFICATION),
                sa.or_(
                    BirthReport.next_verification_at <= lost_before,
                    sa.and_(
                        BirthReport.dukcapil_unavailable.is_(True),
                        BirthReport.next_verification_at <= now,
                    ),
                    BirthReport.next_verification_at.is_(None),
                ),
            )
        )
    )


@sweeper
def requeue_due_verifications(times: SweepTimes) -> int:
    """Re-queue verification past due: lost jobs and Dukcapil retries."""
    verify = _due_verifications(times.lost_before, times.now)
    for report_id in verify:
        enqueue(VERIFY_JOB, report_id)
    return len(verify)


#: Dukcapil's answers are awaited side by side: a report costs one round trip, not three.
_ASK_DUKCAPIL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="akta-dukcapil")


@dataclass(frozen=True)
class _Asked:
    """Dukcapil's answers on their way: the questions are sent, the job goes on meanwhile."""

    mother: Future[PersonAnswer]
    father: Future[PersonAnswer] | None
    family: Future[FamilyAnswer]

    def answers(self) -> tuple[PersonAnswer, PersonAnswer | None, FamilyAnswer]:
        """Wait for every answer; raises DukcapilUnavailable."""
        father = self.father.result() if self.father else None
        return self.mother.result(), father, self.family.result()


def _ask(registry: Dukcapil, report: BirthReport) -> _Asked:
    """Send Dukcapil the report's questions (the claims are read here, in the job's thread;
    the pool threads only wait for the answers)."""
    mother = _ASK_DUKCAPIL.submit(
        registry.verify_person,
        PersonClaim(
            report.mother_nik,
            report.mother_name,
            report.mother_birth_date,
            "female",
            report.kk_number,
        ),
    )
    father = None
    if report.father_nik and report.father_name and report.father_birth_date:
        father = _ASK_DUKCAPIL.submit(
            registry.verify_person,
            PersonClaim(
                report.father_nik,
                report.father_name,
                report.father_birth_date,
                "male",
                report.kk_number,
            ),
        )
    family = _ASK_DUKCAPIL.submit(
        registry.verify_family,
        FamilyClaim(
            report.kk_number, report.mother_nik, report.father_nik, report.marriage_recorded
        ),
    )
    return _Asked(mother, father, family)


def run_checks(
    report: BirthReport,
    registry: Dukcapil,
    settings: Settings,
    asked: _Asked | None = None,
    duplicates: tuple[c.CheckResult, int | None] | None = None,
) -> c.Verdict:
    """Every check, in the order a clerk reads them; raises DukcapilUnavailable.

    :param asked: the questions already sent to Dukcapil (else they are sent now).
    :param duplicates: the duplicate check already made while Dukcapil answered.
    """
    mother, father, family = (asked or _ask(registry, report)).answers()
    verdict = c.Verdict()
    verdict.add(c.check_nik_structure("mother", report.mother_nik, report.mother_birth_date, True))
    verdict.add(c.check_person("mother", mother, True))
    if father is not None and report.father_nik and report.father_birth_date:
        verdict.add(
            c.check_nik_structure("father", report.father_nik, report.father_birth_date, False)
        )
        verdict.add(c.check_person("father", father, False))
    kk_check, verdict.refusal = c.check_family(report, family, settings.region_codes)
    verdict.add(kk_check)
    marriage_check, verdict.wording_model = c.check_marriage(report, family)
    verdict.add(marriage_check)
    today = local_today()
    timeliness = c.check_timeliness(report, today, settings.on_time_days)
    verdict.late = bool(timeliness.detail.get("late"))
    verdict.add(timeliness)
    children = family.children_count if family.kk != "not_found" else None
    verdict.add(c.check_plausibility(report, today, children))
    duplicate_check, verdict.duplicate_of_id = duplicates or c.check_duplicates(report)
    verdict.add(duplicate_check)
    return verdict


def _save_checks(report: BirthReport, verdict: c.Verdict) -> None:
    now = utcnow()
    for check in verdict.checks:
        db.session.add(
            VerificationCheck(
                report_id=report.id,
                report_version=report.version,
                name=check.name,
                outcome=check.outcome,
                message=check.message,
                reporter_message=check.reporter_message,
                detail={**check.detail, "fields": list(check.fields)},
                checked_at=now,
            )
        )


def _retry_delay(attempts: int, settings: Settings) -> timedelta:
    seconds = settings.verify_retry_base_seconds * (2 ** max(attempts - 1, 0))
    return timedelta(seconds=min(seconds, settings.verify_retry_max_seconds))


def _wait_for_dukcapil(report: BirthReport, error: DukcapilUnavailable, settings: Settings) -> None:
    """Dukcapil gave no answer: keep the report verifying and try again later."""
    now = utcnow()
    report.verification_attempts += 1
    report.next_verification_at = now + _retry_delay(report.verification_attempts, settings)
    if not report.dukcapil_unavailable:
        report.dukcapil_unavailable = True
        report.dukcapil_unavailable_since = now
        record(
            "verification:birth_report:dukcapil_unavailable",
            SYSTEM,
            report=report,
            data={"error": str(error)[:300]},
        )
    log.warning(
        "Dukcapil unavailable for report %s (mother %s), attempt %d, next at %s",
        report.tracking_code,
        mask_nik(report.mother_nik),
        report.verification_attempts,
        report.next_verification_at.isoformat(),
    )


def _conclude(report: BirthReport, verdict: c.Verdict) -> str:
    report.is_late = verdict.late
    report.wording_model = verdict.wording_model
    report.potential_duplicate = verdict.duplicate_of_id is not None
    report.duplicate_of_id = verdict.duplicate_of_id
    report.dukcapil_unavailable = False
    report.dukcapil_unavailable_since = None
    report.next_verification_at = None
    report.verification_attempts = 0
    summary: dict[str, Any] = {"checks": {ch.name: str(ch.outcome) for ch in verdict.checks}}
    if verdict.refusal:
        fire(report, "refuse", SYSTEM, reason=verdict.refusal, data=summary)
        return "refuse"
    if verdict.failures:
        # The reason goes to the informant and the facility: the words meant for them.
        reason = " ".join(ch.for_reporter for ch in verdict.failures)
        fire(report, "fail_verification", SYSTEM, reason=reason, data=summary)
        return "fail_verification"
    fire(report, "pass_verification", SYSTEM, data=summary)
    return "pass_verification"


@job(VERIFY_JOB)
def verify_report(report_id: int, registry: Dukcapil | None = None) -> str:
    """Verify one report if it is waiting; returns what happened (for logs and tests)."""
    report = lock_for_job(report_id)
    if report is None:
        return "busy"
    if report.status not in AWAITING_VERIFICATION:
        return "not_waiting"
    # Dukcapil's round trip is most of a verification: its questions go out first, and the
    # database's part (the move to `verifying`, the duplicate search) is done meanwhile.
    registry = registry or dukcapil()
    asked = _ask(registry, report)
    if report.status == ReportStatus.SUBMITTED:
        fire(report, "start_verification", SYSTEM)
    settings = current_settings()
    duplicates = c.check_duplicates(report)
    try:
        verdict = run_checks(report, registry, settings, asked, duplicates)
    except DukcapilUnavailable as error:
        _wait_for_dukcapil(report, error, settings)
        return "dukcapil_unavailable"
    _save_checks(report, verdict)
    return _conclude(report, verdict)


def stalled_since(settings: Settings, now: datetime | None = None) -> datetime:
    """Reports waiting for Dukcapil since before this moment show as stalled to clerks."""
    return (now or utcnow()) - timedelta(minutes=settings.stalled_after_minutes)


def stalled(settings: Settings) -> sa.ColumnElement[bool]:
    """Reports stuck in verification because Dukcapil has not answered for too long."""
    return sa.and_(
        BirthReport.status == ReportStatus.VERIFYING,
        BirthReport.dukcapil_unavailable.is_(True),
        BirthReport.dukcapil_unavailable_since <= stalled_since(settings),
    )
