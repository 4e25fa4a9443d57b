"""Rate limits (Flask-Limiter): in memory for the embedded default, Redis in production.

The limits that matter count per thing attacked: per report, per draft, per staff account,
per facility credential. Those per address are generous backstops: a mobile carrier puts
thousands of phones behind one public address, and a botnet has thousands of addresses.
The address is the client's as the trusted proxies forwarded it (AKTA_TRUSTED_PROXY_HOPS).

A request costs one counter increment per limit. The window's state (when it resets) is read
only for the answer that refuses a request, to fill `Retry-After`: writing X-RateLimit headers
on every answer would cost two more storage round trips per request.
"""

from __future__ import annotations

import hashlib
import math
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse
from werkzeug.exceptions import TooManyRequests

from akta_service.core.clock import local_timezone
from akta_service.core.errors import (
    error_page,
    problem_response,
    requested_language,
    wants_a_page,
)
from akta_service.core.messages import message

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
V = TypeVar("V")


def hashed_key(kind: str, value: str) -> str:
    """The counter's key for one thing (a report, a draft): its digest, never the tracking
    code or draft token itself, which the limiter's log and the store would otherwise hold."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


@lru_cache(maxsize=8)
def _api_limit(text: str) -> RateLimitItem:
    """AKTA_API_RATE_LIMIT ("600 per minute") as the limit it says, read once."""
    return parse(text)


class CredentialLimitReached(TooManyRequests):
    """A facility credential has made as many requests to a view as its window allows."""

    def __init__(self, limit: RateLimitItem, counter: tuple[str, ...]) -> None:
        super().__init__(description=str(limit))
        self.limit = limit
        self.counter = counter


def per_credential(view: V) -> V:
    """The API's limit per facility credential and view (AKTA_API_RATE_LIMIT); apply inside
    require_facility, so the credential is known.

    One counter increment in Flask-Limiter's own store and strategy, under the key its
    decorator would give it (prefix, credential, view): a view's decorator limit also
    resolves its limits, exemptions and scopes anew on every request, a tenth of a
    facility's submission. tests/births/test_api_lifecycle.py counts the refusals.
    """

    @wraps(cast(Any, view))
    def limited(*args: Any, **kwargs: Any) -> Any:
        if limiter.enabled:
            settings = current_app.config["AKTA_SETTINGS"]
            limit = _api_limit(settings.api_rate_limit)
            counter: tuple[str, ...] = (f"credential:{g.credential.key_id}", request.endpoint or "")
            if settings.ratelimit_key_prefix:
                counter = (settings.ratelimit_key_prefix, *counter)
            if not limiter.limiter.hit(limit, *counter):
                raise CredentialLimitReached(limit, counter)
        return cast(Any, view)(*args, **kwargs)

    return cast(V, limited)


def retry_after_seconds(error: Exception | None = None) -> int:
    """Seconds until the limit this request broke (`error`, or Flask-Limiter's own) lets a
    request through again."""
    if isinstance(error, CredentialLimitReached):
        reset_at = limiter.limiter.get_window_stats(error.limit, *error.counter).reset_time
    else:
        current = limiter.current_limit
        reset_at = current.window.reset_time if current is not None else time.time() + 60
    return max(1, math.ceil(reset_at - time.time()))


def retry_advice(wait: int) -> str:
    """When to try again, in words a person reads: in seconds, or after a time of day."""
    if wait <= 60:
        return message("retry_in_seconds", seconds=wait)
    at = datetime.now(UTC) + timedelta(seconds=wait)
    when = at.astimezone(local_timezone()).strftime("%H.%M %Z")
    return message("retry_at", time=when, minutes=math.ceil(wait / 60))


def _too_many(error: RateLimitExceeded | CredentialLimitReached) -> Response:
    wait = retry_after_seconds(error)
    if wants_a_page():
        page = error_page(error, advice=retry_advice(wait))
        page.headers["Retry-After"] = str(wait)
        return page
    english = requested_language() == "en"
    limit = error.limit if isinstance(error, CredentialLimitReached) else error.limit.limit
    response = problem_response(
        {
            "type": "about:blank",
            "title": "Too many requests" if english else "Terlalu banyak permintaan",
            "status": 429,
            "detail": (
                f"Rate limit {limit} reached; try again in {wait} s."
                if english
                else f"Batas {limit} tercapai; coba lagi dalam {wait} detik."
            ),
            "code": "rate_limited",
        }
    )
    response.headers["Retry-After"] = str(wait)
    return response


def init_limits(app: Flask) -> None:
    settings = app.config["AKTA_SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", settings.ratelimit_key_prefix)
    app.config.setdefault("RATELIMIT_ENABLED", settings.ratelimit_enabled)
    limiter.init_app(app)
    _skip_request_wide_check(app)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.register_error_handler(CredentialLimitReached, _too_many)


#: Limits Flask-Limiter checks in its before-request hook rather than in a view's decorator.
REQUEST_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def _skip_request_wide_check(app: Flask) -> None:
    """Take out Flask-Limiter's before-request hook: it checks only default, application,
    meta and blueprint limits, and this service has none (every limit is a decorator on
    its view, checked there), yet it cost a facility's submission as much Python as its
    own limit. `_check_request_limit` is the hook as Flask-Limiter 4 registers it; the
    removal fails at start-up if that changes, and tests/core/test_limits.py with it."""
    if not app.config["RATELIMIT_ENABLED"]:
        return  # a disabled limiter registers no hook at all
    if request_wide_limits() or any(app.config.get(name) for name in REQUEST_WIDE_LIMITS):
        raise RuntimeError("request-wide rate limits need Flask-Limiter's before-request hook")
    app.before_request_funcs[None].remove(limiter._check_request_limit)


def request_wide_limits() -> list[object]:
    """The limits only Flask-Limiter's before-request hook would check (none here)."""
    manager = limiter.limit_manager
    return [
        *manager.default_limits,
        *manager.application_limits,
        *manager._blueprint_limits.values(),
        *limiter._meta_limits,
    ]
