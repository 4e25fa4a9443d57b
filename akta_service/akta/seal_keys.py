"""The office's seal keys: ECDSA P-256 keys that sign the akta's QR payload and the status
list, with rotation.

The private halves live in a PKCS#11 token (SoftHSM2 where installed, through the same
layer as the officers' tokens, `signing.tokens`): one token labelled `akta-seal`, one key
object per key id (its label and CKA_ID are the kid), sensitive and not extractable; the
token opens with the PIN of `AKTA_SEAL_TOKEN_PIN` (outside production, when unset, one
derived from `AKTA_SECRET_KEY`), once per process, and every seal asks the token to sign.
The public halves stay readable without the PIN in `<instance>/akta-seal-keys/` as
`<kid>.pub.pem` beside the file `active` that names the key sealing now, so
`/.well-known/akta-keys.json` is served whatever the token's state.

**The seal's token is the issuing service's own, in its instance folder
(`akta-seal-keys/token/`), not the signing service's.** The signing service holds the
officers' keys, each opened only by the officer's passphrase typed for a signing session:
it signs for a person. The office seal signs every issued akta and each status list with
no person at hand, as the journal's seal key does, so it belongs to the process that issues
them, and its PIN is a setting of that process, like its other secrets.

Where SoftHSM2 is absent (a laptop running `make run`) and `AKTA_SEAL_TOKEN` is `auto`, the
private halves are files `<kid>.pem` instead (PKCS#8, encrypted with a key derived from
`AKTA_SECRET_KEY`, never in clear), and start-up says so. The first time the token opens,
such files are imported into it and their private halves removed, so seals printed before
keep verifying (`akta akta import-seal-keys` does the same on demand).

Rotating makes a new key (in the token) and moves `active` to it; the old keys stay, so what
they sealed still verifies (every seal names its key id), and all of them are published.
"""

from __future__ import annotations

import abc
import base64
import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from flask import current_app

from akta_service.core.config import SealTokenKind, Settings, current_settings
from akta_service.core.health import readiness
from akta_service.signing.tokens import SoftHsm, TokenMissing

log = logging.getLogger("akta_service.akta")

ACTIVE_FILE = "active"
#: The label of the office's seal token.
SEAL_TOKEN_LABEL = "akta-seal"  # noqa: S105 - a label, not a secret
EXTENSION = "akta_seal_keys"


class SealKeyError(Exception):
    """The seal keys cannot be used; `state` says why (as /readyz words it)."""

    state = "unavailable"


class SealModuleMissing(SealKeyError):
    """AKTA_SEAL_TOKEN=softhsm, and the PKCS#11 module is not installed."""

    state = "module_missing"


class SealTokenMissing(SealKeyError):
    """Keys were published, and neither the token nor their key files are there."""

    state = "token_missing"


class SealTokenPinWrong(SealKeyError):
    """The PIN does not open the seal token."""

    state = "pin_wrong"


class SealKeyMissing(SealKeyError):
    """A published key's private half is in neither the token nor a key file."""

    state = "key_missing"


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


def key_id_bytes(kid: str) -> bytes:
    """A key id written as base64url, back to its bytes."""
    return base64.urlsafe_b64decode(kid + "=" * (-len(kid) % 4))


def keys_folder() -> Path:
    """Where the seal keys' public halves (and the token, or the key files) are kept."""
    return current_settings().instance_path / "akta-seal-keys"


def _publish(folder: Path, public: ec.EllipticCurvePublicKey) -> str:
    kid = b64url(key_id(public))
    folder.mkdir(parents=True, exist_ok=True)
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / f"{kid}.pub.pem").write_bytes(pem)
    return kid


