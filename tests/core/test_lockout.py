"""Guesses that arrive together are each counted: 20 wrong PINs, passwords or TOTP codes sent
at the same moment, each by its own client on its own database connection, leave at most 5
checked and the lock in place (core.lockout: one UPDATE per guess). On real PostgreSQL, where
they truly run at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import MAX_FAILED_LOGINS, create_user
from akta_service.births.models import BirthReport
from akta_service.births.operations import MAX_PIN_FAILURES, issue_status_pin
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db, utcnow
from akta_service.core.limits import limiter
from tests.conftest import make_migrated_app
from tests.databases import fresh_database
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, csrf_token

GUESSES = 20


@pytest.fixture
def committed_app(tmp_path: Path) -> Iterator[Flask]:
    """The service on a PostgreSQL database of its own whose requests really commit."""
    with fresh_database("postgresql", tmp_path) as url:
        # The rate limits per address and per report stand aside, so that what is seen here
        # is the lockout's own count (tests/parents/test_limits.py has the two together).
        app = make_migrated_app(
            url,
            tmp_path / "instance",
            AKTA_STATUS_RATE_LIMIT="1000 per minute",
            AKTA_REPORT_RATE_LIMIT="1000 per hour",
        )
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _in_app(app: Flask, work: Callable[[], Any]) -> Any:
    with app.app_context():
        try:
            result = work()
            db.session.commit()
            return result
        finally:
            db.session.remove()


def _all_at_once(app: Flask, page: str, form: Callable[[int], dict[str, str]]) -> list[int]:
    """GUESSES clients, each with its own session cookie, post `form` to `page` together."""
    clients: list[FlaskClient] = [app.test_client() for _ in range(GUESSES)]
    tokens = [csrf_token(c.get(page).get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(GUESSES)
    statuses = [0] * GUESSES

    def guess(index: int) -> None:
        barrier.wait(timeout=30)
        data = {**form(index), "csrf_token": tokens[index]}
        statuses[index] = clients[index].post(page, data=data).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def _actions(app: Flask, action: str) -> int:
    return _in_app(
        app,
        lambda: db.session.scalar(sa.select(sa.func.count()).where(JournalEntry.action == action)),
    )


def _wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def test_twenty_wrong_pins_at_once_leave_five_checked_and_the_report_locked(
    committed_app: Flask,
) -> None:
    app = committed_app

    def report_with_pin() -> tuple[str, str]:
        report = BirthReportFactory(status="in_review")
        return report.tracking_code, issue_status_pin(report)

    code, pin = _in_app(app, report_with_pin)
    statuses = _all_at_once(app, "/status", lambda i: {"code": code, "pin": _wrong(pin)})
    assert statuses == [401] * GUESSES
    assert _actions(app, "public:birth_report:wrong_pin") == MAX_PIN_FAILURES
    assert _actions(app, "public:birth_report:status_locked") == 1

    client = app.test_client()
    form = client.get("/status").get_data(as_text=True)
    right = {"code": code, "pin": pin, "csrf_token": csrf_token(form)}
    assert client.post("/status", data=right).status_code == 401  # the lock holds

    # Asking for a new PIN does not lift the lock either.
    client.post("/status/pin", data={"code": code, "csrf_token": csrf_token(form)})

    def new_pin() -> str:
        report = db.session.scalar(sa.select(BirthReport).where(BirthReport.tracking_code == code))
        assert report is not None
        assert report.pin_locked_until is not None
        assert report.pin_locked_until > utcnow() + timedelta(minutes=14)
        return issue_status_pin(report)

    fresh_pin = _in_app(app, new_pin)
    assert client.post("/status", data={**right, "pin": fresh_pin}).status_code == 401
    assert _actions(app, "public:birth_report:wrong_pin") == MAX_PIN_FAILURES


def test_twenty_wrong_passwords_at_once_leave_five_checked_and_the_account_locked(
    committed_app: Flask,
) -> None:
    app = committed_app
    _in_app(
        app,
        lambda: create_user(
            "siti", "Siti", "operator", STAFF_PASSWORD, ["3274"], Actor.system("t")
        ),
    )
    with app.app_context():
        limiter.reset()  # one address sends all of them here; the rate limit is not the point
    statuses = _all_at_once(
        app, "/kantor/masuk", lambda i: {"username": "siti", "password": f"salah-{i:02d}-sandi"}
    )
    assert statuses == [401] * GUESSES
    assert _actions(app, "office:user:login_failed") == MAX_FAILED_LOGINS
    assert _actions(app, "office:user:login_locked") == GUESSES - MAX_FAILED_LOGINS

    with app.app_context():
        limiter.reset()
    client = app.test_client()
    token = csrf_token(client.get("/kantor/masuk").get_data(as_text=True))
    right = {"username": "siti", "password": STAFF_PASSWORD, "csrf_token": token}
    refused = client.post("/kantor/masuk", data=right)
    assert refused.status_code == 401
    assert "Akun dikunci sementara" in refused.get_data(as_text=True)

    def unlock() -> None:
        user = db.session.scalar(sa.select(User).where(User.username == "siti"))
        assert user is not None
        user.locked_until = utcnow() - timedelta(seconds=1)  # fifteen minutes later

    _in_app(app, unlock)
    assert client.post("/kantor/masuk", data=right).status_code == 302


def test_twenty_wrong_totp_codes_at_once_leave_five_checked_and_the_codes_locked(
    committed_app: Flask,
) -> None:
    from akta_service.accounts.second_factor import MAX_FAILED_CODES, current_code, enrol_directly

    app = committed_app

    def pejabat() -> None:
        user = create_user("ratna", "Ratna", "pejabat", STAFF_PASSWORD, ["3274"], Actor.system("t"))
        enrol_directly(user, Actor.system("t"))

    _in_app(app, pejabat)
    with app.app_context():
        limiter.reset()
    # Each of 20 devices has passed the password step; the code step is what they guess at.
    clients: list[FlaskClient] = [app.test_client() for _ in range(GUESSES)]
    for client in clients:
        token = csrf_token(client.get("/kantor/masuk").get_data(as_text=True))
        signed = client.post(
            "/kantor/masuk",
            data={"username": "ratna", "password": STAFF_PASSWORD, "csrf_token": token},
        )
        assert signed.headers["Location"].endswith("/kantor/masuk/kode")
    with app.app_context():
        limiter.reset()
    tokens = [csrf_token(c.get("/kantor/masuk/kode").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(GUESSES)
    statuses = [0] * GUESSES

    def guess(index: int) -> None:
        barrier.wait(timeout=30)
        data = {"code": f"{index:06d}", "csrf_token": tokens[index]}
        statuses[index] = clients[index].post("/kantor/masuk/kode", data=data).status_code

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(GUESSES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert statuses == [401] * GUESSES
    assert _actions(app, "office:user:second_factor_failed") == MAX_FAILED_CODES
    assert _actions(app, "office:user:second_factor_locked") == GUESSES - MAX_FAILED_CODES

    def right_code() -> str:
        user = db.session.scalar(sa.select(User).where(User.username == "ratna"))
        assert user is not None
        assert user.totp_locked_until is not None
        return current_code(user)

    with app.app_context():
        limiter.reset()
    refused = clients[0].post(
        "/kantor/masuk/kode", data={"code": _in_app(app, right_code), "csrf_token": tokens[0]}
    )
    assert refused.status_code == 401  # the lock holds, even for the right code
    assert "Terlalu banyak kode salah" in refused.get_data(as_text=True)
