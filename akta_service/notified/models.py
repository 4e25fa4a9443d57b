"""A facility's birth notification: the bedside facts, the family's contact, its link."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.births.models import Attendant, BirthPlaceKind, BirthType, Sex
from akta_service.core.db import (
    Base,
    BigIntKey,
    JsonData,
    UTCDateTime,
    enum_column,
    nik_check,
    utcnow,
)


class NotificationStatus(enum.StrEnum):
    """Where a notification stands (workflows/birth_notification.yaml)."""

    NOTIFIED = "notified"
    COMPLETED = "completed"
    EXPIRED = "expired"


class NotifiedBirth(Base):
    """A birth a facility notified; the family completes it into a birth report."""

    __tablename__ = "notified_births"
    __table_args__ = (
        sa.CheckConstraint(
            "(status = 'completed') = (report_id IS NOT NULL)", "report_iff_completed"
        ),
        sa.CheckConstraint(
            "contact_phone IS NOT NULL OR contact_email IS NOT NULL", "family_contact_given"
        ),
        sa.CheckConstraint("birth_order >= 1", "notified_birth_order_positive"),
        sa.CheckConstraint(
            "weight_grams IS NULL OR weight_grams BETWEEN 200 AND 8000", "notified_weight_range"
        ),
        sa.CheckConstraint(
            "length_cm IS NULL OR length_cm BETWEEN 15 AND 70", "notified_length_range"
        ),
        nik_check("mother_nik", nullable=False),
        # The office's follow-up list: open notifications, oldest birth first.
        sa.Index("ix_notified_births_status_birth", "status", "birth_date", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    #: Given to the facility at once; the completed report keeps it.
    tracking_code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    facility_code: Mapped[str] = mapped_column(sa.ForeignKey("facilities.code"), index=True)
    #: The office that follows it up: the facility's kab/kota.
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    status: Mapped[NotificationStatus] = mapped_column(
        enum_column(NotificationStatus, "notification_status"), default=NotificationStatus.NOTIFIED
    )
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    #: The facility's generic name for the child, e.g. "Bayi Ny. Siti Aminah".
    provisional_name: Mapped[str | None] = mapped_column(sa.String(200))
    sex: Mapped[Sex] = mapped_column(enum_column(Sex, "sex"))
    birth_date: Mapped[date] = mapped_column(sa.Date)
    birth_time: Mapped[time | None] = mapped_column(sa.Time)
    birth_place: Mapped[str] = mapped_column(sa.String(200))
    birth_place_kind: Mapped[BirthPlaceKind] = mapped_column(
        enum_column(BirthPlaceKind, "birth_place_kind")
    )
    birth_order: Mapped[int] = mapped_column(sa.SmallInteger)
    birth_type: Mapped[BirthType] = mapped_column(enum_column(BirthType, "birth_type"))
    weight_grams: Mapped[int | None] = mapped_column(sa.Integer)
    length_cm: Mapped[int | None] = mapped_column(sa.SmallInteger)
    attendant: Mapped[Attendant] = mapped_column(enum_column(Attendant, "attendant"))
    birth_letter_number: Mapped[str | None] = mapped_column(sa.String(60))
    mother_nik: Mapped[str] = mapped_column(sa.String(16), index=True)
    mother_name: Mapped[str] = mapped_column(sa.String(200))

    #: Where the family is told how to complete it, and reminded.
    contact_phone: Mapped[str | None] = mapped_column(sa.String(20))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    #: The birth letter the facility uploaded (storage_key, content_type, size_bytes, sha256):
    #: the family's form starts with it as their document.
    birth_letter: Mapped[dict[str, Any] | None] = mapped_column(JsonData)
    #: Reminder days (after the birth) already dealt with, each sent once.
    reminders_sent: Mapped[list[int]] = mapped_column(JsonData, default=list)
    #: When the next reminder is due (None: every reminder went out, or it is no longer open).
    next_reminder_on: Mapped[date | None] = mapped_column(sa.Date, index=True)

    #: The report the family's completion became.
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("birth_reports.id"), unique=True)
    notified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012

    def __repr__(self) -> str:
        return f"<NotifiedBirth {self.id} {self.tracking_code} {self.status} v{self.version}>"


class CompletionLink(Base):
    """One link the family was sent (the first message, each reminder): its token's hash."""

    __tablename__ = "notification_links"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    notified_birth_id: Mapped[int] = mapped_column(sa.ForeignKey("notified_births.id"), index=True)
    #: SHA-256 of the link's secret token; the token itself is only ever sent.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<CompletionLink {self.id} notice={self.notified_birth_id}>"


class FhirBundleReceipt(Base):
    """A FHIR Bundle a facility sent, by its identifier: a re-send gets the same answer."""

    __tablename__ = "fhir_bundle_receipts"
    __table_args__ = (
        sa.UniqueConstraint("facility_code", "bundle_key", name="uq_fhir_bundle_per_facility"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    facility_code: Mapped[str] = mapped_column(sa.ForeignKey("facilities.code"))
    #: Bundle.identifier's system and value, "system|value".
    bundle_key: Mapped[str] = mapped_column(sa.String(300))
    #: SHA-256 of the Bundle as sent: the same identifier with other content is refused.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The notification it made (drawn before it, so that the receipt is written first).
    tracking_code: Mapped[str] = mapped_column(sa.String(12))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<FhirBundleReceipt {self.id} {self.facility_code} {self.bundle_key}>"
