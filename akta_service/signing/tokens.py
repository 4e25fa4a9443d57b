"""Where each officer's private key lives: a PKCS#11 token (SoftHSM2), or a software token.

One token per officer, labelled by NIP; the officer's passphrase is the token's user PIN,
so the key can be used only by someone who typed it, and it never leaves the token
(sensitive, not extractable). The software token, for a machine without SoftHSM2, keeps
the key in a file encrypted with the passphrase (PKCS#8, PBES2).
"""

from __future__ import annotations

import abc
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from akta_service.signing.pki import CURVE, create_once

DEFAULT_SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
#: The label of the key object inside an officer's token.
KEY_LABEL = "akta-signing"


class TokenError(Exception):
    """The token cannot do what was asked."""


class WrongPassphrase(TokenError):
    """The passphrase does not open the officer's token."""


class TokenMissing(TokenError):
    """The officer's token (or the PKCS#11 module) is not there."""


class KeyStore(abc.ABC):
    """One token per officer, opened with the officer's passphrase."""

    #: Said at start-up: what kind of token holds the keys.
    description: str

    @abc.abstractmethod
    def create(self, nip: str, passphrase: str) -> ec.EllipticCurvePublicKey:
        """A new key pair in a new token for the officer; returns the public key."""

    def sign_digest(self, nip: str, passphrase: str, digest: bytes) -> bytes:
        """A DER ECDSA signature over a SHA-256 digest, made inside the token."""
        (signature,) = self.sign_digests(nip, passphrase, [digest])
        return signature

    @abc.abstractmethod
    def sign_digests(self, nip: str, passphrase: str, digests: Sequence[bytes]) -> list[bytes]:
        """A signature over each digest (as `sign_digest`), the token opened once for all."""

    @abc.abstractmethod
    def has_token(self, nip: str) -> bool:
        """Whether the officer's token is present."""


class SoftHsm:
    """SoftHSM2 (through python-pkcs11) with its tokens in a folder of the caller's own.

    The officers' tokens (below) and the office's seal token (`akta.seal_keys`) both stand
    on it: the module check, the configuration, a new token whose security officer's PIN is
    forgotten, and EC key pairs that never leave the token.
    """

    def __init__(self, folder: Path, module: str = DEFAULT_SOFTHSM2_MODULE) -> None:
        import pkcs11  # the dependency is needed only where SoftHSM2 is used

        if not Path(module).is_file():
            raise TokenMissing(
                f"PKCS#11 module {module} not found: install softhsm2 "
                "(apt-get install softhsm2) or use the software token"
            )
        self.module = module
        self.tokens = folder / "tokens"
        self.tokens.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config = folder / "softhsm2.conf"
        create_once(
            self.config,
            f"directories.tokendir = {self.tokens}\nobjectstore.backend = file\n"
            "log.level = ERROR\nslots.removable = false\n".encode(),
        )
        # SoftHSM2 reads its configuration from the environment when the module loads.
        os.environ["SOFTHSM2_CONF"] = str(self.config)
        self._pkcs11 = pkcs11
        self._lib = pkcs11.lib(module)
        self._lock = threading.Lock()
        self.description = f"SoftHSM2 (PKCS#11, {module}), token di {self.tokens}"

    def reload(self) -> None:
        """Load the module again on this folder's configuration: a token made since, or
        another folder's configuration loaded in this process meanwhile, is seen anew."""
        os.environ["SOFTHSM2_CONF"] = str(self.config)
        self._lib.reinitialize()

    def token(self, label: str) -> Any:
        """The token labelled `label`; raises pkcs11's NoSuchToken when there is none."""
        return self._lib.get_token(token_label=label)

    def init_token(self, label: str, pin: str) -> Any:
        """A new token labelled `label` whose user PIN is `pin`; returns it. Hold `_lock`."""
        util = shutil.which("softhsm2-util") or "/usr/bin/softhsm2-util"
        # Only random PINs on the command line: the user's PIN is set below, through the
        # library, by the security officer whose PIN is then forgotten.
        so_pin, first_pin = secrets.token_hex(16), secrets.token_hex(16)
        subprocess.run(  # noqa: S603 - a fixed program and our own arguments
            [
                util,
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                so_pin,
                "--pin",
                first_pin,
            ],
            env={**os.environ, "SOFTHSM2_CONF": str(self.config)},
            check=True,
            capture_output=True,
        )
        self.reload()  # the new token appears only after C_Initialize
        token = self._lib.get_token(token_label=label)
        with token.open(rw=True, so_pin=so_pin) as session:
            session.init_pin(pin)
        return token

    @staticmethod
    def generate_ec_key(session: Any, label: str, key_id: bytes = b"") -> tuple[bytes, Any, Any]:
        """A P-256 key pair made inside the token, the private half sensitive and not
        extractable; returns the public half as DER (SubjectPublicKeyInfo) and both
        objects."""
        from pkcs11 import Attribute, KeyType
        from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

        parameters = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
            local=True,
        )
        attributes = {Attribute.ID: key_id} if key_id else {}
        public, private = parameters.generate_keypair(
            store=True,
            label=label,
            public_template=attributes,
            private_template={
                **attributes,
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
            },
        )
        return bytes(encode_ec_public_key(public)), public, private


