"""The sandbox signing service: a remote signing service shaped like the Cloud Signature
Consortium API (what BSrE-like services offer), with its CA's OCSP responder and a
time-stamping authority. `akta signing serve` runs it with waitress, as its own process:
the service that answers the public never holds a key.

Wire (JSON unless said; errors ``{"error": code, "error_description": Indonesian text}``):

- ``POST /csc/v1/credentials/info`` ``{"credentialID": NIK}``: the officer's certificate
  chain (``cert.certificates``, base64 DER, the officer's first) and key algorithm.
- ``POST /csc/v1/credentials/authorize`` ``{"credentialID": NIK, "PIN": passphrase,
  "numSignatures": n}``: checks the passphrase against the officer's token and answers
  ``{"SAD": ..., "expiresIn": seconds}``, an authorisation for n signatures in all.
  Wrong passphrase: 401 ``passphrase_wrong`` with ``attempts_left``; the fifth in a row,
  and every try after it: 423 ``signer_locked`` until ``akta signing unlock``.
- ``POST /csc/v1/signatures/signHash`` ``{"credentialID", "SAD", "hash": [base64 SHA-256],
  "hashAlgo", "signAlgo"}``: ``{"signatures": [base64 DER ECDSA]}``, made in the token.
- ``POST /csc/v1/credentials/unlock`` ``{"credentialID": NIK}`` (not in the CSC API: the
  registration authority's part, which the office's admin pages call): lifts the lock of
  five wrong passphrases; ``{"unlocked": true}``.
- ``POST /ocsp`` (RFC 6960) and ``POST /tsa`` (RFC 3161); ``GET /ca.pem``; ``GET /_health``.

With an API key, /csc needs ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from flask import Flask, Response, jsonify, request
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko_certvalidator.util import get_pyca_cryptography_hash
from werkzeug.exceptions import HTTPException

from akta_service.signing.pki import DemoCA, Officer, create_once
from akta_service.signing.registry import (
    MAX_WRONG_PASSPHRASES,
    EnrolledOfficer,
    Registry,
    check_identity,
)
from akta_service.signing.tokens import (
    DEFAULT_SOFTHSM2_MODULE,
    KeyStore,
    SoftHsmKeyStore,
    SoftwareKeyStore,
    TokenMissing,
    WrongPassphrase,
)

log = logging.getLogger("akta_service.signing.service")

#: ecdsa-with-SHA256, the only signature algorithm the officers' keys make.
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
#: Signatures one authorisation may allow: a batch of 50 akta with their KIA and KK print,
#: each with room to sign all three again after a failed issue step (6 each).
MAX_SIGNATURES = 300
SHA256 = "2.16.840.1.101.3.4.2.1"
MIN_PASSPHRASE = 8

MESSAGES = {
    "credential_unknown": "Pejabat ini belum terdaftar di layanan tanda tangan elektronik.",
    "passphrase_wrong": "Passphrase salah. Sisa percobaan: %(attempts_left)d.",
    "signer_locked": (
        "Tanda tangan elektronik pejabat ini dikunci setelah 5 kali passphrase salah. "
        "Minta admin membuka kuncinya."
    ),
    "authorisation_invalid": "Otorisasi tanda tangan tidak sah atau sudah kedaluwarsa.",
    "authorisation_used": "Otorisasi tanda tangan ini sudah dipakai.",
    "invalid_request": "Permintaan tidak lengkap: %(detail)s",
    "token_missing": "Token kunci pejabat ini tidak ditemukan di layanan.",
    "unauthorised": "Kirim Authorization: Bearer <kunci API>.",
}


class Refusal(Exception):
    """An answer that refuses the call, with its status and code."""

    def __init__(self, status: int, code: str, **params: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.params = status, code, params

    def response(self) -> Response:
        answer = jsonify(
            {
                "error": self.code,
                "error_description": MESSAGES[self.code] % self.params,
                **self.params,
            }
        )
        answer.status_code = self.status
        return answer


class TokenKind(enum.StrEnum):
    """Where officers' keys live: SoftHSM2, encrypted key files, or SoftHSM2 when installed."""

    AUTO = "auto"
    SOFTHSM = "softhsm"
    SOFTWARE = "software"


@dataclass(frozen=True)
class ServiceConfig:
    """Where the service keeps its state, how it is reached, which tokens hold keys."""

    folder: Path
    #: How clients reach this service: certificates name {url}/ocsp as their OCSP responder.
    url: str = "http://127.0.0.1:5002"
    #: softhsm, software, or auto (SoftHSM2 when its module is installed).
    token_kind: TokenKind = TokenKind.AUTO
    softhsm2_module: str = DEFAULT_SOFTHSM2_MODULE
    api_key: str | None = None
    #: How long an authorisation stays usable: it waits for the issue step (the 3-in-1).
    authorisation_lifetime: timedelta = timedelta(hours=8)


