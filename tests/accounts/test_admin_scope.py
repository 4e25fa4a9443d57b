"""An admin manages only the accounts all of whose regions the admin serves: the others are
not listed, and cannot be created, deactivated or reset (password or second factor)."""

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
from akta_service.core.errors import InvalidInput
from tests.web import STAFF_PASSWORD, csrf_token, enrol, sign_in

PASSWORD = STAFF_PASSWORD


@pytest.fixture
def accounts(session: Any) -> dict[str, User]:
    """An admin of Kota Cirebon (3274); staff of 3274, of Kota Tangerang (3673), of both."""
    made = {
        name: create_user(name, name.title(), role, PASSWORD, regions, Actor.system("t"))
        for name, role, regions in (
            ("admin3274", "admin", ["3274"]),
            ("siti3274", "operator", ["3274"]),
            ("pejabat3673", "pejabat", ["3673"]),
            ("budi_both", "operator", ["3274", "3673"]),
        )
    }
    db.session.commit()
    return made


def _listing(client: FlaskClient) -> str:
    return client.get("/kantor/admin/pengguna").get_data(as_text=True)


def test_the_list_shows_only_accounts_within_the_admins_regions(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    sign_in(client, "admin3274")
    page = _listing(client)
    assert 'id="user-siti3274"' in page
    assert 'id="user-admin3274"' in page
    assert 'id="user-pejabat3673"' not in page
    assert 'id="user-budi_both"' not in page  # serves a region the admin does not


def test_an_admin_cannot_reset_the_password_of_another_regions_pejabat(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    victim = client.application.test_client()
    assert sign_in(victim, "pejabat3673") == 302
    sign_in(client, "admin3274")
    token = csrf_token(_listing(client))
    for target in ("pejabat3673", "budi_both"):
        response = client.post(
            f"/kantor/admin/pengguna/{accounts[target].id}/sandi", data={"csrf_token": token}
        )
        assert response.status_code == 404
    # Nothing changed: the pejabat's session goes on, the old password still works.
    assert victim.get("/kantor/").status_code == 200
    assert sign_in(client.application.test_client(), "budi_both") == 302
    actions = list(db.session.scalars(sa.select(JournalEntry.action)))
    assert "office:user:reset_password" not in actions


def test_an_admin_cannot_deactivate_or_reset_the_second_factor_of_others(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    victim = client.application.test_client()
    assert sign_in(victim, "pejabat3673") == 302  # enrols TOTP on the way
    sign_in(client, "admin3274")
    token = csrf_token(_listing(client))
    target = accounts["pejabat3673"].id
    deactivate = client.post(
        f"/kantor/admin/pengguna/{target}/aktif", data={"csrf_token": token, "active": "0"}
    )
    reset = client.post(f"/kantor/admin/pengguna/{target}/2fa", data={"csrf_token": token})
    assert (deactivate.status_code, reset.status_code) == (404, 404)
    assert victim.get("/kantor/").status_code == 200
    db.session.expire_all()
    pejabat = db.session.get(User, target)
    assert pejabat is not None
    assert pejabat.active
    assert pejabat.has_second_factor


def test_an_admin_cannot_create_an_account_for_a_region_not_served(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    sign_in(client, "admin3274")
    page = _listing(client)
    # The form offers only the admin's own regions.
    assert re.findall(r'<option value="(\d{4})"', page) == ["3274"]
    response = client.post(
        "/kantor/admin/pengguna",
        data={
            "csrf_token": csrf_token(page),
            "username": "penyusup",
            "full_name": "Penyusup",
            "role": "pejabat",
            "regions": ["3673"],
            "password": "sandi-awal-panjang",
        },
    )
    assert response.status_code == 200
    assert db.session.scalar(sa.select(User).where(User.username == "penyusup")) is None
    # The rule is the operation's, not only the form's.
    with pytest.raises(InvalidInput) as refused:
        create_user(
            "penyusup",
            "Penyusup",
            "pejabat",
            "sandi-awal-panjang",
            ["3274", "3673"],
            accounts["admin3274"].as_actor(),
        )
    errors = refused.value.detail["errors"]
    assert [e.code for e in errors] == ["regions_not_served"]
    assert "3673" in errors[0].message


def test_an_admin_resets_a_second_factor_within_the_region(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    create_user("pejabat3274", "Pejabat", "pejabat", PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    pejabat = client.application.test_client()
    assert sign_in(pejabat, "pejabat3274") == 302
    assert pejabat.get("/kantor/").status_code == 200
    sign_in(client, "admin3274")
    page = _listing(client)
    assert "Atur ulang dua langkah" in page
    user_id = db.session.scalar(sa.select(User.id).where(User.username == "pejabat3274"))
    reset = client.post(
        f"/kantor/admin/pengguna/{user_id}/2fa", data={"csrf_token": csrf_token(page)}
    )
    assert reset.status_code == 302
    # The pejabat's session ended; signing in again, the pejabat must enrol anew.
    assert pejabat.get("/kantor/").headers["Location"].startswith("/kantor/masuk")
    token = csrf_token(pejabat.get("/kantor/masuk").get_data(as_text=True))
    pejabat.post(
        "/kantor/masuk",
        data={"username": "pejabat3274", "password": PASSWORD, "csrf_token": token},
    )
    assert pejabat.get("/kantor/").headers["Location"].endswith("/kantor/2fa")
    assert len(enrol(pejabat, "pejabat3274")) == 10
    entry = db.session.scalar(
        sa.select(JournalEntry).where(JournalEntry.action == "office:user:second_factor_reset")
    )
    assert entry is not None
    assert entry.data == {"user_id": user_id}


def test_an_unknown_account_is_not_found_and_only_admins_manage(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    from akta_service.accounts.operations import AccountNotManaged, reset_password

    sign_in(client, "admin3274")
    token = csrf_token(_listing(client))
    missing = client.post("/kantor/admin/pengguna/999999/sandi", data={"csrf_token": token})
    assert missing.status_code == 404
    # An operator of the same region is no admin: the operation refuses too.
    with pytest.raises(AccountNotManaged) as refused:
        reset_password(accounts["siti3274"], accounts["budi_both"].as_actor())
    assert refused.value.message == "Akun ini tidak ditemukan di wilayah yang Anda layani"
