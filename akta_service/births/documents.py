"""Attaching scans and photos of documents to a report, judged by content, not by name.

Every file is opened in a limited child process first (core.untrusted_files): one that cannot
be opened safely is refused with a message naming why, and nothing is stored. The upload is
kept byte for byte as evidence (its SHA-256 is what the sender is told); clerks are shown only
the pictures made of it, stored with it once and never made again.
"""

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
    DocumentPicture,
    ReportStatus,
)
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.config import current_settings
from akta_service.core.db import db
from akta_service.core.errors import DomainError, FieldError, IllegalTransition, InvalidInput
from akta_service.core.storage import storage
from akta_service.core.untrusted_files import (
    FileRefused,
    Inspection,
    Picture,
    inspect_file,
    sniff_content_type,
)

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


def upload_request_body(**fields: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI request body of an upload: multipart `file` (PDF, JPEG or PNG judged by its
    content, 10 MB at most) beside the other form `fields` given, all required."""
    file = {"type": "string", "format": "binary", "minLength": 1, "maxLength": MAX_DOCUMENT_BYTES}
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [*fields, "file"],
                    "properties": {**fields, "file": file},
                },
                # Judged by its content (unsupported_type otherwise), 10 MB at most.
                "encoding": {"file": {"contentType": "application/pdf, image/jpeg, image/png"}},
            }
        },
    }


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


def _invalid(reason: str, field: str, code: str, **params: Any) -> InvalidInput:
    return InvalidInput(reason, errors=[FieldError(field, code)], **params)


__all__ = ["sniff_content_type"]

#: File name extensions of the pictures' types.
PICTURE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def inspected(data: bytes, field: str = "file") -> Inspection:
    """The file opened in a limited process, or InvalidInput naming why it cannot be taken."""
    try:
        return inspect_file(data)
    except FileRefused as refused:
        raise _invalid(refused.code, field, refused.code, **refused.params) from refused


#: Reports that take documents: open ones, and an issued one (the evidence for a correction).
DOCUMENT_OPEN_STATUSES = (*CANCELLABLE_STATUSES, ReportStatus.ISSUED)


def attach_document(
    report: BirthReport,
    kind: str,
    data: bytes,
    actor: Actor,
    inspection: Inspection | None = None,
    evidence_after_issue: bool = False,
) -> Document:
    """Store the file and the pictures clerks see of it, and record it on the report (flushed,
    journalled). Raises InvalidInput, storing nothing, for a file that cannot be taken.

    :param inspection: the file as already opened by the caller (`inspected`), if it was.
    :param evidence_after_issue: the office's evidence for an issued akta (an annulment's
        court order), taken when the report's own documents are closed.
    """
    if report.status not in DOCUMENT_OPEN_STATUSES and not evidence_after_issue:
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
    if inspection is None:
        inspection = inspected(data)
    digest = hashlib.sha256(data).hexdigest()
    stem = f"documents/{report.region_code}/{report.tracking_code}/{secrets.token_hex(8)}"
    key = f"{stem}.{extension}"
    storage().put(key, data)
    document = Document(
        report_id=report.id,
        kind=DocumentKind(kind),
        content_type=content_type,
        size_bytes=len(data),
        sha256=digest,
        storage_key=key,
        uploaded_by=actor.id,
        pages=inspection.pages,
    )
    db.session.add(document)
    db.session.flush()
    _store_pictures(document, stem, inspection.pictures)
    record(
        "births:document:attach",
        actor,
        report=report,
        data={"document_id": document.id, "kind": kind, "sha256": digest, "size": len(data)},
        read=True,
    )
    return document


def _store_pictures(document: Document, stem: str, pictures: tuple[Picture, ...]) -> None:
    for page, picture in enumerate(pictures, start=1):
        key = f"{stem}-{page}.{PICTURE_EXTENSIONS[picture.content_type]}"
        storage().put(key, picture.data)
        db.session.add(
            DocumentPicture(
                document_id=document.id,
                page=page,
                content_type=picture.content_type,
                width=picture.width,
                height=picture.height,
                size_bytes=len(picture.data),
                storage_key=key,
            )
        )
    db.session.flush()


def document_pictures(document: Document) -> list[DocumentPicture]:
    """The pictures clerks are shown of the document, in page order. A document stored before
    pictures were made on upload gets them now, once (opened in a limited process like an
    upload); one that cannot be opened gets none and keeps the reason (`picture_refusal`)."""
    if document.pages is None and document.picture_refusal is None:
        _make_pictures(document)
    return list(document.pictures)


def _make_pictures(document: Document) -> None:
    # Two clerks opening the same older document: the second waits, then finds the pictures.
    db.session.execute(
        sa.select(Document.id)
        .where(Document.id == document.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    db.session.refresh(document)
    if document.pages is not None or document.picture_refusal is not None:
        return
    try:
        inspection = inspect_file(storage().get(document.storage_key))
    except FileNotFoundError:
        return
    except FileRefused as refused:
        document.picture_refusal = refused.code
        db.session.flush()
        return
    document.pages = inspection.pages
    stem = document.storage_key.rsplit(".", 1)[0]
    _store_pictures(document, stem, inspection.pictures)
    db.session.expire(document, ["pictures"])
