"""The family's link to their prefilled form, and the office's tab of open notifications."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from akta_service.core.actors import Role
from akta_service.core.audit import record
from akta_service.core.clock import local_today
from akta_service.core.db import db
from akta_service.core.sessions import staff_required
from akta_service.facilities.models import Facility
from akta_service.notified.completeness import (
    BUCKETS,
    MEASURES,
    Completeness,
    build_completeness,
)
from akta_service.notified.models import NotificationStatus, NotifiedBirth
from akta_service.notified.operations import open_family_form

bp = Blueprint("notified", __name__)

#: Rows of the office's list per page.
PAGE_SIZE = 100


@bp.get("/lapor/kelahiran/<token>")
def family_link(token: str) -> ResponseReturnValue:
    """The link in the family's message: their form, prefilled with the facility's facts."""
    resume_token = open_family_form(token)
    if resume_token is None:
        return render_template("public/lapor/notification_link_missing.html"), 404
    return redirect(url_for("parents.resume", token=resume_token))


def open_notices(region_codes: list[str], after: date | None) -> list[tuple[NotifiedBirth, str]]:
    """Notifications not completed yet in the regions, oldest birth first, with the facility."""
    query = (
        sa.select(NotifiedBirth, Facility.name)
        .join(Facility, Facility.code == NotifiedBirth.facility_code)
        .where(
            NotifiedBirth.status == NotificationStatus.NOTIFIED,
            NotifiedBirth.region_code.in_(region_codes),
        )
        .order_by(NotifiedBirth.birth_date, NotifiedBirth.id)
        .limit(PAGE_SIZE)
    )
    if after is not None:
        query = query.where(NotifiedBirth.birth_date >= after)
    return [(row[0], row[1]) for row in db.session.execute(query)]


@bp.get("/kantor/pemberitahuan")
@staff_required(Role.OPERATOR, Role.PEJABAT, Role.ADMIN)
def office_list() -> ResponseReturnValue:
    """The office's follow-up tab: births notified, not completed by the family."""
    regions = [r.code for r in current_user.regions]
    rows = open_notices(regions, None)
    record(
        "staff:notified_birth:list",
        current_user.as_actor(),
        data={"tracking_codes": [notice.tracking_code for notice, _ in rows]},
        read=True,
    )
    today = local_today()
    context: dict[str, Any] = {
        "rows": rows,
        "age": lambda notice: (today - notice.birth_date).days,
    }
    return render_template("office/notified.html", **context)


#: Words of the measures and buckets, on the page and as the CSV's columns.
MEASURE_WORDS = {
    "notified": "Diberitahukan",
    "completed": "Dilengkapi keluarga",
    "registered": "Tercatat",
    "issued": "Akta terbit",
}
BUCKET_WORDS = {
    "on_time": "Terbit dalam batas waktu (≤ {on_time_days} hari)",
    "within_year": "Terbit dalam setahun",
    "later": "Terbit lebih dari setahun",
}


def _completeness() -> Completeness:
    board = build_completeness([r.code for r in current_user.regions])
    record("staff:dashboard:completeness", current_user.as_actor(), data={"aggregates_only": True})
    return board


@bp.get("/kantor/kelengkapan")
@staff_required()
def completeness() -> ResponseReturnValue:
    """Every birth counted: what the facilities notified and what became of it."""
    return render_template(
        "office/completeness.html",
        board=_completeness(),
        measures=MEASURE_WORDS,
        buckets=BUCKET_WORDS,
    )


@bp.get("/kantor/kelengkapan.csv")
@staff_required()
def completeness_csv() -> ResponseReturnValue:
    """The same aggregates as CSV: counts and shares, no personal data."""
    board = _completeness()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["fasilitas", "minggu_mulai", *MEASURES])
    for facility in board.facilities:
        for week in board.weeks:
            counts = [board.counts[facility, week, measure] for measure in MEASURES]
            writer.writerow([facility, week.isoformat(), *counts])
    writer.writerow([])
    writer.writerow(["ketepatan_waktu", "porsi", "akta_terbit"])
    for bucket in BUCKETS:
        share = board.timeliness.get(bucket)
        writer.writerow([bucket, "" if share is None else f"{share:.4f}", board.issued_total])
    writer.writerow([])
    writer.writerow(["fasilitas_berkurang", "4_minggu_terakhir", "4_minggu_sebelumnya"])
    for name, last, earlier in board.fewer:
        writer.writerow([name, last, earlier])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="kelengkapan.csv"'},
    )
