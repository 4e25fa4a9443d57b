"""Rate limits (Flask-Limiter): in memory for the embedded default, Redis in production.

A request costs one counter increment. The window's state (when it resets) is read only
for the answer that refuses a request, to fill `Retry-After`: writing X-RateLimit headers
on every answer would cost two more storage round trips per request.
"""

from __future__ import annotations

import math
import time

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

from akta_service.core.errors import (
    error_page,
    problem_response,
    requested_language,
    wants_a_page,
)

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)


def _credential_key() -> str:
    credential = getattr(g, "credential", None)
    return f"credential:{credential.key_id}" if credential is not None else get_remote_address()


def _api_limit() -> str:
    return str(current_app.config["AKTA_SETTINGS"].api_rate_limit)


#: Per facility credential; apply inside require_facility so the credential is known.
per_credential = limiter.limit(_api_limit, key_func=_credential_key)


def _too_many(error: RateLimitExceeded) -> Response:
    current = limiter.current_limit
    reset_at = current.window.reset_time if current is not None else time.time() + 60
    wait = max(1, math.ceil(reset_at - time.time()))
    if wants_a_page():
        page = error_page(error)
        page.headers["Retry-After"] = str(wait)
        return page
    english = requested_language() == "en"
    response = problem_response(
        {
            "type": "about:blank",
            "title": "Too many requests" if english else "Terlalu banyak permintaan",
            "status": 429,
            "detail": (
                f"Rate limit {error.limit.limit} reached; try again in {wait} s."
                if english
                else f"Batas {error.limit.limit} tercapai; coba lagi dalam {wait} detik."
            ),
            "code": "rate_limited",
        }
    )
    response.headers["Retry-After"] = str(wait)
    return response


def init_limits(app: Flask) -> None:
    settings = app.config["AKTA_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    app.config.setdefault("RATELIMIT_ENABLED", settings.ratelimit_enabled)
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, _too_many)
