"""Staff sign-in (password, then the second factor), sign-out, the staff's own password and
TOTP enrolment, and the office home with the queue counts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from akta_service.accounts.models import User
from akta_service.accounts.operations import (
    LoginRefused,
    change_password,
    complete_login,
    log_in,
    log_out,
    signed_in_user,
)
from akta_service.accounts.second_factor import (
    SecondFactorRefused,
    check_second_factor,
    confirm_enrolment,
    pending_secret,
    provisioning_uri,
    qr_svg,
)
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import InvalidInput
from akta_service.core.limits import limiter
from akta_service.core.messages import lazy_message
from akta_service.core.sessions import staff_required
from akta_service.review.queries import queue_counts, tab_labels

bp = Blueprint("office", __name__, url_prefix="/kantor")

#: Who passed the password step and is asked for the second factor, for how long.
PENDING_KEY = "second_factor_pending"
PENDING_SECONDS = 300
_NO_STORE = {"Cache-Control": "no-store"}


class LoginForm(FlaskForm):
    username = StringField(
        "Nama pengguna",
        validators=[
            DataRequired(lazy_message("form_username_required")),
            Length(max=60, message=lazy_message("form_too_long")),
        ],
    )
    password = PasswordField(
        "Kata sandi",
        validators=[
            DataRequired(lazy_message("form_password_required")),
            Length(max=200, message=lazy_message("form_too_long")),
        ],
    )


class CodeForm(FlaskForm):
    code = StringField(
        "Kode",
        validators=[
            DataRequired(lazy_message("required")),
            Length(max=40, message=lazy_message("form_too_long")),
        ],
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Kata sandi sekarang", validators=[Length(max=200)])
    new_password = PasswordField("Kata sandi baru (min. 10 karakter)", validators=[Length(max=200)])
    repeat_password = PasswordField("Ulangi kata sandi baru", validators=[Length(max=200)])


def _safe_next(target: str | None) -> str:
    """Only paths inside the office, never another site (open redirect)."""
    if target and target.startswith("/kantor") and not target.startswith("//"):
        return target
    return url_for("office.home")


def _sign_in(user: User) -> None:
    """Open the session: a fresh CSRF token, the id with the account's session version."""
    session.pop(PENDING_KEY, None)
    session.pop("csrf_token", None)  # the token of the signed-out page is not carried over
    session.permanent = True  # idle sessions expire (PERMANENT_SESSION_LIFETIME)
    login_user(user, remember=False)


@bp.route("/masuk", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = log_in(form.username.data or "", form.password.data or "")
        except LoginRefused as refused:
            error = refused.message
        else:
            target = _safe_next(request.args.get("next"))
            if user.has_second_factor:
                session[PENDING_KEY] = {
                    "user": user.get_id(),
                    "at": utcnow().timestamp(),
                    "next": target,
                }
                return redirect(url_for("office.second_factor"))
            complete_login(user)
            _sign_in(user)
            return redirect(target)
    # A refused login answers 401 and still commits what it counted and journalled.
    return render_template("office/login.html", form=form, error=error), 401 if error else 200


def _pending_user() -> tuple[User | None, dict[str, Any]]:
    pending = session.get(PENDING_KEY) or {}
    fresh = utcnow().timestamp() - float(pending.get("at", 0)) < PENDING_SECONDS
    user = signed_in_user(str(pending.get("user", ""))) if fresh else None
    return user, pending


@bp.route("/masuk/kode", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def second_factor() -> ResponseReturnValue:
    user, pending = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        return redirect(url_for("office.login"))
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            check_second_factor(user, form.code.data or "")
        except SecondFactorRefused as refused:
            error = refused.message
        else:
            complete_login(user)
            _sign_in(user)
            return redirect(_safe_next(pending.get("next")))
    page = render_template("office/second_factor.html", form=form, error=error)
    return page, 401 if error else 200


@bp.post("/keluar")
@login_required
def logout() -> ResponseReturnValue:
    log_out(current_user._get_current_object())
    logout_user()
    return redirect(url_for("office.login"))


@bp.route("/sandi", methods=["GET", "POST"])
@login_required
def change_password_page() -> ResponseReturnValue:
    """The staff member's own password; where an admin-set password holds them first."""
    form = ChangePasswordForm()
    errors: list[dict[str, str]] = []
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            with db.session.begin_nested():
                change_password(
                    user,
                    form.current_password.data or "",
                    form.new_password.data or "",
                    form.repeat_password.data or "",
                )
        except InvalidInput as refused:
            errors = refused.detail["errors"]
        else:
            _sign_in(user)  # this session goes on, under the new session version
            return redirect(url_for("office.home"))
    forced = current_user.must_change_password
    page = render_template("office/change_password.html", form=form, errors=errors, forced=forced)
    return page, 422 if errors else 200, _NO_STORE


@bp.route("/2fa", methods=["GET", "POST"])
@login_required
def totp_enrol() -> ResponseReturnValue:
    """TOTP enrolment: the QR code (and the secret, to type in), then the first code."""
    user = current_user._get_current_object()
    if user.has_second_factor:
        return render_template("office/totp_enrolled.html"), 200, _NO_STORE
    secret = pending_secret(user)
    form = CodeForm()
    error = None
    if form.validate_on_submit():
        try:
            codes = confirm_enrolment(user, form.code.data or "")
        except SecondFactorRefused as refused:
            error = refused.message
        else:
            _sign_in(user)  # the session goes on under the new session version
            page = render_template("office/totp_recovery_codes.html", codes=codes)
            return page, 200, _NO_STORE
    uri = provisioning_uri(user, secret)
    page = render_template(
        "office/totp_enrol.html",
        form=form,
        error=error,
        qr=qr_svg(uri),
        secret=secret,
        required=user.needs_second_factor,
    )
    return page, 401 if error else 200, _NO_STORE


@bp.get("/")
@staff_required()
def home() -> ResponseReturnValue:
    regions = [r.code for r in current_user.regions]
    return render_template(
        "office/home.html",
        counts=queue_counts(regions, current_settings()),
        labels=tab_labels(current_settings()),
    )