def open_key_store(config: ServiceConfig) -> KeyStore:
    """The officers' tokens; raises TokenMissing naming what is not installed."""
    kind = TokenKind(config.token_kind)
    if kind == TokenKind.SOFTWARE:
        return SoftwareKeyStore(config.folder)
    if kind == TokenKind.SOFTHSM or Path(config.softhsm2_module).is_file():
        return SoftHsmKeyStore(config.folder, config.softhsm2_module)
    return SoftwareKeyStore(config.folder)


class SigningService:
    """The CA, the officers' tokens and the registry, behind the wire above."""

    def __init__(self, config: ServiceConfig, keys: KeyStore | None = None) -> None:
        self.config = config
        self.keys = keys or open_key_store(config)
        self.registry = Registry(config.folder)
        self.ca = DemoCA(config.folder / "ca", config.url)
        self.registry.add_certificate(self.ca.tsa_certificate)
        sealing_key = config.folder / "authorisation.key"
        create_once(sealing_key, Fernet.generate_key())
        self._sealer = Fernet(sealing_key.read_bytes().strip())
        assert isinstance(self.ca.tsa_key, rsa.RSAPrivateKey)  # noqa: S101 - DemoCA's
        self._timestamper = SandboxTimeStamper(
            self.ca.tsa_key,
            asn1_x509.Certificate.load(_der(self.ca.tsa_certificate)),
            [asn1_x509.Certificate.load(_der(self.ca.certificate))],
        )

    def check_tokens(self) -> None:
        """Every enrolled officer's token is there; else TokenMissing naming the missing ones."""
        missing = [o for o in self.registry.officers() if not self.keys.has_token(o.nip)]
        if missing:
            names = ", ".join(f"akta-{o.nip} ({o.name})" for o in missing)
            raise TokenMissing(f"token(s) missing in {self.keys.description}: {names}")

    def enrol(self, nik: str, nip: str, name: str, passphrase: str, office: str) -> EnrolledOfficer:
        """A key in a new token for the officer and a certificate naming them."""
        check_identity(nik, nip, name)
        if len(passphrase) < MIN_PASSPHRASE:
            raise ValueError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
        if self.registry.officer(nik) or self.registry.officer_by_nip(nip):
            raise ValueError(f"NIK or NIP {nip} is already enrolled")
        public_key = self.keys.create(nip, passphrase)
        certificate = self.ca.issue_officer_certificate(Officer(nip, name, office), public_key)
        self.registry.enrol(nik, nip, name, certificate)
        enrolled = self.registry.officer(nik)
        assert enrolled is not None  # noqa: S101 - just written
        return enrolled

    def credential(self, nik: str) -> EnrolledOfficer:
        officer = self.registry.officer(nik)
        if officer is None:
            raise Refusal(404, "credential_unknown")
        return officer

    def authorise(self, nik: str, passphrase: str, signatures: int) -> dict[str, Any]:
        officer = self.credential(nik)
        if officer.locked:
            raise Refusal(423, "signer_locked")
        try:
            # Opening the token with the passphrase is the check: nothing else knows it.
            self.keys.sign_digest(officer.nip, passphrase, hashlib.sha256(b"authorise").digest())
        except WrongPassphrase:
            wrong = self.registry.count_wrong_passphrase(nik)
            log.warning("wrong passphrase for the officer NIP %s (%d in a row)", officer.nip, wrong)
            if wrong >= MAX_WRONG_PASSPHRASES:
                raise Refusal(423, "signer_locked") from None
            raise Refusal(
                401, "passphrase_wrong", attempts_left=MAX_WRONG_PASSPHRASES - wrong
            ) from None
        except TokenMissing:
            raise Refusal(503, "token_missing") from None
        self.registry.clear_wrong_passphrases(nik)
        sealed = {
            "id": secrets.token_urlsafe(16),
            "nik": nik,
            "passphrase": passphrase,
            "signatures": signatures,
        }
        sad = self._sealer.encrypt(json.dumps(sealed).encode()).decode()
        return {"SAD": sad, "expiresIn": int(self.config.authorisation_lifetime.total_seconds())}

    def sign_hashes(self, nik: str, sad: str, hashes: list[bytes]) -> list[bytes]:
        officer = self.credential(nik)
        try:
            sealed = json.loads(
                self._sealer.decrypt(
                    sad.encode(), ttl=int(self.config.authorisation_lifetime.total_seconds())
                )
            )
        except (InvalidToken, ValueError):
            raise Refusal(401, "authorisation_invalid") from None
        if not hmac.compare_digest(sealed["nik"], nik) or len(hashes) > sealed["signatures"]:
            raise Refusal(401, "authorisation_invalid")
        if officer.locked:
            raise Refusal(423, "signer_locked")
        if not self.registry.use_authorisation(sealed["id"], len(hashes), sealed["signatures"]):
            raise Refusal(401, "authorisation_used")
        try:
            return self.keys.sign_digests(officer.nip, sealed["passphrase"], hashes)
        except WrongPassphrase:
            raise Refusal(401, "authorisation_invalid") from None
        except TokenMissing:
            raise Refusal(503, "token_missing") from None

    def timestamp(self, query: bytes) -> bytes:
        return bytes(self._timestamper.response(tsp.TimeStampReq.load(query)).dump())

    def ocsp(self, query: bytes) -> bytes:
        return self.ca.ocsp_response(query, self.registry.issued_certificates())


