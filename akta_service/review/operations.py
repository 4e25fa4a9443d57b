"""Claiming a report, and deciding a suspected duplicate."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from akta_service.accounts.models import User
from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import record, record_read
from akta_service.core.db import db, utcnow
from akta_service.core.errors import GuardRefused, PermissionDenied
from akta_service.verification.masking import mask_nik
from akta_service.workflow.engine import allowed_triggers, conflict_for, fire

#: The reason a rejected duplicate gives its reporter, unless the clerk writes one.
DUPLICATE_REASON = (
    "Kelahiran ini sudah dilaporkan sebelumnya; akta diproses dari laporan yang pertama."
)


def claim(report: BirthReport, user: User, expected_version: int | None = None) -> None:
    """Take the report: the others see it read-only until it is released.

    :param expected_version: the version the clerk's page showed; a newer one means the
        report moved on since, and the clerk is told by whom instead of taking it blind.
    """
    if expected_version is not None and expected_version != report.version:
        raise conflict_for(report.id, report.version)
    if not allowed_triggers(report, user.as_actor()):
        raise GuardRefused(
            "nothing_to_do",
            guard="actor_holds_claim",
            role=str(user.role),
            state=str(report.status),
        )
    if report.assigned_to_id not in (None, user.id):
        holder = db.session.get(User, report.assigned_to_id)
        if holder is None:
            raise GuardRefused("claimed_by_other_clerk", guard="actor_holds_claim")
        raise GuardRefused("claimed", guard="actor_holds_claim", assignee=holder.full_name)
    if report.assigned_to_id == user.id:
        return
    report.assigned_to_id = user.id
    report.assigned_at = utcnow()
    db.session.flush()  # the journal notes the version this change made
    record("review:birth_report:claim", user.as_actor(), report=report)


def release(report: BirthReport, actor: Actor) -> None:
    """Give the report back; the holder may, and an admin may for anyone."""
    if report.assigned_to_id is None:
        return
    if not actor.is_user(report.assigned_to_id) and actor.role != Role.ADMIN:
        raise PermissionDenied("release_not_yours")
    previous = report.assigned_to_id
    report.assigned_to_id = None
    report.assigned_at = None
    db.session.flush()
    record("review:birth_report:release", actor, report=report, data={"was": previous})


def decide_duplicate(
    report: BirthReport, is_duplicate: bool, actor: Actor, reason: str | None
) -> None:
    """ "Duplicate" rejects the report, linking the original; "not a duplicate" clears the flag."""
    if not report.potential_duplicate or report.status != ReportStatus.IN_REVIEW:
        raise GuardRefused("not_flagged_duplicate")
    if actor.role != Role.OPERATOR:
        raise PermissionDenied("duplicate_by_operator")
    original = (
        db.session.get(BirthReport, report.duplicate_of_id) if report.duplicate_of_id else None
    )
    if is_duplicate:
        code = original.tracking_code if original else "laporan lain"
        fire(
            report,
            "reject",
            actor,
            # The informant and the facility read the reason: never the other report's code.
            reason=reason or DUPLICATE_REASON,
            data={"duplicate_of": code},
        )
        return
    report.potential_duplicate = False
    report.duplicate_of_id = None
    db.session.flush()
    record(
        "review:birth_report:not_duplicate",
        actor,
        report=report,
        reason=reason,
        data={"suspected_original": original.tracking_code if original else None},
    )


@dataclass(frozen=True)
class SuspectedOriginal:
    """The earlier report a potential duplicate resembles, as the clerk may see it: whole
    when it is in one of the clerk's regions, masked (NIK and KK partly, names as initials,
    no registration number) when it is another region's."""

    tracking_code: str
    #: In one of the clerk's regions: the clerk may open it and sees it whole.
    own_region: bool
    child_name: str
    child_sex: str
    child_birth_date: date
    child_birth_place: str
    child_birth_order: int
    mother_name: str
    mother_nik: str
    father_name: str | None
    kk_number: str
    status: str
    registration_number: str | None


def initials(name: str | None) -> str | None:
    """ "Siti Aminah" as "S. A."."""
    if not name:
        return name
    return " ".join(f"{word[0].upper()}." for word in name.split())


def suspected_original(
    report: BirthReport, actor: Actor, region_codes: Collection[str]
) -> SuspectedOriginal | None:
    """The original a flagged report is compared with, its read journalled; another region's
    only while the clerk has to decide (a flagged report in review), and masked."""
    if report.duplicate_of_id is None:
        return None
    original = db.session.get(BirthReport, report.duplicate_of_id)
    if original is None:
        return None
    own = original.region_code in region_codes
    deciding = report.potential_duplicate and report.status == ReportStatus.IN_REVIEW
    if not own and not deciding:
        return None
    record_read(
        original,
        actor,
        f"duplicate comparison with {report.tracking_code}" + ("" if own else " (masked)"),
    )
    if own:
        return SuspectedOriginal(
            original.tracking_code,
            True,
            original.child_name,
            str(original.child_sex),
            original.child_birth_date,
            original.child_birth_place,
            original.child_birth_order,
            original.mother_name,
            original.mother_nik,
            original.father_name,
            original.kk_number,
            str(original.status),
            original.registration_number,
        )
    return SuspectedOriginal(
        original.tracking_code,
        False,
        initials(original.child_name) or "",
        str(original.child_sex),
        original.child_birth_date,
        original.child_birth_place,
        original.child_birth_order,
        initials(original.mother_name) or "",
        mask_nik(original.mother_nik),
        initials(original.father_name),
        mask_nik(original.kk_number),
        str(original.status),
        "terdaftar" if original.registration_number else None,
    )
