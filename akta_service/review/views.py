"""The work queue and the review page; every read of personal data is journalled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from akta_service.accounts.models import User
from akta_service.akta.operations import akta_versions, authorise_issue, correction_refusal
from akta_service.births.documents import DOCUMENT_LABELS, PICTURE_EXTENSIONS, document_pictures
from akta_service.births.fields import FIELD_LABELS
from akta_service.births.models import BirthReport, Document, DocumentPicture
from akta_service.births.queries import latest_checks
from akta_service.core.actors import Role
from akta_service.core.audit import changes, record, record_read
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError, InvalidInput
from akta_service.core.forms import whole_number
from akta_service.core.messages import message
from akta_service.core.sessions import staff_required
from akta_service.core.storage import storage
from akta_service.review.operations import (
    claim,
    decide_duplicate,
    release,
    suspected_original,
)
from akta_service.review.queries import (
    TAB_LABELS,
    queue_counts,
    queue_page,
    regional_report,
    tab_labels,
)
from akta_service.workflow.definition import birth_registration
from akta_service.workflow.engine import allowed_triggers, conflict_for, fire

bp = Blueprint("review", __name__, url_prefix="/kantor")

#: Actions offered on the review page: trigger -> (button label, reason required).
ACTIONS = {
    "approve": ("Setujui", False),
    "request_correction": ("Minta perbaikan", True),
    "send_back": ("Kembalikan ke operator", True),
    "sign": ("Tanda tangani", False),
    "reject": ("Tolak", True),
}
#: Who reads the reason an action asks for, so the clerk writes it for them.
REASON_LABELS = {
    "request_correction": "Apa yang harus diperbaiki pelapor (dibaca pelapor)",
    "send_back": "Alasan dikembalikan (dibaca operator)",
    "reject": "Alasan penolakan (dibaca pelapor)",
}

#: Pictures made of uploads from the public: the browser shows them and runs nothing. The
#: uploads themselves are kept as evidence and never sent to a browser.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Cache-Control": "private, no-store",
}


def waited(since: datetime) -> str:
    """ "3 jam", "2 hari": how long a report has waited."""
    seconds = max(0, int((utcnow() - since).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} menit"
    if seconds < 86400:
        return f"{seconds // 3600} jam"
    return f"{seconds // 86400} hari"


#: Staff who read reports; a viewer sees the dashboard only.
READERS = (Role.OPERATOR, Role.PEJABAT, Role.ADMIN)


@bp.get("/antrian")
@staff_required(*READERS)
def queue() -> ResponseReturnValue:
    tab = request.args.get("tab") or "in_review"
    if tab not in TAB_LABELS:
        abort(404)
    regions = [r.code for r in current_user.regions]
    settings = current_settings()
    search = request.args.get("q", "")[:100]
    refusal = None
    try:
        reports, next_cursor = queue_page(
            regions, settings, None if search else tab, search, request.args.get("after")
        )
    except InvalidInput as refused:
        reports, next_cursor, refusal = [], None, refused.message
    record(
        "staff:birth_report:list",
        current_user.as_actor(),
        data={"tab": tab, "search": bool(search), "report_ids": [r.id for r in reports]},
        read=True,
    )
    return render_template(
        "office/queue.html",
        tab=tab,
        labels=tab_labels(settings),
        counts=queue_counts(regions, settings),
        reports=reports,
        next_cursor=next_cursor,
        search=search,
        refusal=refusal,
        waited=waited,
        states=birth_registration().states,
    )


def _own(code: str) -> BirthReport:
    report = regional_report(code, {r.code for r in current_user.regions})
    if report is None:
        abort(404)  # another region's report does not exist for this clerk
    return report


@bp.get("/laporan/<code>")
@staff_required(*READERS)
def report(code: str) -> ResponseReturnValue:
    return _report_page(_own(code))


def _report_page(
    found: BirthReport,
    *,
    refusal: DomainError | None = None,
    attempted: str | None = None,
    typed: str = "",
    picked: Sequence[str] = (),
) -> ResponseReturnValue:
    """The review page; after a refused action, with the refusal and what the clerk typed
    and picked, answered with the refusal's status (never carried in a URL)."""
    record_read(found, current_user.as_actor(), "review page")
    checks = latest_checks(found.id)
    journal = changes(found.id)
    possible = set(allowed_triggers(found, current_user.as_actor()))
    holds = found.assigned_to_id == current_user.id
    actions = {name: spec for name, spec in ACTIONS.items() if name in possible and holds}
    holder = db.session.get(User, found.assigned_to_id) if found.assigned_to_id else None
    original = suspected_original(
        found, current_user.as_actor(), {r.code for r in current_user.regions}
    )
    return render_template(
        "office/report.html",
        report=found,
        checks=checks,
        journal=journal,
        actions=actions,
        reason_labels=REASON_LABELS,
        original=original,
        documents=[(document, document_pictures(document)) for document in found.documents],
        document_labels=DOCUMENT_LABELS,
        picture_refusal=_picture_refusal,
        workflow=birth_registration(),
        refusal=refusal.message if refusal else None,
        attempted=attempted,
        typed=typed,
        picked=set(picked),
        field_labels=FIELD_LABELS,
        holder=holder,
        holds=holds,
        can_claim=bool(possible) and holder is None,
        akta_versions=akta_versions(found),
        can_correct_akta=correction_refusal(found, current_user.as_actor()) is None,
    ), (refusal.status if refusal else 200)


