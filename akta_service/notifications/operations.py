"""Creating deliveries when a report changes, and delivering them (a retried job)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import render_template

from akta_service.births.codes import format_tracking_code
from akta_service.births.models import BirthReport
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.facilities.models import Facility
from akta_service.jobs.queue import enqueue, job
from akta_service.notifications.channels import (
    DeliveryFailed,
    post_webhook,
    send_email,
    send_sms,
)
from akta_service.notifications.models import Delivery, DeliveryChannel, DeliveryStatus

DELIVER_JOB = "notifications.deliver"
#: After this many failed attempts a delivery is marked failed (about a day of retries).
MAX_ATTEMPTS = 12

#: Status changes the informant is told about, with the e-mail subject.
INFORMANT_EVENTS = {
    "submitted": "Laporan kelahiran diterima",
    "needs_correction": "Laporan kelahiran perlu diperbaiki",
    "issued": "Akta kelahiran sudah terbit",
    "rejected": "Laporan kelahiran ditolak",
}


def _add(report: BirthReport, channel: DeliveryChannel, recipient: str, **fields: Any) -> None:
    delivery = Delivery(
        report_id=report.id,
        channel=channel,
        recipient=recipient,
        next_attempt_at=utcnow(),
        **fields,
    )
    db.session.add(delivery)
    enqueue(DELIVER_JOB, delivery)


def notify_status_change(
    report: BirthReport, from_state: str | None, to_state: str, reason: str | None
) -> None:
    """Queue the messages this change calls for, in the current transaction."""
    event = f"birth_report.{to_state}"
    event_id = str(uuid.uuid4())
    context = {
        "report": report,
        "code": format_tracking_code(report.tracking_code),
        "reason": reason,
        "public_base_url": current_settings().public_base_url,
    }
    subject = INFORMANT_EVENTS.get(to_state)
    if subject:
        text = render_template(f"emails/{to_state}.txt", **context).strip()
        if report.informant_email:
            _add(
                report,
                DeliveryChannel.EMAIL,
                report.informant_email,
                event=event,
                event_id=event_id,
                subject=f"{subject} ({context['code']})",
                body=text,
            )
        if report.informant_phone:
            sms = render_template(f"emails/{to_state}.sms.txt", **context).strip()
            _add(
                report,
                DeliveryChannel.SMS,
                report.informant_phone,
                event=event,
                event_id=event_id,
                body=sms,
            )
    facility = db.session.get(Facility, report.facility_code) if report.facility_code else None
    if facility is not None and facility.webhook_url:
        _add(
            report,
            DeliveryChannel.WEBHOOK,
            facility.webhook_url,
            facility_code=facility.code,
            event=event,
            event_id=event_id,
            payload={
                "event_id": event_id,
                "event": event,
                "occurred_at": utcnow().isoformat(),
                "data": {
                    "tracking_code": report.tracking_code,
                    "status": to_state,
                    "previous_status": from_state,
                    "reason": reason,
                    "registration_number": report.registration_number,
                    "child_nik": report.child_nik,
                    "version": report.version,
                },
            },
        )


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** (attempts - 1), 3600))


def _send(delivery: Delivery) -> int | None:
    settings = current_settings()
    if delivery.channel == DeliveryChannel.EMAIL:
        send_email(
            settings.smtp_url,
            settings.mail_from,
            delivery.recipient,
            delivery.subject,
            delivery.body,
        )
        return None
    if delivery.channel == DeliveryChannel.SMS:
        send_sms(delivery.recipient, delivery.body)
        return None
    facility = db.session.get(Facility, delivery.facility_code)
    if facility is None or not facility.webhook_secret:
        raise DeliveryFailed("the facility has no webhook secret any more")
    timestamp = str(int(utcnow().timestamp()))
    return post_webhook(
        delivery.recipient, facility.webhook_secret, delivery.event_id, timestamp, delivery.payload
    )


@job(DELIVER_JOB)
def deliver(delivery_id: int) -> str:
    """One attempt; a failure is recorded (and committed) with the next attempt's time."""
    delivery = db.session.scalar(
        sa.select(Delivery).where(Delivery.id == delivery_id).with_for_update(skip_locked=True)
    )
    if delivery is None:
        return "busy"
    if delivery.status != DeliveryStatus.PENDING:
        return str(delivery.status)
    delivery.attempts += 1
    try:
        delivery.last_status_code = _send(delivery)
    except DeliveryFailed as exc:
        delivery.last_error = str(exc)[:1000]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            return "failed"
        delivery.next_attempt_at = utcnow() + _retry_delay(delivery.attempts)
        return "retry"
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = utcnow()
    delivery.next_attempt_at = None
    delivery.last_error = None
    return "sent"


def due_deliveries(lost_before: Any, now: Any) -> list[int]:
    """Pending deliveries whose next attempt is due (retries) or whose job was lost."""
    return list(
        db.session.scalars(
            sa.select(Delivery.id).where(
                Delivery.status == DeliveryStatus.PENDING,
                sa.or_(
                    sa.and_(Delivery.attempts > 0, Delivery.next_attempt_at <= now),
                    Delivery.next_attempt_at <= lost_before,
                ),
            )
        )
    )
