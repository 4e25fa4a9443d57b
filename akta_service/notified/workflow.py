"""Firing a trigger of the notification workflow (workflows/birth_notification.yaml)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry, record
from akta_service.core.db import db, utcnow
from akta_service.core.errors import ConflictError, IllegalTransition, PermissionDenied
from akta_service.notified.models import NotificationStatus, NotifiedBirth
from akta_service.workflow.definition import birth_notification


def fire_notice(
    notice: NotifiedBirth, trigger: str, actor: Actor, data: dict[str, Any] | None = None
) -> JournalEntry:
    """Move the notification by `trigger` and journal it; a domain error changes nothing."""
    workflow = birth_notification()
    state = str(notice.status)
    spec = workflow.triggers.get(trigger)
    if spec is None or state not in spec.sources:
        raise IllegalTransition(
            "trigger_not_in_status" if workflow.triggers_from(state) else "no_trigger_in_status",
            state=state,
            trigger=trigger,
            allowed_triggers=workflow.triggers_from(state),
        )
    if actor.role not in spec.roles:
        raise PermissionDenied(
            "role_may_not", trigger=trigger, role=str(actor.role), roles=sorted(spec.roles)
        )
    notice.status = NotificationStatus(spec.dest)
    notice.next_reminder_on = None
    try:
        db.session.flush()
    except StaleDataError as exc:
        raise ConflictError("changed_by_someone") from exc
    return record(
        f"workflow:notified_birth:{trigger}",
        actor,
        trigger=trigger,
        from_state=state,
        to_state=spec.dest,
        data={"tracking_code": notice.tracking_code, **(data or {})},
    )


def notice_of_draft(notified_birth_id: int | None) -> NotifiedBirth | None:
    """The notification a draft completes, locked until the submission commits."""
    if notified_birth_id is None:
        return None
    return db.session.scalar(
        sa.select(NotifiedBirth).where(NotifiedBirth.id == notified_birth_id).with_for_update()
    )


def complete_notice(notice: NotifiedBirth, report: BirthReport, actor: Actor) -> None:
    """The family's report completes the notification (same tracking code)."""
    notice.report_id = report.id
    notice.completed_at = utcnow()
    fire_notice(notice, "complete", actor, data={"report_id": report.id})
