"""The office page where a Pejabat Pencatatan Sipil annuls an issued akta."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from akta_service.akta.annulment import annul_akta
from akta_service.births.documents import MAX_DOCUMENT_BYTES
from akta_service.births.models import BirthReport
from akta_service.core.actors import Role
from akta_service.core.audit import record_read
from akta_service.core.db import db
from akta_service.core.errors import DomainError
from akta_service.core.sessions import staff_required
from akta_service.review.queries import regional_report

bp = Blueprint("akta_annulment", __name__, url_prefix="/kantor/laporan")


def _report(code: str) -> BirthReport:
    report = regional_report(code, {r.code for r in current_user.regions})
    if report is None:
        abort(404)  # another region's report does not exist for this pejabat
    return report


def _page(report: BirthReport, refusal: DomainError | None = None) -> ResponseReturnValue:
    record_read(report, current_user.as_actor(), "akta annulment form")
    found = refusal.detail.get("errors") if refusal else None
    errors = {error.field: error.message for error in found or []}
    return render_template(
        "office/akta_annulment.html",
        report=report,
        refusal=refusal.message if refusal and not errors else None,
        errors=errors,
        typed=request.form.get("reason", ""),
    ), (refusal.status if refusal else 200)


@bp.route("/<code>/akta/batalkan", methods=["GET", "POST"])
@staff_required(Role.PEJABAT)
def annul(code: str) -> ResponseReturnValue:
    """The annulment form; sending it annuls every version of the report's akta."""
    report = _report(code)
    if request.method == "GET":
        return _page(report)
    upload = request.files.get("document")
    data = upload.read(MAX_DOCUMENT_BYTES + 1) if upload else b""
    try:
        with db.session.begin_nested():  # a refusal undoes the annulment, not the page's read
            annul_akta(report, current_user.as_actor(), request.form.get("reason", ""), data)
    except DomainError as refused:
        return _page(report, refused)
    flash(f"Akta {report.registration_number} dibatalkan", "info")
    return redirect(url_for("review.report", code=report.tracking_code))
