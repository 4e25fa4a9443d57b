"""Annulling an issued akta: a court order, or a registration found void.

The report moves to `annulled` through the workflow (journalled, with the reason and the
supporting document), every version of its akta is marked annulled, and from then on the
public page, the status list and so the offline verifier say "dibatalkan" with the date.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from akta_service.akta.models import AktaDocument
from akta_service.births.documents import attach_document
from akta_service.births.models import BirthReport, DocumentKind
from akta_service.core.actors import Actor
from akta_service.core.db import db, utcnow
from akta_service.core.errors import FieldError, InvalidInput
from akta_service.workflow.engine import fire


def annul_akta(report: BirthReport, actor: Actor, reason: str, document: bytes) -> datetime:
    """A pejabat of the report's region annuls its issued akta; returns when.

    :param document: the supporting document's bytes (PDF, JPEG or PNG), required.
    :raises InvalidInput: no reason, or a document that cannot be taken (none, too large,
        not a PDF, JPEG or PNG).
    :raises GuardRefused, IllegalTransition: not this pejabat's, or not issued.
    """
    reason = (reason or "").strip()
    errors = [] if reason else [FieldError("reason", "reason_missing")]
    if not document:
        errors.append(FieldError("document", "file_missing"))
    if errors:
        raise InvalidInput("annulment_invalid", errors=errors)
    supporting = attach_document(
        report, DocumentKind.OTHER, document, actor, evidence_after_issue=True
    )
    now = utcnow()
    versions = list(
        db.session.scalars(sa.select(AktaDocument).where(AktaDocument.report_id == report.id))
    )
    fire(
        report,
        "annul",
        actor,
        reason=reason,
        data={
            "supporting_document_id": supporting.id,
            "sha256": supporting.sha256,
            "versions": [version.version for version in versions],
        },
    )
    for version in versions:
        version.annulled_at = now
        version.annulment_reason = reason
        version.annulment_document_id = supporting.id
    db.session.flush()
    return now
