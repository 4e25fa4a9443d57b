"""Electronic signatures on the akta PDF: a demo PKI, PAdES signing and checking.

The demo CA stands in for the certificate an office gets from a real certification
authority; its files are created once and kept. Nothing here uses the network: no
timestamp server, no OCSP or CRL fetch.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID, ObjectIdentifier
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSigningSession
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

logger = logging.getLogger(__name__)

DEMO_CA_NAME = "Demo CA Brojol Aja Klalen - bukan untuk produksi"
#: The signature field on page 1 that holds the officer's (pejabat's) signature.
SIGNATURE_FIELD = "Pejabat"

SUMMARY_VALID = "Tanda tangan sah dan dokumen utuh"
SUMMARY_CHANGED = "Dokumen telah diubah setelah ditandatangani"
SUMMARY_DAMAGED = "Dokumen rusak atau telah diubah setelah ditandatangani"
SUMMARY_UNTRUSTED = "Tanda tangan tidak dapat dipercaya: sertifikat penanda tangan tidak dikenal"
SUMMARY_UNSIGNED = "Tidak ada tanda tangan elektronik"
SUMMARY_UNREADABLE = "Berkas bukan PDF yang dapat dibaca; tidak ada tanda tangan elektronik"

#: ECDSA P-256: what PAdES readers accept, and unlike RSA its key loads in microseconds,
#: which matters because pyHanko's SimpleSigner parses the key anew for every signature.
_CURVE = ec.SECP256R1()
_CA_VALIDITY = timedelta(days=20 * 365)
_SIGNER_VALIDITY = timedelta(days=10 * 365)
#: Purposes a PDF reader accepts for document signing: RFC 9336 documentSigning, Adobe
#: Authentic Documents Trust and Microsoft Document Signing (older Acrobat knows only these).
_DOCUMENT_SIGNING_PURPOSES = (
    ObjectIdentifier("1.3.6.1.5.5.7.3.36"),
    ObjectIdentifier("1.2.840.113583.1.1.5"),
    ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"),
)
#: Traces a signature dictionary leaves in the file (signers write it uncompressed); one
#: changed byte breaks at most one of them, and an empty signature field has none.
_SIGNATURE_MARKS = (
    re.compile(rb"/ByteRange\s*\["),
    re.compile(rb"/Type\s*/Sig\b"),
    re.compile(rb"/SubFilter\s*/(?:ETSI\.CAdES|adbe\.pkcs7)\.detached"),
)
_STAMP = TextStampStyle(
    stamp_text="Ditandatangani secara elektronik oleh\n%(signer)s\n%(ts)s",
    timestamp_format="%d-%m-%Y %H:%M:%S %Z",
    border_width=1,
)


@dataclass(frozen=True)
class SigningIdentity:
    """Where an officer's signing key lives and which root certificate vouches for it."""

    pkcs12_path: Path
    passphrase: bytes = field(repr=False)
    trust_root_pem: Path


@dataclass(frozen=True)
class AktaValidation:
    """What checking an akta's signature found, with a one-line verdict for people."""

    signed: bool
    #: The signed bytes are unchanged and the signature over them is mathematically sound.
    intact: bool
    #: The signer's certificate chains to the trust root (and `intact` holds).
    trusted: bool
    #: Nothing was appended after signing: the signature covers the file to its last byte.
    covers_whole_document: bool
    signer: str | None
    signed_at: datetime | None
    summary: str
    #: False when the bytes are not a PDF at all (nothing could be checked).
    readable: bool = True

    @property
    def valid(self) -> bool:
        """Signed, unchanged since, and by a trusted signer: the akta can be relied on."""
        return self.signed and self.intact and self.trusted and self.covers_whole_document


