"""Admin pages: facilities of the admin's regions and the API credentials they report with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from akta_service.accounts.models import User
from akta_service.core.actors import Role, user_id_of
from akta_service.core.db import db
from akta_service.core.errors import InvalidInput
from akta_service.core.forms import has_errors, show_refusal
from akta_service.core.messages import lazy_message
from akta_service.core.sessions import staff_required
from akta_service.facilities.models import ApiCredential, Facility, FacilityKind
from akta_service.facilities.operations import (
    create_facility,
    issue_credential,
    revoke_credential,
    set_facility_active,
)

bp = Blueprint("facilities_admin", __name__, url_prefix="/kantor/admin")

#: How the office names each kind of facility.
KIND_LABELS = {
    FacilityKind.HOSPITAL: "Rumah sakit",
    FacilityKind.PUSKESMAS: "Puskesmas",
    FacilityKind.CLINIC: "Klinik",
    FacilityKind.MIDWIFE: "Bidan praktik mandiri",
}


class FacilityForm(FlaskForm):
    # create_facility checks every field and says in Indonesian what is wrong, all at once.
    code = StringField("Kode (huruf besar, angka, tanda minus; mis. RSUD-GJ)")
    name = StringField("Nama")
    kind = SelectField(
        "Jenis",
        choices=[SelectChoice(str(kind), label) for kind, label in KIND_LABELS.items()],
        validate_choice=False,
    )
    region = SelectField("Wilayah", validate_choice=False)


class CredentialForm(FlaskForm):
    label = StringField(
        "Keterangan (sistem yang memakainya, mis. SIMRS produksi)",
        validators=[Length(max=120, message=lazy_message("form_too_long"))],
    )


def _served() -> list[str]:
    return sorted(r.code for r in current_user.regions)


def _facility_form() -> FacilityForm:
    form = FacilityForm()
    form.region.choices = [
        SelectChoice(r.code, f"{r.name} ({r.code})")
        for r in sorted(current_user.regions, key=lambda r: r.code)
    ]
    return form


def _facility_rows() -> list[Any]:
    """The served regions' facilities, each with its live credentials and last API use."""
    mine = ApiCredential.facility_code == Facility.code
    live = (
        sa.select(sa.func.count())
        .where(mine, ApiCredential.revoked_at.is_(None))
        .correlate(Facility)
        .scalar_subquery()
    )
    last_used = (
        sa.select(sa.func.max(ApiCredential.last_used_at))
        .where(mine)
        .correlate(Facility)
        .scalar_subquery()
    )
    return list(
        db.session.execute(
            sa.select(Facility, live.label("live"), last_used.label("last_used"))
            .where(Facility.region_code.in_(_served()))
            .order_by(Facility.code)
        )
    )


@bp.route("/fasilitas", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def facilities() -> ResponseReturnValue:
    form = _facility_form()
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                facility = create_facility(
                    form.code.data or "",
                    form.name.data or "",
                    form.kind.data or "",
                    form.region.data or "",
                    current_user.as_actor(),
                )
        except InvalidInput as refused:
            show_refusal(form, refused)
        else:
            flash(f"Fasilitas {facility.code} ({facility.name}) terdaftar.", "info")
            return redirect(url_for("facilities_admin.facilities"))
    page = render_template(
        "office/admin_facilities.html", form=form, rows=_facility_rows(), kinds=KIND_LABELS
    )
    return page, 422 if has_errors(form) else 200


def _facility(code: str) -> Facility:
    """The facility, when it is in a region the admin serves (others do not exist here)."""
    facility = db.session.get(Facility, code.upper())
    if facility is None or facility.region_code not in _served():
        abort(404)
    return facility


@bp.post("/fasilitas/<code>/aktif")
@staff_required(Role.ADMIN)
def facility_active(code: str) -> ResponseReturnValue:
    facility = _facility(code)
    active = request.form.get("active") == "1"
    set_facility_active(facility, active, current_user.as_actor())
    if active:
        flash(f"Fasilitas {facility.code} diaktifkan kembali.", "info")
    else:
        flash(
            f"Fasilitas {facility.code} dinonaktifkan: kredensialnya ditolak sampai "
            "diaktifkan kembali.",
            "info",
        )
    return redirect(url_for("facilities_admin.facilities"))


def _creator_names(actor_ids: Iterable[str]) -> dict[str, str]:
    """The actor references of credential creators that name staff, with the person's name."""
    by_user = {user_id: a for a in actor_ids if (user_id := user_id_of(a)) is not None}
    if not by_user:
        return {}
    users = db.session.scalars(sa.select(User).where(User.id.in_(by_user)))
    return {by_user[u.id]: u.full_name for u in users}


def _facility_page(facility: Facility, form: CredentialForm) -> str:
    return render_template(
        "office/admin_facility.html",
        facility=facility,
        form=form,
        kinds=KIND_LABELS,
        creators=_creator_names(c.created_by for c in facility.credentials),
    )


@bp.get("/fasilitas/<code>")
@staff_required(Role.ADMIN)
def facility(code: str) -> ResponseReturnValue:
    return _facility_page(_facility(code), CredentialForm())


@bp.post("/fasilitas/<code>/kredensial")
@staff_required(Role.ADMIN)
def new_credential(code: str) -> ResponseReturnValue:
    facility = _facility(code)
    form = CredentialForm()
    if not form.validate_on_submit():
        return _facility_page(facility, form), 422
    issued = issue_credential(
        facility.code, current_user.as_actor(), (form.label.data or "").strip()
    )
    # The token is on this answer only: not in a flash message (the session cookie is
    # signed, not encrypted), not in any cache, never shown again.
    response = make_response(
        render_template("office/admin_credential_issued.html", facility=facility, issued=issued)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/fasilitas/<code>/kredensial/<key_id>/cabut", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def revoke(code: str, key_id: str) -> ResponseReturnValue:
    facility = _facility(code)
    credential = next((c for c in facility.credentials if c.key_id == key_id), None)
    if credential is None:
        abort(404)
    if request.method == "POST":
        revoke_credential(credential.key_id, current_user.as_actor())
        flash(f"Kredensial {credential.key_id} dicabut; token itu tidak berlaku lagi.", "info")
        return redirect(url_for("facilities_admin.facility", code=facility.code))
    return render_template("office/admin_revoke.html", facility=facility, credential=credential)
