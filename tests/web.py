"""Driving the office pages as a person does: read the form's CSRF token, sign in (with the
TOTP code from the account's authenticator app, enrolling one when the role requires it)."""

from __future__ import annotations

import re
import time

import pyotp
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.core.db import db, utcnow

STAFF_PASSWORD = "kata-sandi-yang-panjang"

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
#: The secret each account enrolled with through these helpers (as the person's phone keeps it).
PHONES: dict[tuple[int, str], str] = {}


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on the page."""
    match = _TOKEN.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def _user(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None, username
        db.session.refresh(user)
        return user


#: A code of the step before is accepted (clock drift), one of two steps before is not: a
#: code of the step before, typed in a step's last seconds, would be two steps old by the
#: time a slow request (a busy machine) checks it.
_STEP_END_MARGIN_SECONDS = 8


def _oldest_good_step(totp: pyotp.TOTP) -> int:
    """The earliest step whose code the service still takes a few seconds from now: the step
    before the current one, or the current one in a step's last seconds."""
    now = utcnow()
    current = totp.timecode(now)
    near_the_end = now.timestamp() % totp.interval > totp.interval - _STEP_END_MARGIN_SECONDS
    return current if near_the_end else current - 1


def next_code(app: Flask, username: str, secret: str | None = None) -> str:
    """A TOTP code of the account's app that the service has not seen yet: codes are good
    once, so a second sign-in in the same 30 seconds uses the next step's code (accepted for
    clock drift), and a third waits for the clock."""
    user = _user(app, username)
    secret = secret or PHONES[(user.id, username)]
    totp = pyotp.TOTP(secret)
    while True:
        current = totp.timecode(utcnow())
        step = max(_oldest_good_step(totp), (user.totp_last_step or 0) + 1)
        if step <= current + 1:
            return totp.generate_otp(step)
        time.sleep(1)


def enrol(client: FlaskClient, username: str) -> list[str]:
    """Enrol the signed-in account in TOTP on its enrolment page; answers the recovery codes."""
    page = client.get("/kantor/2fa").get_data(as_text=True)
    secret = _SECRET.search(page)
    assert secret, "the enrolment page shows no secret to type in"
    totp = pyotp.TOTP(secret.group(1))
    code = totp.generate_otp(_oldest_good_step(totp))
    response = client.post("/kantor/2fa", data={"code": code, "csrf_token": csrf_token(page)})
    assert response.status_code == 200, response.get_data(as_text=True)
    user = _user(client.application, username)
    PHONES[(user.id, username)] = secret.group(1)
    return re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.get_data(as_text=True))


def sign_in(client: FlaskClient, username: str, password: str = STAFF_PASSWORD) -> int:
    """Fill and send the sign-in form, and the code form when the account has a second
    factor; a pejabat or admin without one enrols at once. Returns the sign-in's status (302
    when signed in, 401 when refused)."""
    token = csrf_token(client.get("/kantor/masuk").get_data(as_text=True))
    response = client.post(
        "/kantor/masuk", data={"username": username, "password": password, "csrf_token": token}
    )
    if response.headers.get("Location", "").endswith("/kantor/masuk/kode"):
        page = client.get("/kantor/masuk/kode").get_data(as_text=True)
        code = next_code(client.application, username)
        response = client.post(
            "/kantor/masuk/kode", data={"code": code, "csrf_token": csrf_token(page)}
        )
    if response.status_code == 302:
        home = client.get("/kantor/")
        if home.headers.get("Location", "").endswith("/kantor/2fa"):
            enrol(client, username)
    return response.status_code