def ensure_demo_pki(
    folder: Path, region_code: str, region_name: str, officer_name: str
) -> SigningIdentity:
    """The demo CA and a region's signing key, created on first use and reused afterwards.

    Existing files are never replaced, so a later call with another officer's name keeps
    the first officer's certificate: delete `signing-<region_code>.*` to issue a new one.

    :param region_name: e.g. "Kota Cirebon"; names the Disdukcapil office in the certificate.
    """
    if not re.fullmatch(r"[0-9]{4}", region_code):
        raise ValueError(f"region_code must be a 4-digit kab/kota code, got {region_code!r}")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key, ca_cert = _ensure_demo_ca(folder)
    pkcs12_path = folder / f"signing-{region_code}.p12"
    passphrase_path = folder / f"signing-{region_code}.pass"
    if pkcs12_path.exists() and not passphrase_path.exists():
        raise FileNotFoundError(
            f"{passphrase_path} is missing; delete {pkcs12_path} to issue a new signing key"
        )
    # The passphrase is settled first, so every process that races to write the key
    # encrypts it with the one passphrase that ends up on disk.
    _create_once(passphrase_path, secrets.token_urlsafe(32).encode())
    passphrase = passphrase_path.read_bytes().strip()
    if not pkcs12_path.exists():
        key = ec.generate_private_key(_CURVE)
        certificate = _signing_certificate(key, ca_key, ca_cert, officer_name, region_name)
        bundle = pkcs12.serialize_key_and_certificates(
            name=officer_name.encode(),
            key=key,
            cert=certificate,
            cas=[ca_cert],
            encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
        )
        _create_once(pkcs12_path, bundle)
    return SigningIdentity(pkcs12_path, passphrase, folder / "demo-ca.pem")


def sign_pdf(
    pdf: bytes,
    identity: SigningIdentity,
    *,
    field_box: tuple[float, float, float, float] | None = None,
    reason: str,
    location: str,
    signer_name: str,
    signed_at: datetime | None = None,
) -> bytes:
    """The PDF with a PAdES signature added in the "Pejabat" field on page 1.

    :param field_box: (x1, y1, x2, y2) in points for a visible stamp; None signs invisibly.
    :param signed_at: the time recorded and shown (with its zone, e.g. WIB); default now.
    :raises pyhanko.pdf_utils.misc.PdfReadError: `pdf` is not a readable PDF.
    :raises pyhanko.sign.general.SigningError: the "Pejabat" field is already signed.
    """
    moment = signed_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("signed_at must carry a time zone")
    box = None
    if field_box is not None:
        x1, y1, x2, y2 = (round(value) for value in field_box)
        box = (x1, y1, x2, y2)
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        name=signer_name,
    )
    pdf_signer = _PdfSignerAt(
        moment,
        metadata,
        _load_signer(identity),
        new_field_spec=fields.SigFieldSpec(SIGNATURE_FIELD, on_page=0, box=box),
    )
    output = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), output=io.BytesIO())
    return bytes(output.getvalue())


def validate_pdf(pdf: bytes, trust_root_pem: Path) -> AktaValidation:
    """Check a PDF's signature against `trust_root_pem`; any damage is a verdict, not an error.

    Only an unreadable `trust_root_pem` raises (OSError or ValueError): that is a setup fault.
    """
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(str(trust_root_pem))],
        allow_fetching=False,
        # The demo CA publishes no revocation information and nothing may be fetched.
        revocation_mode="soft-fail",
    )
    try:
        embedded = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures
        if not embedded:
            return _unsigned(pdf)
        status = validate_pdf_signature(embedded[0], context)
    except Exception:  # a damaged file fails anywhere in the parser, with any error type
        logger.info("could not read the signature of a PDF", exc_info=True)
        return _unsigned(pdf)
    return _verdict(status)


