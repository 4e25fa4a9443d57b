"""Notifying a birth, telling and reminding the family, opening their prefilled form, and
marking what was never completed."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from akta_service.births.codes import (
    format_tracking_code,
    new_tracking_code,
    normalise_tracking_code,
)
from akta_service.births.documents import MAX_DOCUMENT_BYTES, sniff_content_type
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.clock import local_timezone
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import (
    FieldError,
    IllegalTransition,
    InvalidInput,
    NotFound,
    TryAgain,
    field_errors,
)
from akta_service.core.jobs import enqueue
from akta_service.core.storage import storage
from akta_service.core.sweep import SweepTimes, sweeper
from akta_service.facilities.models import Facility
from akta_service.notifications.models import Delivery, DeliveryChannel
from akta_service.notifications.operations import DELIVER_JOB
from akta_service.notified.fhir_refusals import BundleRefused, Issue
from akta_service.notified.models import (
    CompletionLink,
    FhirBundleReceipt,
    NotificationStatus,
    NotifiedBirth,
)
from akta_service.notified.schemas import BirthNotificationInput
from akta_service.notified.workflow import fire_notice
from akta_service.parents.models import Draft
from akta_service.parents.operations import add_upload, start_draft
from akta_service.parents.uploads import UploadRefused, prepare_upload

_INPUT = BirthNotificationInput()
#: Where the family's link opens the form (parents' pages of this service).
LINK_PATH = "/lapor/kelahiran/"


def load_notification_input(payload: Any) -> dict[str, Any]:
    """Validate a notification; raise InvalidInput listing every bad field at once."""
    try:
        data: dict[str, Any] = _INPUT.load(payload)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        raise InvalidInput("notification_invalid", errors=field_errors(messages)) from exc
    return data


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _birth_day_start(born: date) -> datetime:
    return datetime.combine(born, time(), tzinfo=local_timezone())


def _first_reminder(born: date, sent: list[int]) -> date | None:
    """The day the next reminder is due, after those already sent."""
    days = [d for d in current_settings().notification_reminder_days if d not in sent]
    return born + timedelta(days=days[0]) if days else None


def notify_birth(
    data: dict[str, Any], facility: Facility, actor: Actor, tracking_code: str | None = None
) -> NotifiedBirth:
    """Record a facility's notification and tell the family how to complete it.

    :param data: output of :func:`load_notification_input`.
    :param tracking_code: the code drawn for it already (FHIR intake's receipt).
    """
    child, mother, contact = data["child"], data["mother"], data["contact"]
    notice = NotifiedBirth(
        tracking_code=tracking_code or new_tracking_code(),
        facility_code=facility.code,
        region_code=facility.region_code,
        status=NotificationStatus.NOTIFIED,
        provisional_name=(child["provisional_name"] or "").strip() or None,
        sex=child["sex"],
        birth_date=child["birth_date"],
        birth_time=child["birth_time"],
        birth_place=child["birth_place"].strip(),
        birth_place_kind=child["birth_place_kind"],
        birth_order=child["birth_order"],
        birth_type=child["birth_type"],
        weight_grams=child["weight_grams"],
        length_cm=child["length_cm"],
        attendant=child["attendant"],
        birth_letter_number=(data["birth_letter_number"] or "").strip() or None,
        mother_nik=mother["nik"],
        mother_name=mother["name"].strip(),
        contact_phone=contact["phone"],
        contact_email=contact["email"],
        reminders_sent=[],
        next_reminder_on=_first_reminder(child["birth_date"], []),
        notified_at=utcnow(),
    )
    db.session.add(notice)
    try:
        db.session.flush()
    except IntegrityError as exc:
        if "tracking_code" not in str(exc.orig):
            raise
        raise TryAgain("report_not_stored") from exc
    _tell_family(notice, "notified", "Lengkapi laporan akta kelahiran")
    # Last: the journal's realm chain is locked from this append until the commit.
    record(
        "workflow:notified_birth:notify",
        actor,
        trigger="notify",
        to_state=str(notice.status),
        data={"tracking_code": notice.tracking_code, "facility": facility.code},
    )
    return notice


#: Links and messages are written with Core INSERTs, as the births' outbox is: nothing of
#: them is read back in the request, and the ORM's unit of work cost more than the inserts.
_LINKS = cast(sa.Table, CompletionLink.__table__)
_DELIVERIES = cast(sa.Table, Delivery.__table__)
_INSERT_DELIVERIES = sa.insert(_DELIVERIES).returning(
    _DELIVERIES.c.id, sort_by_parameter_order=True
)


def _new_link(notice: NotifiedBirth, links: list[dict[str, Any]]) -> str:
    """A new secret link for the family, valid until the notification would expire; its row
    is added to `links`."""
    token = secrets.token_urlsafe(32)
    expires = _birth_day_start(notice.birth_date) + timedelta(
        days=current_settings().notification_expire_days
    )
    links.append(
        {
            "notified_birth_id": notice.id,
            "token_hash": _hash(token),
            "created_at": utcnow(),
            "expires_at": expires,
        }
    )
    return current_settings().public_base_url + LINK_PATH + token


def _tell_family(notice: NotifiedBirth, template: str, subject: str, **extra: Any) -> int:
    """Queue the family's e-mail and SMS, each with a link of its own (erased once sent)."""
    facility = db.session.get(Facility, notice.facility_code)
    settings = current_settings()
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"notified/{notice.id}/{template}/{extra}"))
    environment = current_app.jinja_env
    links: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    for channel, recipient, suffix in (
        (DeliveryChannel.EMAIL, notice.contact_email, ".txt"),
        (DeliveryChannel.SMS, notice.contact_phone, ".sms.txt"),
    ):
        if not recipient:
            continue
        context = {
            "notice": notice,
            "code": format_tracking_code(notice.tracking_code),
            "facility_name": facility.name if facility else notice.facility_code,
            "link": _new_link(notice, links),
            "has_birth_letter": notice.birth_letter is not None,
            "on_time_days": settings.on_time_days,
            **extra,
        }
        body = environment.get_template(f"emails/{template}{suffix}").render(**context).strip()
        deliveries.append(
            {
                "report_id": None,
                "facility_code": None,
                "channel": channel,
                "recipient": recipient,
                "event": f"notified_birth.{template}",
                "event_id": event_id,
                "subject": f"{subject} ({context['code']})" if suffix == ".txt" else "",
                "body": body,
                "body_is_secret": True,
                "payload": {},
                "next_attempt_at": utcnow(),
            }
        )
    if not deliveries:
        return 0
    db.session.execute(sa.insert(_LINKS), links)
    for delivery_id in db.session.scalars(_INSERT_DELIVERIES, deliveries):
        enqueue(DELIVER_JOB, delivery_id)
    return len(deliveries)


