"""The queue tabs, search and keyset pagination: page 1,000 costs what page 1 costs."""

from __future__ import annotations

import base64
import re
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

import sqlalchemy as sa

from akta_service.accounts.models import User
from akta_service.akta.models import AktaCorrectionRequest, CorrectionStatus
from akta_service.births.codes import is_tracking_code, normalise_tracking_code
from akta_service.births.models import (
    OPEN_STATUSES,
    SEARCH_NAMES_SEPARATOR,
    BirthReport,
    ReportStatus,
)
from akta_service.births.operations import get_report_by_tracking_code
from akta_service.core.config import Settings
from akta_service.core.db import UTCDateTime, db
from akta_service.core.errors import InvalidInput
from akta_service.verification.operations import stalled

PAGE_SIZE = 50

#: Each tab's label; "{on_time_days}" is filled from the settings (:func:`tab_labels`).
TAB_LABELS = {
    "in_review": "Perlu diperiksa",
    "awaiting_signature": "Menunggu tanda tangan",
    "needs_correction": "Menunggu perbaikan pelapor",
    "stalled": "Tertahan (Dukcapil tidak menjawab)",
    "potential_duplicate": "Kemungkinan ganda",
    "late": "Terlambat (> {on_time_days} hari)",
    "akta_correction": "Permohonan perbaikan akta",
}


def tab_labels(settings: Settings) -> dict[str, str]:
    """The tabs' labels as a clerk reads them."""
    return {
        tab: label.format(on_time_days=settings.on_time_days) for tab, label in TAB_LABELS.items()
    }


#: Tabs that list one status.
_STATUS_TABS = {
    "in_review": ReportStatus.IN_REVIEW,
    "awaiting_signature": ReportStatus.AWAITING_SIGNATURE,
    "needs_correction": ReportStatus.NEEDS_CORRECTION,
}

#: A name search needs this many characters.
MIN_NAME_SEARCH = 3

_REGNO = re.compile(r"^\d{4}-[A-Z]{2}-\d{8}-\d{4,}$")


def regional_report(code: str, region_codes: Collection[str]) -> BirthReport | None:
    """The report with this tracking code when it is in one of `region_codes`; None when it
    is another region's (which does not exist for this clerk). Raises NotFound for no report."""
    report = get_report_by_tracking_code(code)
    return report if report.region_code in region_codes else None


def tab_condition(tab: str, settings: Settings) -> sa.ColumnElement[bool]:
    """Which reports a tab lists (only that tab's condition is built: the page builds six)."""
    if tab in _STATUS_TABS:
        return BirthReport.status == _STATUS_TABS[tab]
    if tab == "stalled":
        return stalled(settings)
    if tab == "akta_correction":
        return correction_requested()
    if tab == "potential_duplicate":
        flag = BirthReport.potential_duplicate
    elif tab == "late":
        flag = BirthReport.is_late
    else:
        raise KeyError(tab)
    return sa.and_(flag.is_(True), BirthReport.status.in_(OPEN_STATUSES))


def correction_requested() -> sa.ColumnElement[bool]:
    """Issued reports whose correction a parent or facility asked for, not yet checked."""
    waiting = sa.select(AktaCorrectionRequest.report_id).where(
        AktaCorrectionRequest.status == CorrectionStatus.REQUESTED
    )
    return sa.and_(BirthReport.status == ReportStatus.ISSUED, BirthReport.id.in_(waiting))


def _count_columns(region_codes: Sequence[str], settings: Settings) -> list[sa.Label[int]]:
    """Each tab's count, each its own count over its own reports (scalar subqueries).

    Every tab but one lists open reports, and each is counted from the open reports' partial
    index with the tab's condition as the index condition: a count reads the tab's entries
    alone and tests nothing per entry, where one pass over every open report had to test
    each of them for every tab (two thirds of the count's time). The issued akta with a
    correction waiting are counted from the waiting requests, never by looking through the
    issued reports.
    """
    return [
        sa.select(sa.func.count())
        .select_from(BirthReport)
        .where(BirthReport.region_code.in_(region_codes), tab_condition(tab, settings))
        .scalar_subquery()
        .label(tab)
        for tab in TAB_LABELS
    ]


def queue_counts(region_codes: Sequence[str], settings: Settings) -> dict[str, int]:
    """How many reports wait in each tab, in the given regions (one query)."""
    row = db.session.execute(sa.select(*_count_columns(region_codes, settings))).one()
    return dict(zip(TAB_LABELS, row, strict=True))


def queue_overview(
    region_codes: Sequence[str], settings: Settings, tab: str
) -> tuple[dict[str, int], list[tuple[str | None, int]]]:
    """The tab counts, and who holds how many of the tab's reports, in one statement.

    The claims are (full name, count), the unclaimed as (None, count) first, then the
    busiest clerk first.

    Who holds how many is counted over the claimed reports alone (their own partial index:
    a clerk holds a handful, the office's backlog is tens of thousands); the unclaimed are
    the tab's count less the claimed. The holders' rows carry the counts (a join on true
    keeps the counts when nobody holds any): each statement is a round trip, and on a
    busy server a round trip waits for its turn on a core.
    """
    held = (
        sa.select(BirthReport.assigned_to_id, sa.func.count().label("held"))
        .where(
            BirthReport.assigned_to_id.is_not(None),
            BirthReport.region_code.in_(region_codes),
            tab_condition(tab, settings),
        )
        .group_by(BirthReport.assigned_to_id)
        .subquery()
    )
    one = sa.select(sa.literal(1).label("one")).subquery()
    rows = db.session.execute(
        sa.select(*_count_columns(region_codes, settings), User.full_name, held.c.held)
        .select_from(one)
        .outerjoin(held, sa.true())
        .outerjoin(User, User.id == held.c.assigned_to_id)
    ).all()
    counts = {name: rows[0]._mapping[name] for name in TAB_LABELS}
    by_holder: dict[str | None, int] = {}
    for row in rows:
        if row.held:
            by_holder[row.full_name] = by_holder.get(row.full_name, 0) + row.held
    unclaimed = counts[tab] - sum(by_holder.values())
    if unclaimed:
        by_holder[None] = unclaimed
    claims = list(by_holder.items())
    return counts, _claims_order(claims)


