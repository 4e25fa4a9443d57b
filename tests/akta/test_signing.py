"""Signing the akta PDF through the signing service (PAdES B-LT), and catching any change."""

from __future__ import annotations

import asyncio
import io
import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from reportlab.pdfgen import canvas

from akta_service.akta import signing
from akta_service.akta.signing import AktaValidation, sign_pdf, validate_pdf
from akta_service.signing.client import SigningServiceClient
from tests.conftest import SIGNING_OFFICERS
from tests.services import SigningServer

OFFICER = SIGNING_OFFICERS["pj1"]
WIB = ZoneInfo("Asia/Jakarta")
STAMP_BOX = (330.0, 60.0, 560.0, 130.0)


def akta_pdf() -> bytes:
    """A one-page certificate with its text left uncompressed, so tests can aim at it."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0)
    page.setFont("Helvetica-Bold", 16)
    page.drawString(150, 760, "KUTIPAN AKTA KELAHIRAN")
    page.setFont("Helvetica", 12)
    page.drawString(72, 700, "Nama anak: SITI AMINAH")
    page.drawString(72, 680, "Tanggal lahir: 1 November 2026")
    page.showPage()
    page.save()
    return buffer.getvalue()


@pytest.fixture(scope="module")
def trust_root(signing_server: SigningServer) -> Path:
    return signing_server.trust_root()


@pytest.fixture(scope="module")
def sign(signing_server: SigningServer, trust_root: Path) -> Iterator[Callable[..., bytes]]:
    """Sign a PDF through the signing service with the officer's own key."""
    with SigningServiceClient(signing_server.url) as client:

        def signed(pdf: bytes, **options: Any) -> bytes:
            authorisation = client.authorise(OFFICER.nik, OFFICER.passphrase)
            return sign_pdf(
                pdf,
                client.signer(OFFICER.nik, authorisation),
                timestamper=client.timestamper(),
                trust_root_pem=trust_root,
                reason="Pengesahan Kutipan Akta Kelahiran",
                location="Kota Cirebon",
                signer_name=OFFICER.name,
                **{"signed_at": datetime.now(WIB), **options},
            )

        yield signed


def signed_ranges(pdf: bytes) -> tuple[range, range]:
    """The two byte ranges the signature covers (all but the signature value)."""
    found = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert found is not None
    start1, length1, start2, length2 = (int(number) for number in found.groups())
    return range(start1, start1 + length1), range(start2, start2 + length2)


def flipped(pdf: bytes, offset: int) -> bytes:
    changed = bytearray(pdf)
    changed[offset] ^= 0x01
    return bytes(changed)


def assert_changed(result: AktaValidation) -> None:
    assert not result.intact
    assert not result.valid
    assert "diubah" in result.summary


@pytest.fixture(scope="module")
def signed_at() -> datetime:
    # The PDF records whole seconds.
    return datetime.now(WIB).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture(scope="module")
def signed_akta(sign: Callable[..., bytes], signed_at: datetime) -> bytes:
    return sign(akta_pdf(), field_box=STAMP_BOX, signed_at=signed_at)


def test_signed_akta_is_valid(signed_akta: bytes, trust_root: Path, signed_at: datetime) -> None:
    result = validate_pdf(signed_akta, trust_root)

    assert result.valid
    assert (result.signer, result.signer_nip) == (OFFICER.name, OFFICER.nip)
    assert result.signed_at == signed_at
    assert result.summary == "Tanda tangan sah dan dokumen utuh"
    assert result.timestamped_at is not None
    assert result.validation_data_embedded


def test_signature_is_pades_and_carries_the_chain(signed_akta: bytes) -> None:
    (embedded,) = PdfFileReader(io.BytesIO(signed_akta)).embedded_signatures

    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    subjects = {
        cert.chosen.subject.native["common_name"] for cert in embedded.signed_data["certificates"]
    }
    assert OFFICER.name in subjects
    assert any(subject.startswith("Demo CA") for subject in subjects)


def test_each_signature_signs_its_own_digest_with_the_attributes_pyhanko_makes(
    sign: Callable[..., bytes], trust_root: Path, signing_server: SigningServer
) -> None:
    """The attributes besides the digest are made once per certificate and reused: the
    second akta's must be byte for byte those pyHanko itself makes for its digest."""
    first, second = (sign(akta_pdf()), sign(akta_pdf(), field_box=STAMP_BOX))
    infos = [
        PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0].signer_info for pdf in (first, second)
    ]
    with SigningServiceClient(signing_server.url) as client:
        remote = client.signer(OFFICER.nik, client.authorise(OFFICER.nik, OFFICER.passphrase))
        made_by_pyhanko = asyncio.run(
            signers.Signer.signed_attrs(
                remote,
                _message_digest(infos[1]),
                "sha256",
                attr_settings=PdfCMSSignedAttributes(signing_time=datetime.now(WIB)),
                use_pades=True,
            )
        )

    assert _message_digest(infos[0]) != _message_digest(infos[1])
    assert infos[0]["signature"].native != infos[1]["signature"].native
    assert sorted(a.dump() for a in infos[1]["signed_attrs"]) == sorted(
        a.dump() for a in made_by_pyhanko
    )
    assert all(validate_pdf(pdf, trust_root).valid for pdf in (first, second))


def _message_digest(signer_info: Any) -> bytes:
    (digest,) = (
        attribute["values"][0].native
        for attribute in signer_info["signed_attrs"]
        if attribute["type"].native == "message_digest"
    )
    return bytes(digest)


