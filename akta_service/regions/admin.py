"""Admin pages: the offices of the admin's regions and their signing officers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField

from akta_service.core.actors import Role
from akta_service.core.db import db
from akta_service.core.errors import InvalidInput
from akta_service.core.forms import has_errors, show_refusal
from akta_service.core.sessions import staff_required
from akta_service.regions.models import Region
from akta_service.regions.operations import OfficeDetails, update_office

bp = Blueprint("regions_admin", __name__, url_prefix="/kantor/admin")


class OfficeForm(FlaskForm):
    # The operation checks every field (required, lengths, the NIP) in one place.
    office_name = StringField("Nama kantor")
    issue_place = StringField("Tempat terbit akta (“dikeluarkan di …”)")
    signing_officer_name = StringField("Nama Pejabat Pencatatan Sipil (dengan gelar)")
    signing_officer_nip = StringField("NIP pejabat (18 angka)")
    signing_officer_title = StringField("Jabatan (mis. Kepala Dinas Kependudukan dan …)")


def _served_regions() -> list[Region]:
    return sorted(current_user.regions, key=lambda r: r.code)


@bp.get("/wilayah")
@staff_required(Role.ADMIN)
def regions() -> ResponseReturnValue:
    return render_template("office/admin_regions.html", regions=_served_regions())


@bp.route("/wilayah/<code>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def region(code: str) -> ResponseReturnValue:
    region = next((r for r in _served_regions() if r.code == code), None)
    if region is None:
        abort(404)  # a region the admin does not serve does not exist for them
    form = OfficeForm(obj=region)
    if form.validate_on_submit():
        details = OfficeDetails(
            office_name=form.office_name.data or "",
            issue_place=form.issue_place.data or "",
            signing_officer_name=form.signing_officer_name.data,
            signing_officer_nip=form.signing_officer_nip.data,
            signing_officer_title=form.signing_officer_title.data,
        )
        try:
            with db.session.begin_nested():
                changed = update_office(region, details, current_user.as_actor())
        except InvalidInput as refused:
            show_refusal(form, refused)
        else:
            flash(
                f"Data kantor {region.name} disimpan." if changed else "Tidak ada yang berubah.",
                "info",
            )
            return redirect(url_for("regions_admin.regions"))
    page = render_template("office/admin_region.html", region=region, form=form)
    return page, 422 if has_errors(form) else 200
