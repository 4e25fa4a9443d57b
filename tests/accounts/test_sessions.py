"""Sessions can be revoked: signing out, a password change or reset, a deactivation and a reset
of the second factor end every session of the account, a copied cookie's too; a sign-in gets a
fresh CSRF token."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user, reset_password
from akta_service.accounts.second_factor import reset_second_factor
from akta_service.core.actors import Actor
from akta_service.core.db import db
from tests.web import STAFF_PASSWORD, csrf_token, sign_in

PASSWORD = STAFF_PASSWORD


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    made = {
        "siti": create_user("siti", "Siti", "operator", PASSWORD, ["3274"], Actor.system("t")),
        "admin1": create_user("admin1", "Admin", "admin", PASSWORD, ["3274"], Actor.system("t")),
        "pejabat": create_user(
            "pejabat", "Pejabat", "pejabat", PASSWORD, ["3274"], Actor.system("t")
        ),
    }
    db.session.commit()
    return made


def _copy_of(client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `client`'s session cookie."""
    cookie = client.get_cookie("akta_session")
    assert cookie is not None
    thief = client.application.test_client()
    thief.set_cookie("akta_session", cookie.value)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/kantor/").status_code == 200


def _sign_out(client: FlaskClient) -> None:
    page = client.get("/kantor/").get_data(as_text=True)
    assert client.post("/kantor/keluar", data={"csrf_token": csrf_token(page)}).status_code == 302


def test_a_copied_cookie_stops_working_after_sign_out(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    assert sign_in(client, "siti") == 302
    copy = _copy_of(client)
    assert _signed_in(copy)  # the copy works while the session lives
    other_device = client.application.test_client()
    assert sign_in(other_device, "siti") == 302
    _sign_out(client)
    assert not _signed_in(client)
    assert not _signed_in(copy)
    assert not _signed_in(other_device)  # signing out ends every session of the account
    assert sign_in(client, "siti") == 302  # and a new sign-in works


@pytest.mark.parametrize("revoke", ["reset_password", "deactivate", "reset_second_factor"])
def test_a_copied_cookie_stops_working_after_an_admin_acts(
    client: FlaskClient, staff: dict[str, User], revoke: str
) -> None:
    assert sign_in(client, "pejabat") == 302
    copy = _copy_of(client)
    assert _signed_in(copy)
    admin = staff["admin1"].as_actor()
    pejabat = staff["pejabat"]
    if revoke == "reset_password":
        reset_password(pejabat, admin)
    elif revoke == "deactivate":
        from akta_service.accounts.operations import set_active

        set_active(pejabat, False, admin)
    else:
        reset_second_factor(pejabat, admin)
    db.session.commit()
    assert not _signed_in(client)
    assert not _signed_in(copy)


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    assert sign_in(client, "siti") == 302
    copy = _copy_of(client)
    page = client.get("/kantor/sandi").get_data(as_text=True)
    wrong = client.post(
        "/kantor/sandi",
        data={
            "csrf_token": csrf_token(page),
            "current_password": "bukan-sandinya",
            "new_password": "sandi-baru-siti-2026",
            "repeat_password": "sandi-baru-lain-2026",
        },
    )
    assert wrong.status_code == 422
    assert "Kata sandi sekarang salah" in wrong.get_data(as_text=True)
    assert _signed_in(copy)  # a refused change changes nothing
    changed = client.post(
        "/kantor/sandi",
        data={
            "csrf_token": csrf_token(page),
            "current_password": PASSWORD,
            "new_password": "sandi-baru-siti-2026",
            "repeat_password": "sandi-baru-siti-2026",
        },
    )
    assert changed.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(copy)
    fresh = client.application.test_client()
    assert sign_in(fresh, "siti", PASSWORD) == 401
    assert sign_in(fresh, "siti", "sandi-baru-siti-2026") == 302


def test_a_password_reset_by_an_admin_must_be_changed_at_the_first_sign_in(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    password = reset_password(staff["siti"], staff["admin1"].as_actor())
    db.session.commit()
    assert sign_in(client, "siti", password) == 302
    for path in ("/kantor/", "/kantor/antrian", "/kantor/dasbor"):
        assert client.get(path).headers["Location"].endswith("/kantor/sandi"), path
    page = client.get("/kantor/sandi").get_data(as_text=True)
    assert "Kata sandi Anda dibuat oleh admin" in page
    same = client.post(
        "/kantor/sandi",
        data={
            "csrf_token": csrf_token(page),
            "current_password": password,
            "new_password": password,
            "repeat_password": password,
        },
    )
    assert "Kata sandi baru harus berbeda" in same.get_data(as_text=True)
    client.post(
        "/kantor/sandi",
        data={
            "csrf_token": csrf_token(page),
            "current_password": password,
            "new_password": "sandi-pilihan-siti",
            "repeat_password": "sandi-pilihan-siti",
        },
    )
    assert _signed_in(client)
    # The password the admin saw works no more.
    assert sign_in(client.application.test_client(), "siti", password) == 401


def test_a_sign_in_rotates_the_csrf_token(client: FlaskClient, staff: dict[str, User]) -> None:
    before = csrf_token(client.get("/kantor/masuk").get_data(as_text=True))
    assert sign_in(client, "siti") == 302
    after = csrf_token(client.get("/kantor/").get_data(as_text=True))
    assert before != after
    # A form carrying the token of the signed-out page is refused.
    stale = client.post("/kantor/keluar", data={"csrf_token": before})
    assert stale.status_code == 400
    assert _signed_in(client)


def test_a_session_id_of_another_shape_signs_nobody_in(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    from akta_service.accounts.operations import signed_in_user

    user = staff["siti"]
    assert signed_in_user(f"{user.id}.{user.session_version}") is user
    for forged in (str(user.id), f"{user.id}.x", f"{user.id}.{user.session_version + 1}", ""):
        assert signed_in_user(forged) is None
    assert re.fullmatch(r"\d+\.\d+", user.get_id())


def test_a_request_with_a_bearer_token_neither_reads_nor_refreshes_the_staff_session(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    """The facility API is whoever its token says: a staff cookie sent along is not opened,
    and the answer does not extend it (a page answer does, every request)."""
    assert sign_in(client, "siti") == 302
    page = client.get("/kantor/")
    assert page.status_code == 200
    assert "akta_session=" in page.headers.get("Set-Cookie", "")

    answer = client.get("/api/v1/births", headers={"Authorization": "Bearer akta_tidak_dikenal"})

    assert answer.status_code == 401
    assert "Set-Cookie" not in answer.headers
    assert _signed_in(client)  # the session itself is untouched
