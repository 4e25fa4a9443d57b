"""Locking a report for a background job."""

from __future__ import annotations

import sqlalchemy as sa

from akta_service.births.models import BirthReport
from akta_service.core.db import db


def lock_for_job(report_id: int) -> BirthReport | None:
    """The report, fresh and locked for a background job; None when another worker holds it
    (SKIP LOCKED: it is already being worked on)."""
    return db.session.scalar(
        sa.select(BirthReport)
        .where(BirthReport.id == report_id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
