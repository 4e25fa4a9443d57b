"""Issued certificates: every version of a report's akta, with its hash and public token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.db import Base, BigIntKey, JsonData, UTCDateTime, utcnow


class AktaDocument(Base):
    """One signed Kutipan Akta Kelahiran; a correction adds a version, never edits one."""

    __tablename__ = "akta_documents"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "version", name="uq_akta_version_per_report"),
        sa.CheckConstraint("version >= 1", "version_positive"),
        sa.CheckConstraint(
            "length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''", "sha256_hex"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("birth_reports.id"), index=True)
    version: Mapped[int] = mapped_column(sa.Integer)
    registration_number: Mapped[str] = mapped_column(sa.String(40), index=True)
    #: SHA-256 of the signed PDF, shown on the public verification page.
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    #: The unguessable part of the public verification URL printed as the QR code.
    verification_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    signer_name: Mapped[str] = mapped_column(sa.String(200))
    signer_nip: Mapped[str | None] = mapped_column(sa.String(18))
    signer_title: Mapped[str | None] = mapped_column(sa.String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Set when a correction issued a newer version.
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: For a correction: why, what changed, and the supporting document.
    correction_reason: Mapped[str | None] = mapped_column(sa.Text)
    correction_changes: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    correction_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))
    #: Set when a pejabat annulled the akta (every version of it): a court order or a void
    #: registration, with the reason and the supporting document.
    annulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    annulment_reason: Mapped[str | None] = mapped_column(sa.Text)
    annulment_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("documents.id"))

    def __repr__(self) -> str:
        return (
            f"<AktaDocument {self.registration_number} v{self.version} "
            f"superseded={self.superseded_at is not None}>"
        )


class SigningAuthorisation(Base):
    """What a pejabat's passphrase bought at the signing service when they signed: an
    authorisation for one signature, kept sealed until the issue step uses it, then deleted.

    Neither the passphrase nor any key is ever here: the signing service checked the one
    and holds the other.
    """

    __tablename__ = "signing_authorisations"

    report_id: Mapped[int] = mapped_column(
        BigIntKey, sa.ForeignKey("birth_reports.id"), primary_key=True, autoincrement=False
    )
    #: The pejabat whose key signs: the akta names them.
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    #: The service's signature activation data, encrypted with a key derived from the
    #: service's secret key (Fernet).
    sealed: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<SigningAuthorisation report={self.report_id} signer={self.signer_id}>"


class SigningBatchItem(Base):
    """One report of a batch a pejabat signed with one passphrase and one TOTP code: its
    place in the batch, and why its issue step failed while it did (None: it did not)."""

    __tablename__ = "signing_batch_items"

    #: The batch's unguessable id (the status page's address).
    batch_id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigIntKey, sa.ForeignKey("birth_reports.id"), primary_key=True, autoincrement=False
    )
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    position: Mapped[int] = mapped_column(sa.Integer)
    #: A message code: why signing or issuing this report failed (the latest attempt).
    failure: Mapped[str | None] = mapped_column(sa.String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<SigningBatchItem {self.batch_id} report={self.report_id}>"
