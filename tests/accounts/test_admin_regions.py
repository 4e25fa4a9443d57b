"""Admins keep each region's office and its signing officer (name, NIP, title) up to date."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.regions.models import Region
from tests.accounts.test_admin_facilities import field_errors
from tests.web import STAFF_PASSWORD, csrf_token, sign_in

SYSTEM = Actor.system("t")
OFFICER = {
    "office_name": "Dinas Kependudukan dan Pencatatan Sipil Kota Cirebon",
    "issue_place": "Cirebon",
    "signing_officer_name": "Dra. Siti Rahmawati, M.Si.",
    "signing_officer_nip": "19750821 200003 2 004",
    "signing_officer_title": "Kepala Dinas Kependudukan dan Pencatatan Sipil",
}


@pytest.fixture
def admin(session: Any) -> User:
    user = create_user("admin1", "Admin Satu", "admin", STAFF_PASSWORD, ["3274"], SYSTEM)
    db.session.commit()
    return user


def _save(client: FlaskClient, code: str, **changes: str) -> Any:
    page = client.get(f"/kantor/admin/wilayah/{code}").get_data(as_text=True)
    return client.post(
        f"/kantor/admin/wilayah/{code}",
        data={"csrf_token": csrf_token(page), **OFFICER, **changes},
    )


def test_the_signing_officer_set_by_an_admin_is_listed_and_journalled(
    client: FlaskClient, admin: User
) -> None:
    sign_in(client, "admin1")
    listing = client.get("/kantor/admin/wilayah").get_data(as_text=True)
    assert 'id="region-3274"' in listing
    assert 'id="region-3673"' not in listing  # not this admin's region

    response = _save(client, "3274")
    assert response.status_code == 302
    listing = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Data kantor Kota Cirebon disimpan." in listing
    assert "Dra. Siti Rahmawati, M.Si." in listing
    assert "197508212000032004" in listing  # stored without the spaces
    entry = db.session.scalars(
        sa.select(JournalEntry).where(JournalEntry.action == "office:region:update")
    ).one()
    assert entry.actor_id == f"user:{admin.id}"
    assert entry.data["region"] == "3274"
    assert entry.data["changes"]["signing_officer_nip"] == [None, "197508212000032004"]

    form = client.get("/kantor/admin/wilayah/3274").get_data(as_text=True)
    assert 'value="197508212000032004"' in form  # the form opens with what is stored


@pytest.mark.parametrize(
    ("nip", "message"),
    [
        ("19750821200003200", "NIP harus 18 angka"),
        ("1975082120000320O4", "NIP harus 18 angka"),
        ("197513212000032004", "8 angka pertama NIP harus tanggal lahir (TTTTBBHH) yang benar"),
        (
            "197508212000132004",
            "Angka ke-9 sampai ke-14 NIP harus tahun dan bulan pengangkatan (TTTTBB)",
        ),
        ("197508212000033004", "Angka ke-15 NIP harus 1 (laki-laki) atau 2 (perempuan)"),
    ],
)
def test_a_bad_nip_is_explained_beside_it_and_the_other_input_is_kept(
    client: FlaskClient, admin: User, nip: str, message: str
) -> None:
    sign_in(client, "admin1")
    response = _save(client, "3274", signing_officer_nip=nip, issue_place="Kota Cirebon")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_errors(html, "signing_officer_nip") == [message]
    assert f'value="{nip}"' in html
    assert 'value="Dra. Siti Rahmawati, M.Si."' in html
    assert 'value="Kota Cirebon"' in html
    db.session.expire_all()
    region = db.session.get(Region, "3274")
    assert region is not None
    assert region.signing_officer_name is None
    assert region.issue_place == "Cirebon"


def test_a_name_without_nip_and_an_empty_office_are_refused_together(
    client: FlaskClient, admin: User
) -> None:
    sign_in(client, "admin1")
    response = _save(client, "3274", office_name=" ", signing_officer_nip="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_errors(html, "office_name") == ["Nama kantor wajib diisi"]
    assert field_errors(html, "signing_officer_nip") == [
        "Isi NIP pejabat: akta mencantumkan nama dan NIP-nya"
    ]
    assert not db.session.scalars(
        sa.select(JournalEntry).where(JournalEntry.action == "office:region:update")
    ).all()


def test_another_regions_office_cannot_be_opened_or_changed(
    client: FlaskClient, admin: User
) -> None:
    sign_in(client, "admin1")
    assert client.get("/kantor/admin/wilayah/3673").status_code == 404
    page = client.get("/kantor/admin/wilayah/3274").get_data(as_text=True)
    response = client.post(
        "/kantor/admin/wilayah/3673", data={"csrf_token": csrf_token(page), **OFFICER}
    )
    assert response.status_code == 404
    db.session.expire_all()
    region = db.session.get(Region, "3673")
    assert region is not None
    assert region.signing_officer_name is None


@pytest.mark.parametrize("role", ["operator", "pejabat", "viewer"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/kantor/admin/wilayah"),
        ("GET", "/kantor/admin/wilayah/3274"),
        ("POST", "/kantor/admin/wilayah/3274"),
    ],
)
def test_only_admins_reach_the_region_pages(
    client: FlaskClient, admin: User, role: str, method: str, path: str
) -> None:
    create_user("siti", "Siti", role, STAFF_PASSWORD, ["3274"], SYSTEM)
    db.session.commit()
    sign_in(client, "siti")
    if method == "GET":
        response = client.get(path)
    else:
        token = csrf_token(client.get("/kantor/").get_data(as_text=True))
        response = client.post(path, data={"csrf_token": token, **OFFICER})
    assert response.status_code == 403
    db.session.expire_all()
    region = db.session.get(Region, "3274")
    assert region is not None
    assert region.signing_officer_name is None
