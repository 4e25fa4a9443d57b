"""The office pages of an issued akta: its corrections (the pejabat corrects it directly, an
operator decides a parent's or facility's request) and the print of the updated KK."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from akta_service.accounts.second_factor import SecondFactorRefused
from akta_service.akta.corrections import decide_akta_correction
from akta_service.akta.models import AktaCorrectionRequest
from akta_service.akta.operations import (
    CORRECTABLE_FIELDS,
    SigningRefused,
    akta_versions,
    authorise_signing,
    check_correction,
    correct_akta,
    correction_refusal,
    current_kk_print,
)
from akta_service.births.documents import DOCUMENT_LABELS
from akta_service.births.models import BirthReport
from akta_service.core.actors import Role
from akta_service.core.audit import record, record_read
from akta_service.core.clock import local_time
from akta_service.core.db import db
from akta_service.core.errors import DomainError, GuardRefused, InvalidInput
from akta_service.core.forms import has_errors, show_refusal, whole_number
from akta_service.core.messages import lazy_message, message
from akta_service.core.sessions import staff_required
from akta_service.core.storage import storage
from akta_service.review.queries import regional_report

bp = Blueprint("akta_office", __name__, url_prefix="/kantor/laporan")

#: As every staff file is served: not sniffed, not cached, nothing run inside it.
_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'",
    "Cache-Control": "private, no-store",
}

#: The choice that names no supporting document.
NO_DOCUMENT = ""


class _WholeNumberField(IntegerField):
    """An IntegerField that says in Indonesian when the text is not a whole number."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(message("integer")) from exc


def _label(name: str) -> str:
    return CORRECTABLE_FIELDS[name].capitalize()


