"""Annulling an issued akta: a court order, or a registration found void.

The report moves to `annulled` through the workflow (journalled, with the reason and the
supporting document), every version of its akta is marked annulled, and from then on the
public page, the status list and so the offline verifier say "dibatalkan" with the date.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa

from akta_service.akta.models import AktaDocument
from akta_service.births.documents import MAX_DOCUMENT_BYTES, inspected
from akta_service.births.models import BirthReport, Document, DocumentKind
from akta_service.core.actors import Actor
from akta_service.core.db import db, utcnow
from akta_service.core.errors import FieldError, InvalidInput
from akta_service.core.storage import storage
from akta_service.core.untrusted_files import sniff_content_type
from akta_service.workflow.engine import fire


def _supporting_document(report: BirthReport, data: bytes, actor: Actor) -> Document:
    """The court order (or the finding) as one of the report's documents."""
    sniffed = sniff_content_type(data)
    if sniffed is None:
        raise InvalidInput("annulment_invalid", errors=[FieldError("document", "unsupported_type")])
    content_type, extension = sniffed
    inspection = inspected(data, "document")
    key = (
        f"documents/{report.region_code}/{report.tracking_code}/"
        f"annulment-{secrets.token_hex(8)}.{extension}"
    )
    storage().put(key, data)
    document = Document(
        report_id=report.id,
        kind=DocumentKind.OTHER,
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=key,
        uploaded_by=actor.id,
        pages=inspection.pages,
    )
    db.session.add(document)
    db.session.flush()
    return document


def annul_akta(report: BirthReport, actor: Actor, reason: str, document: bytes) -> datetime:
    """A pejabat of the report's region annuls its issued akta; returns when.

    :param document: the supporting document's bytes (PDF, JPEG or PNG), required.
    :raises InvalidInput: no reason, no document, or a file that is not one.
    :raises GuardRefused, IllegalTransition: not this pejabat's, or not issued.
    """
    reason = (reason or "").strip()
    errors = []
    if not reason:
        errors.append(FieldError("reason", "reason_missing"))
    if not document:
        errors.append(FieldError("document", "file_missing"))
    elif len(document) > MAX_DOCUMENT_BYTES:
        errors.append(FieldError("document", "too_large"))
    if errors:
        raise InvalidInput("annulment_invalid", errors=errors)
    supporting = _supporting_document(report, document, actor)
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