def _signature_rect(pdf: bytes) -> list[float]:
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    widgets = [annot.get_object() for annot in page["/Annots"]]
    (widget,) = [w for w in widgets if w.get("/T") == signing.SIGNATURE_FIELD]
    return [float(value) for value in widget["/Rect"]]


def test_signature_is_stamped_in_the_pejabat_box(signed_akta: bytes) -> None:
    assert _signature_rect(signed_akta) == list(STAMP_BOX)


def test_signature_without_a_box_is_invisible(sign: Callable[..., bytes], trust_root: Path) -> None:
    pdf = sign(akta_pdf())

    assert _signature_rect(pdf) == [0.0, 0.0, 0.0, 0.0]
    assert validate_pdf(pdf, trust_root).valid


def test_signing_time_must_have_a_zone(sign: Callable[..., bytes]) -> None:
    with pytest.raises(ValueError, match="time zone"):
        sign(akta_pdf(), signed_at=datetime(2026, 11, 22, 9, 0))


def _signed_end(pdf: bytes) -> int:
    """Where the signed revision ends (the validation data follow it)."""
    return signed_ranges(pdf)[1].stop


#: Where a forger would aim: the child's name, the first revision's trailer and xref,
#: the signature field and dictionary, and the bytes after the signature value.
POSITIONS: dict[str, Callable[[bytes], int]] = {
    "pdf-header": lambda pdf: 2,
    "page-text-title": lambda pdf: pdf.index(b"KUTIPAN AKTA") + 3,
    "page-text-child-name": lambda pdf: pdf.index(b"SITI AMINAH") + 1,
    "first-xref-entry": lambda pdf: pdf.index(b"xref") + 12,
    "first-trailer": lambda pdf: pdf.index(b"trailer") + 2,
    "first-startxref": lambda pdf: pdf.index(b"startxref") + 11,
    "acroform-key": lambda pdf: pdf.index(b"/AcroForm") + 2,
    "field-name": lambda pdf: pdf.index(b"(Pejabat)") + 2,
    "byterange-number": lambda pdf: pdf.index(b"/ByteRange [") + 14,
    "subfilter": lambda pdf: pdf.index(b"/ETSI.CAdES.detached") + 3,
    "signing-time": lambda pdf: pdf.index(b"/M (D") + 8,
    "signer-name": lambda pdf: pdf.index(b"/Name (") + 8,
    "signed-revision-xref": lambda pdf: pdf.rindex(b"xref", 0, _signed_end(pdf)) + 10,
    "signed-revision-startxref": lambda pdf: pdf.rindex(b"startxref", 0, _signed_end(pdf)) + 11,
    "signed-revision-last-byte": lambda pdf: _signed_end(pdf) - 2,
}


@pytest.mark.parametrize("where", POSITIONS)
def test_changing_one_signed_byte_is_detected(
    signed_akta: bytes, trust_root: Path, where: str
) -> None:
    offset = POSITIONS[where](signed_akta)
    assert any(offset in covered for covered in signed_ranges(signed_akta))

    assert_changed(validate_pdf(flipped(signed_akta, offset), trust_root))


def test_changing_any_signed_byte_is_detected(signed_akta: bytes, trust_root: Path) -> None:
    offsets = [offset for covered in signed_ranges(signed_akta) for offset in covered[5::89]]
    missed = []
    for offset in offsets:
        result = validate_pdf(flipped(signed_akta, offset), trust_root)
        if result.intact or "diubah" not in result.summary:
            missed.append((offset, signed_akta[offset - 10 : offset + 10], result.summary))

    assert len(offsets) > 50
    assert missed == []


def test_changed_signature_value_is_detected(signed_akta: bytes, trust_root: Path) -> None:
    first, _second = signed_ranges(signed_akta)
    offset = first.stop + 41  # in the hex of the CMS structure, past "<"
    changed = bytearray(signed_akta)
    changed[offset] = ord("0") if changed[offset] != ord("0") else ord("1")

    assert_changed(validate_pdf(bytes(changed), trust_root))


def test_appended_bytes_are_detected(signed_akta: bytes, trust_root: Path) -> None:
    result = validate_pdf(signed_akta + b"\n% catatan tambahan\n", trust_root)

    assert result.intact
    assert not result.covers_whole_document
    assert not result.valid
    assert result.summary == signing.SUMMARY_CHANGED


def test_incremental_update_of_the_page_is_detected(signed_akta: bytes, trust_root: Path) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_akta))
    overlay = generic.StreamObject(stream_data=b"q 1 1 1 rg 70 695 200 20 re f Q")
    writer.add_stream_to_page(0, writer.add_object(overlay))
    output = io.BytesIO()
    writer.write(output)

    result = validate_pdf(output.getvalue(), trust_root)

    assert result.signed
    assert not result.covers_whole_document
    assert not result.valid
    assert result.summary == signing.SUMMARY_CHANGED


def test_unsigned_pdf_has_no_signature(trust_root: Path) -> None:
    result = validate_pdf(akta_pdf(), trust_root)

    assert not result.signed
    assert not result.valid
    assert result.signer is None
    assert result.summary == signing.SUMMARY_UNSIGNED


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param(b"", id="empty"),
        pytest.param(random.Random(2026).randbytes(8192), id="random-bytes"),
        pytest.param(b"%PDF-1.7\n" + random.Random(7).randbytes(2048), id="pdf-header-only"),
        pytest.param(b"Akta Kelahiran" * 100, id="text"),
    ],
)
def test_garbage_is_not_signed(garbage: bytes, trust_root: Path) -> None:
    result = validate_pdf(garbage, trust_root)

    assert not result.signed
    assert not result.valid
    assert result.summary
