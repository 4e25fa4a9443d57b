"""Facilities that report births through the API, and the credentials they use."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from akta_service.core.db import Base, UTCDateTime, enum_column, utcnow


class FacilityKind(enum.StrEnum):
    HOSPITAL = "hospital"
    PUSKESMAS = "puskesmas"
    CLINIC = "clinic"
    MIDWIFE = "midwife"


class Facility(Base):
    """A place births happen and are reported from."""

    __tablename__ = "facilities"
    __table_args__ = (
        sa.CheckConstraint(
            "length(code) BETWEEN 2 AND 20 AND ltrim(code, "
            "'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-') = ''",
            "code_format",
        ),
    )

    #: Short code the office gives the facility, e.g. "RSUD-GJ".
    code: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[FacilityKind] = mapped_column(enum_column(FacilityKind, "facility_kind"))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Where status changes of the facility's reports are POSTed, signed with the secret.
    webhook_url: Mapped[str | None] = mapped_column(sa.String(500))
    #: Shared HMAC secret for webhook signatures (shown once when set).
    webhook_secret: Mapped[str | None] = mapped_column(sa.String(100))

    credentials: Mapped[list[ApiCredential]] = relationship(
        back_populates="facility", order_by="ApiCredential.id"
    )

    def __repr__(self) -> str:
        return f"<Facility {self.code} {self.kind} {self.name}>"


class ApiCredential(Base):
    """A bearer token of a facility: shown once, stored as a hash, revocable."""

    __tablename__ = "api_credentials"
    __table_args__ = (sa.CheckConstraint("length(secret_sha256) = 64", "secret_hash_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_code: Mapped[str] = mapped_column(sa.ForeignKey("facilities.code"), index=True)
    #: Public part of the token, to find the credential without scanning hashes.
    key_id: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: SHA-256 of the secret part: the secret is 256 random bits, so a slow hash adds nothing.
    secret_sha256: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(80))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    facility: Mapped[Facility] = relationship(back_populates="credentials")

    def __repr__(self) -> str:
        return f"<ApiCredential {self.key_id} {self.facility_code} revoked={self.revoked_at}>"
