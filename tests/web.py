"""Driving the office pages as a person does: read the form's CSRF token, sign in."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

STAFF_PASSWORD = "kata-sandi-yang-panjang"

_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on the page."""
    match = _TOKEN.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = STAFF_PASSWORD) -> int:
    """Fill and send the sign-in form; returns the answer's status (302 when signed in)."""
    token = csrf_token(client.get("/kantor/masuk").get_data(as_text=True))
    response = client.post(
        "/kantor/masuk", data={"username": username, "password": password, "csrf_token": token}
    )
    return response.status_code
