"""The work queue and the review page; every read of personal data is journalled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from akta_service.accounts.models import User
from akta_service.accounts.views import staff_required
from akta_service.births.models import BirthReport
from akta_service.births.operations import get_report_by_tracking_code
from akta_service.births.queries import latest_checks
from akta_service.core.audit import changes, record, record_read
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError
from akta_service.review.operations import claim, decide_duplicate, release
from akta_service.review.queries import TAB_LABELS, queue_counts, queue_page
from akta_service.workflow.engine import allowed_triggers, fire

bp = Blueprint("review", __name__, url_prefix="/kantor")

#: Actions offered on the review page: trigger -> (button label, reason required).
ACTIONS = {
    "approve": ("Setujui", False),
    "request_correction": ("Minta perbaikan", True),
    "send_back": ("Kembalikan ke operator", True),
    "sign": ("Tanda tangani", False),
    "reject": ("Tolak", True),
}


def waited(since: datetime) -> str:
    """ "3 jam", "2 hari": how long a report has waited."""
    seconds = max(0, int((utcnow() - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} menit"
    if seconds < 86400:
        return f"{seconds // 3600} jam"
    return f"{seconds // 86400} hari"


@bp.get("/antrian")
@staff_required()
def queue() -> ResponseReturnValue:
    tab = request.args.get("tab") or "in_review"
    if tab not in TAB_LABELS:
        abort(404)
    regions = [r.code for r in current_user.regions]
    settings = current_settings()
    search = request.args.get("q", "")[:100]
    reports, next_cursor = queue_page(
        regions, settings, None if search else tab, search, request.args.get("after")
    )
    record(
        "staff:birth_report:list",
        current_user.as_actor(),
        data={"tab": tab, "search": bool(search), "report_ids": [r.id for r in reports]},
        read=True,
    )
    return render_template(
        "office/queue.html",
        tab=tab,
        labels=TAB_LABELS,
        counts=queue_counts(regions, settings),
        reports=reports,
        next_cursor=next_cursor,
        search=search,
        waited=waited,
    )


def _own(code: str) -> BirthReport:
    report = get_report_by_tracking_code(code)
    if report.region_code not in {r.code for r in current_user.regions}:
        abort(404)  # another region's report does not exist for this clerk
    return report


@bp.get("/laporan/<code>")
@staff_required()
def report(code: str) -> ResponseReturnValue:
    found = _own(code)
    record_read(found, current_user.as_actor(), "review page")
    checks = latest_checks(found.id)
    journal = changes(found.id)
    possible = set(allowed_triggers(found, current_user.as_actor()))
    holds = found.assigned_to_id == current_user.id
    actions = {name: spec for name, spec in ACTIONS.items() if name in possible and holds}
    holder = db.session.get(User, found.assigned_to_id) if found.assigned_to_id else None
    original = db.session.get(BirthReport, found.duplicate_of_id) if found.duplicate_of_id else None
    return render_template(
        "office/report.html",
        report=found,
        checks=checks,
        journal=journal,
        actions=actions,
        original=original,
        typed=request.args.get("reason", ""),
        holder=holder,
        holds=holds,
        can_claim=bool(possible) and holder is None,
    )


def _run(code: str, operation: Any, done: str) -> ResponseReturnValue:
    """Run one office operation on the report, then show the report with the outcome."""
    found = _own(code)
    try:
        operation(found)
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message, "error")
    else:
        flash(done, "info")
    return redirect(url_for("review.report", code=code))


@bp.post("/laporan/<code>/klaim")
@staff_required("operator", "pejabat")
def claim_report(code: str) -> ResponseReturnValue:
    return _run(code, lambda report: claim(report, current_user), "Laporan ini Anda tangani.")


@bp.post("/laporan/<code>/lepas")
@staff_required("operator", "pejabat", "admin")
def release_report(code: str) -> ResponseReturnValue:
    return _run(code, lambda report: release(report, current_user.as_actor()), "Laporan dilepas.")


@bp.post("/laporan/<code>/ganda")
@staff_required("operator")
def duplicate_decision(code: str) -> ResponseReturnValue:
    is_duplicate = request.form.get("decision") == "duplicate"
    reason = (request.form.get("reason") or "").strip() or None
    return _run(
        code,
        lambda report: decide_duplicate(report, is_duplicate, current_user.as_actor(), reason),
        "Keputusan laporan ganda disimpan.",
    )


@bp.post("/laporan/<code>/<action>")
@staff_required("operator", "pejabat")
def act(code: str, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    found = _own(code)
    reason = (request.form.get("reason") or "").strip() or None
    version: Any = request.form.get("version", "")
    try:
        fire(
            found,
            action,
            current_user.as_actor(),
            reason=reason,
            expected_version=int(version) if str(version).isdigit() else None,
        )
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message, "error")
        # What the clerk typed comes back with the page: nothing is lost.
        return redirect(url_for("review.report", code=code, reason=reason or ""))
    flash(f"{ACTIONS[action][0]}: berhasil.", "info")
    return redirect(url_for("review.report", code=code))
