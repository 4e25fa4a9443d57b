"""The periodic sweep: whatever the database says is due and no job is doing, re-queue.

Jobs can be lost (a broker restarted, a worker killed, a process ended); the
database cannot. Every job is safe to run twice, so queueing one too many is harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from akta_service.akta.operations import ISSUE_JOB
from akta_service.births.models import AWAITING_VERIFICATION, BirthReport, ReportStatus
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.idempotency import purge_expired_keys
from akta_service.core.jobs import enqueue, job
from akta_service.notifications.operations import DELIVER_JOB, due_deliveries
from akta_service.parents.operations import purge_expired_drafts
from akta_service.verification.operations import VERIFY_JOB


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


@job("jobs.sweep")
def sweep() -> int:
    """Re-queue verification past due (lost jobs, Dukcapil retries) and unfinished issuing;
    forget web-form drafts past their expiry."""
    settings = current_settings()
    now = utcnow()
    lost_before = now - timedelta(seconds=settings.sweep_grace_seconds)
    verify = _due_verifications(lost_before, now)
    issue = db.session.scalars(
        sa.select(BirthReport.id).where(
            BirthReport.status == ReportStatus.REGISTERED,
            BirthReport.registered_at <= lost_before,
        )
    ).all()
    for report_id in verify:
        enqueue(VERIFY_JOB, report_id)
    for report_id in issue:
        enqueue(ISSUE_JOB, report_id)
    purge_expired_keys()
    purge_expired_drafts(now)
    deliveries = due_deliveries(lost_before, now)
    for delivery_id in deliveries:
        enqueue(DELIVER_JOB, delivery_id)
    return len(verify) + len(issue) + len(deliveries)
