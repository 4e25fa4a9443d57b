"""A report that came back for correction: what to fix and why, in words and as form fields;
and the report as the form's answers, so that the parent edits what was sent.

The reasons come from the latest verification checks (each names the report fields to
correct) and from the clerk who asked for the correction (the journal entry that moved the
report to `needs_correction`). A clerk writes words only: then the whole report is offered.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from akta_service.births.models import BirthReport, CheckOutcome, ReportStatus
from akta_service.births.queries import latest_checks
from akta_service.core.audit import JournalEntry, changes
from akta_service.parents.steps import FATHER_FIELDS, FIELDS, STEPS, Field, anchor

#: Check paths that stand for more than one form field.
_WIDER: dict[str, tuple[str, ...]] = {
    "father": ("marriage.situation", *FATHER_FIELDS),
    "marriage.recorded": ("marriage.situation", "marriage.certificate_number", "marriage.date"),
    "witnesses": ("witnesses.0.nik", "witnesses.0.name", "witnesses.1.nik", "witnesses.1.name"),
}

#: How the status page names a field whose form label needs its step to be understood.
PLAIN_NAMES: dict[str, LazyString] = {
    "child.sex": _l("Jenis kelamin bayi"),
    "child.birth_date": _l("Tanggal lahir bayi"),
    "child.birth_time": _l("Jam lahir bayi"),
    "child.birth_place_kind": _l("Tempat lahir bayi"),
    "mother.nik": _l("NIK ibu"),
    "mother.name": _l("Nama ibu"),
    "mother.birth_date": _l("Tanggal lahir ibu"),
    "father.nik": _l("NIK ayah"),
    "father.name": _l("Nama ayah"),
    "father.birth_date": _l("Tanggal lahir ayah"),
}

_ORDER = {name: index for index, name in enumerate(FIELDS)}


def plain_name(name: str) -> LazyString | str:
    """A field's name as a parent reads it in a list ("Nama ibu", "Nomor KK")."""
    if name in PLAIN_NAMES:
        return PLAIN_NAMES[name]
    spec = FIELDS.get(name)
    return spec.label if spec is not None else name


def form_fields(paths: Iterable[str]) -> tuple[str, ...]:
    """The form fields a list of report paths ("mother.name", "father") stands for."""
    names: set[str] = set()
    for path in paths:
        names.update(_WIDER.get(path) or (anchor(path),))
    return tuple(sorted((n for n in names if n in FIELDS), key=_ORDER.__getitem__))


@dataclass(frozen=True)
class Reason:
    """One thing to fix, as the parent reads it, and the form fields it concerns."""

    message: str
    #: Empty when the clerk wrote words only.
    fields: tuple[str, ...] = ()
    by_officer: bool = False


@dataclass(frozen=True)
class CorrectionRequest:
    """Everything the parent is asked to fix."""

    reasons: list[Reason]
    #: When the report came back: documents uploaded since then count as a correction.
    since: datetime | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field a reason names, in the order of the form."""
        return form_fields(name for reason in self.reasons for name in reason.fields)

    @property
    def open_ended(self) -> bool:
        """Some reason names no field: the parent may need to change anything."""
        return not self.reasons or any(not reason.fields for reason in self.reasons)


def _came_back(journal: list[JournalEntry]) -> JournalEntry | None:
    entries = [e for e in journal if e.to_state == ReportStatus.NEEDS_CORRECTION]
    return entries[-1] if entries else None


def correction_request(report: BirthReport) -> CorrectionRequest:
    """What the parent must fix on a report in `needs_correction`, and why."""
    entered = _came_back(changes(report.id))
    reasons = []
    if entered is not None and entered.trigger == "request_correction" and entered.reason:
        named = (entered.data or {}).get("fields") or []
        reasons.append(Reason(entered.reason, form_fields(named), by_officer=True))
    for check in latest_checks(report.id):
        if check.outcome == CheckOutcome.FAIL:
            named = (check.detail or {}).get("fields") or []
            reasons.append(Reason(check.for_reporter, form_fields(named)))
    return CorrectionRequest(reasons, entered.occurred_at if entered is not None else None)


# The form's sections ----------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """Fields that belong together, under one legend ("Data ibu kandung")."""

    legend: LazyString
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Section:
    """One step of the form, with the parts of it the correction shows."""

    slug: str
    title: LazyString
    parts: tuple[Part, ...]

    @property
    def field_names(self) -> set[str]:
        return {spec.name for part in self.parts for spec in part.fields}


def sections(names: Collection[str]) -> list[Section]:
    """The form's steps and groups cut down to the given fields, in the form's order."""
    found = []
    for step in STEPS:
        parts = []
        for group in step.groups:
            chosen = tuple(spec for spec in group.fields if spec.name in names)
            if chosen:
                parts.append(Part(group.legend or step.title, chosen))
        if parts:
            found.append(Section(step.slug, step.title, tuple(parts)))
    return found


# The report as answers ----------------------------------------------------------------------

#: Form fields stored under another column name.
_COLUMNS = {
    "witnesses.0.nik": "witness1_nik",
    "witnesses.0.name": "witness1_name",
    "witnesses.1.nik": "witness2_nik",
    "witnesses.1.name": "witness2_name",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _situation(report: BirthReport) -> str:
    if report.marriage_recorded:
        return "recorded"
    return "unrecorded" if report.father_nik else "not_married"


def report_answers(report: BirthReport) -> dict[str, str]:
    """The report as the form's answers: what was sent, ready to be corrected."""
    answers = {}
    for name in FIELDS:
        if name == "marriage.situation":
            answers[name] = _situation(report)
        else:
            answers[name] = _text(getattr(report, _COLUMNS.get(name, name.replace(".", "_"))))
    return answers