class SoftHsmKeyStore(SoftHsm, KeyStore):
    """Officers' tokens in SoftHSM2, one per officer, labelled by NIP."""

    def create(self, nip: str, passphrase: str) -> ec.EllipticCurvePublicKey:
        if self.has_token(nip):
            raise TokenError(f"a token for NIP {nip} already exists")
        with self._lock:
            token = self.init_token(_label(nip), passphrase)
            with token.open(rw=True, user_pin=passphrase) as session:
                der, _public, _private = self.generate_ec_key(session, KEY_LABEL)
        key = serialization.load_der_public_key(der)
        assert isinstance(key, ec.EllipticCurvePublicKey)  # noqa: S101 - we made an EC key
        return key

    def sign_digests(self, nip: str, passphrase: str, digests: Sequence[bytes]) -> list[bytes]:
        from pkcs11 import Mechanism, ObjectClass
        from pkcs11.exceptions import NoSuchToken, PinIncorrect, PinLenRange
        from pkcs11.util.ec import encode_ecdsa_signature

        # One token operation at a time: the service answers on several threads, and a
        # PKCS#11 login is the token's, not the session's (concurrent ones fail). One login
        # for the hashes of a call: logging in is most of a signature's cost in SoftHSM2.
        with self._lock:
            try:
                token = self._lib.get_token(token_label=_label(nip))
            except NoSuchToken:
                raise TokenMissing(f"no token labelled {_label(nip)}") from None
            try:
                with token.open(user_pin=passphrase) as session:
                    key: Any = session.get_key(
                        object_class=ObjectClass.PRIVATE_KEY, label=KEY_LABEL
                    )
                    raw = [key.sign(digest, mechanism=Mechanism.ECDSA) for digest in digests]
            except (PinIncorrect, PinLenRange):
                raise WrongPassphrase from None
        return [bytes(encode_ecdsa_signature(signature)) for signature in raw]

    def has_token(self, nip: str) -> bool:
        return any(
            slot.get_token().label == _label(nip)
            for slot in self._lib.get_slots(token_present=True)
        )


class SoftwareKeyStore(KeyStore):
    """Keys in files encrypted with the officer's passphrase: for machines without SoftHSM2."""

    def __init__(self, folder: Path) -> None:
        self.keys = folder / "software-tokens"
        self.keys.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.description = f"token perangkat lunak (berkas PKCS#8 terenkripsi di {self.keys})"

    def _path(self, nip: str) -> Path:
        return self.keys / f"{_label(nip)}.p8"

    def create(self, nip: str, passphrase: str) -> ec.EllipticCurvePublicKey:
        if self.has_token(nip):
            raise TokenError(f"a token for NIP {nip} already exists")
        key = ec.generate_private_key(CURVE)
        encrypted = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase.encode()),
        )
        create_once(self._path(nip), encrypted)
        return key.public_key()

    def sign_digests(self, nip: str, passphrase: str, digests: Sequence[bytes]) -> list[bytes]:
        path = self._path(nip)
        if not path.is_file():
            raise TokenMissing(f"no key file {path.name}")
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), passphrase.encode())
        except (ValueError, TypeError):
            raise WrongPassphrase from None
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # noqa: S101 - we wrote it
        prehashed = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
        return [key.sign(digest, prehashed) for digest in digests]

    def has_token(self, nip: str) -> bool:
        return self._path(nip).is_file()


def _label(nip: str) -> str:
    # A PKCS#11 token label has at most 32 characters.
    return f"akta-{nip}"
