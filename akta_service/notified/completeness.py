"""Completeness, measured: births the facilities notified against what became of them, and
how soon the akta came (the UN ESCAP timeliness buckets). Aggregates only, no personal data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.clock import local_timezone
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.facilities.models import Facility
from akta_service.notified.models import NotifiedBirth

WEEKS = 8
#: A facility "notifies fewer" when its last four weeks bring less than this share of the
#: four weeks before.
DROP_SHARE = 0.5
#: What is counted per facility and week, in this order.
MEASURES = ("notified", "completed", "registered", "issued")
#: Timeliness of issued akta, days from birth to registration: within the legal period
#: (AKTA_ON_TIME_DAYS), within a year, later.
BUCKETS = ("on_time", "within_year", "later")


@dataclass
class Completeness:
    weeks: list[date] = field(default_factory=list)
    #: (facility name, week, measure) -> count.
    counts: Counter[tuple[str, date, str]] = field(default_factory=Counter)
    facilities: list[str] = field(default_factory=list)
    #: bucket -> share of the akta issued (None without any).
    timeliness: dict[str, float | None] = field(default_factory=dict)
    issued_total: int = 0
    #: (facility name, notified in the last four weeks, in the four before).
    fewer: list[tuple[str, int, int]] = field(default_factory=list)

    def total(self, facility: str, measure: str) -> int:
        return sum(self.counts[facility, week, measure] for week in self.weeks)


def _week(moment: datetime) -> date:
    day = moment.astimezone(local_timezone()).date()
    return day - timedelta(days=day.weekday())


def _bucket(days: int, on_time_days: int) -> str:
    if days <= on_time_days:
        return "on_time"
    return "within_year" if days <= 365 else "later"


def build_completeness(region_codes: Sequence[str]) -> Completeness:
    """Per facility and week (of notification): notified, completed by the family,
    registered, issued; the timeliness of every akta issued in these weeks; the facilities
    that notify fewer births than they used to."""
    board = Completeness()
    first = _week(utcnow()) - timedelta(weeks=WEEKS - 1)
    board.weeks = [first + timedelta(weeks=i) for i in range(WEEKS)]
    since = datetime.combine(first, datetime.min.time(), tzinfo=local_timezone())
    rows = db.session.execute(
        sa.select(
            Facility.name,
            NotifiedBirth.notified_at,
            NotifiedBirth.completed_at,
            BirthReport.status,
        )
        .join(Facility, Facility.code == NotifiedBirth.facility_code)
        .outerjoin(BirthReport, BirthReport.id == NotifiedBirth.report_id)
        .where(NotifiedBirth.region_code.in_(region_codes), NotifiedBirth.notified_at >= since)
    ).all()
    numbered = {ReportStatus.REGISTERED, ReportStatus.ISSUED}
    for name, notified_at, completed_at, status in rows:
        week = _week(notified_at)
        board.counts[name, week, "notified"] += 1
        board.counts[name, week, "completed"] += completed_at is not None
        board.counts[name, week, "registered"] += status in numbered
        board.counts[name, week, "issued"] += status == ReportStatus.ISSUED
    board.facilities = sorted({name for name, *_ in rows})
    _timeliness(board, region_codes, since)
    _fewer(board, region_codes)
    return board


def _timeliness(board: Completeness, region_codes: Sequence[str], since: datetime) -> None:
    issued = db.session.execute(
        sa.select(BirthReport.child_birth_date, BirthReport.registered_at).where(
            BirthReport.region_code.in_(region_codes),
            BirthReport.status == ReportStatus.ISSUED,
            BirthReport.registered_at >= since,
        )
    ).all()
    on_time_days = current_settings().on_time_days
    buckets = Counter(
        _bucket((registered.astimezone(local_timezone()).date() - born).days, on_time_days)
        for born, registered in issued
        if registered is not None
    )
    board.issued_total = len(issued)
    board.timeliness = {
        bucket: (buckets[bucket] / len(issued) if issued else None) for bucket in BUCKETS
    }


def _fewer(board: Completeness, region_codes: Sequence[str]) -> None:
    now = utcnow()
    recent, before = now - timedelta(weeks=4), now - timedelta(weeks=8)
    counted = db.session.execute(
        sa.select(
            Facility.name,
            sa.func.count().filter(NotifiedBirth.notified_at >= recent),
            sa.func.count().filter(NotifiedBirth.notified_at < recent),
        )
        .join(Facility, Facility.code == NotifiedBirth.facility_code)
        .where(NotifiedBirth.region_code.in_(region_codes), NotifiedBirth.notified_at >= before)
        .group_by(Facility.name)
    ).all()
    board.fewer = sorted(
        (name, last, earlier)
        for name, last, earlier in counted
        if earlier and last < earlier * DROP_SHARE
    )
