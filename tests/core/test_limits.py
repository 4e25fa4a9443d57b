"""Rate limits are checked where they are declared: on their views.

That every limit still refuses is tested with each limit (tests/parents/test_limits.py,
tests/births/test_api_lifecycle.py::test_each_credential_is_rate_limited)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from akta_service.app import create_app
from akta_service.core.limits import REQUEST_WIDE_LIMITS, limiter, request_wide_limits
from tests.conftest import app_config


def test_flask_limiters_request_wide_hook_is_taken_out_and_nothing_needed_it(app: Flask) -> None:
    """core.limits removes Flask-Limiter's before-request hook by its name in Flask-Limiter
    4; this fails when the hook is back (a new name: the removal raised at start-up) or when
    a limit that only that hook checks (default, application, meta, blueprint) appears."""
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    assert request_wide_limits() == []
    assert not any(app.config.get(name) for name in REQUEST_WIDE_LIMITS)


def test_a_service_with_rate_limiting_switched_off_starts_and_serves(tmp_path: Path) -> None:
    """Outside production the limits can be switched off (AKTA_RATELIMIT_ENABLED=0, as the
    browser tests' server runs): Flask-Limiter then registers no hook, and start-up must not
    trip over the hook it does not find."""
    app = create_app(
        app_config(
            f"sqlite:///{tmp_path / 'off.sqlite3'}",
            tmp_path / "instance",
            AKTA_RATELIMIT_ENABLED="0",
        )
    )
    assert app.test_client().get("/healthz").status_code == 200
