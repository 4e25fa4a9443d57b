"""Staff sign-in: argon2 passwords, lockout after repeated failures, CSRF, the queue counts."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import MAX_FAILED_LOGINS, create_user
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db, utcnow
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, csrf_token

PASSWORD = STAFF_PASSWORD


def _attempt(client: FlaskClient, username: str, password: str) -> Any:
    token = csrf_token(client.get("/kantor/masuk").get_data(as_text=True))
    return client.post(
        "/kantor/masuk", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def operator(session: Any) -> User:
    user = create_user("siti", "Siti Operator", "operator", PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    return user


def test_the_office_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/kantor/")
    assert response.status_code == 302
    assert "/kantor/masuk" in response.headers["Location"]


def test_a_clerk_signs_in_and_sees_the_queue_counts(client: FlaskClient, operator: User) -> None:
    BirthReportFactory(status="in_review")
    BirthReportFactory(status="in_review", is_late=True, born_days_ago=90)
    BirthReportFactory(status="awaiting_signature")
    BirthReportFactory(status="in_review", region_code="3673")  # not the clerk's region
    db.session.commit()
    response = _attempt(client, "siti", PASSWORD)
    assert response.status_code == 302
    home = client.get("/kantor/").get_data(as_text=True)
    assert "Siti Operator" in home
    assert re.search(r'id="tab-in_review">(?:(?!</li>).)*<strong>2</strong>', home)
    assert re.search(r'id="tab-awaiting_signature">(?:(?!</li>).)*<strong>1</strong>', home)
    assert re.search(r'id="tab-late">(?:(?!</li>).)*<strong>1</strong>', home)
    cookie = client.get_cookie("akta_session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert cookie.expires is not None  # sessions end: 8 hours after the last request
    assert timedelta(hours=7) < cookie.expires - utcnow() <= timedelta(hours=8, minutes=1)
    logins = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(JournalEntry)
        .where(JournalEntry.action == "office:user:login")
    )
    assert logins == 1


def test_a_wrong_password_says_nothing_about_which_part_was_wrong(
    client: FlaskClient, operator: User
) -> None:
    for username in ("siti", "nobody"):
        page = _attempt(client, username, "salah-sekali").get_data(as_text=True)
        assert "Nama pengguna atau kata sandi salah." in page
    assert client.get("/kantor/").status_code == 302


def test_repeated_failures_lock_the_account(client: FlaskClient, operator: User) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        _attempt(client, "siti", "salah-sekali")
    db.session.refresh(operator)
    assert operator.locked_until is not None
    assert operator.locked_until > utcnow() + timedelta(minutes=10)
    locked = _attempt(client, "siti", PASSWORD).get_data(as_text=True)
    assert "dikunci sementara" in locked
    assert client.get("/kantor/").status_code == 302  # the right password does not open it


def test_a_login_without_the_csrf_token_is_refused(client: FlaskClient, operator: User) -> None:
    response = client.post("/kantor/masuk", data={"username": "siti", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/kantor/").status_code == 302


def test_signing_out_ends_the_session(client: FlaskClient, operator: User) -> None:
    _attempt(client, "siti", PASSWORD)
    assert client.get("/kantor/").status_code == 200
    page = client.get("/kantor/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/kantor/keluar", data={"csrf_token": token.group(1)})
    assert client.get("/kantor/").status_code == 302


def test_a_deactivated_account_cannot_sign_in(client: FlaskClient, operator: User) -> None:
    operator.active = False
    db.session.commit()
    page = _attempt(client, "siti", PASSWORD).get_data(as_text=True)
    assert "Nama pengguna atau kata sandi salah." in page
