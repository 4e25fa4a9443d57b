"""TOTP second factor: enrolment with a QR code drawn by the service, recovery codes shown once
and kept hashed, required for pejabat and admins, codes good once, wrong codes locked out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from akta_service.accounts.models import RecoveryCode, User
from akta_service.accounts.operations import create_user
from akta_service.accounts.second_factor import (
    MAX_FAILED_CODES,
    SecondFactorRefused,
    require_totp,
)
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db, utcnow
from tests.web import PHONES, STAFF_PASSWORD, csrf_token, enrol, next_code, sign_in

PASSWORD = STAFF_PASSWORD


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    made = {
        "siti": create_user("siti", "Siti", "operator", PASSWORD, ["3274"], Actor.system("t")),
        "pejabat": create_user(
            "pejabat", "Pejabat", "pejabat", PASSWORD, ["3274"], Actor.system("t")
        ),
    }
    db.session.commit()
    return made


def _password_step(client: FlaskClient, username: str) -> Any:
    token = csrf_token(client.get("/kantor/masuk").get_data(as_text=True))
    return client.post(
        "/kantor/masuk", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )


def _code_step(client: FlaskClient, code: str) -> Any:
    page = client.get("/kantor/masuk/kode").get_data(as_text=True)
    return client.post("/kantor/masuk/kode", data={"code": code, "csrf_token": csrf_token(page)})


def _secret(user: User) -> str:
    return PHONES[(user.id, user.username)]


def test_a_pejabat_is_sent_to_enrol_and_enrols_with_the_qr_code(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    assert _password_step(client, "pejabat").status_code == 302
    for path in ("/kantor/", "/kantor/antrian", "/kantor/admin/pengguna"):
        assert client.get(path).headers["Location"].endswith("/kantor/2fa"), path
    page = client.get("/kantor/2fa")
    html = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "wajib memakai verifikasi dua langkah" in html
    assert "<svg" in html  # the QR code is drawn by the service, inline
    assert "<img" not in html
    reload = client.get("/kantor/2fa").get_data(as_text=True)
    secret = html.split('id="totp-secret">')[1].split("<")[0]
    assert secret in reload  # a reload keeps the secret already scanned
    wrong = client.post("/kantor/2fa", data={"code": "000000", "csrf_token": csrf_token(html)})
    assert wrong.status_code == 401
    assert "Kode salah" in wrong.get_data(as_text=True)

    codes = enrol(client, "pejabat")
    assert len(codes) == 10
    assert client.get("/kantor/").status_code == 200
    assert "sudah aktif" in client.get("/kantor/2fa").get_data(as_text=True)
    # Neither the secret nor a recovery code is stored as it is.
    db.session.expire_all()
    pejabat = db.session.get(User, staff["pejabat"].id)
    assert pejabat is not None
    assert pejabat.totp_secret is not None
    assert secret not in pejabat.totp_secret
    hashes = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not set(codes) & set(hashes)


def test_signing_in_asks_the_code_after_the_password(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    sign_in(client, "pejabat")  # enrols
    _sign_out(client)
    pejabat = staff["pejabat"]
    assert _password_step(client, "pejabat").headers["Location"].endswith("/kantor/masuk/kode")
    assert client.get("/kantor/").status_code == 302  # not signed in on the password alone
    wrong = _code_step(client, "123456")
    assert wrong.status_code == 401
    assert "Kode salah atau sudah dipakai" in wrong.get_data(as_text=True)
    code = next_code(client.application, "pejabat")
    assert _code_step(client, code).status_code == 302
    assert client.get("/kantor/").status_code == 200
    actions = db.session.scalars(
        sa.select(JournalEntry.action).where(JournalEntry.actor_id == f"user:{pejabat.id}")
    ).all()
    assert "office:user:second_factor_failed" in actions
    assert actions.count("office:user:login") == 2

    # The same code cannot be played again, by anyone who saw it typed.
    _sign_out(client)
    _password_step(client, "pejabat")
    assert _code_step(client, code).status_code == 401


def _sign_out(client: FlaskClient) -> None:
    page = client.get("/kantor/").get_data(as_text=True)
    client.post("/kantor/keluar", data={"csrf_token": csrf_token(page)})


def test_a_recovery_code_works_once(client: FlaskClient, staff: dict[str, User]) -> None:
    _password_step(client, "pejabat")
    client.get("/kantor/")
    codes = enrol(client, "pejabat")
    _sign_out(client)
    _password_step(client, "pejabat")
    assert _code_step(client, codes[3].upper().replace("-", " ")).status_code == 302
    assert client.get("/kantor/").status_code == 200
    _sign_out(client)
    _password_step(client, "pejabat")
    assert _code_step(client, codes[3]).status_code == 401
    assert _code_step(client, codes[4]).status_code == 302
    used = db.session.scalar(
        sa.select(JournalEntry).where(JournalEntry.action == "office:user:recovery_code_used")
    )
    assert used is not None


def test_five_wrong_codes_lock_the_second_step_even_for_the_right_code(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    sign_in(client, "pejabat")
    _sign_out(client)
    _password_step(client, "pejabat")
    for _ in range(MAX_FAILED_CODES):
        assert _code_step(client, "000000").status_code == 401
    refused = _code_step(client, next_code(client.application, "pejabat"))
    assert refused.status_code == 401
    assert "Terlalu banyak kode salah" in refused.get_data(as_text=True)
    # The right password again does not lift the codes' lock.
    _password_step(client, "pejabat")
    assert _code_step(client, next_code(client.application, "pejabat")).status_code == 401
    # Fifteen minutes later the right code opens it.
    user = db.session.get(User, staff["pejabat"].id)
    assert user is not None
    db.session.refresh(user)
    assert user.totp_locked_until is not None
    assert user.totp_locked_until - utcnow() <= timedelta(minutes=15)
    user.totp_locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _code_step(client, next_code(client.application, "pejabat")).status_code == 302


def test_an_operator_may_sign_in_without_a_second_factor_and_enrol_one(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    assert sign_in(client, "siti") == 302
    assert client.get("/kantor/").status_code == 200
    page = client.get("/kantor/2fa").get_data(as_text=True)
    assert "wajib" not in page
    enrol(client, "siti")
    _sign_out(client)
    assert _password_step(client, "siti").headers["Location"].endswith("/kantor/masuk/kode")


def test_the_signing_flow_checks_a_fresh_totp_code(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    user = staff["pejabat"]
    with pytest.raises(SecondFactorRefused) as missing:
        require_totp(user, "123456")
    assert missing.value.message == "Aktifkan verifikasi dua langkah terlebih dahulu"
    sign_in(client, "pejabat")
    db.session.refresh(user)
    code = next_code(client.application, "pejabat")
    require_totp(user, code)
    with pytest.raises(SecondFactorRefused):
        require_totp(user, code)  # good once
    with pytest.raises(SecondFactorRefused):
        require_totp(user, "abcd-efgh-jkmn")  # recovery codes do not sign
    totp = pyotp.TOTP(_secret(user))
    with pytest.raises(SecondFactorRefused):
        require_totp(user, totp.at(utcnow() - timedelta(minutes=5)))  # an old code
    db.session.refresh(user)
    assert user.totp_failures == 3


def test_a_directly_enrolled_demo_account_signs_in_with_its_current_code(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    from akta_service.accounts.second_factor import current_code, enrol_directly

    user = staff["pejabat"]
    with pytest.raises(SecondFactorRefused):
        current_code(user)
    enrol_directly(user, Actor.system("seed"))
    db.session.commit()
    assert _password_step(client, "pejabat").headers["Location"].endswith("/kantor/masuk/kode")
    assert _code_step(client, current_code(user)).status_code == 302
    assert client.get("/kantor/").status_code == 200


def test_a_secret_under_another_secret_key_asks_for_a_new_enrolment(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    sign_in(client, "siti")
    enrol(client, "siti")
    _sign_out(client)
    user = staff["siti"]
    db.session.refresh(user)
    user.totp_secret = "gAAAAABn-encrypted-under-another-key"
    db.session.commit()
    _password_step(client, "siti")
    refused = _code_step(client, next_code(client.application, "siti"))
    assert refused.status_code == 401  # refused, not a server error


def test_the_code_page_without_a_password_first_goes_back_to_sign_in(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    response = client.get("/kantor/masuk/kode")
    assert response.headers["Location"].endswith("/kantor/masuk")
