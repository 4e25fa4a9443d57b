"""Staff sessions (Flask-Login) and CSRF protection of every form (Flask-WTF)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Request, abort, redirect, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_required
from flask_wtf.csrf import CSRFProtect

from akta_service.core.actors import Role

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
login_manager.login_view = "office.login"
login_manager.login_message = "Silakan masuk terlebih dahulu."
login_manager.session_protection = "strong"
csrf = CSRFProtect()

#: A staff session ends after this long without a request.
SESSION_IDLE = timedelta(hours=8)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session, left unopened for a request with a bearer token (the
    facility API): such a request is whoever its token says, never a session's user, and
    reading and re-signing a cookie it does not carry was a twentieth of a submission."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_sessions(app: Flask, load_user: Callable[[str], object | None]) -> None:
    """Staff sessions for `app`; `load_user` finds the account of a session's user id
    (accounts owns them)."""
    settings = app.config["AKTA_SETTINGS"]
    # Flask has defaults for all of these (a 31-day session among them): set them outright.
    app.config.update(
        PERMANENT_SESSION_LIFETIME=SESSION_IDLE,
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        SESSION_COOKIE_NAME="akta_session",
    )
    app.session_interface = CookieSessions()
    login_manager.user_loader(load_user)
    login_manager.init_app(app)


def staff_required(*roles: Role) -> Callable[[F], F]:
    """Signed-in staff with one of `roles` (any staff role when none is given).

    A user the account holds somewhere first (a password an admin set is to be changed, a
    pejabat or admin without a second factor is to enrol one: the user's ``held_at()``) is
    sent there from every such page until done.
    """

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            held_at = current_user.held_at()
            if held_at is not None:
                return redirect(url_for(held_at))
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
