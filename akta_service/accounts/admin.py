"""Admin pages: staff accounts (create, deactivate, reset password or second factor).

An admin sees and manages only the accounts all of whose regions the admin serves; there is
no deployment-wide administrator on the web (the CLI creates the first admins).

Facilities and their API credentials (facilities/admin.py) and the regions' offices and
signing officers (regions/admin.py) have admin pages of their own, under the same prefix.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from akta_service.accounts.models import User
from akta_service.accounts.operations import (
    AccountNotManaged,
    create_user,
    managed_user,
    managed_users,
    reset_password,
    set_active,
    set_signing_identity,
    signing_state,
    unlock_signing,
)
from akta_service.accounts.second_factor import reset_second_factor
from akta_service.core.actors import Role
from akta_service.core.audit import record
from akta_service.core.db import db
from akta_service.core.errors import DomainError, InvalidInput
from akta_service.core.forms import has_errors, show_refusal
from akta_service.core.messages import lazy_message
from akta_service.core.sessions import staff_required
from akta_service.regions.models import Region

bp = Blueprint("accounts_admin", __name__, url_prefix="/kantor/admin")


class UserForm(FlaskForm):
    username = StringField(
        "Nama pengguna",
        validators=[
            DataRequired(lazy_message("required")),
            Length(max=60, message=lazy_message("form_too_long")),
        ],
    )
    full_name = StringField(
        "Nama lengkap",
        validators=[
            DataRequired(lazy_message("required")),
            Length(max=200, message=lazy_message("form_too_long")),
        ],
    )
    role = SelectField(
        "Peran",
        choices=[
            SelectChoice(Role.OPERATOR, "Operator"),
            SelectChoice(Role.PEJABAT, "Pejabat Pencatatan Sipil"),
            SelectChoice(Role.ADMIN, "Admin"),
            SelectChoice(Role.VIEWER, "Dasbor saja"),
        ],
    )
    regions = SelectMultipleField(
        "Wilayah", validators=[DataRequired(lazy_message("form_regions_required"))]
    )
    password = PasswordField(
        "Kata sandi awal (min. 10 karakter; diganti pengguna saat pertama masuk)",
        validators=[DataRequired(lazy_message("required"))],
    )


def _form() -> UserForm:
    form = UserForm()
    served = sorted(current_user.as_actor().region_codes)
    form.regions.choices = [
        SelectChoice(r.code, r.name)
        for r in db.session.scalars(
            sa.select(Region).where(Region.code.in_(served)).order_by(Region.code)
        )
    ]
    return form


@bp.route("/pengguna", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    form = _form()
    errors: list[dict[str, str]] = []
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                create_user(
                    form.username.data or "",
                    form.full_name.data or "",
                    form.role.data or "",
                    form.password.data or "",
                    list(form.regions.data or []),
                    current_user.as_actor(),
                    must_change_password=True,
                )
        except InvalidInput as refused:
            errors = refused.detail["errors"]
        else:
            flash(f"Pengguna {form.username.data} dibuat.", "info")
            return redirect(url_for("accounts_admin.users"))
    listed = managed_users(current_user.as_actor())
    record("office:user:list", current_user.as_actor(), data={"count": len(listed)}, read=True)
    return render_template("office/users.html", form=form, users=listed, errors=errors)


def _user(user_id: int) -> User:
    """An account this admin manages; any other is not found, as if it did not exist."""
    try:
        return managed_user(current_user.as_actor(), user_id)
    except AccountNotManaged:
        abort(404)


@bp.post("/pengguna/<int:user_id>/aktif")
@staff_required(Role.ADMIN)
def toggle_active(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    try:
        with db.session.begin_nested():
            set_active(user, request.form.get("active") == "1", current_user.as_actor())
    except DomainError as refused:
        flash(refused.message, "error")
    return redirect(url_for("accounts_admin.users"))


@bp.post("/pengguna/<int:user_id>/sandi")
@staff_required(Role.ADMIN)
def new_password(user_id: int) -> ResponseReturnValue:
    user = _user(user_id)
    password = reset_password(user, current_user.as_actor())
    # Shown in this answer only: a flash message would carry it in the session cookie,
    # which is signed, not encrypted. The user must replace it at the first sign-in.
    page = render_template("office/admin_password_issued.html", user=user, password=password)
    return page, 200, {"Cache-Control": "no-store"}


@bp.post("/pengguna/<int:user_id>/2fa")
@staff_required(Role.ADMIN)
def reset_2fa(user_id: int) -> ResponseReturnValue:
    """A lost phone: the account's TOTP and recovery codes go; it enrols again."""
    user = _user(user_id)
    reset_second_factor(user, current_user.as_actor())
    flash(f"Verifikasi dua langkah {user.username} diatur ulang.", "info")
    return redirect(url_for("accounts_admin.users"))


def _trimmed(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


class SigningIdentityForm(FlaskForm):
    """The pejabat's identity at the signing service: the NIK it knows them by, the NIP
    their certificate (and so the akta they sign) names."""

    nik = StringField(
        "NIK pejabat (16 angka, seperti terdaftar di layanan tanda tangan elektronik)",
        validators=[DataRequired(lazy_message("required"))],
        filters=[_trimmed],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    nip = StringField(
        "NIP pejabat (18 angka, seperti tertulis pada sertifikatnya)",
        validators=[DataRequired(lazy_message("required"))],
        filters=[_trimmed],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


def _pejabat(user_id: int) -> User:
    """A pejabat's account this admin manages (only a pejabat signs akta)."""
    user = _user(user_id)
    if user.role != Role.PEJABAT:
        abort(404)
    return user


def _signing_page(user: User, form: SigningIdentityForm) -> ResponseReturnValue:
    record(
        "office:user:signing_identity_view",
        current_user.as_actor(),
        data={"user_id": user.id},
        read=True,
    )
    page = render_template(
        "office/admin_signing.html", user=user, form=form, state=signing_state(user)
    )
    return page, 422 if has_errors(form) else 200, {"Cache-Control": "no-store"}


@bp.route("/pengguna/<int:user_id>/tanda-tangan", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def signing(user_id: int) -> ResponseReturnValue:
    """A pejabat's signing identity (NIK, NIP) and whether they can sign now."""
    user = _pejabat(user_id)
    form = SigningIdentityForm(obj=user)
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                set_signing_identity(
                    user, form.nik.data or "", form.nip.data or "", current_user.as_actor()
                )
        except InvalidInput as refused:
            show_refusal(form, refused)
        else:
            flash(f"Identitas tanda tangan {user.username} disimpan.", "info")
            return redirect(url_for("accounts_admin.signing", user_id=user.id))
    return _signing_page(user, form)


@bp.post("/pengguna/<int:user_id>/tanda-tangan/buka-kunci")
@staff_required(Role.ADMIN)
def unlock(user_id: int) -> ResponseReturnValue:
    """Let a pejabat locked out by five wrong passphrases sign again."""
    user = _pejabat(user_id)
    try:
        with db.session.begin_nested():
            unlock_signing(user, current_user.as_actor())
    except DomainError as refused:
        flash(refused.message, "error")
    else:
        flash(f"Tanda tangan elektronik {user.full_name} dapat dipakai lagi.", "info")
    return redirect(url_for("accounts_admin.signing", user_id=user.id))
