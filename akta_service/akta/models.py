"""Issued certificates: every version of a report's akta, with its hash and public token."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.db import Base, BigIntKey, JsonData, UTCDateTime, enum_column, utcnow


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
    #: Prints and downloads by staff so far; the second and later are marked "Salinan ke-N".
    staff_copies: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
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


class CorrectionStatus(enum.StrEnum):
    """Where a request to correct an issued akta stands."""

    #: Waiting for an operator's check.
    REQUESTED = "requested"
    #: Checked by an operator: waits for the pejabat's signature of the new version.
    APPROVED = "approved"
    #: Refused by an operator, with a reason the requester reads.
    REFUSED = "refused"
    #: The corrected version is signed and in force.
    ISSUED = "issued"


#: A request still under way: a report has at most one.
OPEN_CORRECTION_STATUSES = (CorrectionStatus.REQUESTED, CorrectionStatus.APPROVED)


class AktaCorrectionRequest(Base):
    """A parent's or facility's request to correct an issued akta: checked by an operator,
    signed by the pejabat as a new version with the same number."""

    __tablename__ = "akta_correction_requests"
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'requested') = (decided_at IS NULL)", "decided_unless_requested"
        ),
        sa.CheckConstraint(
            "status <> 'refused' OR decision_reason IS NOT NULL", "refusal_has_reason"
        ),
        sa.CheckConstraint(
            "(status = 'issued') = (akta_document_id IS NOT NULL)", "issued_has_version"
        ),
        # One request under way per report: two sent at once, the second is refused.
        sa.Index(
            "uq_akta_correction_open_per_report",
            "report_id",
            unique=True,
            postgresql_where=sa.text("status IN ('requested', 'approved')"),
            sqlite_where=sa.text("status IN ('requested', 'approved')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("birth_reports.id"), index=True)
    status: Mapped[CorrectionStatus] = mapped_column(
        enum_column(CorrectionStatus, "correction_status"), default=CorrectionStatus.REQUESTED
    )
    #: The corrected values asked for, by report attribute (only correctable fields).
    changes: Mapped[dict[str, Any]] = mapped_column(JsonData)
    reason: Mapped[str] = mapped_column(sa.Text)
    supporting_document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"))
    #: The journal's actor id of who asked ("informant:<code>", "facility:<code>").
    requested_by: Mapped[str] = mapped_column(sa.String(120))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The operator's reason, read by the requester (required for a refusal).
    decision_reason: Mapped[str | None] = mapped_column(sa.Text)
    #: The corrected version, once signed.
    akta_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("akta_documents.id"))

    def __repr__(self) -> str:
        return f"<AktaCorrectionRequest {self.id} report={self.report_id} {self.status}>"


class KiaCard(Base):
    """One signed Kartu Identitas Anak (Permendagri 2/2016), issued with an akta version to a
    child under five; valid until the fifth birthday."""

    __tablename__ = "kia_cards"
    __table_args__ = (
        sa.CheckConstraint(
            "length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''", "sha256_hex"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("birth_reports.id"), index=True)
    #: The akta version issued in the same step (a corrected akta brings a new card).
    akta_document_id: Mapped[int] = mapped_column(sa.ForeignKey("akta_documents.id"), unique=True)
    child_nik: Mapped[str] = mapped_column(sa.String(16))
    valid_until: Mapped[date] = mapped_column(sa.Date)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<KiaCard report={self.report_id} akta={self.akta_document_id}>"


class KkPrint(Base):
    """The updated Kartu Keluarga of the 3-in-1 as Dukcapil returned it, printed and signed by
    this office in the issue step; the KK itself stays Dukcapil's. Only what a later KIA
    needs is kept as columns: the members are in the stored PDF alone."""

    __tablename__ = "kk_prints"
    __table_args__ = (
        sa.CheckConstraint(
            "length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''", "sha256_hex"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    #: One per report: the child joins the KK once.
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("birth_reports.id"), unique=True)
    #: The akta version issued in the same step.
    akta_document_id: Mapped[int] = mapped_column(sa.ForeignKey("akta_documents.id"))
    kk_number: Mapped[str] = mapped_column(sa.String(16))
    #: The head of family as Dukcapil's KK names them: the KIA prints this name.
    head_name: Mapped[str] = mapped_column(sa.String(200))
    head_nik: Mapped[str] = mapped_column(sa.String(16))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<KkPrint report={self.report_id} akta={self.akta_document_id}>"


class IssueFailure(Base):
    """Why the latest run of a signed report's issue step failed (the 3-in-1 with Dukcapil,
    or the signatures): the parent's status page says it. Gone once the report is issued."""

    __tablename__ = "issue_failures"

    report_id: Mapped[int] = mapped_column(
        BigIntKey, sa.ForeignKey("birth_reports.id"), primary_key=True, autoincrement=False
    )
    #: A message code (issue_dukcapil_unavailable, issue_dukcapil_refused, signing_...).
    code: Mapped[str] = mapped_column(sa.String(60))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<IssueFailure report={self.report_id} {self.code}>"