def _published_kids(folder: Path) -> list[str]:
    return sorted(path.name.removesuffix(".pub.pem") for path in folder.glob("*.pub.pem"))


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """One process at a time makes the token or imports key files (gunicorn's workers start
    together)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SealKeyStore(abc.ABC):
    """Where the private halves are, and what signs with them."""

    #: software or softhsm, as /readyz says it.
    backend: str
    #: Said at start-up: what holds the keys.
    description: str

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @abc.abstractmethod
    def create(self) -> str:
        """A new key pair; its public half published. Returns its id."""

    @abc.abstractmethod
    def sign(self, kid: str, digest: bytes) -> bytes:
        """The ES256 signature (r and s, 32 bytes each) of a SHA-256 digest by key `kid`."""

    def open(self) -> None:  # noqa: B027 - the key files need no opening
        """Open what holds the keys; raise SealKeyError naming what is wrong."""


class FileSealKeys(SealKeyStore):
    """Private halves in files encrypted with a key derived from AKTA_SECRET_KEY: for
    machines without SoftHSM2."""

    backend = "software"

    def __init__(self, folder: Path, secret_key: str) -> None:
        super().__init__(folder)
        self._password = file_password(secret_key)
        self.description = f"berkas kunci terenkripsi di {folder}"

    def create(self) -> str:
        private = ec.generate_private_key(ec.SECP256R1())
        kid = b64url(key_id(private.public_key()))
        self.folder.mkdir(parents=True, exist_ok=True)
        encrypted = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._password),
        )
        path = self.folder / f"{kid}.pem"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(encrypted)
        return _publish(self.folder, private.public_key())

    def sign(self, kid: str, digest: bytes) -> bytes:
        path = self.folder / f"{kid}.pem"
        if not path.is_file():
            raise SealKeyMissing(f"the seal key {kid} has no key file {path}")
        key = _load_private(path, self._password, path.stat().st_mtime)
        r, s = utils.decode_dss_signature(key.sign(digest, ec.ECDSA(utils.Prehashed(SHA256))))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")


SHA256 = hashes.SHA256()


def file_password(secret_key: str) -> bytes:
    """What the key files are encrypted with."""
    return hashlib.sha256(b"akta seal key\0" + secret_key.encode()).digest()


@cache
def _load_private(path: Path, password: bytes, modified: float) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path.name} is not an EC key")
    return key


class TokenSealKeys(SealKeyStore):
    """Private halves in the seal token (PKCS#11), one session per process."""

    backend = "softhsm"

    def __init__(self, folder: Path, module: str, pin: str, secret_key: str) -> None:
        super().__init__(folder)
        try:
            self._hsm = SoftHsm(folder / "token", module)
        except TokenMissing as exc:
            raise SealModuleMissing(f"AKTA_SEAL_TOKEN=softhsm: {exc}") from None
        self._pin = pin
        self._files = FileSealKeys(folder, secret_key)
        self._session: Any = None
        self._pid = 0
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()
        #: The key files the token's opening imported.
        self.imported_at_opening: list[str] = []
        self.description = f"token PKCS#11 {SEAL_TOKEN_LABEL} ({module}) di {folder / 'token'}"

    def open(self) -> None:
        with self._lock:
            self._opened()

    def _opened(self) -> Any:
        """The session, opened once per process (again after a fork). Hold `_lock`."""
        if self._session is not None and self._pid == os.getpid():
            return self._session
        from pkcs11.exceptions import NoSuchToken, PinIncorrect, PinLenRange, PinLocked

        self._session, self._keys = None, {}
        with _folder_lock(self.folder):
            self._hsm.reload()
            try:
                token = self._hsm.token(SEAL_TOKEN_LABEL)
            except NoSuchToken:
                orphans = [
                    kid
                    for kid in _published_kids(self.folder)
                    if not (self.folder / f"{kid}.pem").is_file()
                ]
                if orphans:
                    raise SealTokenMissing(
                        f"the seal token {SEAL_TOKEN_LABEL} is not in {self._hsm.tokens} "
                        f"({self._hsm.module}), and the published keys {', '.join(orphans)} "
                        "have no key file: restore the token folder"
                    ) from None
                token = self._hsm.init_token(SEAL_TOKEN_LABEL, self._pin)
            try:
                session = token.open(rw=True, user_pin=self._pin)
            except (PinIncorrect, PinLenRange, PinLocked):
                raise SealTokenPinWrong(
                    f"AKTA_SEAL_TOKEN_PIN does not open the seal token {SEAL_TOKEN_LABEL} "
                    f"in {self._hsm.tokens}"
                ) from None
            self._session, self._pid = session, os.getpid()
            self.imported_at_opening = self._import_files(session)
        return session

    def _import_files(self, session: Any) -> list[str]:
        """Every key file's private half into the token, checked, then the file removed."""
        imported = []
        for path in sorted(self.folder.glob("*.pem")):
            if path.name.endswith(".pub.pem"):
                continue
            kid = path.name.removesuffix(".pem")
            if self._find(session, kid) is None:
                private = _load_private(path, self._files._password, path.stat().st_mtime)
                self._import(session, kid, private)
            check = hashlib.sha256(secrets.token_bytes(32)).digest()
            signature = self._sign_with(session, kid, check)
            public = serialization.load_pem_public_key(
                (self.folder / f"{kid}.pub.pem").read_bytes()
            )
            assert isinstance(public, ec.EllipticCurvePublicKey)  # noqa: S101 - we wrote it
            der = utils.encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public.verify(der, check, ec.ECDSA(utils.Prehashed(SHA256)))
            path.unlink()
            imported.append(kid)
            log.info("seal key %s imported into the token; its key file removed", kid)
        return imported

    @staticmethod
    def _import(session: Any, kid: str, private: ec.EllipticCurvePrivateKey) -> None:
        from pkcs11 import Attribute
        from pkcs11.util.ec import decode_ec_private_key

        der = private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        session.create_object(
            {
                **decode_ec_private_key(der),
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.SIGN: True,
                Attribute.LABEL: kid,
                Attribute.ID: key_id_bytes(kid),
            }
        )

    def _find(self, session: Any, kid: str) -> Any:
        from pkcs11 import ObjectClass
        from pkcs11.exceptions import NoSuchKey

        key = self._keys.get(kid)
        if key is None:
            # A session lost to the module being loaded again fails this call cleanly; a
            # search begun on it would fail again when python-pkcs11 collects it.
            session.generate_random(64)
            try:
                key = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=kid)
            except NoSuchKey:
                return None
            self._keys[kid] = key
        return key

    def _sign_with(self, session: Any, kid: str, digest: bytes) -> bytes:
        from pkcs11 import Mechanism

        key = self._find(session, kid)
        if key is None:
            raise SealKeyMissing(f"the seal key {kid} is not in the seal token {SEAL_TOKEN_LABEL}")
        return bytes(key.sign(digest, mechanism=Mechanism.ECDSA))

    def sign(self, kid: str, digest: bytes) -> bytes:
        from pkcs11.exceptions import PKCS11Error

        with self._lock:
            try:
                return self._sign_with(self._opened(), kid, digest)
            except PKCS11Error:
                # The module was loaded again in this process (another token's folder):
                # the session is gone; open it once more.
                self._session = None
                return self._sign_with(self._opened(), kid, digest)

    def create(self) -> str:
        from pkcs11 import Attribute
        from pkcs11.exceptions import PKCS11Error

        with self._lock:
            try:
                session = self._opened()
                der, public, private = self._hsm.generate_ec_key(session, "akta-seal-new")
            except PKCS11Error:
                self._session = None
                session = self._opened()
                der, public, private = self._hsm.generate_ec_key(session, "akta-seal-new")
            key = serialization.load_der_public_key(der)
            assert isinstance(key, ec.EllipticCurvePublicKey)  # noqa: S101 - an EC key
            kid = b64url(key_id(key))
            for part in (public, private):
                part[Attribute.LABEL] = kid
                part[Attribute.ID] = key_id_bytes(kid)
        return _publish(self.folder, key)

    def import_files(self) -> list[str]:
        """Import the key files left (see `_import_files`), opening the token (which imports
        them) if need be; the ids imported."""
        with self._lock:
            opening = self._session is None or self._pid != os.getpid()
            session = self._opened()
            return (self.imported_at_opening if opening else []) + self._import_files(session)


