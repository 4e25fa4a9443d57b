"""The named guards and effects that workflows/*.yaml may use.

A guard raises GuardRefused with a message a person can act on, or returns True.
An effect runs after the state changed, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from transitions import EventData

from akta_service.accounts.models import User
from akta_service.akta.numbering import allocate_registration_number
from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import GuardRefused


@dataclass
class Subject:
    """What the state machine moves: one report, and who moves it why."""

    report: BirthReport
    actor: Actor
    reason: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return str(self.report.status)

    @state.setter
    def state(self, value: str) -> None:
        self.report.status = ReportStatus(value)
        self.report.status_since = utcnow()


def _subject(event: EventData) -> Subject:
    subject = event.model
    assert isinstance(subject, Subject)  # noqa: S101 - the engine only fires Subjects
    return subject


def reason_given(event: EventData) -> bool:
    """The actor wrote why; the informant or clerk will read it."""
    if not (_subject(event).reason or "").strip():
        raise GuardRefused("reason_required", guard="reason_given", trigger=event.event.name)
    return True


def actor_owns_report(event: EventData) -> bool:
    """A facility acts only on its own reports; an informant only on the report they opened."""
    subject = _subject(event)
    actor, report = subject.actor, subject.report
    if actor.role == Role.FACILITY:
        owns = actor.facility_code is not None and actor.facility_code == report.facility_code
    else:
        owns = actor.tracking_code is not None and actor.tracking_code == report.tracking_code
    if not owns:
        raise GuardRefused("not_your_report", guard="actor_owns_report")
    return True


def actor_serves_region(event: EventData) -> bool:
    """Staff act only on reports of the regions they serve."""
    subject = _subject(event)
    if subject.report.region_code not in subject.actor.region_codes:
        raise GuardRefused(
            "outside_your_region", guard="actor_serves_region", region=subject.report.region_code
        )
    return True


def actor_holds_claim(event: EventData) -> bool:
    """A report claimed by one clerk is read-only for the others."""
    subject = _subject(event)
    holder = subject.report.assigned_to_id
    if holder is not None and not subject.actor.is_user(holder):
        user = db.session.get(User, holder)
        if user is None:
            raise GuardRefused("claimed_by_another", guard="actor_holds_claim")
        raise GuardRefused("claimed_by", guard="actor_holds_claim", assignee=user.full_name)
    return True


def not_potential_duplicate(event: EventData) -> bool:
    """A suspected duplicate must be resolved before the report moves on."""
    if _subject(event).report.potential_duplicate:
        raise GuardRefused("duplicate_undecided", guard="not_potential_duplicate")
    return True


def signer_is_not_approver(event: EventData) -> bool:
    """The pejabat who signs is not the operator who approved (two people, two roles)."""
    subject = _subject(event)
    approver = db.session.scalar(
        sa.select(JournalEntry.actor_id)
        .where(JournalEntry.report_id == subject.report.id, JournalEntry.trigger == "approve")
        .order_by(JournalEntry.id.desc())
        .limit(1)
    )
    if approver == subject.actor.id:
        raise GuardRefused("signer_is_approver", guard="signer_is_not_approver")
    return True


def assign_registration_number(event: EventData) -> None:
    """Give the report its nomor akta, inside the signing transaction."""
    report = _subject(event).report
    registered_at = utcnow()
    # The status already says "registered"; flushing it before the number exists
    # would break the database's registered <=> numbered rule.
    with db.session.no_autoflush:
        number = allocate_registration_number(
            report.region_code, report.is_late, registered_at, current_settings()
        )
    report.registered_at = registered_at
    report.registration_number = number


GUARDS = {
    fn.__name__: fn
    for fn in (
        reason_given,
        actor_owns_report,
        actor_serves_region,
        actor_holds_claim,
        not_potential_duplicate,
        signer_is_not_approver,
    )
}


#: name -> what a transition does besides moving (named in workflows/*.yaml). The features
#: whose work a move starts register theirs with :func:`effect`, so the workflow imports none
#: of them; the app connects the features before it loads the workflow.
EFFECTS: dict[str, Callable[[EventData], None]] = {
    "allocate_registration_number": assign_registration_number,
}

ReportEffect = Callable[[BirthReport], None]


def effect(name: str) -> Callable[[ReportEffect], ReportEffect]:
    """Register `fn(report)` as the workflow effect `name`."""

    def register(fn: ReportEffect) -> ReportEffect:
        EFFECTS[name] = lambda event: fn(_subject(event).report)
        return fn

    return register
