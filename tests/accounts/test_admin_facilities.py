"""Admins register facilities and hand out, then revoke, the API credentials they report with."""

from __future__ import annotations

import json
import logging
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
from akta_service.facilities.models import ApiCredential, Facility
from akta_service.facilities.operations import create_facility, issue_credential
from tests.web import STAFF_PASSWORD, csrf_token, sign_in

SYSTEM = Actor.system("t")


@pytest.fixture
def admin(session: Any) -> User:
    user = create_user("admin1", "Admin Satu", "admin", STAFF_PASSWORD, ["3274"], SYSTEM)
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", SYSTEM)
    db.session.commit()
    return user


def _row(page: str, row_id: str) -> str:
    match = re.search(rf'<tr id="{re.escape(row_id)}">(.*?)</tr>', page, re.DOTALL)
    assert match, f"no row {row_id} on the page"
    return match.group(1)


def field_errors(html: str, field: str) -> list[str]:
    """The messages shown beside one form field."""
    shown = re.search(rf'<span role="alert" id="{field}-error">([^<]*)</span>', html)
    return shown.group(1).split("; ") if shown else []


def _api(client: FlaskClient, token: str) -> int:
    response = client.get("/api/v1/births", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


def _journal() -> list[JournalEntry]:
    return list(db.session.scalars(sa.select(JournalEntry).order_by(JournalEntry.id)))


def test_a_created_facility_is_listed_with_its_kind_in_indonesian(
    client: FlaskClient, admin: User
) -> None:
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/fasilitas").get_data(as_text=True)
    response = client.post(
        "/kantor/admin/fasilitas",
        data={
            "csrf_token": csrf_token(page),
            "code": "bidan-sri",
            "name": "Bidan Sri Wahyuni",
            "kind": "midwife",
            "region": "3274",
        },
    )
    assert response.status_code == 302
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Fasilitas BIDAN-SRI (Bidan Sri Wahyuni) terdaftar." in listing
    row = _row(listing, "facility-BIDAN-SRI")
    assert "Bidan Sri Wahyuni" in row
    assert "Bidan praktik mandiri" in row
    assert "aktif" in row
    assert "<td>0</td>" in row  # no credential yet
    assert "Rumah sakit" in _row(listing, "facility-RSUD-GJ")
    created = [e for e in _journal() if e.action == "office:facility:create"]
    assert created[-1].data == {"facility": "BIDAN-SRI", "kind": "midwife", "region": "3274"}
    assert created[-1].actor_id == f"user:{admin.id}"


def test_bad_facility_input_is_shown_beside_the_fields_and_kept(
    client: FlaskClient, admin: User
) -> None:
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/fasilitas").get_data(as_text=True)
    response = client.post(
        "/kantor/admin/fasilitas",
        data={
            "csrf_token": csrf_token(page),
            "code": "RSUD-GJ",
            "name": "Klinik Pratama Sehat",
            "kind": "clinic",
            "region": "3673",  # a region this admin does not serve
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_errors(html, "code") == ["Kode fasilitas sudah dipakai"]
    assert field_errors(html, "region") == ["Wilayah ini bukan wilayah yang Anda layani"]
    assert field_errors(html, "name") == []
    assert 'value="Klinik Pratama Sehat"' in html
    assert '<option selected value="clinic">Klinik</option>' in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Facility)) == 1


def test_a_credential_is_shown_once_works_and_stops_working_when_revoked(
    client: FlaskClient, admin: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/fasilitas/RSUD-GJ").get_data(as_text=True)
    answer = client.post(
        "/kantor/admin/fasilitas/RSUD-GJ/kredensial",
        data={"csrf_token": csrf_token(page), "label": "SIMRS produksi"},
    )
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    found = re.search(r'id="token" [^>]*value="(akta_[^"]+)"', answer.get_data(as_text=True))
    assert found
    token = found.group(1)
    key_id, secret = token.split("_", 2)[1:]

    page = client.get("/kantor/admin/fasilitas/RSUD-GJ").get_data(as_text=True)
    assert secret not in page  # shown once, never again
    row = _row(page, f"credential-{key_id}")
    assert "SIMRS produksi" in row
    assert "Admin Satu" in row
    assert "belum pernah" in row

    assert _api(client, token) == 200
    page = client.get("/kantor/admin/fasilitas/RSUD-GJ").get_data(as_text=True)
    assert "belum pernah" not in _row(page, f"credential-{key_id}")  # last use shown
    listing = client.get("/kantor/admin/fasilitas").get_data(as_text=True)
    assert "<td>1</td>" in _row(listing, "facility-RSUD-GJ")

    confirm = client.get(f"/kantor/admin/fasilitas/RSUD-GJ/kredensial/{key_id}/cabut")
    assert "Ya, cabut kredensial" in confirm.get_data(as_text=True)
    assert _api(client, token) == 200  # asking is not revoking
    revoked = client.post(
        f"/kantor/admin/fasilitas/RSUD-GJ/kredensial/{key_id}/cabut",
        data={"csrf_token": csrf_token(confirm.get_data(as_text=True))},
    )
    assert revoked.status_code == 302
    page = client.get(revoked.headers["Location"]).get_data(as_text=True)
    assert f"Kredensial {key_id} dicabut" in page
    assert "Cabut…" not in _row(page, f"credential-{key_id}")
    assert _api(client, token) == 401

    actions = [e.action for e in _journal()]
    assert "office:api_credential:create" in actions
    assert "office:api_credential:revoke" in actions
    journal_text = json.dumps(
        [[e.action, e.data, e.reason, e.actor_name] for e in _journal()], default=str
    )
    assert key_id in journal_text
    assert secret not in journal_text
    stored = db.session.scalar(sa.select(ApiCredential).where(ApiCredential.key_id == key_id))
    assert stored is not None
    assert secret not in (stored.secret_sha256, stored.label)
    assert secret not in caplog.text


def test_a_deactivated_facility_is_refused_by_the_api_until_reactivated(
    client: FlaskClient, admin: User
) -> None:
    token = issue_credential("RSUD-GJ", SYSTEM).token
    db.session.commit()
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/fasilitas").get_data(as_text=True)
    token_field = csrf_token(page)
    response = client.post(
        "/kantor/admin/fasilitas/RSUD-GJ/aktif", data={"csrf_token": token_field, "active": "0"}
    )
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "nonaktif" in _row(listing, "facility-RSUD-GJ")
    assert _api(client, token) == 401

    client.post(
        "/kantor/admin/fasilitas/RSUD-GJ/aktif", data={"csrf_token": token_field, "active": "1"}
    )
    assert _api(client, token) == 200
    actions = [e.action for e in _journal()]
    assert actions.index("office:facility:deactivate") < actions.index("office:facility:activate")


def test_another_regions_facility_is_neither_listed_nor_reachable(
    client: FlaskClient, admin: User
) -> None:
    create_facility("RS-SERANG", "RS Serang", "hospital", "3673", SYSTEM)
    db.session.commit()
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/fasilitas").get_data(as_text=True)
    assert "RS-SERANG" not in page
    assert client.get("/kantor/admin/fasilitas/RS-SERANG").status_code == 404
    response = client.post(
        "/kantor/admin/fasilitas/RS-SERANG/kredensial", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiCredential)) == 0


def test_the_webhook_address_is_shown_but_not_its_secret(
    client: FlaskClient, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from akta_service.core import outbound
    from akta_service.facilities.operations import set_webhook

    # No DNS here: the facility's host resolves to a public address, as it would.
    monkeypatch.setattr(outbound, "resolve_host", lambda host, port: ["93.184.215.14"])
    secret = set_webhook("RSUD-GJ", "https://simrs.example/akta-hook", SYSTEM)
    db.session.commit()
    sign_in(client, "admin1")
    page = client.get("/kantor/admin/fasilitas/RSUD-GJ").get_data(as_text=True)
    assert "https://simrs.example/akta-hook" in page
    assert secret
    assert secret not in page


def test_the_admin_pages_link_to_facilities_and_regions(client: FlaskClient, admin: User) -> None:
    sign_in(client, "admin1")
    for page in ("/kantor/", "/kantor/admin/pengguna"):
        html = client.get(page).get_data(as_text=True)
        assert 'href="/kantor/admin/fasilitas"' in html
        assert 'href="/kantor/admin/wilayah"' in html


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/kantor/admin/fasilitas"),
        ("POST", "/kantor/admin/fasilitas"),
        ("GET", "/kantor/admin/fasilitas/RSUD-GJ"),
        ("POST", "/kantor/admin/fasilitas/RSUD-GJ/aktif"),
        ("POST", "/kantor/admin/fasilitas/RSUD-GJ/kredensial"),
        ("GET", "/kantor/admin/fasilitas/RSUD-GJ/kredensial/{key_id}/cabut"),
        ("POST", "/kantor/admin/fasilitas/RSUD-GJ/kredensial/{key_id}/cabut"),
    ],
)
def test_an_operator_is_refused_every_facility_page(
    client: FlaskClient, admin: User, method: str, path: str
) -> None:
    key_id = issue_credential("RSUD-GJ", SYSTEM).credential.key_id
    create_user("siti", "Siti", "operator", STAFF_PASSWORD, ["3274"], SYSTEM)
    db.session.commit()
    sign_in(client, "siti")
    token = csrf_token(client.get("/kantor/").get_data(as_text=True))
    url = path.format(key_id=key_id)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token, "active": "0", "label": "x"})
    assert response.status_code == 403
    db.session.expire_all()  # read what the requests left, not this session's copies
    credential = db.session.scalar(sa.select(ApiCredential).where(ApiCredential.key_id == key_id))
    assert credential is not None
    assert credential.revoked_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiCredential)) == 1
    facility = db.session.get(Facility, "RSUD-GJ")
    assert facility is not None
    assert facility.active