def find_notice(code: str) -> NotifiedBirth | None:
    """The notification with this tracking code, however it was typed."""
    return db.session.scalar(
        sa.select(NotifiedBirth).where(NotifiedBirth.tracking_code == normalise_tracking_code(code))
    )


def facility_notice(code: str, facility_code: str) -> NotifiedBirth:
    """The facility's own notification; another's is answered as not found."""
    notice = find_notice(code)
    if notice is None or notice.facility_code != facility_code:
        raise NotFound("tracking_code_unknown")
    return notice


def attach_birth_letter(notice: NotifiedBirth, data: bytes, actor: Actor) -> dict[str, Any]:
    """Keep the facility's birth letter (checked as every upload is) for the family's form;
    a newer one replaces it. Raises InvalidInput for a file that cannot be taken."""
    if notice.status != NotificationStatus.NOTIFIED:
        raise IllegalTransition("birth_letter_closed", state=str(notice.status))
    # Refused as the births API refuses a document, with the same codes.
    if not data:
        raise InvalidInput("file_missing", errors=[FieldError("file", "required")])
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidInput("too_large", errors=[FieldError("file", "too_large")])
    if sniff_content_type(data) is None:
        raise InvalidInput("unsupported_type", errors=[FieldError("file", "unsupported_type")])
    try:
        prepared = prepare_upload(data)
    except UploadRefused as refused:
        raise InvalidInput("document_refused", errors=[refused.at("file")]) from refused
    key = f"notified/{notice.region_code}/{notice.tracking_code}/{secrets.token_hex(8)}"
    key = f"{key}.{prepared.extension}"
    storage().put(key, prepared.data)
    letter = {
        "storage_key": key,
        "content_type": prepared.content_type,
        "size_bytes": len(prepared.data),
        "sha256": hashlib.sha256(prepared.data).hexdigest(),
    }
    notice.birth_letter = letter
    db.session.flush()
    record(
        "facility:notified_birth:birth_letter",
        actor,
        data={"tracking_code": notice.tracking_code, "sha256": letter["sha256"]},
    )
    return letter


