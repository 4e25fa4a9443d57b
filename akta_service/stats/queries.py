"""Aggregates only: no personal data leaves these functions."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from akta_service.akta.models import AktaDocument
from akta_service.births.models import WAITING_FOR_OFFICE, BirthReport, Channel
from akta_service.core.clock import local_timezone
from akta_service.core.db import db, utcnow
from akta_service.facilities.models import Facility
from akta_service.regions.models import District

#: Facilities silent this long, after reporting before, are listed as stopped.
SILENT_AFTER = timedelta(days=14)
WEEKS = 12


@dataclass
class Dashboard:
    weeks: list[date] = field(default_factory=list)
    #: channel -> counts per week (same order as `weeks`).
    per_week: dict[str, list[int]] = field(default_factory=dict)
    on_time_share: float | None = None
    median_hours: float | None = None
    p90_hours: float | None = None
    queue: dict[str, int] = field(default_factory=dict)
    oldest_waiting_hours: float | None = None
    by_district: list[tuple[str, int]] = field(default_factory=list)
    silent_facilities: list[tuple[str, str, datetime]] = field(default_factory=list)
    #: At a glance: reports submitted today and this week (office time), akta issued this
    #: week and how many of them on the day their report came in.
    today: int = 0
    this_week: int = 0
    issued_this_week: int = 0
    issued_same_day: int = 0
    #: Reports of the last weeks per facility (name), the busiest first.
    by_facility: list[tuple[str, int]] = field(default_factory=list)


def _week_start(moment: datetime) -> date:
    day = moment.astimezone(local_timezone()).date()
    return day - timedelta(days=day.weekday())


def build_dashboard(region_codes: Sequence[str]) -> Dashboard:
    now = utcnow()
    board = Dashboard()
    first_week = _week_start(now) - timedelta(weeks=WEEKS - 1)
    board.weeks = [first_week + timedelta(weeks=i) for i in range(WEEKS)]
    mine = BirthReport.region_code.in_(region_codes)
    since = datetime.combine(first_week, datetime.min.time(), tzinfo=local_timezone())
    submitted = db.session.execute(
        sa.select(BirthReport.channel, BirthReport.submitted_at, BirthReport.is_late).where(
            mine, BirthReport.submitted_at >= since
        )
    ).all()
    board.per_week = {str(c): [0] * WEEKS for c in Channel}
    late = 0
    for channel, moment, is_late in submitted:
        index = (_week_start(moment) - first_week).days // 7
        if 0 <= index < WEEKS:
            board.per_week[str(channel)][index] += 1
        late += bool(is_late)
    if submitted:
        board.on_time_share = 1 - late / len(submitted)

    local_now = now.astimezone(local_timezone())
    today = local_now.date()
    week = _week_start(now)
    for _channel, moment, _late in submitted:
        day = moment.astimezone(local_timezone()).date()
        board.today += day == today
        board.this_week += day >= week
    week_began = datetime.combine(week, datetime.min.time(), tzinfo=local_timezone())
    for submitted_at, issued in db.session.execute(
        sa.select(BirthReport.submitted_at, AktaDocument.issued_at)
        .join(AktaDocument, AktaDocument.report_id == BirthReport.id)
        .where(mine, AktaDocument.version == 1, AktaDocument.issued_at >= week_began)
    ):
        board.issued_this_week += 1
        board.issued_same_day += (
            submitted_at.astimezone(local_timezone()).date()
            == issued.astimezone(local_timezone()).date()
        )

    board.by_facility = [
        (name, count)
        for name, count in db.session.execute(
            sa.select(Facility.name, sa.func.count(BirthReport.id))
            .join(Facility, Facility.code == BirthReport.facility_code)
            .where(mine, BirthReport.submitted_at >= since)
            .group_by(Facility.name)
            .order_by(sa.func.count(BirthReport.id).desc(), Facility.name)
        )
    ]

    durations = [
        (issued - submitted_at).total_seconds() / 3600
        for submitted_at, issued in db.session.execute(
            sa.select(BirthReport.submitted_at, AktaDocument.issued_at)
            .join(AktaDocument, AktaDocument.report_id == BirthReport.id)
            .where(mine, AktaDocument.version == 1, AktaDocument.issued_at >= since)
        )
    ]
    if durations:
        board.median_hours = statistics.median(durations)
        board.p90_hours = (
            statistics.quantiles(durations, n=10, method="inclusive")[8]
            if len(durations) > 1
            else durations[0]
        )

    board.queue = {
        str(status): count
        for status, count in db.session.execute(
            sa.select(BirthReport.status, sa.func.count())
            .where(mine, BirthReport.status.in_(WAITING_FOR_OFFICE))
            .group_by(BirthReport.status)
        )
    }
    oldest = db.session.scalar(
        sa.select(sa.func.min(BirthReport.submitted_at)).where(
            mine, BirthReport.status.in_(WAITING_FOR_OFFICE)
        )
    )
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        board.oldest_waiting_hours = (now - oldest).total_seconds() / 3600

    district = sa.func.substr(BirthReport.kk_number, 1, 6)
    counts = db.session.execute(
        sa.select(district, sa.func.count())
        .where(mine, BirthReport.submitted_at >= since)
        .group_by(district)
        .order_by(sa.func.count().desc())
    ).all()
    names = {d.code: d.name for d in db.session.scalars(sa.select(District))}
    board.by_district = [(names.get(code, code), count) for code, count in counts]

    last = (
        sa.select(BirthReport.facility_code, sa.func.max(BirthReport.submitted_at).label("last"))
        .where(BirthReport.facility_code.is_not(None))
        .group_by(BirthReport.facility_code)
        .subquery()
    )
    board.silent_facilities = [
        (code, name, moment)
        for code, name, moment in db.session.execute(
            sa.select(Facility.code, Facility.name, last.c.last)
            .join(last, last.c.facility_code == Facility.code)
            .where(Facility.region_code.in_(region_codes), last.c.last < now - SILENT_AFTER)
            .order_by(last.c.last)
        )
    ]
    return board
