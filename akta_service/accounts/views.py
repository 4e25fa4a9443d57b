"""Staff sign-in and sign-out, and the office home with the queue counts."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from akta_service.accounts.operations import LoginRefused, log_in
from akta_service.core.audit import record
from akta_service.core.config import current_settings
from akta_service.core.limits import limiter
from akta_service.core.messages import lazy_message
from akta_service.core.sessions import staff_required
from akta_service.review.queries import queue_counts, tab_labels

bp = Blueprint("office", __name__, url_prefix="/kantor")


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


def _safe_next(target: str | None) -> str:
    """Only paths inside the office, never another site (open redirect)."""
    if target and target.startswith("/kantor") and not target.startswith("//"):
        return target
    return url_for("office.home")


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
            session.permanent = True  # idle sessions expire (PERMANENT_SESSION_LIFETIME)
            login_user(user, remember=False)
            return redirect(_safe_next(request.args.get("next")))
    # A refused login answers 401 and still commits what it counted and journalled.
    return render_template("office/login.html", form=form, error=error), 401 if error else 200


@bp.post("/keluar")
@login_required
def logout() -> ResponseReturnValue:
    record("office:user:logout", current_user.as_actor())
    logout_user()
    return redirect(url_for("office.login"))


@bp.get("/")
@staff_required()
def home() -> ResponseReturnValue:
    regions = [r.code for r in current_user.regions]
    return render_template(
        "office/home.html",
        counts=queue_counts(regions, current_settings()),
        labels=tab_labels(current_settings()),
    )