# The family's link ---------------------------------------------------------------------------


def _open_notice(token: str) -> NotifiedBirth | None:
    """The open notification a link's token belongs to, unless the link expired."""
    return db.session.scalar(
        sa.select(NotifiedBirth)
        .join(CompletionLink, CompletionLink.notified_birth_id == NotifiedBirth.id)
        .where(
            CompletionLink.token_hash == _hash(token),
            CompletionLink.expires_at > utcnow(),
            NotifiedBirth.status == NotificationStatus.NOTIFIED,
        )
    )


def prefilled_answers(notice: NotifiedBirth) -> dict[str, str]:
    """What the facility sent, as the parents' form fields hold it."""
    answers = {
        "child.sex": str(notice.sex),
        "child.birth_date": notice.birth_date.isoformat(),
        "child.birth_time": notice.birth_time.strftime("%H:%M") if notice.birth_time else "",
        "child.birth_place_kind": str(notice.birth_place_kind),
        "child.birth_place": notice.birth_place,
        "child.birth_order": str(notice.birth_order),
        "child.birth_type": str(notice.birth_type),
        "child.attendant": str(notice.attendant),
        "child.weight_grams": str(notice.weight_grams or ""),
        "child.length_cm": str(notice.length_cm or ""),
        "birth_letter_number": notice.birth_letter_number or "",
        "mother.nik": notice.mother_nik,
        "mother.name": notice.mother_name,
    }
    if notice.contact_phone:
        answers["informant.phone"] = notice.contact_phone
    if notice.contact_email:
        answers["informant.email"] = notice.contact_email
    return answers


def open_family_form(token: str) -> str | None:
    """The resume token of the family's draft for the link's notification: the one they
    started (under a new token, the link being their way back) or a new one prefilled with
    what the facility sent, its birth letter as their document. None: the link is unknown,
    expired, or its notification is no longer open."""
    notice = _open_notice(token)
    if notice is None:
        return None
    draft = db.session.scalar(sa.select(Draft).where(Draft.notified_birth_id == notice.id))
    resume_token = secrets.token_urlsafe(32)
    if draft is not None:
        draft.token_hash = _hash(resume_token)
        draft.expires_at = max(draft.expires_at, utcnow() + timedelta(days=1))
        db.session.flush()
        return resume_token
    draft, resume_token = start_draft()
    draft.notified_birth_id = notice.id
    draft.answers = prefilled_answers(notice)
    if notice.birth_letter:
        add_upload(draft, "birth_letter", storage().get(notice.birth_letter["storage_key"]))
    db.session.flush()
    return resume_token


# Reminders and expiry (the sweep) ------------------------------------------------------------

#: Notifications dealt with per sweep; the next sweep takes the rest.
SWEEP_BATCH = 500


def _due(query: sa.Select[Any]) -> list[NotifiedBirth]:
    """Rows no other worker is handling: each reminder and expiry happens once."""
    return list(db.session.scalars(query.limit(SWEEP_BATCH).with_for_update(skip_locked=True)))