def _backend(settings: Settings) -> str:
    """softhsm or software: what the settings choose on this machine."""
    kind = SealTokenKind(settings.seal_token)
    if kind == SealTokenKind.SOFTWARE or (
        kind == SealTokenKind.AUTO and not Path(settings.softhsm2_module).is_file()
    ):
        return FileSealKeys.backend
    return TokenSealKeys.backend


def open_seal_keys(settings: Settings, folder: Path) -> SealKeyStore:
    """The seal keys' store the settings choose; raises SealKeyError naming what is wrong."""
    if _backend(settings) == FileSealKeys.backend:
        return FileSealKeys(folder, settings.secret_key)
    pin = settings.seal_token_pin or token_pin(settings.secret_key)
    return TokenSealKeys(folder, settings.softhsm2_module, pin, settings.secret_key)


def token_pin(secret_key: str) -> str:
    """The seal token's PIN when AKTA_SEAL_TOKEN_PIN is not set (outside production)."""
    return hashlib.sha256(b"akta seal token pin\0" + secret_key.encode()).hexdigest()[:32]


_open_lock = threading.Lock()


def seal_keys() -> SealKeyStore:
    """This app's seal keys (made once per app and settings, shared by its threads)."""
    settings, folder = current_settings(), keys_folder()
    choice = (folder, settings.seal_token, settings.softhsm2_module, settings.seal_token_pin)
    stores: dict[tuple[Any, ...], SealKeyStore] = current_app.extensions.setdefault(EXTENSION, {})
    store = stores.get(choice)
    if store is None:
        with _open_lock:
            store = stores.get(choice)
            if store is None:
                store = open_seal_keys(settings, folder)
                stores[choice] = store
    return store


