"""An admin links a pejabat's account to their signing identity (NIK, NIP) and lifts the
lock five wrong passphrases put on their signing, on an office page: only for accounts all
of whose regions the admin serves, each action journalled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.signing.client import SigningServiceClient, SigningServiceError
from tests.conftest import SIGNING_OFFICERS
from tests.services import SigningServer
from tests.web import STAFF_PASSWORD, csrf_token, sign_in

PJ2 = SIGNING_OFFICERS["pj2"]


@pytest.fixture
def accounts(session: Any) -> dict[str, User]:
    """An admin of Kota Cirebon (3274); pejabat of 3274 and of Kota Tangerang (3673)."""
    made = {
        name: create_user(name, full, role, STAFF_PASSWORD, regions, Actor.system("t"))
        for name, full, role, regions in (
            ("admin3274", "Admin Cirebon", "admin", ["3274"]),
            ("ratna3274", "Ratna Pejabat", "pejabat", ["3274"]),
            ("siti3274", "Siti Operator", "operator", ["3274"]),
            ("pejabat3673", "Pejabat Tangerang", "pejabat", ["3673"]),
        )
    }
    db.session.commit()
    return made


@pytest.fixture
def locked_pj2(signing_server: SigningServer) -> Iterator[SigningServiceClient]:
    """pj2's signing locked at the signing service by five wrong passphrases (lifted after)."""
    with SigningServiceClient(signing_server.url) as service:
        for _ in range(5):
            with pytest.raises(SigningServiceError):
                service.authorise(PJ2.nik, "bukan-passphrase-pj2")
        with pytest.raises(SigningServiceError) as locked:
            service.authorise(PJ2.nik, PJ2.passphrase)
        assert locked.value.code == "signer_locked"
        try:
            yield service
        finally:
            service.unlock(PJ2.nik)


def _page(client: FlaskClient, user: User) -> Any:
    return client.get(f"/kantor/admin/pengguna/{user.id}/tanda-tangan")


def _post(client: FlaskClient, user: User, action: str = "", **form: str) -> Any:
    """Send the signing page's form (or its unlock button, action "/buka-kunci")."""
    page = _page(client, user).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), **form}
    return client.post(f"/kantor/admin/pengguna/{user.id}/tanda-tangan{action}", data=data)


def _state(html: str) -> str:
    found = re.search(r'id="signing-state"[^>]*>Status: <strong[^>]*>([^<]+)<', html)
    assert found, "the page does not say whether the pejabat can sign"
    return found.group(1)


def _journal(action: str) -> list[JournalEntry]:
    return list(db.session.scalars(sa.select(JournalEntry).where(JournalEntry.action == action)))


