"""Every (state, trigger, role): allowed ones move and journal, others leave no trace."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from akta_service.births.models import ReportStatus
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.errors import IllegalTransition, PermissionDenied
from akta_service.core.labels import label
from tests.conftest import count_journal, informant_for
from tests.factories import BirthReportFactory

S = ReportStatus
BEFORE_APPROVAL = (S.SUBMITTED, S.VERIFYING, S.NEEDS_CORRECTION, S.IN_REVIEW)

#: The workflow as the issue specifies it, written out independently of the YAML:
#: trigger -> (states it applies in, state it leads to, roles that may fire it).
EXPECTED: dict[str, tuple[tuple[ReportStatus, ...], ReportStatus, set[Role]]] = {
    "start_verification": ((S.SUBMITTED,), S.VERIFYING, {Role.SYSTEM}),
    "pass_verification": ((S.VERIFYING,), S.IN_REVIEW, {Role.SYSTEM}),
    "fail_verification": ((S.VERIFYING,), S.NEEDS_CORRECTION, {Role.SYSTEM}),
    "refuse": ((S.VERIFYING,), S.REJECTED, {Role.SYSTEM}),
    "resubmit": ((S.NEEDS_CORRECTION,), S.SUBMITTED, {Role.INFORMANT, Role.FACILITY}),
    "request_correction": ((S.IN_REVIEW,), S.NEEDS_CORRECTION, {Role.OPERATOR}),
    "approve": ((S.IN_REVIEW,), S.AWAITING_SIGNATURE, {Role.OPERATOR}),
    "send_back": ((S.AWAITING_SIGNATURE,), S.IN_REVIEW, {Role.PEJABAT}),
    "sign": ((S.AWAITING_SIGNATURE,), S.REGISTERED, {Role.PEJABAT}),
    "issue": ((S.REGISTERED,), S.ISSUED, {Role.SYSTEM}),
    "annul": ((S.ISSUED,), S.ANNULLED, {Role.PEJABAT}),
    "reject": (
        (S.NEEDS_CORRECTION, S.IN_REVIEW, S.AWAITING_SIGNATURE),
        S.REJECTED,
        {Role.OPERATOR, Role.PEJABAT},
    ),
    "cancel": (BEFORE_APPROVAL, S.CANCELLED, {Role.INFORMANT, Role.FACILITY}),
}

ROLES = [
    Role.SYSTEM,
    Role.INFORMANT,
    Role.FACILITY,
    Role.OPERATOR,
    Role.PEJABAT,
    Role.ADMIN,
    Role.VIEWER,
]


def _cases() -> list[Any]:
    cases = []
    for state, trigger, role in itertools.product(ReportStatus, EXPECTED, ROLES):
        sources, dest, roles = EXPECTED[trigger]
        allowed = state in sources and role in roles
        cases.append(
            pytest.param(state, trigger, role, allowed, dest, id=f"{state}-{trigger}-{role}")
        )
    return cases


def _actor_for(role: Role, report: Any, actors: dict[str, Actor]) -> Actor:
    if role == Role.INFORMANT:
        return informant_for(report)
    return actors[str(role)]


@pytest.mark.parametrize(("state", "trigger", "role", "allowed", "dest"), _cases())
def test_transition_table(
    state: ReportStatus,
    trigger: str,
    role: Role,
    allowed: bool,
    dest: ReportStatus,
    actors: dict[str, Actor],
) -> None:
    from akta_service.workflow.engine import fire

    report = BirthReportFactory(status=state, facility_code="RS001")
    actor = _actor_for(role, report, actors)
    version, journal_before = report.version, count_journal(report.id)

    if allowed:
        entry = fire(report, trigger, actor, reason="Alasan yang jelas untuk pelapor")
        db.session.expire_all()
        assert report.status == dest
        assert report.version == version + 1
        assert count_journal(report.id) == journal_before + 1
        stored = db.session.get(JournalEntry, entry.id)
        assert stored is not None
        assert (stored.trigger, stored.from_state, stored.to_state) == (
            trigger,
            str(state),
            str(dest),
        )
        assert (stored.actor_id, stored.actor_role) == (actor.id, str(role))
        assert stored.reason == "Alasan yang jelas untuk pelapor"
        assert (report.registration_number is not None) == (
            dest in (S.REGISTERED, S.ISSUED, S.ANNULLED)
        )
    else:
        expected_error = (
            IllegalTransition if state not in EXPECTED[trigger][0] else PermissionDenied
        )
        with pytest.raises(expected_error) as refused:
            fire(report, trigger, actor, reason="Alasan yang jelas untuk pelapor")
        db.session.expire_all()
        assert report.status == state
        assert report.version == version
        assert count_journal(report.id) == journal_before
        if expected_error is IllegalTransition:
            assert f"berstatus '{label(state, 'status')}'" in refused.value.message
            assert refused.value.detail["state"] == str(state)  # the API's member keeps it
            assert refused.value.detail["allowed_triggers"] == [
                t for t, (sources, _, _) in EXPECTED.items() if state in sources
            ]


def test_table_covers_every_state_and_the_yaml_agrees() -> None:
    from akta_service.workflow.definition import birth_registration

    workflow = birth_registration()
    assert set(workflow.states) == {str(s) for s in ReportStatus}
    assert set(workflow.triggers) == set(EXPECTED)
    for name, (sources, dest, roles) in EXPECTED.items():
        trigger = workflow.triggers[name]
        assert set(trigger.sources) == {str(s) for s in sources}, name
        assert trigger.dest == str(dest), name
        assert trigger.roles == roles, name
