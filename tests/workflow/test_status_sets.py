"""The named sets of statuses say what the workflow file says, and the SQL built from them
is what the migrations wrote."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
import sqlalchemy as sa

import akta_service
from akta_service.births.models import (
    AWAITING_VERIFICATION,
    CANCELLABLE_STATUSES,
    ENDED_WITHOUT_AKTA,
    NUMBERED_STATUSES,
    OPEN_STATUSES,
    WAITING_FOR_OFFICE,
    BirthReport,
    ReportStatus,
)
from akta_service.core.actors import Role
from akta_service.core.resources import resource_dir
from akta_service.workflow.definition import WorkflowDefinition, birth_registration

WORKFLOW = birth_registration()
MIGRATIONS = resource_dir("migrations") / "versions"


def _reachable_from(workflow: WorkflowDefinition, state: str) -> set[str]:
    reached, queue = {state}, deque([state])
    while queue:
        here = queue.popleft()
        for trigger in workflow.triggers.values():
            if here in trigger.sources and trigger.dest not in reached:
                reached.add(trigger.dest)
                queue.append(trigger.dest)
    return reached


NUMBERED = _reachable_from(WORKFLOW, WORKFLOW.triggers["sign"].dest)
OPEN = set(WORKFLOW.states) - WORKFLOW.final - NUMBERED


def _informant_can_act(state: str) -> bool:
    """Whether the informant has something to do in `state`, other than cancelling."""
    return any(
        Role.INFORMANT in trigger.roles
        for name, trigger in WORKFLOW.triggers.items()
        if state in trigger.sources and name != "cancel"
    )


def test_the_report_statuses_are_the_workflow_states() -> None:
    assert {str(s) for s in ReportStatus} == set(WORKFLOW.states)


@pytest.mark.parametrize(
    ("statuses", "in_the_workflow"),
    [
        pytest.param(NUMBERED_STATUSES, NUMBERED, id="numbered: signed and after"),
        pytest.param(OPEN_STATUSES, OPEN, id="open: neither ended nor numbered"),
        pytest.param(
            CANCELLABLE_STATUSES, set(WORKFLOW.triggers["cancel"].sources), id="cancellable"
        ),
        pytest.param(
            AWAITING_VERIFICATION,
            {
                *WORKFLOW.triggers["start_verification"].sources,
                *WORKFLOW.triggers["pass_verification"].sources,
            },
            id="awaiting verification",
        ),
        pytest.param(
            WAITING_FOR_OFFICE,
            {s for s in OPEN - {WORKFLOW.initial} if not _informant_can_act(s)},
            id="waiting for the office",
        ),
        pytest.param(ENDED_WITHOUT_AKTA, WORKFLOW.final - NUMBERED, id="ended without akta"),
    ],
)
def test_each_status_set_is_read_off_the_workflow(
    statuses: tuple[ReportStatus, ...], in_the_workflow: set[str]
) -> None:
    assert {str(s) for s in statuses} == in_the_workflow
    assert len(set(statuses)) == len(statuses)
    assert list(statuses) == [s for s in ReportStatus if s in statuses], "workflow order"


@pytest.mark.parametrize(
    "name",
    [
        "NUMBERED_STATUSES",
        "OPEN_STATUSES",
        "CANCELLABLE_STATUSES",
        "AWAITING_VERIFICATION",
        "WAITING_FOR_OFFICE",
        "ENDED_WITHOUT_AKTA",
    ],
)
def test_every_named_status_set_is_used(name: str) -> None:
    root = Path(akta_service.__file__).parent
    uses = sum(p.read_text("utf-8").count(name) for p in root.rglob("*.py"))
    assert uses >= 2, f"{name} is defined but nothing uses it"


def _migrated_sql() -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(MIGRATIONS.glob("*.py")))


def test_the_numbered_check_reads_as_the_migration_wrote_it() -> None:
    (check,) = (
        c
        for c in BirthReport.__table__.constraints
        if isinstance(c, sa.CheckConstraint)
        and str(c.name).endswith("registration_number_iff_registered")
    )
    text = str(check.sqltext)
    assert text == (
        "(status IN ('registered', 'issued', 'annulled')) = (registration_number IS NOT NULL)"
    )
    assert text in _migrated_sql()


def test_the_open_reports_index_predicate_reads_as_the_migration_wrote_it() -> None:
    index = next(i for i in BirthReport.__table__.indexes if i.name == "ix_birth_reports_open")
    where = index.dialect_options["postgresql"]["where"]
    rendered = str(where.compile(compile_kwargs={"literal_binds": True}))
    assert rendered == (
        "status IN ('submitted', 'verifying', 'needs_correction', 'in_review', "
        "'awaiting_signature')"
    )
    assert f'OPEN = "{rendered}"' in _migrated_sql()