def test_an_admin_links_a_pejabat_to_their_signing_identity(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    ratna = accounts["ratna3274"]
    sign_in(client, "admin3274")
    listing = client.get("/kantor/admin/pengguna").get_data(as_text=True)
    assert f'id="signing-{ratna.username}"' in listing
    assert 'id="signing-siti3274"' not in listing  # an operator signs no akta
    page = _page(client, ratna).get_data(as_text=True)
    assert _state(page) == "belum dihubungkan (NIK dan NIP kosong)"

    saved = client.post(
        f"/kantor/admin/pengguna/{ratna.id}/tanda-tangan",
        data={"csrf_token": csrf_token(page), "nik": f" {PJ2.nik} ", "nip": PJ2.nip},
    )

    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Identitas tanda tangan ratna3274 disimpan." in page
    assert _state(page) == "aktif, dapat menandatangani"  # the signing service knows them
    db.session.refresh(ratna)
    assert (ratna.nik, ratna.nip) == (PJ2.nik, PJ2.nip)
    (entry,) = _journal("office:user:signing_identity")
    assert entry.actor_name == "Admin Cirebon"
    assert entry.data == {"user_id": ratna.id, "nip": PJ2.nip}  # the NIK itself is not kept
    assert _journal("office:user:signing_identity_view")


def test_a_wrong_nik_or_nip_is_explained_beside_it_and_nothing_is_saved(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    ratna = accounts["ratna3274"]
    sign_in(client, "admin3274")
    refused = _post(client, ratna, nik="32740101", nip="1970010119900310")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert re.search(r'id="nik-error">NIK harus 16 angka<', text)
    assert re.search(r'id="nip-error">NIP harus 18 angka<', text)
    assert 'value="32740101"' in text  # what was typed is kept
    db.session.refresh(ratna)
    assert (ratna.nik, ratna.nip) == (None, None)
    assert not _journal("office:user:signing_identity")
    # An identity the signing service does not know is saved, and said to be unknown there.
    saved = _post(client, ratna, nik="3274010101990009", nip=PJ2.nip)
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert _state(page) == "NIK belum terdaftar di layanan tanda tangan elektronik"


def test_an_admin_unlocks_a_locked_pejabat_who_then_signs_again(
    client: FlaskClient, accounts: dict[str, User], locked_pj2: SigningServiceClient
) -> None:
    ratna = accounts["ratna3274"]
    ratna.nik, ratna.nip = PJ2.nik, PJ2.nip
    db.session.commit()
    sign_in(client, "admin3274")
    page = _page(client, ratna).get_data(as_text=True)
    assert _state(page) == "terkunci setelah 5 kali passphrase salah"
    assert 'id="unlock"' in page

    unlocked = _post(client, ratna, "/buka-kunci")

    assert unlocked.status_code == 302
    page = client.get(unlocked.headers["Location"]).get_data(as_text=True)
    assert "Tanda tangan elektronik Ratna Pejabat dapat dipakai lagi." in page
    assert _state(page) == "aktif, dapat menandatangani"
    assert 'id="unlock"' not in page
    assert locked_pj2.authorise(PJ2.nik, PJ2.passphrase).sad  # the pejabat signs again
    (entry,) = _journal("office:user:signing_unlock")
    assert entry.data == {"user_id": ratna.id, "nip": PJ2.nip}


def test_an_unlock_without_a_known_identity_says_what_to_do_first(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    ratna = accounts["ratna3274"]
    sign_in(client, "admin3274")
    refused = _post(client, ratna, "/buka-kunci")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "Hubungkan dulu akun ini dengan NIK dan NIP pejabat" in page
    # A NIK the signing service does not know has nothing to unlock; the page says so.
    _post(client, ratna, nik="3274010101990009", nip=PJ2.nip)
    refused = _post(client, ratna, "/buka-kunci")
    page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "NIK ini belum terdaftar di layanan tanda tangan elektronik" in page
    assert not _journal("office:user:signing_unlock")


def test_another_regions_pejabat_can_be_neither_seen_linked_nor_unlocked(
    client: FlaskClient, accounts: dict[str, User], locked_pj2: SigningServiceClient
) -> None:
    other = accounts["pejabat3673"]
    other.nik, other.nip = PJ2.nik, PJ2.nip
    db.session.commit()
    sign_in(client, "admin3274")
    listing = client.get("/kantor/admin/pengguna").get_data(as_text=True)
    assert f'id="signing-{other.username}"' not in listing
    token = csrf_token(listing)

    seen = _page(client, other)
    linked = client.post(
        f"/kantor/admin/pengguna/{other.id}/tanda-tangan",
        data={"csrf_token": token, "nik": "3274010101990009", "nip": PJ2.nip},
    )
    unlocked = client.post(
        f"/kantor/admin/pengguna/{other.id}/tanda-tangan/buka-kunci",
        data={"csrf_token": token},
    )
    operator = _page(client, accounts["siti3274"])  # not a pejabat: no signing page

    assert [r.status_code for r in (seen, linked, unlocked, operator)] == [404] * 4
    db.session.refresh(other)
    assert other.nik == PJ2.nik  # unchanged
    with pytest.raises(SigningServiceError) as still:
        locked_pj2.authorise(PJ2.nik, PJ2.passphrase)
    assert still.value.code == "signer_locked"
    for action in ("signing_identity", "signing_unlock", "signing_identity_view"):
        assert not _journal(f"office:user:{action}")
