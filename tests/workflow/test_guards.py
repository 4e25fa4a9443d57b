"""The named guards: what a clerk, a facility or a parent is told when an action must wait."""

from __future__ import annotations

import re

import pytest

from akta_service.births.models import ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.errors import ConflictError, GuardRefused
from akta_service.workflow.engine import allowed_triggers, fire
from tests.conftest import count_journal, informant_for
from tests.factories import BirthReportFactory

S = ReportStatus


def _refused(report, trigger, actor, **kwargs) -> GuardRefused:
    version, journal = report.version, count_journal(report.id)
    with pytest.raises(GuardRefused) as refused:
        fire(report, trigger, actor, **kwargs)
    db.session.expire_all()
    assert report.version == version
    assert count_journal(report.id) == journal
    return refused.value


def test_approve_waits_for_a_duplicate_decision(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW, potential_duplicate=True)
    error = _refused(report, "approve", actors["operator"])
    assert error.detail["guard"] == "not_potential_duplicate"
    assert "kemungkinan ganda" in error.message
    assert report.status == S.IN_REVIEW


def test_the_approver_cannot_sign(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW)
    fire(report, "approve", actors["operator"])
    # A pejabat-operator pair is the norm; an approver who also holds the pejabat role
    # (same person id) must still be refused.
    same_person = Actor(
        id=actors["operator"].id,
        name=actors["operator"].name,
        role=actors["pejabat"].role,
        region_codes=actors["pejabat"].region_codes,
    )
    error = _refused(report, "sign", same_person)
    assert error.detail["guard"] == "signer_is_not_approver"
    assert report.registration_number is None
    fire(report, "sign", actors["pejabat"])
    assert report.status == S.REGISTERED


def test_reason_is_required_where_the_parent_will_read_it(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW)
    for blank in (None, "", "   "):
        error = _refused(report, "request_correction", actors["operator"], reason=blank)
        assert "Alasan wajib diisi" in error.message
    fire(report, "request_correction", actors["operator"], reason="Foto KK buram, unggah ulang")
    assert report.status == S.NEEDS_CORRECTION


def test_staff_act_only_in_their_regions(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW)
    error = _refused(report, "approve", actors["operator_elsewhere"])
    assert error.detail["guard"] == "actor_serves_region"
    assert "3274" in error.message


def test_a_facility_acts_only_on_its_own_reports(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.NEEDS_CORRECTION, facility_code="RS001")
    error = _refused(report, "resubmit", actors["other_facility"])
    assert error.detail["guard"] == "actor_owns_report"
    fire(report, "resubmit", actors["facility"])
    assert report.status == S.SUBMITTED


def test_an_informant_acts_only_on_the_report_they_opened(actors: dict[str, Actor]) -> None:
    mine = BirthReportFactory(status=S.SUBMITTED)
    other = BirthReportFactory(status=S.SUBMITTED)
    _refused(other, "cancel", informant_for(mine))
    fire(mine, "cancel", informant_for(mine))
    assert mine.status == S.CANCELLED
    assert other.status == S.SUBMITTED


def test_allowed_triggers_are_per_role(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW)
    assert allowed_triggers(report, actors["operator"]) == [
        "request_correction",
        "approve",
        "reject",
    ]
    assert allowed_triggers(report, actors["pejabat"]) == ["reject"]
    assert allowed_triggers(report, actors["viewer"]) == []


def test_signing_numbers_are_consecutive_per_region_and_day(actors: dict[str, Actor]) -> None:
    on_time = [BirthReportFactory(status=S.AWAITING_SIGNATURE) for _ in range(3)]
    late = BirthReportFactory(status=S.AWAITING_SIGNATURE, is_late=True, born_days_ago=90)
    for report in [*on_time, late]:
        fire(report, "sign", actors["pejabat"])
    numbers = [r.registration_number for r in [*on_time, late]]
    pattern = re.compile(r"^3274-(LU|LT)-\d{8}-(\d{4})$")
    parsed = [pattern.match(n or "") for n in numbers]
    assert all(parsed), numbers
    assert [m.group(1) for m in parsed if m] == ["LU", "LU", "LU", "LT"]
    assert [int(m.group(2)) for m in parsed if m] == [1, 2, 3, 4]
    assert all(r.registered_at is not None for r in [*on_time, late])


def test_stale_version_names_who_changed_it_and_when(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW)
    seen_version = report.version
    fire(report, "request_correction", actors["operator_b"], reason="NIK ibu salah ketik")
    with pytest.raises(ConflictError) as conflict:
        fire(report, "reject", actors["operator"], reason="x", expected_version=seen_version)
    error = conflict.value
    assert actors["operator_b"].name in error.message
    assert error.detail["changed_by"] == actors["operator_b"].name
    assert error.detail["action"] == "workflow:birth_report:request_correction"
    assert error.detail["current_version"] == seen_version + 1
    assert error.status == 409
    db.session.expire_all()
    assert report.status == S.NEEDS_CORRECTION


def test_a_claimed_report_moves_only_for_its_holder(actors: dict[str, Actor]) -> None:
    from akta_service.accounts.models import User

    holder_id = int(actors["operator_b"].id.split(":")[1])
    report = BirthReportFactory(status=S.IN_REVIEW, assigned_to_id=holder_id)
    error = _refused(report, "approve", actors["operator"])
    assert error.detail["guard"] == "actor_holds_claim"
    holder = db.session.get(User, holder_id)
    assert holder is not None
    assert holder.full_name in error.message
    fire(report, "approve", actors["operator_b"])
    assert report.status == S.AWAITING_SIGNATURE
    assert report.assigned_to_id is None  # the next step is claimed afresh
