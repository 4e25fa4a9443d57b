"""Firing a workflow trigger on a report: check, move, journal, in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry, latest_change, record
from akta_service.core.db import db, read_only_connection
from akta_service.core.errors import ConflictError, IllegalTransition, PermissionDenied
from akta_service.core.labels import journal_label
from akta_service.workflow.definition import birth_registration
from akta_service.workflow.rules import Subject
from akta_service.workflow.signals import status_changed


def conflict_for(
    report_id: int, current_version: int | None = None, session: Session | None = None
) -> ConflictError:
    """A conflict error that says who changed the report last, and when.

    :param session: where to read the journal; the request's session by default.
    """
    last = latest_change(report_id, session)
    if last is None:
        return ConflictError("changed_by_someone", current_version=current_version)
    return ConflictError(
        "changed_by",
        changed_by_who=last.describe(),
        changed_by_action=journal_label(last.action, last.trigger),
        changed_by=last.actor_name,
        changed_by_role=last.actor_role,
        changed_at=last.occurred_at,
        action=last.action,
        current_version=last.report_version,
    )


def allowed_triggers(report: BirthReport, actor: Actor) -> list[str]:
    """The triggers this actor's role may try on the report now (guards not yet run)."""
    return birth_registration().triggers_from(str(report.status), actor.role)


def fire(
    report: BirthReport,
    trigger: str,
    actor: Actor,
    *,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> JournalEntry:
    """Fire `trigger` on the report and journal it; raise a domain error and change nothing
    when it does not apply.

    :param expected_version: the version the actor saw; a newer one means someone else acted.
    """
    workflow = birth_registration()
    if expected_version is not None and expected_version != report.version:
        raise conflict_for(report.id, report.version)
    state = str(report.status)
    spec = workflow.triggers.get(trigger)
    if spec is None or state not in spec.sources:
        allowed = workflow.triggers_from(state)
        raise IllegalTransition(
            "trigger_not_in_status" if allowed else "no_trigger_in_status",
            state=state,
            trigger=trigger,
            allowed_triggers=allowed,
        )
    if actor.role not in spec.roles:
        raise PermissionDenied(
            "role_may_not", trigger=trigger, role=str(actor.role), roles=sorted(spec.roles)
        )
    subject = Subject(report=report, actor=actor, reason=reason, data=dict(data or {}))
    # Guards run before the state changes: a refusal leaves the report as it was.
    workflow.machine.events[trigger].trigger(subject)
    # A claim is for one step: when the report moves on, the next role claims it afresh.
    report.assigned_to_id = None
    report.assigned_at = None
    report_id = report.id
    try:
        db.session.flush()
    except StaleDataError as exc:
        # Someone committed a newer version first. This session's transaction is spoilt
        # until whoever runs the work rolls it back (a savepoint, or the boundary), so the
        # winner is read from what was committed.
        with read_only_connection() as connection, Session(bind=connection) as committed:
            raise conflict_for(report_id, session=committed) from exc
    status_changed.send(
        report,
        from_state=state,
        to_state=str(report.status),
        trigger=trigger,
        reason=reason,
        actor=actor,
    )
    return record(
        f"workflow:birth_report:{trigger}",
        actor,
        report=report,
        trigger=trigger,
        from_state=state,
        to_state=str(report.status),
        reason=reason,
        data=subject.data,
    )
