"""Admins manage staff accounts from the office UI."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from tests.web import STAFF_PASSWORD, csrf_token, sign_in

PASSWORD = STAFF_PASSWORD


@pytest.fixture
def admin(session: Any) -> User:
    user = create_user("admin1", "Admin Satu", "admin", PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    return user


def test_an_admin_creates_a_user_who_can_then_sign_in(client: FlaskClient, admin: User) -> None:
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/pengguna").get_data(as_text=True)
    response = client.post(
        "/kantor/admin/pengguna",
        data={
            "csrf_token": csrf_token(page),
            "username": "rina",
            "full_name": "Rina Operator",
            "role": "operator",
            "regions": ["3274"],
            "password": "sandi-awal-rina-123",
        },
    )
    assert response.status_code == 302
    page = client.get("/kantor/admin/pengguna").get_data(as_text=True)
    assert 'id="user-rina"' in page
    client.post("/kantor/keluar", data={"csrf_token": csrf_token(page)})
    assert sign_in(client, "rina", "sandi-awal-rina-123") == 302
    # The admin chose that password: Rina is held on the change page until she picks her own.
    held = client.get("/kantor/")
    assert held.headers["Location"].endswith("/kantor/sandi")
    assert client.get("/kantor/antrian").headers["Location"].endswith("/kantor/sandi")
    page = client.get("/kantor/sandi").get_data(as_text=True)
    assert "Kata sandi Anda dibuat oleh admin" in page
    changed = client.post(
        "/kantor/sandi",
        data={
            "csrf_token": csrf_token(page),
            "current_password": "sandi-awal-rina-123",
            "new_password": "pilihan-rina-sendiri",
            "repeat_password": "pilihan-rina-sendiri",
        },
    )
    assert changed.status_code == 302
    assert client.get("/kantor/").status_code == 200


def test_bad_input_is_listed_and_nothing_is_created(client: FlaskClient, admin: User) -> None:
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/pengguna").get_data(as_text=True)
    response = client.post(
        "/kantor/admin/pengguna",
        data={
            "csrf_token": csrf_token(page),
            "username": "admin1",
            "full_name": "Duplikat",
            "role": "operator",
            "regions": ["3274"],
            "password": "pendek",
        },
    )
    html = response.get_data(as_text=True)
    assert "Nama pengguna sudah dipakai" in html
    assert "Kata sandi minimal 10 karakter" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_too_long_or_missing_field_is_named_in_indonesian(
    client: FlaskClient, admin: User
) -> None:
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/pengguna").get_data(as_text=True)
    response = client.post(
        "/kantor/admin/pengguna",
        data={
            "csrf_token": csrf_token(page),
            "username": "r" * 61,
            "full_name": "",
            "role": "operator",
            "password": "sandi-awal-rina-123",
        },
    )
    html = response.get_data(as_text=True)
    assert "Paling banyak 60 karakter" in html
    assert "Wajib diisi" in html
    assert "Pilih wilayah" in html
    assert "longer than" not in html  # no English default of the form library
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_deactivating_ends_the_users_session_and_reset_gives_a_new_password(
    client: FlaskClient, admin: User
) -> None:
    clerk = create_user("budi", "Budi", "operator", PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    other = client.application.test_client()
    assert sign_in(other, "budi") == 302
    assert other.get("/kantor/").status_code == 200

    assert sign_in(client, "admin1") == 302
    listing = client.get("/kantor/admin/pengguna")
    assert listing.status_code == 200, listing.status_code
    page = listing.get_data(as_text=True)
    client.post(
        f"/kantor/admin/pengguna/{clerk.id}/aktif",
        data={"csrf_token": csrf_token(page), "active": "0"},
    )
    assert other.get("/kantor/").status_code == 302  # signed out at once
    page = client.get("/kantor/admin/pengguna").get_data(as_text=True)

    client.post(
        f"/kantor/admin/pengguna/{clerk.id}/aktif",
        data={"csrf_token": csrf_token(page), "active": "1"},
    )
    response = client.post(
        f"/kantor/admin/pengguna/{clerk.id}/sandi", data={"csrf_token": csrf_token(page)}
    )
    assert response.headers["Cache-Control"] == "no-store"
    shown = response.get_data(as_text=True)
    password = re.search(r'id="password" readonly size="40" value="([^"]+)"', shown)
    assert password
    # Never in the session cookie: a flash would put it there, readable by anyone holding it.
    assert password.group(1) not in (response.headers.get("Set-Cookie") or "")
    assert password.group(1) not in client.get("/kantor/admin/pengguna").get_data(as_text=True)
    assert sign_in(other, "budi", PASSWORD) == 401  # the old password no longer works
    assert sign_in(other, "budi", password.group(1)) == 302
    actions = set(db.session.scalars(sa.select(JournalEntry.action)))
    assert {
        "office:user:deactivate",
        "office:user:activate",
        "office:user:reset_password",
    } <= actions


def test_only_admins_reach_the_user_pages(client: FlaskClient, admin: User) -> None:
    create_user("siti", "Siti", "operator", PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    sign_in(client, "siti")
    assert client.get("/kantor/admin/pengguna").status_code == 403
