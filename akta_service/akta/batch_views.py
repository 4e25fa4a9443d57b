"""The pejabat's batch signing pages: pick reports, preview them, sign them all at once."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from akta_service.akta.batch import (
    MAX_BATCH,
    batch_lines,
    preview_png,
    sign_batch,
    signable,
)
from akta_service.akta.operations import approved_correction, usable_authorisation
from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Role
from akta_service.core.audit import record, record_read
from akta_service.core.db import db
from akta_service.core.errors import DomainError, InvalidInput
from akta_service.core.forms import whole_number
from akta_service.core.messages import message
from akta_service.core.sessions import staff_required
from akta_service.review.queries import regional_report

bp = Blueprint("akta_batch", __name__, url_prefix="/kantor")

#: The status page reloads itself (a meta refresh: no script) while reports are in progress.
REFRESH_SECONDS = 3


def _regions() -> list[str]:
    return [r.code for r in current_user.regions]


def _page(
    refusal: DomainError | None = None, picked: set[int] | None = None
) -> ResponseReturnValue:
    reports = signable(_regions())
    record(
        "akta:birth_report:list_for_signing",
        current_user.as_actor(),
        data={"report_ids": [r.id for r in reports]},
        read=True,
    )
    return render_template(
        "office/batch_signing.html",
        reports=reports,
        picked=picked or set(),
        maximum=MAX_BATCH,
        refusal=refusal.message if refusal else None,
        registered=ReportStatus.REGISTERED,
        issued=ReportStatus.ISSUED,
        expired={
            r.id
            for r in reports
            if r.status == ReportStatus.REGISTERED and not usable_authorisation(r)
        },
    ), (refusal.status if refusal else 200)


@bp.get("/tanda-tangan")
@staff_required(Role.PEJABAT)
def batch() -> ResponseReturnValue:
    """Reports awaiting the pejabat's signature, each with its preview, to pick from."""
    return _page()


@bp.post("/tanda-tangan")
@staff_required(Role.PEJABAT)
def sign() -> ResponseReturnValue:
    """Sign the picked reports with one passphrase and one TOTP code."""
    ids = {n for n in (whole_number(v) for v in request.form.getlist("report")) if n}
    regions = set(_regions())
    chosen = [
        report
        for report in (db.session.get(BirthReport, i) for i in sorted(ids))
        if report is not None and report.region_code in regions
    ]
    try:
        if len(ids) > MAX_BATCH:
            raise InvalidInput("signing_batch_too_large", maximum=MAX_BATCH, chosen=len(ids))
        # No savepoint around it: sign_batch refuses before any report moves, and what a
        # refusal wrote (a wrong TOTP code counted, journalled) must stay, or codes could be
        # guessed without end.
        batch_id = sign_batch(
            current_user._get_current_object(),
            chosen,
            request.form.get("passphrase", ""),
            request.form.get("code", ""),
        )
    except DomainError as refused:
        return _page(refused, ids)
    return redirect(url_for("akta_batch.status", batch_id=batch_id))


@bp.get("/tanda-tangan/<batch_id>")
@staff_required(Role.PEJABAT)
def status(batch_id: str) -> ResponseReturnValue:
    """Each report of the batch: menunggu, ditandatangani, terbit, or gagal with why."""
    lines = batch_lines(batch_id[:32], current_user._get_current_object())
    if not lines:
        abort(404)
    record(
        "akta:birth_report:batch_status",
        current_user.as_actor(),
        data={"report_ids": [line.report.id for line in lines]},
        read=True,
    )
    busy = any(line.state in ("menunggu", "ditandatangani") for line in lines)
    return render_template(
        "office/batch_status.html",
        lines=lines,
        refresh=REFRESH_SECONDS if busy else None,
        reason=message,
    )


@bp.get("/laporan/<code>/pratinjau-akta.png")
@staff_required(Role.PEJABAT)
def preview(code: str) -> ResponseReturnValue:
    """The akta as it will be issued, as a picture; what signing fills is marked."""
    report = regional_report(code, set(_regions()))
    if report is None:
        abort(404)
    waiting = report.status in (ReportStatus.AWAITING_SIGNATURE, ReportStatus.REGISTERED)
    if not waiting and approved_correction(report) is None:
        abort(404)
    record_read(report, current_user.as_actor(), "akta preview")
    return Response(
        preview_png(report, current_user._get_current_object()),
        content_type="image/png",
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
