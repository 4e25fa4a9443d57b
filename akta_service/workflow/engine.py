"""Firing a workflow trigger on a report: check, move, journal, in one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm.exc import StaleDataError

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry, latest_change, record
from akta_service.core.db import db
from akta_service.core.errors import ConflictError, IllegalTransition, PermissionDenied
from akta_service.workflow.definition import birth_registration
from akta_service.workflow.rules import Subject
from akta_service.workflow.signals import status_changed


def conflict_for(report_id: int, current_version: int | None = None) -> ConflictError:
    """A conflict error that says who changed the report last, and when."""
    last = latest_change(report_id)
    if last is None:
        return ConflictError(
            "Laporan ini sudah diubah oleh orang lain. Muat ulang lalu coba lagi.",
            current_version=current_version,
        )
    return ConflictError(
        f"Laporan ini sudah diubah oleh {last.describe()} ({last.action.rsplit(':', 1)[-1]}). "
        "Muat ulang untuk melihat perubahan terbaru; isian Anda belum disimpan.",
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
            f"Tindakan '{trigger}' tidak berlaku untuk laporan berstatus '{state}'. "
            f"Tindakan yang berlaku sekarang: {', '.join(allowed) or 'tidak ada'}.",
            state=state,
            trigger=trigger,
            allowed_triggers=allowed,
        )
    if actor.role not in spec.roles:
        raise PermissionDenied(
            f"Peran '{actor.role}' tidak boleh melakukan '{trigger}'. "
            f"Yang boleh: {', '.join(sorted(spec.roles))}.",
            trigger=trigger,
            role=str(actor.role),
        )
    subject = Subject(report=report, actor=actor, reason=reason, data=dict(data or {}))
    report_id = report.id
    try:
        # A refused guard or a lost race undoes this move and nothing else of the request.
        with db.session.begin_nested():
            workflow.machine.events[trigger].trigger(subject)
            # A claim is for one step: when the report moves on, the next role claims it afresh.
            report.assigned_to_id = None
            report.assigned_at = None
    except StaleDataError as exc:
        raise conflict_for(report_id) from exc
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
