"""The birth report and what hangs off it: documents and verification checks."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from akta_service.core.db import (
    Base,
    BigIntKey,
    JsonData,
    UTCDateTime,
    enum_column,
    nik_check,
    utcnow,
)
from akta_service.regions.models import Region


class ReportStatus(enum.StrEnum):
    """Where a report stands in the workflow (workflows/birth_registration.yaml)."""

    SUBMITTED = "submitted"
    VERIFYING = "verifying"
    NEEDS_CORRECTION = "needs_correction"
    IN_REVIEW = "in_review"
    AWAITING_SIGNATURE = "awaiting_signature"
    REGISTERED = "registered"
    ISSUED = "issued"
    ANNULLED = "annulled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class Channel(enum.StrEnum):
    """How a report reached the office."""

    WEB = "web"
    FACILITY_API = "facility_api"
    OFFICE = "office"


class InformantRelation(enum.StrEnum):
    """Who the informant (pelapor) is to the child."""

    MOTHER = "mother"
    FATHER = "father"
    HEAD_OF_FAMILY = "head_of_family"
    GRANDPARENT = "grandparent"
    FAMILY_MEMBER = "family_member"


#: Informants who are the child's parent: their NIK and name are the parent's.
PARENT_INFORMANTS = frozenset({InformantRelation.MOTHER, InformantRelation.FATHER})


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class BirthPlaceKind(enum.StrEnum):
    FACILITY = "facility"
    HOME = "home"
    OTHER = "other"


class BirthType(enum.StrEnum):
    SINGLE = "single"
    TWIN = "twin"
    TRIPLET = "triplet"
    QUADRUPLET = "quadruplet"
    HIGHER = "higher"


class Attendant(enum.StrEnum):
    DOCTOR = "doctor"
    MIDWIFE = "midwife"
    NURSE = "nurse"
    OTHER = "other"
    NONE = "none"


class DocumentKind(enum.StrEnum):
    BIRTH_LETTER = "birth_letter"
    KK = "kk"
    MARRIAGE_CERTIFICATE = "marriage_certificate"
    SPTJM_BIRTH = "sptjm_birth"
    SPTJM_MARRIAGE = "sptjm_marriage"
    ID_MOTHER = "id_mother"
    ID_FATHER = "id_father"
    OTHER = "other"


class WordingModel(enum.StrEnum):
    """How the akta names the parents (Permendagri 108/2019), decided by verification."""

    #: "... dari ayah X dan ibu Y".
    RECORDED_MARRIAGE = "recorded_marriage"
    #: Same, plus "yang perkawinannya belum tercatat ...": the KK shows husband and wife.
    UNRECORDED_MARRIAGE = "unrecorded_marriage"
    #: "anak seorang ibu Y".
    MOTHER_ONLY = "mother_only"
    #: No parents named (child of unknown origin; police report).
    UNKNOWN_ORIGIN = "unknown_origin"


class CheckOutcome(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    FAIL = "fail"
    WARNING = "warning"


# The sets of statuses the code asks about, each named once. They are read off the workflow
# (workflows/birth_registration.yaml), and tests/workflow/test_status_sets.py holds them to
# it; they are written out here, not loaded, because the CHECK constraints and partial
# indexes below need them when this module is imported, and the workflow package imports
# this one. Each lists its statuses in the workflow's order, so the SQL built from it reads
# the same in every process and as the migrations wrote it.

#: A report carries a registration number: signed (the `sign` trigger's destination) and
#: every state after that.
NUMBERED_STATUSES = (ReportStatus.REGISTERED, ReportStatus.ISSUED, ReportStatus.ANNULLED)
#: Neither ended nor numbered: the report still waits for someone (the office's queue).
OPEN_STATUSES = (
    ReportStatus.SUBMITTED,
    ReportStatus.VERIFYING,
    ReportStatus.NEEDS_CORRECTION,
    ReportStatus.IN_REVIEW,
    ReportStatus.AWAITING_SIGNATURE,
)
#: Not yet approved: the informant may still cancel (the `cancel` trigger's sources), and
#: documents may still be added.
CANCELLABLE_STATUSES = (
    ReportStatus.SUBMITTED,
    ReportStatus.VERIFYING,
    ReportStatus.NEEDS_CORRECTION,
    ReportStatus.IN_REVIEW,
)
#: Waiting for its Dukcapil check: the sources of `start_verification` and of its outcomes.
AWAITING_VERIFICATION = (ReportStatus.SUBMITTED, ReportStatus.VERIFYING)
#: Open and past the start, with nothing for the informant to do but wait: the office (or
#: its Dukcapil check) has to move the report on.
WAITING_FOR_OFFICE = (
    ReportStatus.VERIFYING,
    ReportStatus.IN_REVIEW,
    ReportStatus.AWAITING_SIGNATURE,
)
#: Ended without an akta (final and never numbered).
ENDED_WITHOUT_AKTA = (ReportStatus.REJECTED, ReportStatus.CANCELLED)


def _sql_list(statuses: tuple[ReportStatus, ...]) -> str:
    return ", ".join(f"'{status}'" for status in statuses)


# Partial-index predicates: the queue is a few thousand rows of millions, and its indexes
# hold only those. Written on bare columns so they render the same on both databases.
_IN_QUEUE = sa.column("status").in_([str(status) for status in OPEN_STATUSES])
_QUEUE_DUPLICATE = sa.and_(sa.column("potential_duplicate").is_(True), _IN_QUEUE)
_QUEUE_LATE = sa.and_(sa.column("is_late").is_(True), _IN_QUEUE)
_CLAIMED = sa.column("assigned_to_id").is_not(None)
#: What :attr:`BirthReport.search_names` holds. No name holds a line break, so no search
#: (which never has one) matches across the two names.
SEARCH_NAMES_SEPARATOR = "\n"
SEARCH_NAMES = f"lower(child_name) || '{SEARCH_NAMES_SEPARATOR}' || lower(mother_name)"


#: `insert_default` of the columns filled only later in a report's life (registration,
#: claim, PIN lock, duplicate link): a new report's INSERT carries their NULL in its SQL, not
#: as parameters. psycopg caches the parsing of a statement's placeholders only for up to 50
#: parameters; with these the INSERT had 56, and parsing it afresh on every submission cost
#: a tenth of the request. (`eager_defaults` below: the INSERT returns them, so reading one
#: after a flush asks the database nothing.)
FILLED_LATER = sa.null()


class BirthReport(Base):
    """One reported birth, from submission to the issued akta."""

    __tablename__ = "birth_reports"
    __table_args__ = (
        sa.CheckConstraint(
            f"(status IN ({_sql_list(NUMBERED_STATUSES)})) = (registration_number IS NOT NULL)",
            "registration_number_iff_registered",
        ),
        sa.CheckConstraint("version >= 1", "version_positive"),
        sa.CheckConstraint("child_birth_order >= 1", "birth_order_positive"),
        sa.CheckConstraint(
            "child_weight_grams IS NULL OR child_weight_grams BETWEEN 200 AND 8000", "weight_range"
        ),
        sa.CheckConstraint(
            "child_length_cm IS NULL OR child_length_cm BETWEEN 15 AND 70", "length_range"
        ),
        sa.CheckConstraint(
            "marriage_recorded OR (marriage_certificate_number IS NULL AND marriage_date IS NULL)",
            "marriage_facts_only_when_recorded",
        ),
        sa.CheckConstraint(
            "(father_nik IS NULL) = (father_name IS NULL)", "father_nik_and_name_together"
        ),
        sa.CheckConstraint(
            "length(kk_number) = 16 AND ltrim(kk_number, '0123456789') = ''", "kk_number_16_digits"
        ),
        nik_check("mother_nik", nullable=False),
        nik_check("father_nik"),
        nik_check("informant_nik", nullable=False),
        nik_check("witness1_nik", nullable=False),
        nik_check("witness2_nik", nullable=False),
        nik_check("child_nik"),
        sa.Index("ix_birth_reports_status_submitted", "status", "submitted_at", "id"),
        # The queue's tabs, searches and deep pages walk the order reports entered their status.
        sa.Index("ix_birth_reports_status_since", "status", "status_since", "id"),
        # With the columns a name search filters on (PostgreSQL): a common name walks this
        # index alone, not the table's rows, until it has a page of matches.
        sa.Index(
            "ix_birth_reports_since",
            "status_since",
            "id",
            postgresql_include=["region_code", "search_names"],
        ),
        # Search results and the deep queue pages walk submission order.
        sa.Index("ix_birth_reports_submitted", "submitted_at", "id"),
        # Tab counts, and who holds how many of a tab's reports, read the open reports only
        # (an index-only scan), not years of issued ones.
        sa.Index(
            "ix_birth_reports_open",
            "region_code",
            "status",
            "is_late",
            "potential_duplicate",
            "dukcapil_unavailable",
            "dukcapil_unavailable_since",
            "assigned_to_id",
            postgresql_where=_IN_QUEUE,
            sqlite_where=_IN_QUEUE,
        ),
        # Who holds how many of a tab's reports: the claimed ones only (a clerk holds a
        # handful; a claim ends when the report moves on, so all of them are open).
        sa.Index(
            "ix_birth_reports_claimed",
            "region_code",
            "status",
            "is_late",
            "potential_duplicate",
            "dukcapil_unavailable",
            "dukcapil_unavailable_since",
            "assigned_to_id",
            postgresql_where=_CLAIMED,
            sqlite_where=_CLAIMED,
        ),
        sa.Index(
            "ix_birth_reports_duplicate_queue",
            "status_since",
            "id",
            postgresql_where=_QUEUE_DUPLICATE,
            sqlite_where=_QUEUE_DUPLICATE,
        ),
        sa.Index(
            "ix_birth_reports_late_queue",
            "status_since",
            "id",
            postgresql_where=_QUEUE_LATE,
            sqlite_where=_QUEUE_LATE,
        ),
        # Name search (LIKE '%...%') through trigrams on PostgreSQL; a plain index on SQLite.
        sa.Index(
            "ix_birth_reports_search_names_trgm",
            "search_names",
            postgresql_using="gin",
            postgresql_ops={"search_names": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    #: Public code given to the informant; with the PIN it opens the status page.
    tracking_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    #: kab/kota whose office registers this birth (from the KK).
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    #: Facility that reported through the API, if any.
    facility_code: Mapped[str | None] = mapped_column(sa.ForeignKey("facilities.code"), index=True)
    status: Mapped[ReportStatus] = mapped_column(
        enum_column(ReportStatus, "report_status"), default=ReportStatus.SUBMITTED
    )
    #: Optimistic lock: bumped on every change; a write based on an older one is refused.
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    child_name: Mapped[str] = mapped_column(sa.String(200))
    child_sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    child_birth_date: Mapped[date] = mapped_column(sa.Date)
    child_birth_time: Mapped[time | None] = mapped_column(sa.Time)
    child_birth_place: Mapped[str] = mapped_column(sa.String(200))
    child_birth_place_kind: Mapped[BirthPlaceKind] = mapped_column(
        enum_column(BirthPlaceKind, "birth_place_kind")
    )
    #: "anak ke-": 1 for the first child of the mother.
    child_birth_order: Mapped[int] = mapped_column(sa.SmallInteger)
    child_birth_type: Mapped[BirthType] = mapped_column(enum_column(BirthType, "birth_type"))
    child_weight_grams: Mapped[int | None] = mapped_column(sa.Integer)
    child_length_cm: Mapped[int | None] = mapped_column(sa.SmallInteger)
    child_attendant: Mapped[Attendant] = mapped_column(enum_column(Attendant, "attendant"))
    #: Assigned by Dukcapil when the akta is issued (3-in-1).
    child_nik: Mapped[str | None] = mapped_column(
        sa.String(16), unique=True, insert_default=FILLED_LATER
    )

    mother_nik: Mapped[str] = mapped_column(sa.String(16), index=True)
    mother_name: Mapped[str] = mapped_column(sa.String(200))
    #: The child's and the mother's names in lower case, one line each, kept by the
    #: database: a name search matches LIKE on this (a tenth of the cost of ILIKE on each).
    search_names: Mapped[str] = mapped_column(
        sa.Text, sa.Computed(SEARCH_NAMES, persisted=True), deferred=True
    )
    mother_birth_date: Mapped[date] = mapped_column(sa.Date)
    father_nik: Mapped[str | None] = mapped_column(sa.String(16), index=True)
    father_name: Mapped[str | None] = mapped_column(sa.String(200))
    father_birth_date: Mapped[date | None] = mapped_column(sa.Date)
    kk_number: Mapped[str] = mapped_column(sa.String(16), index=True)

    marriage_recorded: Mapped[bool] = mapped_column(sa.Boolean)
    marriage_certificate_number: Mapped[str | None] = mapped_column(sa.String(60))
    marriage_date: Mapped[date | None] = mapped_column(sa.Date)

    #: Who the informant is to the child: an InformantRelation value (checked on input).
    informant_relation: Mapped[InformantRelation] = mapped_column(
        enum_column(InformantRelation, "informant_relation")
    )
    informant_nik: Mapped[str] = mapped_column(sa.String(16))
    informant_name: Mapped[str] = mapped_column(sa.String(200))
    informant_phone: Mapped[str | None] = mapped_column(sa.String(20))
    informant_email: Mapped[str | None] = mapped_column(sa.String(254))
    witness1_nik: Mapped[str] = mapped_column(sa.String(16))
    witness1_name: Mapped[str] = mapped_column(sa.String(200))
    witness2_nik: Mapped[str] = mapped_column(sa.String(16))
    witness2_name: Mapped[str] = mapped_column(sa.String(200))
    #: Number of the surat keterangan lahir; absent means an SPTJM is needed.
    birth_letter_number: Mapped[str | None] = mapped_column(sa.String(60))

    #: Reported more than the on-time period after the birth: the pejabat decides.
    is_late: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: Looks like a birth already reported; blocks approval until a clerk decides.
    potential_duplicate: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("birth_reports.id"), insert_default=FILLED_LATER
    )
    #: Dukcapil did not answer; verification resumes by itself.
    dukcapil_unavailable: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    #: When Dukcapil first failed to answer for this report (clears when it answers).
    dukcapil_unavailable_since: Mapped[datetime | None] = mapped_column(
        UTCDateTime, insert_default=FILLED_LATER
    )
    #: When verification is next due; the sweep re-enqueues reports past due (lost jobs).
    next_verification_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Consecutive verification attempts that found Dukcapil unavailable.
    verification_attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    #: Set by verification from the marriage facts; decides the akta's wording.
    wording_model: Mapped[WordingModel | None] = mapped_column(
        enum_column(WordingModel, "wording_model")
    )

    #: The clerk who holds the report: only they act on it until they release it.
    assigned_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id"), index=True, insert_default=FILLED_LATER
    )
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, insert_default=FILLED_LATER)

    #: argon2 hash of the informant's status PIN (web reports); never the PIN itself.
    pin_hash: Mapped[str | None] = mapped_column(sa.String(200))
    #: Wrong PINs in a row; reaching the limit locks the status page for this report a while.
    pin_failures: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    pin_locked_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime, insert_default=FILLED_LATER
    )

    registration_number: Mapped[str | None] = mapped_column(
        sa.String(40), unique=True, insert_default=FILLED_LATER
    )
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, insert_default=FILLED_LATER)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the report entered its current status: what the queue counts waiting from.
    status_since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    region: Mapped[Region] = relationship()
    documents: Mapped[list[Document]] = relationship(
        back_populates="report", order_by="Document.id"
    )
    checks: Mapped[list[VerificationCheck]] = relationship(
        back_populates="report", order_by="VerificationCheck.id"
    )

    __mapper_args__ = {"version_id_col": version, "eager_defaults": True}  # noqa: RUF012

    def __repr__(self) -> str:
        return f"<BirthReport {self.id} {self.tracking_code} {self.status} v{self.version}>"

    @property
    def flags(self) -> list[str]:
        """The flags set on the report, by their workflow names."""
        names = {
            "late": self.is_late,
            "potential_duplicate": self.potential_duplicate,
            "dukcapil_unavailable": self.dukcapil_unavailable,
        }
        return [name for name, is_set in names.items() if is_set]


class Document(Base):
    """An uploaded scan or photo; the bytes live in storage under `storage_key`."""

    __tablename__ = "documents"
    __table_args__ = (
        sa.CheckConstraint("size_bytes > 0", "size_positive"),
        sa.CheckConstraint(
            "length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''", "sha256_hex"
        ),
        sa.CheckConstraint(
            "content_type IN ('application/pdf', 'image/jpeg', 'image/png')", "content_type_known"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("birth_reports.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind, "document_kind"))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by: Mapped[str] = mapped_column(sa.String(80))
    #: A PDF's pages, 1 for an image; NULL until its pictures were made (older documents).
    pages: Mapped[int | None] = mapped_column(sa.Integer)
    #: Why no picture can be made of a stored file (a message code), e.g. a damaged PDF kept
    #: from before files were checked on upload.
    picture_refusal: Mapped[str | None] = mapped_column(sa.String(40))

    report: Mapped[BirthReport] = relationship(back_populates="documents")
    pictures: Mapped[list[DocumentPicture]] = relationship(
        back_populates="document", order_by="DocumentPicture.page"
    )

    def __repr__(self) -> str:
        return f"<Document {self.id} {self.kind} {self.content_type} {self.size_bytes}B>"


class DocumentPicture(Base):
    """What clerks are shown of a document: the image written again from its pixels, or one
    page of a PDF as a picture, made once from the upload in a limited process. The upload
    itself is kept as evidence and never sent to a browser."""

    __tablename__ = "document_pictures"
    __table_args__ = (
        sa.UniqueConstraint("document_id", "page", name="uq_document_picture_page"),
        sa.CheckConstraint("page > 0", "page_positive"),
        sa.CheckConstraint("content_type IN ('image/jpeg', 'image/png')", "content_type_picture"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("documents.id"), index=True)
    #: The page it shows, from 1 (an image has page 1 only).
    page: Mapped[int] = mapped_column(sa.Integer)
    content_type: Mapped[str] = mapped_column(sa.String(40))
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    storage_key: Mapped[str] = mapped_column(sa.String(300), unique=True)

    document: Mapped[Document] = relationship(back_populates="pictures")

    def __repr__(self) -> str:
        return f"<DocumentPicture {self.document_id} p{self.page} {self.width}x{self.height}>"


class VerificationCheck(Base):
    """The outcome of one check of a report version, with a message a person can act on."""

    __tablename__ = "verification_checks"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "report_version", "name", name="uq_check_per_version"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(sa.ForeignKey("birth_reports.id"), index=True)
    #: The report version that was checked; re-verification adds a new set.
    report_version: Mapped[int] = mapped_column(sa.Integer)
    name: Mapped[str] = mapped_column(sa.String(60))
    outcome: Mapped[CheckOutcome] = mapped_column(enum_column(CheckOutcome, "check_outcome"))
    #: In Indonesian, for clerks: the whole answer, and for a failure what to fix.
    message: Mapped[str] = mapped_column(sa.Text)
    #: What the reporter (web informant, facility) reads when the message tells something
    #: Dukcapil holds about someone (a death, a move, a KK's children, another report);
    #: empty when the message itself tells nothing of that kind.
    reporter_message: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[BirthReport] = relationship(back_populates="checks")

    @property
    def for_reporter(self) -> str:
        """The message as the reporter reads it."""
        return self.reporter_message or self.message

    def __repr__(self) -> str:
        return f"<VerificationCheck {self.name}={self.outcome} report={self.report_id}>"
