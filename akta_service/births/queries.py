"""Reading what hangs off a report."""

from __future__ import annotations

import sqlalchemy as sa

from akta_service.births.models import VerificationCheck
from akta_service.core.db import db


def latest_checks(report_id: int) -> list[VerificationCheck]:
    """The checks of the report's most recently verified version, in the order they ran."""
    latest = (
        sa.select(sa.func.max(VerificationCheck.report_version))
        .where(VerificationCheck.report_id == report_id)
        .scalar_subquery()
    )
    return list(
        db.session.scalars(
            sa.select(VerificationCheck)
            .where(
                VerificationCheck.report_id == report_id, VerificationCheck.report_version == latest
            )
            .order_by(VerificationCheck.id)
        )
    )
