"""Staff sessions (Flask-Login) and CSRF protection of every form (Flask-WTF)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from akta_service.core.db import db

login_manager = LoginManager()
login_manager.login_view = "office.login"
login_manager.login_message = "Silakan masuk terlebih dahulu."
login_manager.session_protection = "strong"
csrf = CSRFProtect()

#: A staff session ends after this long without a request.
SESSION_IDLE = timedelta(hours=8)


@login_manager.user_loader
def _load_user(user_id: str) -> object | None:
    from akta_service.accounts.models import User

    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def init_sessions(app: Flask) -> None:
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
    login_manager.init_app(app)
