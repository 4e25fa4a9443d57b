"""Attaching scans and photos of documents to a report, judged by content, not by name."""

from __future__ import annotations

import hashlib
import secrets

from akta_service.births.models import BirthReport, Document, DocumentKind, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.db import db
from akta_service.core.errors import IllegalTransition, InvalidInput
from akta_service.core.storage import storage

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

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

#: Documents can be added until the report is approved.
OPEN_STATUSES = (
    ReportStatus.SUBMITTED,
    ReportStatus.VERIFYING,
    ReportStatus.NEEDS_CORRECTION,
    ReportStatus.IN_REVIEW,
)


def sniff_content_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the bytes, or None for anything else."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def _invalid(field: str, code: str, message: str, message_en: str) -> InvalidInput:
    return InvalidInput(
        message,
        errors=[{"field": field, "code": code, "message": message}],
        message_en=message_en,
    )


def attach_document(report: BirthReport, kind: str, data: bytes, actor: Actor) -> Document:
    """Store the file and record it on the report (flushed, journalled)."""
    if report.status not in OPEN_STATUSES:
        raise IllegalTransition(
            f"Dokumen tidak dapat ditambahkan pada laporan berstatus '{report.status}'.",
            state=str(report.status),
            message_en=f"Documents cannot be added to a report in status '{report.status}'.",
        )
    if kind not in {k.value for k in DocumentKind}:
        allowed = ", ".join(k.value for k in DocumentKind)
        raise _invalid(
            "kind",
            "choice",
            f"Jenis dokumen harus salah satu dari: {allowed}",
            f"kind must be one of: {allowed}",
        )
    if not data:
        raise _invalid("file", "required", "Pilih berkas dokumen", "Attach a file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise _invalid(
            "file",
            "too_large",
            "Berkas terlalu besar: maksimal 10 MB",
            "The file is too large: 10 MB at most",
        )
    sniffed = sniff_content_type(data)
    if sniffed is None:
        raise _invalid(
            "file",
            "unsupported_type",
            "Berkas harus PDF, JPEG atau PNG (dilihat dari isinya, bukan namanya)",
            "The file must be a PDF, JPEG or PNG (judged by its content, not its name)",
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