def send_reminders(today: date) -> int:
    """Remind the families whose reminder day came (one message for the latest day due, when
    several came at once); returns how many messages were queued."""
    due = _due(
        sa.select(NotifiedBirth)
        .where(
            NotifiedBirth.status == NotificationStatus.NOTIFIED,
            NotifiedBirth.next_reminder_on <= today,
        )
        .order_by(NotifiedBirth.next_reminder_on, NotifiedBirth.id)
    )
    queued = 0
    for notice in due:
        days = [
            d
            for d in current_settings().notification_reminder_days
            if d not in notice.reminders_sent and notice.birth_date + timedelta(days=d) <= today
        ]
        sent = sorted({*notice.reminders_sent, *days})
        notice.reminders_sent = sent
        notice.next_reminder_on = _first_reminder(notice.birth_date, sent)
        if not days:
            continue
        queued += _tell_family(
            notice,
            "notified_reminder",
            "Pengingat: lengkapi laporan akta kelahiran",
            day=days[-1],
            age=(today - notice.birth_date).days,
        )
        record(
            "system:notified_birth:remind",
            Actor.system("Pengingat pemberitahuan kelahiran"),
            data={"tracking_code": notice.tracking_code, "day": days[-1]},
        )
    db.session.flush()
    return queued


def expire_notices(today: date) -> int:
    """Mark the notifications never completed within the period; they stay on record."""
    cutoff = today - timedelta(days=current_settings().notification_expire_days)
    due = _due(
        sa.select(NotifiedBirth)
        .where(
            NotifiedBirth.status == NotificationStatus.NOTIFIED,
            NotifiedBirth.birth_date <= cutoff,
        )
        .order_by(NotifiedBirth.birth_date, NotifiedBirth.id)
    )
    for notice in due:
        notice.expired_at = utcnow()
        fire_notice(notice, "expire", Actor.system("Batas waktu pemberitahuan kelahiran"))
    return len(due)


@sweeper
def remind_and_expire(times: SweepTimes) -> int:
    """Send the reminders due and mark what expired; the messages queued."""
    today = times.now.astimezone(local_timezone()).date()
    expire_notices(today)
    return send_reminders(today)


# FHIR intake --------------------------------------------------------------------------------


def _content_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def receive_bundle(
    payload: Any, facility: Facility, actor: Actor, language: str = "en"
) -> tuple[NotifiedBirth, bool]:
    """The notification a SATUSEHAT-shaped FHIR Bundle describes, and whether it was there
    already: a Bundle re-sent with the same identifier (at once, or later) gets the first
    one's notification, never a second. Raises BundleRefused."""
    # fhir.resources and pydantic load with the first Bundle, not in every web worker.
    from akta_service.notified.fhir import bundle_key, map_bundle, read_bundle

    bundle = read_bundle(payload)
    digest = _content_hash(payload)
    receipt = FhirBundleReceipt(
        facility_code=facility.code,
        bundle_key=bundle_key(bundle),
        content_hash=digest,
        tracking_code=new_tracking_code(),
    )
    try:
        # A re-send arriving meanwhile waits here until the first one commits.
        with db.session.begin_nested():
            db.session.add(receipt)
    except IntegrityError:
        return _first_answer(facility.code, bundle_key(bundle), digest), True
    mapped = map_bundle(bundle)
    try:
        data = load_notification_input(mapped.payload)
    except InvalidInput as invalid:
        raise mapped.refused(invalid.detail.get("errors", []), language) from invalid
    return notify_birth(data, facility, actor, tracking_code=receipt.tracking_code), False


def _first_answer(facility_code: str, key: str, digest: str) -> NotifiedBirth:
    first = db.session.scalar(
        sa.select(FhirBundleReceipt).where(
            FhirBundleReceipt.facility_code == facility_code, FhirBundleReceipt.bundle_key == key
        )
    )
    notice = find_notice(first.tracking_code) if first is not None else None
    if first is None or first.content_hash != digest or notice is None:
        raise BundleRefused(
            [
                Issue(
                    "conflict",
                    "a different Bundle was sent before with this identifier",
                    "Bundle.identifier",
                )
            ],
            status=409,
        )
    return notice