class SandboxTimeStamper:
    """The sandbox's RFC 3161 time-stamping authority: a token per request, signed with the
    TSA's RSA key, carrying the request's nonce and the TSA's certificate chain.

    What every token carries alike (the TSA's name, its signer identifier, the ESS
    signing-certificate attribute, the certificates) is encoded once: asn1crypto encodes a
    value it built anew, with everything below it, each time anything holding it is
    encoded, and that was ten times the RSA signature's cost per token (the three tokens of
    a report are made one after the other: the service's threads share one interpreter).
    """

    #: The TSA policy the tokens name (pyHanko's test TSA's, as before).
    POLICY = "1.3.6.1.4.1.4146.2.2"

    def __init__(
        self,
        key: rsa.RSAPrivateKey,
        certificate: asn1_x509.Certificate,
        chain: list[asn1_x509.Certificate],
    ) -> None:
        self._key = key
        self._name = _settled(
            asn1_x509.GeneralName, {"directory_name": certificate.subject}, choice=True
        )
        self._content_type = _settled(
            cms.CMSAttribute, simple_cms_attribute("content_type", "tst_info")
        )
        self._signing_certificate = _settled(
            cms.CMSAttribute,
            simple_cms_attribute("signing_certificate", as_signing_certificate(certificate)),
        )
        self._signer = _settled(
            cms.SignerIdentifier,
            {
                "issuer_and_serial_number": {
                    "issuer": certificate.issuer,
                    "serial_number": certificate.serial_number,
                }
            },
            choice=True,
        )
        self._certificates = [certificate, *chain]

    def response(self, request: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """The granted answer to `request` with its token (ValueError: not a request, or
        a digest algorithm not known)."""
        imprint: tsp.MessageImprint = request["message_imprint"]
        algorithm = imprint["hash_algorithm"]["algorithm"].native
        digest = get_pyca_cryptography_hash(algorithm)
        now = datetime.now(UTC)
        info = {
            "version": "v1",
            "policy": self.POLICY,
            "message_imprint": imprint,
            "serial_number": secrets.randbits(63),
            "gen_time": now,
            "tsa": self._name,
        }
        if request["nonce"].native is not None:
            info["nonce"] = request["nonce"]
        tst_info = tsp.TSTInfo(info).dump()
        hashed = hashes.Hash(digest)
        hashed.update(tst_info)
        signed_attributes = cms.CMSAttributes(
            [
                self._content_type,
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(now)})),
                self._signing_certificate,
                simple_cms_attribute("message_digest", hashed.finalize()),
            ]
        )
        encoded = signed_attributes.dump()
        signer_info = {
            "version": "v1",
            "sid": self._signer,
            "digest_algorithm": {"algorithm": algorithm},
            "signed_attrs": cms.CMSAttributes.load(encoded),
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
            "signature": self._key.sign(encoded, PKCS1v15(), digest),
        }
        signed_data = {
            "version": "v3",
            "digest_algorithms": [{"algorithm": algorithm}],
            "encap_content_info": {
                "content_type": "tst_info",
                "content": cms.ParsableOctetString(tst_info),
            },
            "certificates": self._certificates,
            "signer_infos": [signer_info],
        }
        return tsp.TimeStampResp(
            {
                "status": {"status": "granted"},
                "time_stamp_token": {"content_type": "signed_data", "content": signed_data},
            }
        )


def _settled(kind: type[Any], value: Any, *, choice: bool = False) -> Any:
    """`value` as `kind`, parsed back from its DER: a parsed value keeps its encoding."""
    if choice and isinstance(value, dict):
        ((name, inner),) = value.items()
        built = kind(name=name, value=inner)
    else:
        built = value if isinstance(value, kind) else kind(value)
    return kind.load(built.dump())


