"""The parents' status page (/status): open a report with its code and PIN, follow it,
correct or cancel it, download the akta.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from akta_service.akta.corrections import (
    correction_requests,
    open_correction,
    request_akta_correction,
    requested_changes,
)
from akta_service.births.codes import format_tracking_code, normalise_tracking_code
from akta_service.births.documents import read_upload
from akta_service.births.models import ENDED_WITHOUT_AKTA, BirthReport, ReportStatus
from akta_service.births.operations import (
    StatusRefused,
    find_report,
    issue_status_pin,
    open_with_pin,
)
from akta_service.core.actors import Actor
from akta_service.core.audit import latest_change, record
from akta_service.core.db import db, utcnow
from akta_service.core.errors import ConflictError, DomainError, FieldError, InvalidInput, NotFound
from akta_service.core.limits import hashed_key, limiter
from akta_service.notifications.operations import send_new_status_pin
from akta_service.parents import operations as ops
from akta_service.parents import sptjm
from akta_service.parents.correction import (
    CorrectionRequest,
    correction_request,
    plain_name,
    report_answers,
    sections,
)
from akta_service.parents.pages import (
    STATUS_KEY,
    STATUS_SESSION,
    _address_upload_limit,
    _by_field,
    _client_messages,
    _error_page,
    _no_file_chosen,
    _opened_report_key,
    _report_key,
    _report_limit,
    _status_limit,
    _upload_limit,
    bp,
)
from akta_service.parents.status import three_in_one, timeline
from akta_service.parents.steps import (
    DOCUMENT_SPECS,
    FIELDS,
    offered_documents,
)
from akta_service.workflow.engine import conflict_for


def _opened_report() -> BirthReport | None:
    opened = session.get(STATUS_KEY)
    if not isinstance(opened, dict):
        return None
    try:
        since = float(opened.get("at", 0))
    except (TypeError, ValueError):
        return None
    if utcnow().timestamp() - since > STATUS_SESSION.total_seconds():
        session.pop(STATUS_KEY, None)
        return None
    return db.session.get(BirthReport, opened.get("report"))


@bp.get("/status")
def status_form() -> ResponseReturnValue:
    return render_template("public/status/form.html", error=None, code="")


@bp.post("/status")
@limiter.limit(_status_limit)
@limiter.limit(_report_limit, key_func=_report_key)
def status_open() -> ResponseReturnValue:
    code = request.form.get("code", "")[:40]
    try:
        report = open_with_pin(code, request.form.get("pin", "")[:40])
    except StatusRefused:
        # The count of wrong PINs is committed with this answer: a refusal is not an error.
        error = _(
            "Kode pelacakan atau PIN salah. Periksa kembali keduanya. Setelah 5 kali salah, "
            "pemeriksaan dikunci 15 menit."
        )
        return render_template("public/status/form.html", error=error, code=code), 401
    session[STATUS_KEY] = {"report": report.id, "at": utcnow().timestamp()}
    return redirect(url_for("parents.status_page"))


def _pin_request_key() -> str:
    """New PINs are counted per report: someone who knows a code cannot keep resetting it."""
    return hashed_key("new-pin", normalise_tracking_code(request.form.get("code", "")[:40]))


@bp.route("/status/pin", methods=["GET", "POST"])
@limiter.limit(_status_limit, methods=["POST"])
@limiter.limit("3 per hour", key_func=_pin_request_key, methods=["POST"])
def status_new_pin() -> ResponseReturnValue:
    """A new PIN, sent only to the e-mail and phone on the report: for a lost PIN, and for a
    birth a hospital or midwife reported (the family got the code, not a PIN)."""
    if request.method == "GET":
        return render_template("public/status/new_pin.html", sent=False, code="")
    code = request.form.get("code", "")[:40]
    report = find_report(code)
    if report is not None and (report.informant_email or report.informant_phone):
        pin = issue_status_pin(report)
        send_new_status_pin(report, pin)
        record(
            "public:birth_report:new_pin",
            Actor.informant(report.tracking_code, report.informant_name),
            report=report,
            read=True,
        )
    # The same answer whether or not the code exists: codes cannot be probed here either.
    return render_template("public/status/new_pin.html", sent=True, code=code)


@bp.get("/status/laporan")
def status_page() -> ResponseReturnValue:
    report = _opened_report()
    if report is None:
        return redirect(url_for("parents.status_form"))
    record(
        "public:birth_report:status_read",
        Actor.informant(report.tracking_code, report.informant_name),
        report=report,
        read=True,
    )
    correction = (
        correction_request(report) if report.status == ReportStatus.NEEDS_CORRECTION else None
    )
    issued = report.status == ReportStatus.ISSUED
    return render_template(
        "public/status/report.html",
        report=report,
        code=format_tracking_code(report.tracking_code),
        timeline=timeline(report),
        fix_fields=[plain_name(name) for name in correction.fields] if correction else [],
        can_cancel=ops.can_cancel(report),
        documents=three_in_one(report),
        akta_corrections=correction_requests(report) if issued else [],
        can_request_correction=issued and open_correction(report) is None,
        field_labels=AKTA_FIELD_LABELS,
        sptjm_forms=sptjm.report_needs(report) if correction else [],
    )


def _describe_correction(field_name: str) -> dict[str, Any]:
    """How the correction page's error summary names a field and where its link goes."""
    if field_name in FIELDS:
        return {"label": plain_name(field_name), "target": FIELDS[field_name].target}
    if field_name == "document" or field_name.startswith("document."):
        return {"label": _("Dokumen"), "target": "f-document-file"}
    return {"label": "", "target": "correction-form"}


