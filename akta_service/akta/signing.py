"""Electronic signatures on the akta PDF: PAdES B-LT signing through the signing service,
and checking a signature now or at any later moment.

Every signature carries an RFC 3161 timestamp and, in the document security store, the
certificate chain and the OCSP answers that vouched for it when it was made (PAdES B-LT):
an akta still validates after the officer's certificate expired or the officer left.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.signers.pdf_signer import (
    DSSContentSettings,
    PdfSigningSession,
    PreSignValidationStatus,
    SigDSSPlacementPreference,
)
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import PdfSignatureStatus, SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.fetchers.requests_fetchers import RequestsFetcherBackend

from akta_service.signing.client import RemoteSigner, SigningReuse

logger = logging.getLogger(__name__)

#: The signature field on page 1 that holds the officer's (pejabat's) signature.
SIGNATURE_FIELD = "Pejabat"

SUMMARY_VALID = "Tanda tangan sah dan dokumen utuh"
SUMMARY_CHANGED = "Dokumen telah diubah setelah ditandatangani"
SUMMARY_DAMAGED = "Dokumen rusak atau telah diubah setelah ditandatangani"
SUMMARY_UNTRUSTED = "Tanda tangan tidak dapat dipercaya: sertifikat penanda tangan tidak dikenal"
SUMMARY_UNSIGNED = "Tidak ada tanda tangan elektronik"
SUMMARY_UNREADABLE = "Berkas bukan PDF yang dapat dibaca; tidak ada tanda tangan elektronik"

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
    #: The NIP the signer's certificate names (its subject serialNumber).
    signer_nip: str | None = None
    #: When the time-stamping authority vouches the signature existed; None: no timestamp.
    timestamped_at: datetime | None = None
    #: The certificate's chain and the OCSP answers for it are in the PDF (PAdES B-LT).
    validation_data_embedded: bool = False

    @property
    def valid(self) -> bool:
        """Signed, unchanged since, and by a trusted signer: the akta can be relied on."""
        return self.signed and self.intact and self.trusted and self.covers_whole_document


@dataclass(frozen=True)
class PdfToSign:
    """One PDF of those signed together, with what its signature says."""

    pdf: bytes
    reason: str
    #: (x1, y1, x2, y2) in points for a visible stamp; None signs invisibly.
    field_box: tuple[float, float, float, float] | None = None


def sign_pdf(
    pdf: bytes,
    signer: signers.Signer,
    *,
    timestamper: TimeStamper,
    trust_root_pem: Path,
    field_box: tuple[float, float, float, float] | None = None,
    reason: str,
    location: str,
    signer_name: str,
    signed_at: datetime,
    reuse: SigningReuse | None = None,
) -> bytes:
    """The PDF with a PAdES B-LT signature in the "Pejabat" field on page 1 (`sign_pdfs`
    of one PDF)."""
    (signed,) = sign_pdfs(
        [PdfToSign(pdf, reason, field_box)],
        signer,
        timestamper=timestamper,
        trust_root_pem=trust_root_pem,
        location=location,
        signer_name=signer_name,
        signed_at=signed_at,
        reuse=reuse,
    )
    return signed


def sign_pdfs(
    pdfs: Sequence[PdfToSign],
    signer: signers.Signer,
    *,
    timestamper: TimeStamper,
    trust_root_pem: Path,
    location: str,
    signer_name: str,
    signed_at: datetime,
    reuse: SigningReuse | None = None,
) -> list[bytes]:
    """Each PDF with its own PAdES B-LT signature in the "Pejabat" field on page 1, signed
    concurrently: a `RemoteSigner` sends their hashes in one call, and their timestamps
    are asked at the same time. Each gets its own signature, timestamp and validation data.

    :param signer: makes the raw signatures (the signing service's `RemoteSigner`).
    :param timestamper: the time-stamping authority whose token each signature carries.
    :param trust_root_pem: the CA the signer's chain ends in; the chain and its OCSP
        answers are fetched (from the certificates' responders) and embedded.
    :param signed_at: the time the stamps show (with its zone, e.g. WIB).
    :param reuse: what the signatures of a batch share (`SigningServiceClient.reuse`): the
        OCSP answers fetched, and the room the first signature took; None: all anew.
    :raises pyhanko.pdf_utils.misc.PdfReadError: a PDF is not readable.
    :raises pyhanko.sign.general.SigningError: the field is already signed, or the
        chain or its revocation answers could not be had.
    """
    if signed_at.tzinfo is None:
        raise ValueError("signed_at must carry a time zone")
    if reuse is not None:
        fetchers = reuse.fetchers
    else:
        # One plain request per OCSP answer: nothing stays open after signing (the
        # default aiohttp session would outlive the event loop each signature runs in).
        fetchers = RequestsFetcherBackend(per_request_timeout=10).get_fetchers()
    validation_context = ValidationContext(
        trust_roots=[load_cert_from_pemder(str(trust_root_pem))],
        allow_fetching=True,
        revocation_mode="hard-fail",
        # The context's moment is its creation; the OCSP answer is made after it, more
        # than pyHanko's default second later on a busy machine ("too recent").
        time_tolerance=timedelta(minutes=1),
        fetchers=fetchers,
    )
    certificate = signer.signing_cert.sha256 if signer.signing_cert else b""
    room = reuse.rooms.get(certificate) if reuse is not None else None

    def session_for(to_sign: PdfToSign) -> tuple[IncrementalPdfFileWriter, PdfSigningSession]:
        pdf_signer = _PdfSignerAt(
            signed_at,
            _metadata(to_sign.reason, location, signer_name, validation_context),
            signer,
            timestamper=timestamper,
            new_field_spec=fields.SigFieldSpec(
                SIGNATURE_FIELD, on_page=0, box=_rounded(to_sign.field_box)
            ),
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(to_sign.pdf))
        return writer, pdf_signer.init_signing_session(writer)

    async def one(
        writer: IncrementalPdfFileWriter,
        session: PdfSigningSession,
        validation: PreSignValidationStatus,
    ) -> bytes:
        # pyHanko's PdfSigner.async_sign_pdf, step by step (its interrupted-signing API),
        # with the validation made once for the signer.
        reserved = room or await session.estimate_signature_container_size(validation)
        document = session.prepare_tbs_document(validation, bytes_reserved=reserved)
        buffer = io.BytesIO()
        digested, output = document.digest_tbs_document(output=buffer)
        signed = await document.perform_signature(
            digested.document_digest, PdfCMSSignedAttributes(signing_time=session.system_time)
        )
        await signed.post_signature_processing(output)
        return buffer.getvalue()

    async def all_of_them() -> list[bytes]:
        try:
            sessions = [session_for(to_sign) for to_sign in pdfs]
            validation = await _signer_validation(sessions[0], certificate, reuse)
            return list(
                await asyncio.gather(
                    *(one(writer, session, validation) for writer, session in sessions)
                )
            )
        finally:
            await validation_context.aclose()

    together = signer.together(len(pdfs)) if isinstance(signer, RemoteSigner) else nullcontext()
    with together:
        signed = asyncio.run(all_of_them())
    if reuse is not None and room is None:
        reuse.rooms[certificate] = signature_room(signed[0])
    return signed


async def _signer_validation(
    first: tuple[IncrementalPdfFileWriter, PdfSigningSession],
    certificate: bytes,
    reuse: SigningReuse | None,
) -> PreSignValidationStatus:
    """The signer's chain validated with its OCSP answers, and the TSA's: what the
    signature's validation data is made of, the same for every PDF the signer signs
    while the OCSP answers are kept (`reuse`), as long as every certificate is valid."""
    kept = reuse.validations.get(certificate) if reuse is not None else None
    if kept is not None and _still_valid(kept):
        return kept
    writer, session = first
    validation = await session.perform_presign_validation(writer)
    if validation is None:  # pyHanko returns None only without a validation context
        raise ValueError("signing needs a validation context")
    if reuse is not None:
        reuse.validations[certificate] = validation
    return validation


def _still_valid(validation: PreSignValidationStatus) -> bool:
    now = datetime.now(UTC)
    return all(
        certificate.not_valid_before <= now < certificate.not_valid_after
        for path in validation.validation_paths
        for certificate in path.iter_certs(include_root=True)
    )


def _metadata(
    reason: str, location: str, signer_name: str, validation_context: ValidationContext
) -> signers.PdfSignatureMetadata:
    return signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
        name=signer_name,
        embed_validation_info=True,
        # The chain's and the TSA's validation data go in the signature's own revision (both
        # are fetched before signing): one incremental write instead of two, B-LT as before.
        dss_settings=DSSContentSettings(
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE,
            include_vri=False,
        ),
        validation_context=validation_context,
    )


def _rounded(
    box: tuple[float, float, float, float] | None,
) -> tuple[int, int, int, int] | None:
    if box is None:
        return None
    x1, y1, x2, y2 = (round(value) for value in box)
    return (x1, y1, x2, y2)


def signature_room(pdf: bytes) -> int:
    """The bytes reserved for the (first) signature's /Contents: the gap its /ByteRange
    leaves, less the hex string's two delimiters."""
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+\d+\s*\]", pdf)
    if found is None:
        raise ValueError("no signature in the PDF")
    start, length, second = (int(number) for number in found.groups())
    return second - (start + length) - 2


def validate_pdf(pdf: bytes, trust_root_pem: Path, at: datetime | None = None) -> AktaValidation:
    """Check a PDF's signature against `trust_root_pem`, as of `at` (default now), offline.

    The signer's certificate is judged at `at` with the validation data the PDF carries; a
    certificate no longer valid then (expired, its OCSP answer stale) is judged at the time
    the signature's timestamp vouches for, when the timestamp itself is trusted at `at`.
    Any damage is a verdict, not an error; only an unreadable `trust_root_pem` raises.
    """
    root = load_cert_from_pemder(str(trust_root_pem))
    try:
        reader = PdfFileReader(io.BytesIO(pdf))
        embedded = reader.embedded_regular_signatures
        if not embedded:
            return _unsigned(pdf)
        embedded_data = "/DSS" in reader.root
        status = validate_pdf_signature(embedded[0], _context(reader, root, at))
        if status.intact and not status.trusted:
            status = _as_of_timestamp(embedded[0], reader, root, at) or status
    except Exception:  # a damaged file fails anywhere in the parser, with any error type
        logger.info("could not read the signature of a PDF", exc_info=True)
        return _unsigned(pdf)
    # Bytes after the last revision's end are no revision at all: nothing may hide there.
    trailing = pdf[pdf.rfind(b"%%EOF") + len(b"%%EOF") :].strip()
    return _verdict(status, embedded_data, ends_at_last_revision=not trailing)


def _as_of_timestamp(
    signature: EmbeddedPdfSignature,
    reader: PdfFileReader,
    root: asn1_x509.Certificate,
    at: datetime | None,
) -> PdfSignatureStatus | None:
    """The signature judged when its timestamp says it was made, if the timestamp holds at
    `at`: its chain then, its revocation answers possibly stale (they were checked when
    the signature was made, and the time-stamping unit's certificate outlives officers')."""
    stamp = validate_pdf_signature(
        signature, _context(reader, root, at, revocation=False)
    ).timestamp_validity
    if stamp is None or not (stamp.intact and stamp.valid and stamp.trusted):
        return None
    then = validate_pdf_signature(signature, _context(reader, root, stamp.timestamp))
    return then if then.trusted else None


def _context(
    reader: PdfFileReader,
    root: asn1_x509.Certificate,
    at: datetime | None,
    *,
    revocation: bool = True,
) -> ValidationContext:
    """Offline: the trust root and what the document security store holds, nothing fetched.

    :param revocation: judge on the embedded OCSP answers; without, on the chain alone.
    """
    if "/DSS" not in reader.root:
        # An akta signed before timestamps carries no revocation answers: it is judged
        # on its chain alone.
        return ValidationContext(
            trust_roots=[root], moment=at, allow_fetching=False, revocation_mode="soft-fail"
        )
    dss = DocumentSecurityStore.read_dss(reader)
    if not revocation:
        return ValidationContext(
            trust_roots=[root],
            moment=at,
            allow_fetching=False,
            other_certs=list(dss.load_certs()),
            revocation_mode="soft-fail",
        )
    return dss.as_validation_context(
        {
            "trust_roots": [root],
            "moment": at,
            "allow_fetching": False,
            "revocation_mode": "hard-fail",
            # The OCSP answer is fetched a moment after the time the timestamp records.
            "retroactive_revinfo": True,
        }
    )


class _PdfSignerAt(signers.PdfSigner):
    """A pyHanko PdfSigner whose stamp shows a given signing time instead of the clock's."""

    def __init__(
        self,
        signed_at: datetime,
        metadata: signers.PdfSignatureMetadata,
        signer: signers.Signer,
        *,
        timestamper: TimeStamper,
        new_field_spec: fields.SigFieldSpec,
    ) -> None:
        super().__init__(
            metadata,
            signer,
            timestamper=timestamper,
            stamp_style=_STAMP,
            new_field_spec=new_field_spec,
        )
        self._signed_at = signed_at

    def init_signing_session(
        self, pdf_out: BasePdfFileWriter, existing_fields_only: bool = False
    ) -> PdfSigningSession:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        # pyHanko takes the clock's time here (/M and the stamp) and has no parameter for it.
        session.system_time = self._signed_at
        return session


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


def _verdict(
    status: PdfSignatureStatus, embedded_data: bool, *, ends_at_last_revision: bool
) -> AktaValidation:
    intact = bool(status.intact and status.valid)
    # After a B-LT signature comes one more revision: the validation data (DSS) it adds.
    covers_whole_document = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level is not None
        and status.modification_level <= ModificationLevel.LTA_UPDATES
        and ends_at_last_revision
    )
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
        signer_nip=_subject(status.signing_cert, "serial_number"),
        timestamped_at=stamp.timestamp if (stamp := status.timestamp_validity) else None,
        validation_data_embedded=embedded_data,
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
    return _subject(certificate, "common_name")


def _subject(certificate: asn1_x509.Certificate, attribute: str) -> str | None:
    value = certificate.subject.native.get(attribute)
    return value if isinstance(value, str) else None
