"""Attaching scans and photos of documents to a report, judged by content, not by name."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from akta_service.births.models import (
    CANCELLABLE_STATUSES,
    BirthReport,
    Document,
    DocumentKind,
)
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.config import current_settings
from akta_service.core.db import db
from akta_service.core.errors import DomainError, FieldError, IllegalTransition, InvalidInput
from akta_service.core.storage import storage

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MEGABYTE = 1024 * 1024


class DocumentQuotaExceeded(DomainError):
    """The report's documents together would take more than AKTA_DOCUMENT_QUOTA_MB."""

    status = 413
    code = "document_quota_exceeded"


def document_quota_mb() -> int:
    return current_settings().document_quota_bytes // MEGABYTE


def over_quota(stored_bytes: int, adding_bytes: int) -> bool:
    """Would a file of `adding_bytes` beside `stored_bytes` go over the documents' quota?"""
    return stored_bytes + adding_bytes > current_settings().document_quota_bytes


def stored_document_bytes(report: BirthReport) -> int:
    """What the report's documents take in storage, every version kept included."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Document.size_bytes), 0)).where(
            Document.report_id == report.id
        )
    )
    return int(total or 0)


def read_upload(upload: FileStorage | None) -> bytes:
    """An uploaded file's bytes, one past the limit at most (so an oversized file is told
    apart without reading it all); b"" when none was sent. Large uploads are spooled to a
    temporary file: it is closed at once."""
    if upload is None:
        return b""
    try:
        return upload.read(MAX_DOCUMENT_BYTES + 1)
    finally:
        upload.close()


#: What each kind of document is, as the clerk knows it.
DOCUMENT_LABELS = {
    "birth_letter": "Surat keterangan lahir",
    "kk": "Kartu Keluarga",
    "marriage_certificate": "Buku nikah / kutipan akta perkawinan",
    "sptjm_birth": "SPTJM kebenaran data kelahiran",
    "sptjm_marriage": "SPTJM kebenaran sebagai pasangan suami istri",
    "id_mother": "KTP-el ibu",
    "id_father": "KTP-el ayah",
    "other": "Dokumen lain",
}

#: Leading bytes of each accepted type: what the file is, whatever it is called.
SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)


def sniff_content_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the bytes, or None for anything else."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def _invalid(reason: str, field: str, code: str, **params: Any) -> InvalidInput:
    return InvalidInput(reason, errors=[FieldError(field, code)], **params)


def attach_document(report: BirthReport, kind: str, data: bytes, actor: Actor) -> Document:
    """Store the file and record it on the report (flushed, journalled)."""
    if report.status not in CANCELLABLE_STATUSES:
        raise IllegalTransition("documents_closed", state=str(report.status))
    if kind not in {k.value for k in DocumentKind}:
        raise _invalid("document_kind", "kind", "choice", allowed=[k.value for k in DocumentKind])
    if not data:
        raise _invalid("file_missing", "file", "required")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _invalid("too_large", "file", "too_large")
    if (sniffed := sniff_content_type(data)) is None:
        raise _invalid("unsupported_type", "file", "unsupported_type")
    if over_quota(stored_document_bytes(report), len(data)):
        quota_mb = document_quota_mb()
        raise DocumentQuotaExceeded(
            "document_quota",
            quota_mb=quota_mb,
            errors=[FieldError("file", "document_quota", {"quota_mb": quota_mb})],
        )
    content_type, extension = sniffed
    digest = hashlib.sha256(data).hexdigest()
    key = (
        f"documents/{report.region_code}/{report.tracking_code}/{secrets.token_hex(8)}.{extension}"
    )
    storage().put(key, data)
    document = Document(
        report_id=report.id,
        kind=DocumentKind(kind),
        content_type=content_type,
        size_bytes=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by=actor.id,
    )
    db.session.add(document)
    db.session.flush()
    record(
        "births:document:attach",
        actor,
        report=report,
        data={"document_id": document.id, "kind": kind, "sha256": digest, "size": len(data)},
        read=True,
    )
    return document
