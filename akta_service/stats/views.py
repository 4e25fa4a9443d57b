"""The dashboard page (charts as inline SVG, nothing from elsewhere) and its CSV export."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from akta_service.births.models import Channel
from akta_service.core.audit import record
from akta_service.core.labels import label
from akta_service.core.sessions import staff_required
from akta_service.stats.queries import build_dashboard

bp = Blueprint("stats", __name__, url_prefix="/kantor/dasbor")

CHANNEL_COLOURS = {
    Channel.WEB: "#0b5394",
    Channel.FACILITY_API: "#38761d",
    Channel.OFFICE: "#b45f06",
}


@bp.get("")
@staff_required()
def dashboard() -> ResponseReturnValue:
    board = build_dashboard([r.code for r in current_user.regions])
    record("staff:dashboard:view", current_user.as_actor(), data={"aggregates_only": True})
    most = max((sum(w) for w in zip(*board.per_week.values(), strict=True)), default=0)
    return render_template(
        "office/dashboard.html",
        board=board,
        labels={channel: label(channel, "channel") for channel in Channel},
        colours=CHANNEL_COLOURS,
        scale=max(most, 1),
        queue_scale=max(board.queue.values(), default=1) or 1,
        district_scale=max((count for _, count in board.by_district), default=1) or 1,
    )


@bp.get("/ekspor.csv")
@staff_required()
def dashboard_csv() -> ResponseReturnValue:
    """The aggregates as CSV: counts and durations, no personal data."""
    board = build_dashboard([r.code for r in current_user.regions])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["minggu_mulai", *board.per_week])
    for index, week in enumerate(board.weeks):
        writer.writerow([week.isoformat(), *(board.per_week[c][index] for c in board.per_week)])
    writer.writerow([])
    writer.writerow(["ukuran", "nilai"])
    writer.writerow(["porsi_tepat_waktu", board.on_time_share])
    writer.writerow(["median_jam_sampai_akta", board.median_hours])
    writer.writerow(["p90_jam_sampai_akta", board.p90_hours])
    for status, count in board.queue.items():
        writer.writerow([f"antrian_{status}", count])
    writer.writerow([])
    writer.writerow(["kecamatan", "laporan"])
    for name, count in board.by_district:
        writer.writerow([name, count])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="dasbor-akta.csv"'},
    )