def search_condition(text: str) -> sa.ColumnElement[bool] | None:
    """Tracking code, NIK (of mother, father or child), registration number, or a name."""
    text = text.strip()
    if not text:
        return None
    digits = text.replace(" ", "")
    if digits.isdigit() and len(digits) == 16:
        return sa.or_(
            BirthReport.mother_nik == digits,
            BirthReport.father_nik == digits,
            BirthReport.child_nik == digits,
        )
    if _REGNO.match(text.upper()):
        return BirthReport.registration_number == text.upper()
    code = normalise_tracking_code(text)
    coded: sa.ColumnElement[bool] | None = None
    if is_tracking_code(code):
        coded = BirthReport.tracking_code == code
        if not code.isalpha():
            return coded
        # Letters alone: a code, or a name of ten letters such as "Sekar Ratna".
    if len(text) < MIN_NAME_SEARCH:
        # Fewer letters make no trigram: the whole index would be read for nothing useful.
        raise InvalidInput("name_search_too_short", min_letters=MIN_NAME_SEARCH)
    if SEARCH_NAMES_SEPARATOR in text:
        # No name holds one: the text would span the child's and the mother's.
        return sa.false() if coded is None else coded
    # The names lowered by the database, and the text by the same lower(): LIKE matches them
    # as ILIKE matched each name. PostgreSQL answers it from the column's trigram index or,
    # for a common name, walks the waiting-order index that holds it. % and _ typed by the
    # clerk are letters, not wildcards.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    named = BirthReport.search_names.like(sa.func.lower(f"%{escaped}%"), escape="\\")
    return named if coded is None else sa.or_(coded, named)


def encode_cursor(report: BirthReport) -> str:
    raw = f"{report.status_since.isoformat()}|{report.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, report_id = raw.rsplit("|", 1)
        return datetime.fromisoformat(moment), int(report_id)
    except (ValueError, UnicodeDecodeError):
        return None


#: The queue's orders: by waiting time, the longest-waiting first (the default) or last.
SORTS = ("longest", "shortest")


def queue_page(
    region_codes: Sequence[str],
    settings: Settings,
    tab: str | None,
    search: str = "",
    after: str | None = None,
    page_size: int = PAGE_SIZE,
    sort: str = "longest",
) -> tuple[list[BirthReport], str | None]:
    """One page, in waiting order: the report longest in its status first (or last, with
    `sort="shortest"`), and the cursor of the next page in that order."""
    newest_first = sort == "shortest"
    query = sa.select(BirthReport).where(BirthReport.region_code.in_(region_codes))
    if tab:
        query = query.where(tab_condition(tab, settings))
    condition = search_condition(search)
    if condition is not None:
        query = query.where(condition)
    position = decode_cursor(after) if after else None
    if position is not None:
        moment, report_id = position
        key = sa.tuple_(BirthReport.status_since, BirthReport.id)
        seen = sa.tuple_(sa.literal(moment, UTCDateTime()), sa.literal(report_id))
        query = query.where(key < seen if newest_first else key > seen)
    order = (
        (BirthReport.status_since.desc(), BirthReport.id.desc())
        if newest_first
        else (BirthReport.status_since, BirthReport.id)
    )
    query = query.order_by(*order).limit(page_size + 1)
    if condition is not None:
        # The page's ids first, then their rows: a search's walk in waiting order then reads
        # only the index (which holds the names it filters on), not every row it passes.
        ids = query.with_only_columns(BirthReport.id, maintain_column_froms=True).subquery()
        query = (
            sa.select(BirthReport).where(BirthReport.id.in_(sa.select(ids.c.id))).order_by(*order)
        )
    rows = list(db.session.scalars(query))
    page = rows[:page_size]
    return page, (encode_cursor(page[-1]) if len(rows) > page_size else None)


def _claims_order(
    claims: Iterable[tuple[str | None, int]],
) -> list[tuple[str | None, int]]:
    return sorted(claims, key=lambda row: (row[0] is not None, -row[1], row[0] or ""))


def _full_names(user_ids: Collection[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.full_name).where(User.id.in_(user_ids)))
    return {user_id: name for user_id, name in rows}


def holders(reports: Sequence[BirthReport]) -> dict[int, str]:
    """The full name of who holds each claimed report, by user id."""
    return _full_names({r.assigned_to_id for r in reports if r.assigned_to_id is not None})


def next_in_tab(
    region_codes: Sequence[str],
    settings: Settings,
    tab: str,
    after_report: BirthReport,
    user_id: int,
) -> BirthReport | None:
    """The report a clerk works next in the tab: the longest-waiting one other than
    `after_report` that nobody else holds."""
    return db.session.scalars(
        sa.select(BirthReport)
        .where(
            BirthReport.region_code.in_(region_codes),
            tab_condition(tab, settings),
            BirthReport.id != after_report.id,
            sa.or_(BirthReport.assigned_to_id.is_(None), BirthReport.assigned_to_id == user_id),
        )
        .order_by(BirthReport.status_since, BirthReport.id)
        .limit(1)
    ).first()