def _picture_refusal(document: Document) -> str:
    """Why the review page shows no picture of a document."""
    if document.picture_refusal is None:
        return "berkasnya tidak ditemukan di penyimpanan."
    return message(document.picture_refusal)


def _own_document(code: str, document_id: int) -> tuple[BirthReport, Document]:
    found = _own(code)
    document = db.session.get(Document, document_id)
    if document is None or document.report_id != found.id:
        abort(404)
    return found, document


def _file(data: bytes, content_type: str, filename: str, *, download: bool = False) -> Response:
    response = Response(data, content_type=content_type, headers=FILE_HEADERS)
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


def _picture_file(
    found: BirthReport, document: Document, picture: DocumentPicture | None, what: str
) -> ResponseReturnValue:
    if picture is None:
        abort(404)
    data = storage().get(picture.storage_key)
    record_read(found, current_user.as_actor(), what)
    name = f"{found.tracking_code}-{document.kind}-{document.id}"
    if document.content_type == "application/pdf":
        name += f"-halaman-{picture.page}"
    return _file(
        data,
        picture.content_type,
        f"{name}.{PICTURE_EXTENSIONS[picture.content_type]}",
        download=request.args.get("unduh") == "1",
    )


def _picture(document: Document, number: int) -> DocumentPicture | None:
    return next((p for p in document_pictures(document) if p.page == number), None)


@bp.get("/laporan/<code>/dokumen/<int:document_id>")
@staff_required(*READERS)
def document_file(code: str, document_id: int) -> ResponseReturnValue:
    """A photo or scan as the picture made of it on upload; `?unduh=1` saves it instead."""
    found, document = _own_document(code, document_id)
    if document.content_type == "application/pdf":
        abort(404)
    return _picture_file(
        found, document, _picture(document, 1), f"document {document.id} ({document.kind})"
    )


@bp.get("/laporan/<code>/dokumen/<int:document_id>/halaman/<int:number>")
@staff_required(*READERS)
def document_page(code: str, document_id: int, number: int) -> ResponseReturnValue:
    """One page of a PDF document as the picture made of it on upload."""
    found, document = _own_document(code, document_id)
    if document.content_type != "application/pdf":
        abort(404)
    what = f"document {document.id} ({document.kind}) page {number}"
    return _picture_file(found, document, _picture(document, number), what)


def _seen_version() -> int | None:
    """The report version the clerk's page showed, sent back with the form."""
    return whole_number(request.form.get("version", ""))


def _run(code: str, operation: Any, done: str) -> ResponseReturnValue:
    """Run one office operation on the report, then show the report with the outcome."""
    found = _own(code)
    try:
        with db.session.begin_nested():  # a refusal undoes the operation, not the page's read
            operation(found)
    except DomainError as refused:
        flash(refused.message, "error")
    else:
        flash(done, "info")
    return redirect(url_for("review.report", code=code))


@bp.post("/laporan/<code>/klaim")
@staff_required(Role.OPERATOR, Role.PEJABAT)
def claim_report(code: str) -> ResponseReturnValue:
    seen = _seen_version()
    return _run(
        code,
        lambda report: claim(report, current_user, expected_version=seen),
        "Laporan ini Anda tangani.",
    )


@bp.post("/laporan/<code>/lepas")
@staff_required(Role.OPERATOR, Role.PEJABAT, Role.ADMIN)
def release_report(code: str) -> ResponseReturnValue:
    return _run(code, lambda report: release(report, current_user.as_actor()), "Laporan dilepas.")


@bp.post("/laporan/<code>/ganda")
@staff_required(Role.OPERATOR)
def duplicate_decision(code: str) -> ResponseReturnValue:
    is_duplicate = request.form.get("decision") == "duplicate"
    reason = (request.form.get("reason") or "").strip() or None
    return _run(
        code,
        lambda report: decide_duplicate(report, is_duplicate, current_user.as_actor(), reason),
        "Keputusan laporan ganda disimpan.",
    )


@bp.post("/laporan/<code>/<action>")
@staff_required(Role.OPERATOR, Role.PEJABAT)
def act(code: str, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    found = _own(code)
    reason = (request.form.get("reason") or "").strip() or None
    picked = [path for path in request.form.getlist("fields") if path in FIELD_LABELS]
    seen = _seen_version()
    try:
        if seen is not None and seen != found.version:
            raise conflict_for(found.id, found.version)  # before judging the form itself
        if action == "request_correction" and not picked:
            raise InvalidInput("correction_fields_required")
        with db.session.begin_nested():  # a refusal undoes the move, not the page's read
            if action == "sign":
                # The passphrase goes to the signing service and nowhere else.
                authorise_issue(
                    found,
                    current_user._get_current_object(),
                    request.form.get("passphrase", ""),
                )
            fire(
                found,
                action,
                current_user.as_actor(),
                reason=reason,
                data={"fields": picked} if action == "request_correction" else None,
                expected_version=seen,
            )
    except DomainError as refused:
        # The page again, with what the clerk typed and picked: nothing is lost.
        return _report_page(
            _own(code), refusal=refused, attempted=action, typed=reason or "", picked=picked
        )
    flash(f"{ACTIONS[action][0]}: berhasil.", "info")
    return redirect(url_for("review.report", code=code))