def _name(name: str) -> StringField:
    return StringField(
        _label(name),
        validators=[
            DataRequired(lazy_message("required")),
            Length(max=200, message=lazy_message("name_length")),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


class CorrectionForm(FlaskForm):
    """The correctable fields (prefilled from the report), the reason and the evidence."""

    child_name = _name("child_name")
    child_birth_place = _name("child_birth_place")
    child_birth_order = _WholeNumberField(
        _label("child_birth_order"),
        validators=[
            InputRequired(lazy_message("required")),
            NumberRange(1, 30, message=lazy_message("birth_order")),
        ],
    )
    mother_name = _name("mother_name")
    father_name = _name("father_name")
    reason = TextAreaField(
        "Alasan perbaikan (wajib; dicatat di riwayat dan pada versi akta yang baru)",
        validators=[Length(max=2000, message=lazy_message("form_too_long"))],
    )
    supporting_document_id = RadioField(
        "Dokumen pendukung perbaikan", validate_choice=False, default=NO_DOCUMENT
    )
    #: Sent to the signing service to sign the new version; never stored nor shown again.
    passphrase = PasswordField(
        "Passphrase tanda tangan elektronik Anda (tidak disimpan)",
        render_kw={"autocomplete": "off"},
    )
    #: The current code of the pejabat's authenticator app: asked with the passphrase.
    code = StringField(
        "Kode verifikasi dua langkah (dari aplikasi autentikator)",
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


def _form(report: BirthReport) -> CorrectionForm:
    """The form for this report: its current values, and its own uploaded documents."""
    form = CorrectionForm(obj=report)
    if report.father_name is None:
        del form.father_name  # no father on the akta: there is no name to correct
    form.supporting_document_id.choices = [
        SelectChoice(NO_DOCUMENT, "Tanpa dokumen pendukung"),
        *(
            SelectChoice(
                str(document.id),
                f"{DOCUMENT_LABELS.get(document.kind, document.kind)} "
                f"(diunggah {local_time(document.uploaded_at)})",
            )
            for document in report.documents
        ),
    ]
    return form


def _changes(form: CorrectionForm, report: BirthReport) -> dict[str, Any]:
    """Only what the pejabat changed: an untouched field is not a correction."""
    return {
        name: form[name].data
        for name in CORRECTABLE_FIELDS
        if name in form and form[name].data != getattr(report, name)
    }


def _supporting_document_id(form: CorrectionForm) -> int | None:
    chosen = form.supporting_document_id.data or NO_DOCUMENT
    if chosen == NO_DOCUMENT:
        return None
    # Anything but a document's id names no document of this report: the operation says so.
    return whole_number(chosen) or 0


def _correctable(code: str) -> BirthReport:
    """The report, when it is in the pejabat's region and its akta may be corrected now."""
    report = regional_report(code, {r.code for r in current_user.regions})
    if report is None:
        abort(404)  # another region's report does not exist for this pejabat
    refusal = correction_refusal(report, current_user.as_actor())
    if refusal:
        raise GuardRefused(refusal)
    return report


def _page(
    report: BirthReport, form: CorrectionForm, refusal: DomainError | None = None
) -> ResponseReturnValue:
    """The form, after a refusal with what was typed, answered with the refusal's status."""
    record_read(report, current_user.as_actor(), "akta correction form")
    status = refusal.status if refusal else 422 if has_errors(form) else 200
    return render_template(
        "office/akta_correction.html",
        report=report,
        form=form,
        fields=[name for name in CORRECTABLE_FIELDS if name in form],
        versions=akta_versions(report),
        refusal=refusal.message if refusal else None,
    ), status


@bp.route("/<code>/akta/perbaiki", methods=["GET", "POST"])
@staff_required(Role.PEJABAT)
def correct(code: str) -> ResponseReturnValue:
    """The correction form; sending it issues a new signed version of the akta."""
    report = _correctable(code)
    form = _form(report)
    if not form.validate_on_submit():
        return _page(report, form)
    signer = current_user._get_current_object()
    correction = (
        report,
        _changes(form, report),
        form.reason.data or "",
        _supporting_document_id(form),
    )
    try:
        check_correction(*correction, signer.as_actor())  # before a code is used up on it
        # Outside the savepoint: a wrong code stays counted, as on the sign forms.
        authorisation = authorise_signing(signer, form.passphrase.data or "", form.code.data or "")
        with db.session.begin_nested():  # a refusal undoes the correction, not the page's read
            document = correct_akta(*correction, signer, authorisation)
    except InvalidInput as refused:
        show_refusal(form, refused)
        return _page(report, form, refused)
    except (GuardRefused, SigningRefused, SecondFactorRefused) as refused:
        return _page(report, form, refused)
    flash(f"Akta diperbaiki: versi {document.version} terbit", "info")
    return redirect(url_for("review.report", code=report.tracking_code))


@bp.post("/<code>/akta/permohonan/<int:request_id>")
@staff_required(Role.OPERATOR)
def decide_correction(code: str, request_id: int) -> ResponseReturnValue:
    """An operator approves or refuses a parent's or facility's correction request."""
    report = regional_report(code, {r.code for r in current_user.regions})
    asked = db.session.get(AktaCorrectionRequest, request_id)
    if report is None or asked is None or asked.report_id != report.id:
        abort(404)
    approve = request.form.get("decision") == "approve"
    try:
        with db.session.begin_nested():
            decide_akta_correction(
                asked, approve, request.form.get("reason", "")[:2000], current_user
            )
    except DomainError as refused:
        flash(refused.message, "error")
    else:
        flash(
            "Permohonan disetujui: menunggu tanda tangan pejabat."
            if approve
            else "Permohonan ditolak; pemohon membaca alasan Anda.",
            "info",
        )
    return redirect(url_for("review.report", code=report.tracking_code, tab="akta_correction"))


@bp.get("/<code>/kk.pdf")
@staff_required(Role.OPERATOR, Role.PEJABAT, Role.ADMIN)
def kk_file(code: str) -> ResponseReturnValue:
    """The signed print of the updated KK issued with the report's akta; journalled."""
    report = regional_report(code, {r.code for r in current_user.regions})
    kept = current_kk_print(report) if report is not None else None
    if report is None or kept is None:
        abort(404)  # another region's report does not exist for this clerk
    data = storage().get(kept.storage_key)
    record(
        "akta:birth_report:kk_print_download",
        current_user.as_actor(),
        report=report,
        data={"sha256": kept.sha256},
        read=True,
    )
    response = Response(data, content_type="application/pdf", headers=_FILE_HEADERS)
    response.headers["Content-Disposition"] = f'inline; filename="kk-{kept.kk_number}.pdf"'
    return response
