"""The office's seal keys in the PKCS#11 token: not extractable, sealing what verifies with
the published keys and `akta verify-qr`, rotated and imported without breaking a printed
seal, a missing token or a wrong PIN said plainly, and the key files where SoftHSM2 is
absent."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask

from akta_service import create_app
from akta_service.akta import seal_keys
from akta_service.akta.cli import (
    import_seal_keys_command,
    rotate_seal_key_command,
    verify_qr_command,
)
from akta_service.akta.seal import VALID, SealKey, check_qr, seal_text
from akta_service.core.config import SealTokenKind
from tests.akta.test_document import content_for
from tests.conftest import app_config, changed_settings
from tests.services import BIN, SOFTHSM2_MODULE, require_softhsm

ISSUER = "https://akta.example.go.id"
NO_MODULE = "/usr/lib/softhsm/tidak-ada/libsofthsm2.so"


@pytest.fixture
def folder(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A seal-key folder of this test's own, in an app context."""
    folder = tmp_path / "seal-keys"
    monkeypatch.setattr(seal_keys, "keys_folder", lambda: folder)
    with app.app_context():
        yield folder


@pytest.fixture
def keys(app: Flask, folder: Path) -> Iterator[Path]:
    """The same, its keys in the token (SoftHSM2; under CI=true it must be installed)."""
    require_softhsm()
    with changed_settings(app, seal_token=SealTokenKind.SOFTHSM, softhsm2_module=SOFTHSM2_MODULE):
        yield folder


def _token_key(folder: Path, pin: str, kid: str) -> dict[str, Any]:
    """The key object's attributes as the token itself tells them, opened on its own."""
    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    os.environ["SOFTHSM2_CONF"] = str(folder / "token" / "softhsm2.conf")
    library = pkcs11.lib(SOFTHSM2_MODULE)
    library.reinitialize()
    token = library.get_token(token_label="akta-seal")
    with token.open(user_pin=pin) as session:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=kid)
        attributes = {
            "sensitive": key[Attribute.SENSITIVE],
            "extractable": key[Attribute.EXTRACTABLE],
            "id": bytes(key[Attribute.ID]),
        }
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.VALUE]
    with pytest.raises(pkcs11.exceptions.PinIncorrect):
        token.open(user_pin="bukan-pin-token")
    return attributes


def _pin(app: Flask) -> str:
    return seal_keys.token_pin(app.config["AKTA_SETTINGS"].secret_key)


def _private_files(folder: Path) -> list[Path]:
    return [p for p in folder.glob("*.pem") if not p.name.endswith(".pub.pem")]


def _published(app: Flask) -> list[SealKey]:
    """The keys as a verifier gets them: from /.well-known/akta-keys.json."""
    answer = app.test_client().get("/.well-known/akta-keys.json")
    assert answer.status_code == 200
    found = []
    for jwk in answer.get_json()["keys"]:
        x, y = (int.from_bytes(base64.urlsafe_b64decode(jwk[c] + "=="), "big") for c in "xy")
        public = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
        found.append(SealKey(seal_keys.key_id_bytes(jwk["kid"]), public, datetime.now(UTC)))
    return found


def test_the_seal_key_is_made_in_the_token_and_cannot_leave_it(app: Flask, keys: Path) -> None:
    kid = seal_keys.active_kid()

    assert _private_files(keys) == []  # no key file: the private half is in the token only
    assert (keys / f"{kid}.pub.pem").is_file()
    attributes = _token_key(keys, _pin(app), kid)
    assert attributes == {
        "sensitive": True,
        "extractable": False,
        "id": seal_keys.key_id_bytes(kid),
    }
    for path in keys.rglob("*"):
        assert not path.is_file() or _pin(app).encode() not in path.read_bytes(), path


def test_a_seal_made_in_the_token_verifies_with_the_published_key_and_verify_qr(
    app: Flask, keys: Path, session: Any
) -> None:
    text = seal_text(content_for(), ISSUER)

    result = check_qr(text, keys=_published(app))
    assert (result.status, result.kid) == (VALID, seal_keys.active_kid())
    checked = app.test_cli_runner().invoke(verify_qr_command, [text])
    assert checked.exit_code == 0, checked.output
    assert "Status: SAH" in checked.output
    assert "Nama anak: AISYAH PUTRI" in checked.output


def test_rotation_in_the_token_keeps_old_seals_valid(app: Flask, keys: Path) -> None:
    old = seal_text(content_for(), ISSUER)
    first = seal_keys.active_kid()

    rotated = app.test_cli_runner().invoke(rotate_seal_key_command, [])
    assert rotated.exit_code == 0, rotated.output
    second = seal_keys.active_kid()
    assert second != first
    assert f"Kunci segel baru: {second}" in rotated.output
    new = seal_text(content_for(version=2), ISSUER)

    published = _published(app)
    assert (check_qr(old, keys=published).status, check_qr(old).kid) == (VALID, first)
    assert (check_qr(new, keys=published).status, check_qr(new).kid) == (VALID, second)
    assert _private_files(keys) == []
    for kid in (first, second):
        assert _token_key(keys, _pin(app), kid)["extractable"] is False


