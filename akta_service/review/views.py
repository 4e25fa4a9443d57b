"""The work queue and the review page; every read of personal data is journalled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from akta_service.accounts.models import User
from akta_service.akta.copies import staff_copy
from akta_service.akta.corrections import correction_requests
from akta_service.akta.operations import (
    CORRECTABLE_FIELDS,
    akta_versions,
    authorise_signing,
    correction_refusal,
    current_kk_print,
    keep_authorisation,
    usable_authorisation,
)
from akta_service.births.documents import DOCUMENT_LABELS, PICTURE_EXTENSIONS, document_pictures
from akta_service.births.fields import FIELD_LABELS
from akta_service.births.models import BirthReport, Document, DocumentPicture, ReportStatus
from akta_service.births.queries import latest_checks
from akta_service.core.actors import Role
from akta_service.core.audit import changes, record, record_read
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError, InvalidInput
from akta_service.core.forms import whole_number
from akta_service.core.labels import LABELS, label
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
    SORTS,
    TAB_LABELS,
    holders,
    next_in_tab,
    queue_counts,
    queue_overview,
    queue_page,
    regional_report,
    tab_labels,
)
from akta_service.workflow.definition import birth_registration
from akta_service.workflow.engine import allowed_triggers, conflict_for, fire

bp = Blueprint("review", __name__, url_prefix="/kantor")


@dataclass(frozen=True)
class Action:
    """One action of the review page: its button, what it leads to, how it is guarded."""

    label: str
    #: What happens when the button is pressed, said beside it.
    consequence: str
    #: The look of its button (class "action-<kind>"): each kind looks different.
    kind: str
    needs_reason: bool = False
    #: A confirmation box the server requires ticked (reject, send back).
    confirm: str | None = None
    #: The key that presses the button with Alt+Shift (accesskey) or alone (shortcuts.js).
    key: str | None = None
    #: The outcome said after it was done.
    done: str = ""


#: Actions offered on the review page, by trigger.
ACTIONS = {
    "approve": Action(
        "Setujui",
        "Laporan diteruskan ke Pejabat Pencatatan Sipil untuk ditandatangani.",
        "approve",
        key="s",
        done="disetujui dan diteruskan ke pejabat",
    ),
    "request_correction": Action(
        "Minta perbaikan",
        "Pelapor diberi tahu data yang harus diperbaiki; laporan menunggu perbaikannya.",
        "correction",
        needs_reason=True,
        key="p",
        done="dikembalikan ke pelapor untuk diperbaiki",
    ),
    "send_back": Action(
        "Kembalikan ke operator",
        "Laporan kembali ke antrian operator dengan alasan Anda; belum ada akta.",
        "send-back",
        needs_reason=True,
        confirm="Ya, kembalikan laporan ini ke operator.",
        key="k",
        done="dikembalikan ke operator",
    ),
    "sign": Action(
        "Tanda tangani",
        "Nomor akta diberikan dan akta kelahiran diterbitkan atas nama Anda. "
        "Tidak dapat dibatalkan; kesalahan hanya dapat diperbaiki dengan versi akta baru.",
        "sign",
        done="ditandatangani; akta sedang diterbitkan",
    ),
    "reject": Action(
        "Tolak",
        "Laporan ditolak untuk selamanya dan pelapor membaca alasan Anda. "
        "Pelapor harus membuat laporan baru.",
        "reject",
        needs_reason=True,
        confirm="Ya, tolak laporan ini. Penolakan tidak dapat dibatalkan.",
        done="ditolak",
    ),
}
#: Who reads the reason an action asks for, so the clerk writes it for them.
REASON_LABELS = {
    "request_correction": "Apa yang harus diperbaiki pelapor (dibaca pelapor)",
    "send_back": "Alasan dikembalikan (dibaca operator)",
    "reject": "Alasan penolakan (dibaca pelapor)",
}
#: The queue tab a report of this status is worked from.
STATUS_TABS = {
    ReportStatus.IN_REVIEW: "in_review",
    ReportStatus.AWAITING_SIGNATURE: "awaiting_signature",
    ReportStatus.NEEDS_CORRECTION: "needs_correction",
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


#: The kinds of label each queue row shows (status, flags, channel).
ROW_LABEL_KINDS = ("status", "flag", "channel")


def row_labels() -> dict[str, dict[str, str]]:
    """Every label a queue row may show, translated once for the page: fifty rows would
    otherwise look each one up again (a hundred and more translations a page)."""
    return {kind: {name: label(name, kind) for name in LABELS[kind]} for kind in ROW_LABEL_KINDS}


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
    sort = request.args.get("urut") or SORTS[0]
    if sort not in SORTS:
        abort(404)
    refusal = None
    try:
        reports, next_cursor = queue_page(
            regions,
            settings,
            None if search else tab,
            search,
            request.args.get("after"),
            sort=sort,
        )
    except InvalidInput as refused:
        reports, next_cursor, refusal = [], None, refused.message
    claims: list[tuple[str | None, int]] = []
    if search:  # results span every tab: who holds a tab's reports is said on the tab
        counts = queue_counts(regions, settings)
    else:
        counts, claims = queue_overview(regions, settings, tab)
    # Journalled last: the journal's chain of staff lists is locked from this row to the
    # commit, and every clerk's queue page appends to that one chain.
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
        counts=counts,
        reports=reports,
        next_cursor=next_cursor,
        search=search,
        sort=sort,
        refusal=refusal,
        waited=waited,
        holders=holders(reports),
        claims=claims,
        row_labels=row_labels(),
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


def _tab_of(report: BirthReport) -> str | None:
    """The queue tab the clerk works the report from: the one named by the page (the queue
    links say it), else the one of its status."""
    named = request.values.get("tab")
    if named in TAB_LABELS:
        return named
    return STATUS_TABS.get(report.status)


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
        tab=_tab_of(found),
        tab_labels=tab_labels(current_settings()),
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
        kk_print=current_kk_print(found),
        can_correct_akta=correction_refusal(found, current_user.as_actor()) is None,
        akta_corrections=correction_requests(found),
        correctable_labels=CORRECTABLE_FIELDS,
        sign_again=_sign_again_note(found),
    ), (refusal.status if refusal else 200)


def _sign_again_note(found: BirthReport) -> str | None:
    """For a pejabat, why a numbered report needs their signature again (its authorisation
    ran out before the akta was issued); None when it does not."""
    if current_user.role != Role.PEJABAT or found.status != ReportStatus.REGISTERED:
        return None
    if usable_authorisation(found):
        return None  # the issue step still has what it needs
    return message("sign_again_needed", number=found.registration_number)


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
    return redirect(url_for("review.report", code=code, tab=_tab_of(found)))


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

    def decide(report: BirthReport) -> None:
        if is_duplicate and request.form.get("confirm") != "yes":
            # "Ganda" rejects the report for good: asked first, like Tolak.
            raise InvalidInput("confirmation_required", action="Ganda — tolak laporan ini")
        decide_duplicate(report, is_duplicate, current_user.as_actor(), reason)

    return _run(code, decide, "Keputusan laporan ganda disimpan.")


@bp.post("/laporan/<code>/<action>")
@staff_required(Role.OPERATOR, Role.PEJABAT)
def act(code: str, action: str) -> ResponseReturnValue:
    if action not in ACTIONS:
        abort(404)
    found = _own(code)
    # Before the move: the tab the clerk works in (every action's status has one).
    tab = _tab_of(found) or STATUS_TABS[ReportStatus.IN_REVIEW]
    reason = (request.form.get("reason") or "").strip() or None
    picked = [path for path in request.form.getlist("fields") if path in FIELD_LABELS]
    seen = _seen_version()
    spec = ACTIONS[action]
    try:
        if seen is not None and seen != found.version:
            raise conflict_for(found.id, found.version)  # before judging the form itself
        if action == "request_correction" and not picked:
            raise InvalidInput("correction_fields_required")
        if spec.confirm and request.form.get("confirm") != "yes":
            raise InvalidInput("confirmation_required", action=spec.label)
        signer = current_user._get_current_object()
        if action == "sign":
            # The TOTP code, then the passphrase (to the signing service and nowhere else),
            # as the batch asks them; outside the savepoint, so a wrong code stays counted.
            authorisation = authorise_signing(
                signer, request.form.get("passphrase", ""), request.form.get("code", "")
            )
        with db.session.begin_nested():  # a refusal undoes the move, not the page's read
            if action == "sign":
                keep_authorisation(found, signer, authorisation)
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
    return _to_next(found, tab, f"Laporan {found.tracking_code} {spec.done}.")


def _to_next(done_with: BirthReport, tab: str, outcome: str) -> ResponseReturnValue:
    """After an action: the next report of the same tab, or the tab when it has none."""
    settings = current_settings()
    regions = [r.code for r in current_user.regions]
    following = next_in_tab(regions, settings, tab, done_with, current_user.id)
    label = tab_labels(settings)[tab]
    if following is None:
        flash(f"{outcome} Tidak ada laporan lain di “{label}”.", "info")
        return redirect(url_for("review.queue", tab=tab))
    flash(f"{outcome} Berikutnya di “{label}”: {following.tracking_code}.", "info")
    return redirect(url_for("review.report", code=following.tracking_code, tab=tab))


@bp.get("/laporan/<code>/akta/<int:version>")
@staff_required(*READERS)
def akta_file(code: str, version: int) -> ResponseReturnValue:
    """A version of the report's issued akta (the one in force or a superseded one): the
    signed original the first time, then copies marked "Salinan ke-N"; each is counted."""
    found = _own(code)
    akta = next((a for a in akta_versions(found) if a.version == version), None)
    if akta is None:
        abort(404)
    number, data = staff_copy(found, akta, current_user.as_actor())
    name = f"akta-{akta.registration_number}-v{akta.version}"
    return _file(
        data, "application/pdf", f"{name}.pdf" if number == 1 else f"{name}-salinan-{number}.pdf"
    )
