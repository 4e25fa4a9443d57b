"""The office's seal keys: ECDSA P-256 keys that sign the akta's QR payload and the status
list, with rotation.

Each key lives in the folder `<instance>/akta-seal-keys/` as `<kid>.pem` (PKCS#8,
encrypted with a key derived from AKTA_SECRET_KEY, never in clear) beside its public half
`<kid>.pub.pem`; the file `active` names the key that signs now. Rotating writes a new
key and moves `active` to it; the old keys stay, so what they sealed still verifies
(every seal names its key id), and all of them are published at
`/.well-known/akta-keys.json`.

The seal key is a key file, not a PKCS#11 token: the officers' tokens belong to the
signing service, which signs PDFs for a person's passphrase; the office seal signs every
issued akta and each status list without a person, as the journal's seal key does.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from akta_service.core.config import current_settings

ACTIVE_FILE = "active"


@dataclass(frozen=True)
class SealKey:
    """One seal key's public half and its id (the first 8 bytes of its SPKI's SHA-256)."""

    kid: bytes
    public_key: ec.EllipticCurvePublicKey
    created_at: datetime

    @property
    def kid_text(self) -> str:
        """The key id as the published key set writes it (base64url, no padding)."""
        return b64url(self.kid)

    def jwk(self, active: bool) -> dict[str, str]:
        """The public key as a JSON Web Key (RFC 7517), with its status in the rotation."""
        numbers = self.public_key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "use": "sig",
            "kid": self.kid_text,
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
            "created": self.created_at.isoformat(timespec="seconds"),
            "status": "active" if active else "retired",
        }


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515's encoding)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The key's id: the first 8 bytes of the SHA-256 of its SubjectPublicKeyInfo."""
    spki = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(spki).digest()[:8]


def keys_folder() -> Path:
    """Where the seal keys are kept."""
    return current_settings().instance_path / "akta-seal-keys"


def _password() -> bytes:
    secret = current_settings().secret_key.encode()
    return hashlib.sha256(b"akta seal key\0" + secret).digest()


def _write_new_key(folder: Path) -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    kid = b64url(key_id(private.public_key()))
    folder.mkdir(parents=True, exist_ok=True)
    encrypted = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_password()),
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / f"{kid}.pub.pem").write_bytes(public)
    descriptor = os.open(folder / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(encrypted)
    return kid


def _point_active_to(folder: Path, kid: str) -> None:
    temporary = folder / f".active.{os.getpid()}.{secrets.token_hex(4)}"
    temporary.write_text(kid + "\n", encoding="ascii")
    os.replace(temporary, folder / ACTIVE_FILE)


def active_kid() -> str:
    """The id of the key that seals now; the first key is made on first use."""
    folder = keys_folder()
    active = folder / ACTIVE_FILE
    if not active.exists():
        kid = _write_new_key(folder)
        try:  # two processes starting at once: the first to name its key wins
            descriptor = os.open(active, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(kid + "\n")
    return active.read_text(encoding="ascii").strip()


def rotate() -> str:
    """A new seal key signs from now on; the previous ones stay published. Returns its id."""
    folder = keys_folder()
    active_kid()
    kid = _write_new_key(folder)
    _point_active_to(folder, kid)
    return kid


@cache
def _load_private(path: Path, password: bytes, modified: float) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path.name} is not an EC key")
    return key


def signing_key() -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    """The active key's id and private key."""
    kid = active_kid()
    path = keys_folder() / f"{kid}.pem"
    return key_id_bytes(kid), _load_private(path, _password(), path.stat().st_mtime)


def key_id_bytes(kid: str) -> bytes:
    """A key id written as base64url, back to its bytes."""
    return base64.urlsafe_b64decode(kid + "=" * (-len(kid) % 4))


def published_keys() -> list[SealKey]:
    """Every seal key ever used, the oldest first."""
    folder = keys_folder()
    active_kid()
    keys = []
    for path in folder.glob("*.pub.pem"):
        public = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(public, ec.EllipticCurvePublicKey):
            continue
        created = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        keys.append(SealKey(key_id(public), public, created))
    return sorted(keys, key=lambda key: (key.created_at, key.kid))


def key_set() -> dict[str, object]:
    """The document served at /.well-known/akta-keys.json."""
    active = active_kid()
    return {
        "issuer": current_settings().public_base_url,
        "keys": [key.jwk(key.kid_text == active) for key in published_keys()],
    }