def test_importing_the_key_files_keeps_what_they_sealed_valid(app: Flask, keys: Path) -> None:
    with changed_settings(app, seal_token=SealTokenKind.SOFTWARE):
        printed = seal_text(content_for(), ISSUER)
        first = seal_keys.active_kid()
        second = seal_keys.rotate()
        printed_later = seal_text(content_for(version=2), ISSUER)
        assert len(_private_files(keys)) == 2

    moved = app.test_cli_runner().invoke(import_seal_keys_command, [])

    assert moved.exit_code == 0, moved.output
    assert f"Kunci segel {first} dipindahkan ke token" in moved.output
    assert f"Kunci segel {second} dipindahkan ke token" in moved.output
    assert _private_files(keys) == []  # the private halves are gone from the folder
    assert seal_keys.active_kid() == second
    published = _published(app)
    assert check_qr(printed, keys=published).status == VALID
    assert check_qr(printed_later, keys=published).status == VALID
    sealed_now = seal_text(content_for(version=3), ISSUER)
    assert (check_qr(sealed_now, keys=published).kid) == second
    assert _token_key(keys, _pin(app), second)["extractable"] is False
    again = app.test_cli_runner().invoke(import_seal_keys_command, [])
    assert "Tidak ada berkas kunci segel untuk dipindahkan" in again.output


def test_the_first_start_on_the_token_imports_the_key_files(app: Flask, keys: Path) -> None:
    with changed_settings(app, seal_token=SealTokenKind.SOFTWARE):
        printed = seal_text(content_for(), ISSUER)

    said = seal_keys.announce_seal_keys()

    assert "token PKCS#11 akta-seal" in said
    assert _private_files(keys) == []
    assert check_qr(printed, keys=_published(app)).status == VALID


def test_seals_made_at_once_by_many_threads_all_verify(app: Flask, keys: Path) -> None:
    def seal_one(version: int) -> str:
        with app.app_context():
            return seal_text(content_for(version=version), ISSUER)

    seal_keys.active_kid()
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(seal_one, range(1, 41)))

    published = _published(app)
    assert {check_qr(text, keys=published).status for text in texts} == {VALID}


def test_a_wrong_pin_is_said_plainly_and_on_readyz(app: Flask, keys: Path) -> None:
    seal_keys.active_kid()  # the token, made with the right PIN
    with changed_settings(app, seal_token_pin="bukan-pin-token"):
        said = seal_keys.announce_seal_keys()
        ready = app.test_client().get("/readyz")
        with pytest.raises(seal_keys.SealTokenPinWrong):
            seal_text(content_for(), ISSUER)

    assert said.startswith("Kunci segel TIDAK dapat dipakai: AKTA_SEAL_TOKEN_PIN does not open")
    assert "Traceback" not in said
    assert ready.status_code == 503
    assert ready.get_json()["seal_keys"] == {"backend": "softhsm", "state": "pin_wrong"}
    assert app.test_client().get("/readyz").get_json()["seal_keys"]["state"] == "ok"


def test_a_missing_token_is_named_and_on_readyz(app: Flask, keys: Path) -> None:
    kid = seal_keys.active_kid()
    for path in (keys / "token" / "tokens").iterdir():  # the token lost (a folder not restored)
        for part in path.iterdir():
            part.unlink()
        path.rmdir()
    with changed_settings(app, seal_token_pin="a-new-process-of-the-service"):
        said = seal_keys.announce_seal_keys()
        ready = app.test_client().get("/readyz").get_json()

    assert "the seal token akta-seal is not in" in said
    assert f"the published keys {kid} have no key file" in said
    assert ready["seal_keys"]["state"] == "token_missing"
    assert ready["status"] == "not_ready"


def test_softhsm_chosen_but_not_installed_names_the_module(app: Flask, keys: Path) -> None:
    with changed_settings(app, softhsm2_module=NO_MODULE):
        said = seal_keys.announce_seal_keys()
        ready = app.test_client().get("/readyz")

    assert f"PKCS#11 module {NO_MODULE} not found" in said
    assert ready.get_json()["seal_keys"]["state"] == "module_missing"


def test_without_softhsm_the_key_files_seal_and_start_up_says_so(app: Flask, folder: Path) -> None:
    keys = folder
    with changed_settings(app, seal_token=SealTokenKind.AUTO, softhsm2_module=NO_MODULE):
        said = seal_keys.announce_seal_keys()
        text = seal_text(content_for(), ISSUER)
        published = _published(app)
        ready = app.test_client().get("/readyz").get_json()

    assert said.startswith("SoftHSM2 tidak terpasang: kunci segel kantor disimpan sebagai berkas")
    (private,) = _private_files(keys)
    assert b"ENCRYPTED PRIVATE KEY" in private.read_bytes()
    assert private.stat().st_mode & 0o077 == 0
    assert not (keys / "token").exists()
    assert check_qr(text, keys=published).status == VALID
    assert ready["seal_keys"]["backend"] == "software"


def test_a_key_rotated_by_another_process_seals_here_at_once(tmp_path: Path) -> None:
    """`akta akta rotate-seal-key` run beside the serving process, which holds its session."""
    require_softhsm()
    config = app_config(
        f"sqlite:///{tmp_path / 'akta.sqlite3'}", tmp_path / "instance", AKTA_SEAL_TOKEN="softhsm"
    )
    app = create_app(config)
    with app.app_context():
        first = seal_keys.active_kid()
        before = seal_text(content_for(), ISSUER)
        rotated = subprocess.run(  # noqa: S603 - our own program
            [str(BIN / "akta"), "akta", "rotate-seal-key"],
            env={**os.environ, **config},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert rotated.returncode == 0, rotated.stdout + rotated.stderr
        second = seal_keys.active_kid()
        after = seal_text(content_for(version=2), ISSUER)

        assert second != first
        assert (check_qr(before).status, check_qr(before).kid) == (VALID, first)
        assert (check_qr(after).status, check_qr(after).kid) == (VALID, second)