def active_kid() -> str:
    """The id of the key that seals now; the first key is made on first use."""
    folder = keys_folder()
    active = folder / ACTIVE_FILE
    if not active.exists():
        kid = seal_keys().create()
        try:  # two processes starting at once: the first to name its key wins
            descriptor = os.open(active, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(kid + "\n")
    return active.read_text(encoding="ascii").strip()


def _point_active_to(folder: Path, kid: str) -> None:
    temporary = folder / f".active.{os.getpid()}.{secrets.token_hex(4)}"
    temporary.write_text(kid + "\n", encoding="ascii")
    os.replace(temporary, folder / ACTIVE_FILE)


def rotate() -> str:
    """A new seal key signs from now on; the previous ones stay published. Returns its id."""
    active_kid()
    kid = seal_keys().create()
    _point_active_to(keys_folder(), kid)
    return kid


def import_file_keys() -> list[str]:
    """Key files' private halves into the token (once; the files' private halves removed).
    Returns the ids imported; raises SealKeyError when the keys are not in a token."""
    store = seal_keys()
    if not isinstance(store, TokenSealKeys):
        raise SealKeyError(
            "the seal keys are key files here (AKTA_SEAL_TOKEN=software, or SoftHSM2 is not "
            "installed): there is no token to import them into"
        )
    return store.import_files()


def sign(kid: str, data: bytes) -> bytes:
    """Key `kid`'s ES256 signature (r || s) over `data`, made where the key is."""
    return seal_keys().sign(kid, hashlib.sha256(data).digest())


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


@readiness("seal_keys")
def seal_state() -> dict[str, Any]:
    """The seal keys as /readyz tells them: where they are, and `state` ok or why not."""
    settings = current_settings()
    backend = _backend(settings)
    try:
        active = active_kid()
        seal_keys().sign(active, hashlib.sha256(b"readyz").digest())  # the key answers, now
    except SealKeyError as exc:
        return {"backend": backend, "state": exc.state}
    return {"backend": backend, "active_key": active, "state": "ok"}


def announce_seal_keys() -> str:
    """Open the seal keys at start-up; what holds them, or the error naming what is
    missing (logged, no traceback: /readyz says the same until it is fixed)."""
    try:
        store = seal_keys()
        store.open()
        active_kid()
    except SealKeyError as exc:
        log.error("seal keys unusable (%s): %s", exc.state, exc)
        return f"Kunci segel TIDAK dapat dipakai: {exc}"
    text = f"Kunci segel kantor: {store.description}"
    if isinstance(store, FileSealKeys) and current_settings().seal_token != SealTokenKind.SOFTWARE:
        text = (
            "SoftHSM2 tidak terpasang: kunci segel kantor disimpan sebagai berkas terenkripsi "
            "(token perangkat lunak), hanya untuk percobaan.\n" + text
        )
    return text