def create_signing_app(service: SigningService) -> Flask:
    """The service's HTTP face."""
    app = Flask(__name__)
    app.extensions["akta_signing_service"] = service

    @app.before_request
    def guard() -> Response | None:
        key = service.config.api_key
        if key and request.path.startswith("/csc/") and not _authorised(key):
            return Refusal(401, "unauthorised").response()
        return None

    @app.post("/csc/v1/info")
    def info() -> Response:
        return jsonify(
            {
                "specs": "1.0.4.0",
                "name": "Layanan TTE sandbox Brojol Aja Klalen",
                "lang": "id-ID",
                "authType": ["external"],
                "methods": ["credentials/info", "credentials/authorize", "signatures/signHash"],
            }
        )

    @app.post("/csc/v1/credentials/info")
    def credential_info() -> Response:
        officer = service.credential(_field("credentialID", str))
        assert officer.certificate is not None  # noqa: S101 - always loaded
        chain = [officer.certificate, service.ca.certificate]
        return jsonify(
            {
                "key": {
                    "status": "disabled" if officer.locked else "enabled",
                    "algo": [ECDSA_SHA256],
                    "len": 256,
                },
                "cert": {
                    "status": "valid",
                    "certificates": [base64.b64encode(_der(c)).decode() for c in chain],
                    "subjectDN": officer.certificate.subject.rfc4514_string(),
                    "validTo": officer.certificate.not_valid_after_utc.isoformat(),
                },
                "authMode": "explicit",
                "PIN": {"presence": "true", "format": "A", "label": "Passphrase"},
                "multisign": 50,
                "SCAL": "1",
            }
        )

    @app.post("/csc/v1/credentials/authorize")
    def authorize() -> Response:
        signatures = _field("numSignatures", int)
        if not 1 <= signatures <= MAX_SIGNATURES:
            raise Refusal(400, "invalid_request", detail=f"numSignatures 1..{MAX_SIGNATURES}")
        return jsonify(
            service.authorise(_field("credentialID", str), _field("PIN", str), signatures)
        )

    @app.post("/csc/v1/credentials/unlock")
    def unlock() -> Response:
        officer = service.credential(_field("credentialID", str))
        service.registry.unlock(officer.nip)
        log.info("the officer NIP %s may sign again (unlocked)", officer.nip)
        return jsonify({"unlocked": True})

    @app.post("/csc/v1/signatures/signHash")
    def sign_hash() -> Response:
        if _field("hashAlgo", str) != SHA256 or _field("signAlgo", str) != ECDSA_SHA256:
            raise Refusal(400, "invalid_request", detail="SHA-256 with ECDSA only")
        try:
            hashes = [base64.b64decode(h, validate=True) for h in _field("hash", list)]
        except (binascii.Error, TypeError):
            raise Refusal(400, "invalid_request", detail="hash: base64") from None
        if not hashes or any(len(h) != 32 for h in hashes):
            raise Refusal(400, "invalid_request", detail="hash: SHA-256 values")
        signatures = service.sign_hashes(_field("credentialID", str), _field("SAD", str), hashes)
        return jsonify({"signatures": [base64.b64encode(s).decode() for s in signatures]})

    @app.post("/tsa")
    def tsa() -> Response:
        try:
            answer = service.timestamp(request.get_data())
        except ValueError:
            return Response("not a TimeStampReq", status=400)
        return Response(answer, mimetype="application/timestamp-reply")

    @app.post("/ocsp")
    def ocsp() -> Response:
        return Response(service.ocsp(request.get_data()), mimetype="application/ocsp-response")

    @app.get("/ca.pem")
    def ca_pem() -> Response:
        return Response(service.ca.certificate_pem, mimetype="application/x-pem-file")

    @app.get("/_health")
    def health() -> Response:
        return jsonify(
            {
                "status": "ok",
                "token": service.keys.description,
                "officers": len(service.registry.officers()),
            }
        )

    @app.errorhandler(Refusal)
    def refused(exc: Refusal) -> Response:
        return exc.response()

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        answer = jsonify({"error": "http_error", "error_description": exc.description or ""})
        answer.status_code = exc.code or 500
        return answer

    return app


def _field(name: str, kind: type) -> Any:
    body = request.get_json(silent=True)
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, kind) or isinstance(value, bool):
        raise Refusal(400, "invalid_request", detail=name)
    return value


def _authorised(api_key: str) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), api_key.encode())


def _der(certificate: Any) -> bytes:
    return bytes(certificate.public_bytes(serialization.Encoding.DER))
