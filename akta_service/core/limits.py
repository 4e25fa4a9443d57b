"""Rate limits (Flask-Limiter): in memory for the embedded default, Redis in production."""

from __future__ import annotations

from flask import Flask, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def _credential_key() -> str:
    credential = getattr(g, "credential", None)
    return f"credential:{credential.key_id}" if credential is not None else get_remote_address()


def _api_limit() -> str:
    return str(current_app.config["AKTA_SETTINGS"].api_rate_limit)


#: Per facility credential; apply inside require_facility so the credential is known.
per_credential = limiter.limit(_api_limit, key_func=_credential_key)


def init_limits(app: Flask) -> None:
    settings = app.config["AKTA_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    app.config.setdefault("RATELIMIT_ENABLED", settings.ratelimit_enabled)
    limiter.init_app(app)
