"""Creating deliveries when a report changes, and delivering them (a retried job)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from blinker import ANY
from flask import current_app

from akta_service.births.codes import format_tracking_code
from akta_service.births.models import BirthReport
from akta_service.core.config import current_settings
from akta_service.core.db import db, held, utcnow
from akta_service.core.jobs import enqueue, job
from akta_service.core.sweep import SweepTimes, sweeper
from akta_service.facilities.models import Facility
from akta_service.notifications.channels import (
    DeliveryFailed,
    WebhookFailed,
    post_webhook,
    send_email,
    send_sms,
    status_class,
)
from akta_service.notifications.models import Delivery, DeliveryChannel, DeliveryStatus
from akta_service.workflow.signals import status_changed

DELIVER_JOB = "notifications.deliver"
#: After this many failed attempts a delivery is marked failed (about a day of retries).
MAX_ATTEMPTS = 12


@dataclass(frozen=True)
class InformantMessage:
    """What the informant is told about one step: the e-mail subject, and whether the step is
    worth an SMS too (an SMS costs the office money, an e-mail does not)."""

    subject: str
    sms: bool = True


#: Steps the informant is told about, by template name (templates/emails/<name>.txt and
#: <name>.sms.txt); see :func:`informant_message`.
INFORMANT_EVENTS = {
    "submitted": InformantMessage("Laporan kelahiran diterima"),
    "resubmitted": InformantMessage("Perbaikan laporan kelahiran diterima"),
    "needs_correction": InformantMessage("Laporan kelahiran perlu diperbaiki"),
    "awaiting_signature": InformantMessage(
        "Laporan kelahiran disetujui, menunggu tanda tangan", sms=False
    ),
    "issued": InformantMessage("Akta kelahiran sudah terbit"),
    "rejected": InformantMessage("Laporan kelahiran ditolak"),
    "cancelled": InformantMessage("Laporan kelahiran dibatalkan"),
}
#: What a secret body becomes once it has been delivered or given up.
ERASED_BODY = "[isi dihapus setelah terkirim]"
ERASED_BODY_FAILED = "[isi dihapus: pengiriman gagal]"


def informant_message(from_state: str | None, to_state: str) -> str | None:
    """The template the informant gets for this change, if any."""
    if to_state == "submitted" and from_state == "needs_correction":
        return "resubmitted"
    return to_state if to_state in INFORMANT_EVENTS else None


#: Deliveries are written with one Core INSERT on the table, not through the ORM's unit of
#: work: the request that queues them needs no objects back (the web form's PIN is added by
#: a query), and the ORM's flush cost several times the insert itself. Every row carries the
#: same keys, so a change's two or three messages go as one statement.
_DELIVERIES = cast(sa.Table, Delivery.__table__)
_INSERT_DELIVERIES = sa.insert(_DELIVERIES).returning(
    _DELIVERIES.c.id, sort_by_parameter_order=True
)


def _delivery(
    report: BirthReport,
    channel: DeliveryChannel,
    recipient: str,
    *,
    event: str,
    event_id: str,
    subject: str = "",
    body: str = "",
    facility_code: str | None = None,
    payload: dict[str, Any] | None = None,
    body_is_secret: bool = False,
) -> dict[str, Any]:
    """One outbox row; every row has the same keys."""
    return {
        "report_id": report.id,
        "facility_code": facility_code,
        "channel": channel,
        "recipient": recipient,
        "event": event,
        "event_id": event_id,
        "subject": subject,
        "body": body,
        "body_is_secret": body_is_secret,
        "payload": payload or {},
        "next_attempt_at": utcnow(),
    }


def _queue(deliveries: list[dict[str, Any]]) -> None:
    """Write the deliveries in the current transaction; each is sent once it commits."""
    if not deliveries:
        return
    db.session.flush()  # the report they belong to first
    for delivery_id in db.session.connection().scalars(_INSERT_DELIVERIES, deliveries):
        enqueue(DELIVER_JOB, delivery_id)


def _message(template: str, context: dict[str, Any]) -> str:
    """An e-mail or SMS text from templates/emails/. Rendered from the environment alone: a
    message depends only on its own context, not on the page's context processors (which
    load the signed-in user and the session, a good part of a submission's cost), and
    without the environment's globals (a message uses its context alone; copying the
    globals into each message's context was half of its rendering): a template module made
    on a shared context renders as its text."""
    page = current_app.jinja_env.get_template(f"emails/{template}")
    return str(page.make_module(context, shared=True))


def _context(report: BirthReport, reason: str | None, **extra: Any) -> dict[str, Any]:
    base_url = current_settings().public_base_url
    return {
        "report": report,
        "code": format_tracking_code(report.tracking_code),
        "reason": reason,
        "public_base_url": base_url,
        "status_url": f"{base_url}/status",
        **extra,
    }


# Held strongly (a module function lives as long as the process anyway): one weak
# reference less to resolve on every change.
@status_changed.connect_via(ANY, weak=False)
def notify_status_change(
    report: BirthReport,
    *,
    from_state: str | None,
    to_state: str,
    reason: str | None,
    **_: Any,
) -> None:
    """Queue the messages this change calls for (the informant's e-mail and SMS, the
    facility's webhook) in the current transaction; a receiver of `status_changed`."""
    event = f"birth_report.{to_state}"
    event_id = str(uuid.uuid4())
    context = _context(report, reason)
    deliveries = []
    name = informant_message(from_state, to_state)
    if name is not None:
        message = INFORMANT_EVENTS[name]
        if report.informant_email:
            deliveries.append(
                _delivery(
                    report,
                    DeliveryChannel.EMAIL,
                    report.informant_email,
                    event=event,
                    event_id=event_id,
                    subject=f"{message.subject} ({context['code']})",
                    body=_message(f"{name}.txt", context).strip(),
                )
            )
        if report.informant_phone and message.sms:
            deliveries.append(
                _delivery(
                    report,
                    DeliveryChannel.SMS,
                    report.informant_phone,
                    event=event,
                    event_id=event_id,
                    body=_message(f"{name}.sms.txt", context).strip(),
                )
            )
    facility = None
    if report.facility_code:
        session = db.session()
        facility = held(session, Facility, report.facility_code) or session.get(
            Facility, report.facility_code
        )
    if facility is not None and facility.webhook_url:
        deliveries.append(
            _delivery(
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
        )
    _queue(deliveries)


def include_status_pin(report: BirthReport, pin: str) -> int:
    """Put the status PIN into the receipt queued for this report (the web form's), once the
    PIN exists; the receipt's text is erased once it is delivered. Returns how many messages
    carry it."""
    receipts = db.session.scalars(
        sa.select(Delivery).where(
            Delivery.report_id == report.id,
            Delivery.event == "birth_report.submitted",
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.channel.in_((DeliveryChannel.EMAIL, DeliveryChannel.SMS)),
        )
    ).all()
    context = _context(report, None, pin=pin)
    for delivery in receipts:
        template = (
            "submitted.txt" if delivery.channel == DeliveryChannel.EMAIL else "submitted.sms.txt"
        )
        delivery.body = _message(template, context).strip()
        delivery.body_is_secret = True
    db.session.flush()
    return len(receipts)


def send_new_status_pin(report: BirthReport, pin: str) -> int:
    """Send a newly issued status PIN to the informant's e-mail and phone on file (never
    anywhere else); the text is erased once delivered. Returns how many messages go out."""
    context = _context(report, None, pin=pin)
    deliveries = [
        _delivery(
            report,
            channel,
            recipient,
            event="birth_report.pin",
            event_id=str(uuid.uuid4()),
            subject=f"PIN halaman status ({context['code']})"
            if channel == DeliveryChannel.EMAIL
            else "",
            body=_message(template, context).strip(),
            body_is_secret=True,
        )
        for channel, recipient, template in (
            (DeliveryChannel.EMAIL, report.informant_email, "new_pin.txt"),
            (DeliveryChannel.SMS, report.informant_phone, "new_pin.sms.txt"),
        )
        if recipient
    ]
    _queue(deliveries)
    return len(deliveries)


def _erase_secret(delivery: Delivery, note: str) -> None:
    if delivery.body_is_secret:
        delivery.body = note


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
            reference=f"delivery {delivery.id}",
        )
        return None
    if delivery.channel == DeliveryChannel.SMS:
        send_sms(delivery.recipient, delivery.body, reference=f"delivery {delivery.id}")
        return None
    facility = db.session.get(Facility, delivery.facility_code)
    if facility is None or not facility.webhook_secret:
        raise DeliveryFailed("the facility has no webhook secret any more")
    timestamp = str(int(utcnow().timestamp()))
    return post_webhook(
        delivery.recipient,
        facility.webhook_secret,
        delivery.event_id,
        timestamp,
        delivery.payload,
        require_https=settings.is_production,
        allow_private=settings.webhook_allow_private,
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
        if isinstance(exc, WebhookFailed):
            delivery.last_result = exc.result
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = None
            _erase_secret(delivery, ERASED_BODY_FAILED)
            return "failed"
        delivery.next_attempt_at = utcnow() + _retry_delay(delivery.attempts)
        return "retry"
    delivery.status = DeliveryStatus.SENT
    delivery.sent_at = utcnow()
    delivery.next_attempt_at = None
    delivery.last_error = None
    if delivery.last_status_code is not None:
        delivery.last_result = status_class(delivery.last_status_code)
    _erase_secret(delivery, ERASED_BODY)
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


@sweeper
def requeue_due_deliveries(times: SweepTimes) -> int:
    """Re-queue deliveries due for another attempt, or whose job was lost."""
    deliveries = due_deliveries(times.lost_before, times.now)
    for delivery_id in deliveries:
        enqueue(DELIVER_JOB, delivery_id)
    return len(deliveries)