def _chosen_upload() -> tuple[str, bytes] | None:
    """The one document the parent chose on the correction form, if any."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    return request.form.get("kind", "")[:40], read_upload(upload)


def _changed_meanwhile(report: BirthReport) -> str:
    """Why the correction was not sent: someone acted on the report since the form was shown,
    said in words a parent understands."""
    if report.status != ReportStatus.NEEDS_CORRECTION:
        return _(
            "Laporan ini berubah sejak halaman ini dibuka dan tidak lagi menunggu perbaikan, "
            "sehingga perbaikan Anda tidak terkirim. Isian Anda masih tampil di bawah. Lihat "
            "keadaan terbaru di halaman status."
        )
    last = latest_change(report.id)
    if last is not None and last.by_staff:
        return _(
            "Petugas membuka atau mengubah laporan Anda sejak halaman ini dibuka. Perbaikan Anda "
            "belum terkirim; isian Anda masih ada di bawah. Periksa lagi, lalu kirim."
        )
    return _(
        "Laporan Anda berubah sejak halaman ini dibuka, mungkin dari halaman atau perangkat "
        "lain. Perbaikan Anda belum terkirim; isian Anda masih ada di bawah. Periksa lagi, lalu "
        "kirim."
    )


@dataclass
class _CorrectionPost:
    """What one post of the correction form left to show."""

    report: BirthReport
    typed: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    stored: str | None = None
    notice: str | None = None
    status: int = 200
    sent: bool = False


def _post_correction(report: BirthReport, asked: CorrectionRequest) -> _CorrectionPost:
    typed = {name: request.form.get(name, "") for name in FIELDS if name in request.form}
    posted = _CorrectionPost(report, typed)
    upload = _chosen_upload()
    send = request.form.get("action") != "upload"
    if not send and upload is None:
        posted.errors = [FieldError("document", "upload_missing")]
        return posted
    report_id = report.id
    try:
        if report.status != ReportStatus.NEEDS_CORRECTION:
            raise conflict_for(report_id, report.version)
        version = request.form.get("version", type=int)
        with db.session.begin_nested():  # on a conflict, nothing of this attempt is kept
            outcome = ops.correct_report(report, asked, typed, version, upload, send=send)
    except ConflictError:
        fresh = db.session.get(BirthReport, report_id, populate_existing=True)
        assert fresh is not None  # noqa: S101 - reports are never deleted
        posted.report, posted.notice, posted.status = fresh, _changed_meanwhile(fresh), 409
        return posted
    posted.errors, posted.stored, posted.sent = outcome.errors, outcome.stored, outcome.sent
    return posted


@bp.route("/status/perbaiki", methods=["GET", "POST"])
@limiter.limit(_upload_limit, key_func=_opened_report_key, exempt_when=_no_file_chosen)
@limiter.limit(_address_upload_limit, exempt_when=_no_file_chosen)
def correction() -> ResponseReturnValue:
    report = _opened_report()
    if report is None:
        return redirect(url_for("parents.status_form"))
    if request.method == "GET" and report.status != ReportStatus.NEEDS_CORRECTION:
        flash(_("Laporan ini tidak sedang menunggu perbaikan."))
        return redirect(url_for("parents.status_page"))
    asked = correction_request(report)
    posted = _CorrectionPost(report)
    if request.method == "POST":
        posted = _post_correction(report, asked)
        if posted.sent:
            flash(_("Perbaikan terkirim. Laporan Anda diperiksa lagi dengan data Dukcapil."))
            return redirect(url_for("parents.status_page"))
    else:
        record(
            "public:birth_report:correction_read",
            ops.informant_of(report),
            report=report,
            read=True,
        )
    return _correction_page(asked, posted), posted.status


def _correction_page(asked: CorrectionRequest, posted: _CorrectionPost) -> str:
    report, errors = posted.report, posted.errors
    answers = ops.corrected_answers(report_answers(report), posted.typed)
    error_fields = {e.field for e in errors if e.field in FIELDS}
    shown = set(FIELDS) if asked.open_ended else set(asked.fields) | error_fields
    documents = ops.report_documents(report)
    offered = offered_documents(answers)
    missing = [spec.kind for spec in offered if spec.required and spec.kind not in documents]
    return render_template(
        "public/status/correction.html",
        report=report,
        code=format_tracking_code(report.tracking_code),
        asked=asked,
        sections=sections(shown),
        opened={section.slug for section in sections(error_fields)},
        values=answers,
        can_send=report.status == ReportStatus.NEEDS_CORRECTION,
        errors=errors,
        by_field=_by_field(errors),
        document_errors=[e for e in errors if e.field.startswith("document")],
        describe=_describe_correction,
        documents=documents,
        offered=offered,
        chosen_kind=request.form.get("kind") or (missing or [offered[0].kind])[0],
        stored=DOCUMENT_SPECS[posted.stored].label if posted.stored in DOCUMENT_SPECS else None,
        notice=posted.notice,
        fields=FIELDS,
        client_messages=_client_messages(),
    )


def _cannot_cancel(report: BirthReport) -> tuple[str, int]:
    if report.status in ENDED_WITHOUT_AKTA:
        message = _("Laporan ini sudah selesai diproses, jadi tidak ada yang perlu dibatalkan.")
    elif report.status == ReportStatus.ISSUED:
        message = _(
            "Akta kelahiran sudah terbit, jadi laporan tidak dapat dibatalkan. Bila ada data "
            "yang salah di akta, hubungi kantor Disdukcapil untuk perbaikan akta."
        )
    else:
        message = _(
            "Laporan ini sudah disetujui petugas, jadi tidak dapat dibatalkan lagi lewat "
            "halaman ini. Bila ada data yang salah, hubungi kantor Disdukcapil."
        )
    return _error_page(409, _("Laporan tidak dapat dibatalkan"), message)


@bp.route("/status/batal", methods=["GET", "POST"])
def cancel() -> ResponseReturnValue:
    report = _opened_report()
    if report is None:
        return redirect(url_for("parents.status_form"))
    if not ops.can_cancel(report):
        return _cannot_cancel(report)
    if request.method == "GET":
        return render_template(
            "public/status/cancel.html",
            report=report,
            code=format_tracking_code(report.tracking_code),
        )
    report_id = report.id
    try:
        with db.session.begin_nested():
            ops.cancel_report(report, request.form.get("reason", ""))
    except ConflictError:
        # Someone acted at the very same moment: show the report as it is now.
        flash(_("Laporan Anda baru saja berubah. Periksa lagi, lalu batalkan bila masih perlu."))
        return redirect(url_for("parents.status_page"))
    except DomainError:
        refreshed = db.session.get(BirthReport, report_id, populate_existing=True)
        assert refreshed is not None  # noqa: S101 - reports are never deleted
        return _cannot_cancel(refreshed)
    return redirect(url_for("parents.status_page"))


def _download(
    fetch: Callable[[BirthReport], tuple[str, bytes]], missing_title: str, missing: str
) -> ResponseReturnValue:
    """A signed document of the opened report as an attachment (`fetch` names and reads it,
    raising NotFound while there is none: then a page saying so)."""
    report = _opened_report()
    if report is None:
        return redirect(url_for("parents.status_form"))
    try:
        filename, data = fetch(report)
    except NotFound:
        return _error_page(404, missing_title, missing)
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Cache-Control: no-store and X-Content-Type-Options: nosniff come with every page here.
    return response


@bp.get("/status/akta.pdf")
def akta_download() -> ResponseReturnValue:
    def akta(report: BirthReport) -> tuple[str, bytes]:
        document, data = ops.akta_for_informant(report)
        return f"akta-kelahiran-{document.registration_number}.pdf", data

    return _download(
        akta,
        _("Akta belum terbit"),
        _(
            "Akta kelahiran dapat diunduh setelah ditandatangani dan terbit. Lihat "
            "perkembangannya di halaman status."
        ),
    )


#: What a parent may ask to correct on an issued akta, as the form names it.
AKTA_FIELD_LABELS = {
    "child_name": _l("Nama anak"),
    "child_birth_place": _l("Tempat lahir anak"),
    "child_birth_order": _l("Anak ke-"),
    "mother_name": _l("Nama ibu"),
    "father_name": _l("Nama ayah"),
}
#: The kinds of document a parent may send as the evidence for the correction.
EVIDENCE_KINDS = ("kk", "marriage_certificate", "birth_letter", "other")


def _typed_correction(report: BirthReport) -> tuple[dict[str, str], list[FieldError]]:
    """The correctable fields as the parent typed them, and what is wrong with their form."""
    typed = {
        name: request.form.get(name, "").strip()
        for name in AKTA_FIELD_LABELS
        if name != "father_name" or report.father_name
    }
    errors = [FieldError(name, "name_length") for name, value in typed.items() if len(value) > 200]
    order = typed.get("child_birth_order", "")
    if order and not (order.isdigit() and 1 <= int(order) <= 30):
        errors.append(FieldError("child_birth_order", "birth_order"))
    return typed, errors


def _asked_changes(report: BirthReport, typed: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = dict(typed)
    if typed.get("child_birth_order", "").isdigit():
        values["child_birth_order"] = int(typed["child_birth_order"])
    return requested_changes(report, values)


@bp.route("/status/perbaikan-akta", methods=["GET", "POST"])
@limiter.limit(_upload_limit, key_func=_opened_report_key, exempt_when=_no_file_chosen)
@limiter.limit(_address_upload_limit, exempt_when=_no_file_chosen)
def akta_correction() -> ResponseReturnValue:
    """A parent asks for a correction of the issued akta: the new values, why, and a
    document that shows it; an operator checks it, the pejabat signs the new version."""
    report = _opened_report()
    if report is None:
        return redirect(url_for("parents.status_form"))
    if report.status != ReportStatus.ISSUED or open_correction(report) is not None:
        flash(_("Perbaikan akta dapat diajukan setelah akta terbit, satu permohonan setiap kali."))
        return redirect(url_for("parents.status_page"))
    typed: dict[str, str] = {}
    errors: list[FieldError] = []
    if request.method == "POST":
        typed, errors = _typed_correction(report)
        if not errors:
            try:
                with db.session.begin_nested():  # a refusal stores nothing of this attempt
                    request_akta_correction(
                        report,
                        _asked_changes(report, typed),
                        request.form.get("reason", "")[:2000],
                        ops.informant_of(report),
                        upload=_chosen_upload(),
                    )
            except InvalidInput as refused:
                errors = list(refused.detail.get("errors") or [])
            except DomainError as refused:
                flash(refused.message)
                return redirect(url_for("parents.status_page"))
            else:
                flash(
                    _(
                        "Permohonan perbaikan akta terkirim. Petugas memeriksanya; keputusannya "
                        "tampil di halaman status."
                    )
                )
                return redirect(url_for("parents.status_page"))
    else:
        record(
            "public:birth_report:akta_correction_read",
            ops.informant_of(report),
            report=report,
            read=True,
        )
    return render_template(
        "public/status/akta_correction.html",
        report=report,
        code=format_tracking_code(report.tracking_code),
        labels=AKTA_FIELD_LABELS,
        typed=typed,
        errors=errors,
        by_field=_by_field(errors),
        kinds=[DOCUMENT_SPECS[kind] for kind in EVIDENCE_KINDS],
        chosen_kind=request.form.get("kind", "kk"),
        reason=request.form.get("reason", "")[:2000],
    ), (422 if errors else 200)


@bp.get("/status/kia.pdf")
def kia_download() -> ResponseReturnValue:
    def card(report: BirthReport) -> tuple[str, bytes]:
        issued, data = ops.kia_for_informant(report)
        return f"kia-{issued.child_nik}.pdf", data

    return _download(
        card,
        _("KIA tidak tersedia"),
        _(
            "Kartu Identitas Anak diterbitkan bersama akta untuk anak di bawah lima tahun. "
            "Lihat keadaannya di halaman status."
        ),
    )


@bp.get("/status/kk.pdf")
def kk_download() -> ResponseReturnValue:
    def print_of_kk(report: BirthReport) -> tuple[str, bytes]:
        kept, data = ops.kk_for_informant(report)
        return f"kk-{kept.kk_number}.pdf", data

    return _download(
        print_of_kk,
        _("Kartu Keluarga belum tersedia"),
        _(
            "Cetakan Kartu Keluarga yang diperbarui dapat diunduh setelah akta terbit. Lihat "
            "keadaannya di halaman status."
        ),
    )


@bp.get("/status/sptjm/<kind>.pdf")
def status_sptjm(kind: str) -> ResponseReturnValue:
    """The SPTJM the report calls for, filled in with its data, for the reporter who opened
    the status page with the PIN."""
    report = _opened_report()
    if report is None:
        return redirect(url_for("parents.status_form"))
    if kind not in sptjm.report_needs(report):
        abort(404)
    record(
        "public:birth_report:sptjm_read",
        Actor.informant(report.tracking_code, report.informant_name),
        report=report,
        read=True,
    )
    return sptjm.sptjm_download(kind, sptjm.facts_of_report(report))


@bp.post("/status/keluar")
def status_close() -> ResponseReturnValue:
    session.pop(STATUS_KEY, None)
    return redirect(url_for("parents.status_form"))
