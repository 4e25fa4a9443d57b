"""The signing service's demo certification authority: officers' certificates, the
time-stamping unit's certificate and OCSP answers.

It stands in for the CA behind a real signing service (BSrE): every certificate it issues
names the officer (name, NIP) and points at the service's OCSP responder, so that a PDF
signed today carries the answers that let it be checked after the certificate expired.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

DEMO_CA_NAME = "Demo CA Brojol Aja Klalen - bukan untuk produksi"
#: ECDSA P-256 for officers: what PAdES readers accept and a PKCS#11 token generates fast.
CURVE = ec.SECP256R1()
CA_VALIDITY = timedelta(days=20 * 365)
#: An officer's certificate lasts two years; an akta must validate for a lifetime.
OFFICER_VALIDITY = timedelta(days=2 * 365)
TSA_VALIDITY = timedelta(days=20 * 365)
#: How long an OCSP answer is fresh.
OCSP_VALIDITY = timedelta(days=7)
#: Purposes a PDF reader accepts for document signing: RFC 9336 documentSigning, Adobe
#: Authentic Documents Trust and Microsoft Document Signing (older Acrobat knows only these).
DOCUMENT_SIGNING_PURPOSES = (
    x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
    x509.ObjectIdentifier("1.2.840.113583.1.1.5"),
    x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),
)
#: Where the NIP goes in the subject: serialNumber, as BSrE certificates carry the NIK/NIP.
NIP_ATTRIBUTE = NameOID.SERIAL_NUMBER

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class Officer:
    """Who a certificate is for."""

    nip: str
    name: str
    office: str = "Dinas Kependudukan dan Pencatatan Sipil"


class DemoCA:
    """The CA key and certificate, and the TSA's, in one folder (created once, kept)."""

    def __init__(self, folder: Path, service_url: str) -> None:
        self.folder = folder
        self.service_url = service_url.rstrip("/")
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.key, self.certificate = self._ensure(
            "ca", lambda: ec.generate_private_key(CURVE), self._ca_certificate
        )
        self.tsa_key, self.tsa_certificate = self._ensure(
            # pyHanko's time-stamping building block signs with RSA only.
            "tsa",
            lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
            self._tsa_certificate,
        )

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue_officer_certificate(
        self, officer: Officer, public_key: ec.EllipticCurvePublicKey
    ) -> x509.Certificate:
        """A document-signing certificate naming the officer (CN) and their NIP."""
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, officer.office[:64]),
                # X.509 allows at most 64 characters in a common name.
                x509.NameAttribute(NameOID.COMMON_NAME, officer.name[:64]),
                x509.NameAttribute(NIP_ATTRIBUTE, officer.nip),
            ]
        )
        return (
            self._builder(subject, public_key, OFFICER_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True, content_commitment=True), True)
            .add_extension(x509.ExtendedKeyUsage(DOCUMENT_SIGNING_PURPOSES), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def ocsp_response(self, request_der: bytes, issued: dict[int, x509.Certificate]) -> bytes:
        """The DER answer to an OCSP request: good for a certificate this CA issued."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        certificate = issued.get(request.serial_number)
        if certificate is None:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        now = datetime.now(UTC).replace(microsecond=0)
        builder = (
            ocsp.OCSPResponseBuilder()
            .add_response(
                cert=certificate,
                issuer=self.certificate,
                algorithm=_request_hash(request),
                cert_status=ocsp.OCSPCertStatus.GOOD,
                this_update=now,
                next_update=now + OCSP_VALIDITY,
                revocation_time=None,
                revocation_reason=None,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.certificate)
        )
        for extension in request.extensions:
            if isinstance(extension.value, x509.OCSPNonce):
                builder = builder.add_extension(extension.value, critical=False)
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def _ensure(
        self,
        name: str,
        new_key: object,
        make_certificate: object,
    ) -> tuple[PrivateKey, x509.Certificate]:
        # Key and certificate share one file so that racing processes never pair one
        # process's key with another's certificate.
        path = self.folder / f"{name}.key"
        if not path.exists():
            key = new_key()  # type: ignore[operator]
            certificate = make_certificate(key)  # type: ignore[operator]
            pem = certificate.public_bytes(serialization.Encoding.PEM)
            create_once(path, _key_pem(key) + pem)
        both = path.read_bytes()
        loaded = serialization.load_pem_private_key(both, password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise TypeError(f"{path} holds an unexpected key; delete the demo CA folder")
        return loaded, x509.load_pem_x509_certificate(both)

    def _ca_certificate(self, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        name = _name("Brojol Aja Klalen (demo)", DEMO_CA_NAME)
        start = datetime.now(UTC) - timedelta(hours=1)
        return (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + CA_VALIDITY)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
            .sign(key, hashes.SHA256())
        )

    def _tsa_certificate(self, key: rsa.RSAPrivateKey) -> x509.Certificate:
        name = _name("Brojol Aja Klalen (demo)", "Demo TSA Brojol Aja Klalen")
        return (
            self._builder(name, key.public_key(), TSA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)
            .sign(self.key, hashes.SHA256())
        )

    def _builder(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        validity: timedelta,
    ) -> x509.CertificateBuilder:
        # Back-dated a little so that a clock slightly behind the issuing one accepts it.
        start = datetime.now(UTC) - timedelta(hours=1)
        issuer_key = self.key.public_key()
        assert isinstance(issuer_key, ec.EllipticCurvePublicKey)  # noqa: S101 - ours
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(min(start + validity, self.certificate.not_valid_after_utc))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), False)
            .add_extension(
                x509.AuthorityInformationAccess(
                    [
                        x509.AccessDescription(
                            AuthorityInformationAccessOID.OCSP,
                            x509.UniformResourceIdentifier(f"{self.service_url}/ocsp"),
                        )
                    ]
                ),
                critical=False,
            )
        )


def _request_hash(request: ocsp.OCSPRequest) -> hashes.HashAlgorithm:
    """The hash the request names certificates by: SHA-1 is what OCSP clients use for it
    (an identifier, not a signature)."""
    if request.hash_algorithm.name == "sha1":
        return hashes.SHA1()  # noqa: S303 - RFC 6960 CertID, not a signature
    return hashes.SHA256()


def _name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(
    *,
    digital_signature: bool = False,
    content_commitment: bool = False,
    key_cert_sign: bool = False,
    crl_sign: bool = False,
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=content_commitment,  # a.k.a. nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def create_once(path: Path, data: bytes) -> None:
    """Write `path` whole (mode 0600) unless it exists; of racing writers, the first wins."""
    if path.exists():
        return
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # link, unlike rename, refuses to replace a file another process put there first.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink()
