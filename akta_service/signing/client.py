"""The adapter to a remote signing service (the CSC API shape, as BSrE-like services offer).

The service sends what is to be signed (a SHA-256 hash), the officer's identity (NIK) and,
once, the passphrase the officer typed; it gets back an authorisation (SAD) for one
signing call, then the signature and the officer's certificate chain. pyHanko embeds the
signature as PAdES through `RemoteSigner`, its external-signer interface. The key never
leaves the signing service; the passphrase is sent once, to authorise, and kept nowhere.

What is the same for every akta of a batch is asked once and kept for `reuse_for` (ten
minutes): the officer's certificate chain, the time-stamping authority's certificates and
the OCSP answers for both (an OCSP answer is good for its validity period, days). Each akta
still gets its own signature and its own timestamp, over one kept-alive connection. The PDFs
of one report (the akta, the KIA card) signed together send their hashes in one signHash
call (`RemoteSigner.together`): one signature each, one round trip for all.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.hashes import SHA256 as SHA256Hash
from cryptography.x509 import load_der_x509_certificate
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import PreSignValidationStatus
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError, set_tsp_headers
from pyhanko_certvalidator.fetchers.api import Fetchers
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend
from pyhanko_certvalidator.registry import SimpleCertificateStore

SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
#: DER ECDSA P-256 signatures are at most 72 bytes: the room pyHanko reserves.
_SIGNATURE_ROOM = 72
#: How long an idle connection to the signing service (and its TSA) is kept for reuse.
KEEPALIVE_SECONDS = 60.0


class SigningServiceError(Exception):
    """The signing service refused, or could not be reached. `code` says which."""

    def __init__(self, code: str, attempts_left: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.attempts_left = attempts_left


@dataclass(frozen=True)
class Authorisation:
    """Signature activation data: lets one signing call sign up to `signatures` hashes."""

    sad: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class Credential:
    """The officer's certificate and the chain above it, as the service sent them."""

    certificate: asn1_x509.Certificate
    chain: tuple[asn1_x509.Certificate, ...]
    #: The signed attributes every PAdES signature with this certificate carries besides
    #: its message digest, by (digest algorithm, content type, PDF or not): made once.
    signed_attributes: dict[tuple[str, str, bool], tuple[cms.CMSAttribute, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def signer_name(self) -> str:
        return str(self.certificate.subject.native.get("common_name", ""))

    @functools.cached_property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        key = load_der_x509_certificate(self.certificate.dump()).public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SigningServiceError("signing_algorithm_unsupported")
        return key


class SigningServiceClient:
    """HTTP calls to the signing service; every failure is a SigningServiceError."""

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        timeout: float = 10.0,
        reuse_for: timedelta = timedelta(minutes=10),
    ) -> None:
        """:param reuse_for: how long the officer's chain, the TSA's certificates and the
        OCSP answers fetched for signing are used again before being asked anew."""
        self.url = url.rstrip("/")
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=timeout,
            # A report's signHash and its three timestamps reuse the connections of the
            # report before, unless that was longer ago than this (httpx's default: 5 s, which
            # an office signing one report now and then always exceeds): new connections, and
            # to a remote service their TLS handshakes, on every report otherwise. A
            # connection the service closed meanwhile is not used again.
            limits=httpx.Limits(
                max_connections=100,
                max_keepalive_connections=20,
                keepalive_expiry=KEEPALIVE_SECONDS,
            ),
        )
        self._reuse_for = reuse_for.total_seconds()
        self._credentials: dict[str, tuple[float, Credential]] = {}
        self._credentials_lock = threading.Lock()
        # Per thread: pyHanko's fetchers and timestamper keep asyncio state of the event
        # loop each signature runs in, and issue workers sign on several threads at once.
        self._per_thread = threading.local()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SigningServiceClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def authorise(self, nik: str, passphrase: str, signatures: int = 1) -> Authorisation:
        """Check the officer's passphrase; an authorisation for `signatures` hashes."""
        answer = self._call(
            "credentials/authorize",
            {"credentialID": nik, "PIN": passphrase, "numSignatures": signatures},
        )
        lifetime = timedelta(seconds=int(answer.get("expiresIn", 3600)))
        return Authorisation(str(answer["SAD"]), datetime.now(UTC) + lifetime)

    def credential(self, nik: str) -> Credential:
        answer = self._call("credentials/info", {"credentialID": nik, "certificates": "chain"})
        certificates = [
            asn1_x509.Certificate.load(base64.b64decode(c)) for c in answer["cert"]["certificates"]
        ]
        return Credential(certificates[0], tuple(certificates[1:]))

    def state(self, nik: str) -> tuple[bool, str | None]:
        """Whether the officer's signing is locked, and the NIP their certificate names."""
        answer = self._call("credentials/info", {"credentialID": nik, "certificates": "single"})
        certificate = asn1_x509.Certificate.load(
            base64.b64decode(answer["cert"]["certificates"][0])
        )
        nip = certificate.subject.native.get("serial_number")
        return answer["key"]["status"] == "disabled", nip if isinstance(nip, str) else None

    def unlock(self, nik: str) -> None:
        """Lift the lock five wrong passphrases put on the officer's signing."""
        self._call("credentials/unlock", {"credentialID": nik})

    def sign_hashes(self, nik: str, sad: str, digests: list[bytes]) -> list[bytes]:
        answer = self._call(
            "signatures/signHash",
            {
                "credentialID": nik,
                "SAD": sad,
                "hash": [base64.b64encode(d).decode() for d in digests],
                "hashAlgo": SHA256,
                "signAlgo": ECDSA_SHA256,
            },
        )
        return [base64.b64decode(s) for s in answer["signatures"]]

    def trust_root_pem(self) -> bytes:
        """The CA certificate the service's signatures chain to."""
        try:
            response = self._http.get("/ca.pem")
            response.raise_for_status()
        except httpx.HTTPError:
            raise SigningServiceError("signing_service_unavailable") from None
        return response.content

    def signer(self, nik: str, authorisation: Authorisation) -> RemoteSigner:
        """A pyHanko signer that signs through this service with the officer's key."""
        return RemoteSigner(self, nik, authorisation, self._kept_credential(nik))

    def timestamper(self) -> TimeStamper:
        """The service's RFC 3161 time-stamping authority (this thread's, kept `reuse_for`:
        pyHanko sizes the signature and validates the TSA from one sample token it keeps)."""
        return self.reuse().timestamper

    def reuse(self) -> SigningReuse:
        """What this thread's signatures share for `reuse_for`, then asked for anew."""
        reuse: SigningReuse | None = getattr(self._per_thread, "reuse", None)
        if reuse is None or reuse.until <= time.monotonic():
            reuse = SigningReuse(
                time.monotonic() + self._reuse_for,
                _ServiceTimeStamper(self),
                RequestsFetcherBackend(per_request_timeout=self.timeout).get_fetchers(),
            )
            self._per_thread.reuse = reuse
        return reuse

    def forget_reuse(self) -> None:
        """Ask for everything anew next time (after a failed signature: pyHanko's fetchers
        keep a failed fetch too)."""
        self._per_thread.__dict__.clear()
        with self._credentials_lock:
            self._credentials.clear()

    def _kept_credential(self, nik: str) -> Credential:
        with self._credentials_lock:
            until, credential = self._credentials.get(nik, (0.0, None))
        if credential is not None and until > time.monotonic():
            return credential
        credential = self.credential(nik)
        with self._credentials_lock:
            self._credentials[nik] = (time.monotonic() + self._reuse_for, credential)
        return credential

    def _timestamp(self, request: bytes) -> bytes:
        try:
            response = self._http.post(
                "/tsa", content=request, headers=set_tsp_headers({}), timeout=self.timeout
            )
        except httpx.HTTPError as error:
            raise TimestampRequestError("Error in communication with timestamp server") from error
        if response.headers.get("Content-Type") != "application/timestamp-reply":
            raise TimestampRequestError("Timestamp server response is malformed.")
        return response.content

    def _call(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(f"/csc/v1/{endpoint}", json=body)
        except httpx.HTTPError:
            raise SigningServiceError("signing_service_unavailable") from None
        try:
            answer = response.json()
        except ValueError:
            raise SigningServiceError("signing_service_unavailable") from None
        if response.status_code >= 500 or not isinstance(answer, dict):
            raise SigningServiceError("signing_service_unavailable")
        if response.status_code != 200:
            left = answer.get("attempts_left")
            raise SigningServiceError(
                str(answer.get("error", "signing_refused")),
                left if isinstance(left, int) else None,
            )
        return answer


@dataclass
class SigningReuse:
    """What one thread's signatures share until `until` (time.monotonic())."""

    until: float
    timestamper: TimeStamper
    #: OCSP (CRL, certificate) fetchers that keep what they fetched: the validation data
    #: of the officer's chain and of the TSA's, the same for every akta meanwhile.
    fetchers: Fetchers
    #: The room for the signature container in the PDF, by signing certificate (SHA-256):
    #: measured on the first signature (pyHanko's size estimate, a dry-run signature).
    rooms: dict[bytes, int] = field(default_factory=dict)
    #: The signer's and the TSA's validated chains with their OCSP answers, by signing
    #: certificate (SHA-256): each signature's validation data (pyHanko's pre-signing
    #: validation), made once from the answers kept above.
    validations: dict[bytes, PreSignValidationStatus] = field(default_factory=dict)


class _ServiceTimeStamper(TimeStamper):
    """The service's RFC 3161 authority over the client's kept-alive connection."""

    def __init__(self, client: SigningServiceClient) -> None:
        super().__init__()
        self._client = client

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        answer = await asyncio.to_thread(self._client._timestamp, req.dump())
        return tsp.TimeStampResp.load(answer)


class _HashRound:
    """The hashes of the PDFs signed together, sent in one signHash call once every PDF's
    is in. A PDF that fails before it gets there fails them all: whoever runs them cancels
    the others (as `asyncio.gather` and `asyncio.run` do)."""

    def __init__(self, client: SigningServiceClient, nik: str, sad: str, expected: int) -> None:
        self._client, self._nik, self._sad = client, nik, sad
        self._expected = expected
        self._waiting: list[tuple[bytes, asyncio.Future[bytes]]] = []

    async def signature(self, digest: bytes) -> bytes:
        answer: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._waiting.append((digest, answer))
        await self._send_when_complete()
        return await answer

    async def _send_when_complete(self) -> None:
        if len(self._waiting) < self._expected:
            return
        waiting, self._waiting = self._waiting, []
        self._expected -= len(waiting)  # any signature after the round goes alone
        try:
            signatures = await asyncio.to_thread(
                self._client.sign_hashes, self._nik, self._sad, [d for d, _ in waiting]
            )
        except Exception as error:  # every PDF of the round fails as the call did
            for _digest, answer in waiting:
                answer.set_exception(error)
            return
        for (_digest, answer), signature in zip(waiting, signatures, strict=True):
            answer.set_result(signature)


class RemoteSigner(signers.Signer):
    """pyHanko's external signer: the CMS is built here, the raw signature made remotely."""

    def __init__(
        self,
        client: SigningServiceClient,
        nik: str,
        authorisation: Authorisation,
        credential: Credential,
    ) -> None:
        super().__init__(
            signing_cert=credential.certificate,
            cert_registry=SimpleCertificateStore.from_certs(credential.chain),
            embed_roots=True,
        )
        self._client = client
        self._nik = nik
        self._authorisation = authorisation
        self.credential = credential
        self._round: _HashRound | None = None

    @contextmanager
    def together(self, count: int) -> Iterator[_HashRound]:
        """Meanwhile, the next `count` signatures (made concurrently, in one event loop)
        go to the service in one signHash call."""
        self._round = _HashRound(self._client, self._nik, self._authorisation.sad, count)
        try:
            yield self._round
        finally:
            self._round = None

    async def signed_attrs(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        attr_settings: PdfCMSSignedAttributes | None = None,
        content_type: str = "data",
        use_pades: bool = False,
        timestamper: TimeStamper | None = None,
        dry_run: bool = False,
        is_pdf_sig: bool = True,
    ) -> cms.CMSAttributes:
        """pyHanko's signed attributes; of a PAdES signature whose attributes other than
        the message digest depend only on the certificate (content type, signing
        certificate), those are made once per certificate and the digest put beside them."""
        key = (digest_algorithm, content_type, is_pdf_sig)
        reusable = (
            use_pades
            and not dry_run
            and (attr_settings is None or not _per_signature(attr_settings))
        )
        template = self.credential.signed_attributes.get(key) if reusable else None
        if template is not None:
            digest = cms.CMSAttribute({"type": "message_digest", "values": [data_digest]})
            return _settled(cms.CMSAttributes([*template, digest]))
        attributes = _settled(
            await super().signed_attrs(
                data_digest,
                digest_algorithm,
                attr_settings=attr_settings,
                content_type=content_type,
                use_pades=use_pades,
                timestamper=timestamper,
                dry_run=dry_run,
                is_pdf_sig=is_pdf_sig,
            )
        )
        kinds = {attribute["type"].native for attribute in attributes}
        if reusable and not kinds - {"content_type", "message_digest", "signing_certificate_v2"}:
            self.credential.signed_attributes[key] = tuple(
                attribute
                for attribute in attributes
                if attribute["type"].native != "message_digest"
            )
        return attributes

    async def unsigned_attrs(self, *args: Any, **kwargs: Any) -> cms.CMSAttributes | None:
        attributes = await super().unsigned_attrs(*args, **kwargs)
        return None if attributes is None else _settled(attributes)

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:
            return bytes(_SIGNATURE_ROOM)
        if digest_algorithm.lower() != "sha256":
            raise SigningServiceError("signing_algorithm_unsupported")
        digest = hashlib.sha256(data).digest()
        if self._round is not None:
            signature = await self._round.signature(digest)
        else:
            (signature,) = self._client.sign_hashes(self._nik, self._authorisation.sad, [digest])
        # The chain is kept for a while: a key the kept certificate does not verify (the
        # officer re-enrolled meanwhile) must fail here, not give an akta that never validates.
        try:
            self.credential.public_key.verify(signature, digest, ec.ECDSA(Prehashed(SHA256Hash())))
        except InvalidSignature:
            raise SigningServiceError("signing_certificate_mismatch") from None
        return signature


def _per_signature(settings: PdfCMSSignedAttributes) -> bool:
    """Whether the settings ask for signed attributes of their own (CAdES attributes, the
    Adobe revocation attribute): then nothing is made once for the certificate."""
    return settings.cades_signed_attrs is not None or settings.adobe_revinfo_attr is not None


def _settled(attributes: cms.CMSAttributes) -> cms.CMSAttributes:
    """The attributes parsed back from their DER: asn1crypto encodes a value it built
    again, with everything below it, each time it or anything holding it is encoded (the
    signed attributes are encoded to be hashed, into the SignerInfo and into the CMS); a
    parsed value keeps its encoding."""
    return cms.CMSAttributes.load(attributes.dump())