class _PdfSignerAt(signers.PdfSigner):
    """A pyHanko PdfSigner that records a given signing time instead of the clock's."""

    def __init__(
        self,
        signed_at: datetime,
        metadata: signers.PdfSignatureMetadata,
        signer: signers.Signer,
        *,
        new_field_spec: fields.SigFieldSpec,
    ) -> None:
        super().__init__(metadata, signer, stamp_style=_STAMP, new_field_spec=new_field_spec)
        self._signed_at = signed_at

    def init_signing_session(
        self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        # pyHanko takes the clock's time here (/M and the stamp) and has no parameter for it.
        session.system_time = self._signed_at
        return session


@functools.lru_cache(maxsize=16)
def _load_signer(identity: SigningIdentity) -> signers.SimpleSigner:
    """The officer's key, decrypted once per process: PKCS#12 key derivation is slow by design."""
    signer: signers.SimpleSigner = signers.SimpleSigner.load_pkcs12_data(
        identity.pkcs12_path.read_bytes(), other_certs=[], passphrase=identity.passphrase
    )
    return signer


def _ensure_demo_ca(folder: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    # Key and certificate share one file so that racing processes can never pair one
    # process's key with another's certificate; the public PEM is derived from it.
    key_path = folder / "demo-ca.key"
    if not key_path.exists():
        new_key = ec.generate_private_key(_CURVE)
        pem = _ca_certificate(new_key).public_bytes(serialization.Encoding.PEM)
        _create_once(key_path, _key_pem(new_key) + pem)
    both = key_path.read_bytes()
    key = serialization.load_pem_private_key(both, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{key_path} does not hold an EC key; delete the demo PKI files")
    certificate = x509.load_pem_x509_certificate(both)
    certificate_pem = certificate.public_bytes(serialization.Encoding.PEM)
    trust_root = folder / "demo-ca.pem"
    _create_once(trust_root, certificate_pem)
    if trust_root.read_bytes() != certificate_pem:
        raise RuntimeError(f"{trust_root} does not match {key_path}; delete the demo PKI files")
    return key, certificate


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Brojol Aja Klalen (demo)"),
            x509.NameAttribute(NameOID.COMMON_NAME, DEMO_CA_NAME),
        ]
    )
    return (
        _certificate_builder(name, name, key.public_key(), _CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(key, hashes.SHA256())
    )


def _signing_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    officer_name: str,
    region_name: str,
) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "ID"),
            x509.NameAttribute(
                NameOID.ORGANIZATION_NAME,
                f"Dinas Kependudukan dan Pencatatan Sipil {region_name}",
            ),
            # X.509 allows at most 64 characters in a common name.
            x509.NameAttribute(NameOID.COMMON_NAME, officer_name[:64]),
        ]
    )
    return (
        _certificate_builder(subject, ca_cert.subject, key.public_key(), _SIGNER_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage(_DOCUMENT_SIGNING_PURPOSES), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _certificate_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    validity: timedelta,
) -> x509.CertificateBuilder:
    # Back-dated a little so that a clock slightly behind the issuing one still accepts it.
    start = datetime.now(UTC) - timedelta(hours=1)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
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


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _create_once(path: Path, data: bytes) -> None:
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


def _unsigned(pdf: bytes) -> AktaValidation:
    """The verdict when pyHanko finds no signature it can check."""
    if sum(1 for mark in _SIGNATURE_MARKS if mark.search(pdf)) >= 2:
        # pyHanko skips a signature whose dictionary it cannot read, and a damaged
        # file may not parse at all: a file that still carries a signature's marks
        # was signed and then changed.
        return _result(signed=True, summary=SUMMARY_DAMAGED)
    if pdf.startswith(b"%PDF-"):
        return _result(signed=False, summary=SUMMARY_UNSIGNED)
    return _result(signed=False, summary=SUMMARY_UNREADABLE, readable=False)


def _verdict(status: PdfSignatureStatus) -> AktaValidation:
    intact = bool(status.intact and status.valid)
    covers_whole_document = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    if not intact or not covers_whole_document:
        summary = SUMMARY_CHANGED
    elif not status.trusted:
        summary = SUMMARY_UNTRUSTED
    else:
        summary = SUMMARY_VALID
    return AktaValidation(
        signed=True,
        intact=intact,
        trusted=bool(status.trusted),
        covers_whole_document=covers_whole_document,
        signer=_common_name(status.signing_cert),
        signed_at=status.signer_reported_dt,
        summary=summary,
    )


def _result(*, signed: bool, summary: str, readable: bool = True) -> AktaValidation:
    return AktaValidation(
        signed=signed,
        intact=False,
        trusted=False,
        covers_whole_document=False,
        signer=None,
        signed_at=None,
        summary=summary,
        readable=readable,
    )


def _common_name(certificate: asn1_x509.Certificate) -> str | None:
    name = certificate.subject.native.get("common_name")
    return name if isinstance(name, str) else None
