"""The outbox: one row per message to deliver, kept as the delivery log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.db import Base, BigIntKey, JsonData, UTCDateTime, enum_column, utcnow


class DeliveryChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    #: Gave up after the last attempt; visible in the delivery log.
    FAILED = "failed"


#: What a webhook attempt can come to, as the delivery log shows it.
DELIVERY_RESULTS = ("2xx", "3xx", "4xx", "5xx", "timeout", "unreachable", "refused")


class Delivery(Base):
    """A message for one recipient about one event, with every attempt's outcome."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
        sa.UniqueConstraint("event_id", "channel", "recipient", name="uq_delivery_per_recipient"),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    report_id: Mapped[int | None] = mapped_column(sa.ForeignKey("birth_reports.id"), index=True)
    facility_code: Mapped[str | None] = mapped_column(sa.ForeignKey("facilities.code"), index=True)
    channel: Mapped[DeliveryChannel] = mapped_column(
        enum_column(DeliveryChannel, "delivery_channel")
    )
    #: E-mail address, phone number or webhook URL.
    recipient: Mapped[str] = mapped_column(sa.String(500))
    #: e.g. "birth_report.issued".
    event: Mapped[str] = mapped_column(sa.String(60))
    #: Same for every recipient of one event; webhook receivers deduplicate on it.
    event_id: Mapped[str] = mapped_column(sa.String(36))
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    #: The body holds a secret (the status PIN): it is replaced by a note once the delivery
    #: is sent or given up, so the secret does not stay in the database.
    body_is_secret: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JsonData, default=dict)
    status: Mapped[DeliveryStatus] = mapped_column(
        enum_column(DeliveryStatus, "delivery_status"), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    #: Response status of the last webhook attempt.
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)
    #: What the last webhook attempt came to, as the facility's delivery log shows it:
    #: "2xx", "3xx", "4xx", "5xx", "timeout", "unreachable" or "refused" (the address is
    #: not public). Never the receiver's answer or an error's text.
    last_result: Mapped[str | None] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.channel} {self.event} {self.status} x{self.attempts}>"
