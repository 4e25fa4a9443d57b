"""Corrections of an issued akta asked for by a parent (status page) or a facility (API).

A request names the correctable fields' new values, a reason and a supporting document; an
operator of the region approves or refuses it with a reason the requester reads; the pejabat
signs the corrected version in a batch like any other (batch.py), and the issue step makes it
(operations.issue_corrected_version): same number, the old version superseded.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from akta_service.accounts.models import User
from akta_service.akta.models import (
    OPEN_CORRECTION_STATUSES,
    AktaCorrectionRequest,
    CorrectionStatus,
)
from akta_service.akta.operations import CORRECTABLE_FIELDS, correction_errors
from akta_service.births.documents import attach_document
from akta_service.births.models import BirthReport, Document, ReportStatus
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import record
from akta_service.core.db import db, utcnow
from akta_service.core.errors import (
    ConflictError,
    FieldError,
    IllegalTransition,
    InvalidInput,
    PermissionDenied,
)
from akta_service.core.labels import label


class CorrectionAlreadyOpen(ConflictError):
    """The report has a correction request under way already."""

    code = "akta_correction_open"


class CorrectionDecided(ConflictError):
    """Another clerk decided the request first."""

    code = "akta_correction_decided"


def requested_changes(report: BirthReport, typed: dict[str, Any]) -> dict[str, Any]:
    """Only the correctable fields whose typed value differs from the akta's."""
    return {
        name: value
        for name, value in typed.items()
        if name in CORRECTABLE_FIELDS and value not in (None, "") and value != getattr(report, name)
    }


def open_correction(report: BirthReport) -> AktaCorrectionRequest | None:
    """The report's request under way (requested or approved), if any."""
    return db.session.scalar(
        sa.select(AktaCorrectionRequest).where(
            AktaCorrectionRequest.report_id == report.id,
            AktaCorrectionRequest.status.in_(OPEN_CORRECTION_STATUSES),
        )
    )


def correction_requests(report: BirthReport) -> list[AktaCorrectionRequest]:
    """Every request for the report's akta, the newest first."""
    return list(
        db.session.scalars(
            sa.select(AktaCorrectionRequest)
            .where(AktaCorrectionRequest.report_id == report.id)
            .order_by(AktaCorrectionRequest.id.desc())
        )
    )


def request_akta_correction(
    report: BirthReport,
    changes: dict[str, Any],
    reason: str,
    requester: Actor,
    *,
    document_id: int | None = None,
    upload: tuple[str, bytes] | None = None,
) -> AktaCorrectionRequest:
    """Ask for a correction of the issued akta (flushed, journalled with before and after).

    The supporting document is one already attached to the report (`document_id`), or the
    file sent with the request (`upload`: its kind and bytes), stored only once the rest of
    the request holds.

    :raises IllegalTransition: the akta is not issued.
    :raises CorrectionAlreadyOpen: a request is under way already.
    :raises InvalidInput: no change, a field that cannot be corrected, no reason, no document.
    """
    if report.status != ReportStatus.ISSUED:
        raise IllegalTransition("akta_not_issued_yet")
    if open_correction(report) is not None:
        raise CorrectionAlreadyOpen("akta_correction_open")
    errors = correction_errors(report, changes, reason)
    supporting = db.session.get(Document, document_id) if document_id is not None else None
    if upload is None and (supporting is None or supporting.report_id != report.id):
        field = "file" if document_id is None else "supporting_document_id"
        errors.append(FieldError(field, "correction_document_required"))
    if errors:
        raise InvalidInput("correction_invalid", errors=errors)
    if upload is not None:
        supporting = attach_document(report, upload[0], upload[1], requester)
    assert supporting is not None  # noqa: S101 - checked with the errors above
    asked = AktaCorrectionRequest(
        report_id=report.id,
        changes=changes,
        reason=reason.strip(),
        supporting_document_id=supporting.id,
        requested_by=requester.id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(asked)
            db.session.flush()
    except IntegrityError:  # the same request sent twice at once: one is kept
        raise CorrectionAlreadyOpen("akta_correction_open") from None
    record(
        "akta:birth_report:request_correction",
        requester,
        report=report,
        reason=asked.reason,
        data={
            "request_id": asked.id,
            "changes": {
                "before": {name: getattr(report, name) for name in changes},
                "after": changes,
            },
            "supporting_document_id": supporting.id,
        },
    )
    return asked


def decide_akta_correction(
    asked: AktaCorrectionRequest, approve: bool, reason: str, clerk: User
) -> None:
    """An operator of the report's region approves (then the pejabat signs it) or refuses
    (with a reason the requester reads). The first of two clerks deciding at once wins.

    :raises CorrectionDecided: the request was decided already, by whom and how.
    """
    actor = clerk.as_actor()
    report = db.session.get(BirthReport, asked.report_id)
    assert report is not None  # noqa: S101 - a foreign key guarantees it
    if actor.role != Role.OPERATOR or report.region_code not in actor.region_codes:
        raise PermissionDenied("correction_check_by_operator")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise InvalidInput("reason_missing")
    status = CorrectionStatus.APPROVED if approve else CorrectionStatus.REFUSED
    # Compare and set: of two clerks, the one whose update finds it still requested wins.
    decided = db.session.execute(
        sa.update(AktaCorrectionRequest)
        .where(
            AktaCorrectionRequest.id == asked.id,
            AktaCorrectionRequest.status == CorrectionStatus.REQUESTED,
        )
        .values(
            status=status,
            decided_by_id=clerk.id,
            decided_at=utcnow(),
            decision_reason=reason or None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(asked)
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise _decided_before(asked)
    record(
        f"akta:birth_report:{'approve' if approve else 'refuse'}_correction",
        actor,
        report=report,
        reason=reason or None,
        data={"request_id": asked.id, "changes": asked.changes},
    )


def _decided_before(asked: AktaCorrectionRequest) -> CorrectionDecided:
    by = db.session.get(User, asked.decided_by_id) if asked.decided_by_id else None
    return CorrectionDecided(
        "akta_correction_decided",
        by=by.full_name if by else "-",
        decision=label(str(asked.status), "correction_status"),
    )
