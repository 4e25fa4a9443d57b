"""Signing the akta PDF: the demo PKI, PAdES signatures, and catching any change."""

from __future__ import annotations

import functools
import io
import random
import re
import socket
import stat
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen import canvas

from akta_service.akta import signing
from akta_service.akta.signing import (
    AktaValidation,
    SigningIdentity,
    ensure_demo_pki,
    sign_pdf,
    validate_pdf,
)

OFFICER = "Drs. Budi Santoso, M.Si."
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


def sign(pdf: bytes, identity: SigningIdentity, **options: Any) -> bytes:
    return sign_pdf(
        pdf,
        identity,
        reason="Pengesahan Kutipan Akta Kelahiran",
        location="Kota Cirebon",
        signer_name=OFFICER,
        **options,
    )


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


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Signing and checking work offline: no timestamp server, OCSP or CRL is contacted."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("signing code tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture(scope="module")
def pki_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki") / "signing"


@pytest.fixture(scope="module")
def identity(pki_folder: Path) -> SigningIdentity:
    return ensure_demo_pki(pki_folder, "3274", "Kota Cirebon", OFFICER)


@pytest.fixture(scope="module")
def signed_at() -> datetime:
    # The PDF records whole seconds.
    return datetime.now(WIB).replace(microsecond=0) - timedelta(minutes=5)


@pytest.fixture(scope="module")
def signed_akta(identity: SigningIdentity, signed_at: datetime) -> bytes:
    return sign(akta_pdf(), identity, field_box=STAMP_BOX, signed_at=signed_at)


def test_demo_pki_is_created_once(pki_folder: Path, identity: SigningIdentity) -> None:
    before = {path.name: path.read_bytes() for path in pki_folder.iterdir()}

    again = ensure_demo_pki(pki_folder, "3274", "Kota Cirebon", "Pejabat Lain")

    assert again == identity
    assert {path.name: path.read_bytes() for path in pki_folder.iterdir()} == before


def test_demo_pki_files_are_private(pki_folder: Path, identity: SigningIdentity) -> None:
    names = sorted(path.name for path in pki_folder.iterdir())

    assert names == ["demo-ca.key", "demo-ca.pem", "signing-3274.p12", "signing-3274.pass"]
    for path in pki_folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(pki_folder.stat().st_mode) == 0o700
    assert identity.passphrase not in repr(identity).encode()


def test_signing_certificate_names_officer_and_office(identity: SigningIdentity) -> None:
    root = x509.load_pem_x509_certificate(identity.trust_root_pem.read_bytes())
    _key, certificate, _chain = pkcs12.load_key_and_certificates(
        identity.pkcs12_path.read_bytes(), identity.passphrase
    )
    assert certificate is not None

    subject = certificate.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == OFFICER
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Dinas Kependudukan dan Pencatatan Sipil Kota Cirebon"
    )
    assert certificate.issuer == root.subject
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        signing.DEMO_CA_NAME
    )
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.content_commitment
    assert not usage.key_cert_sign


def test_a_second_region_shares_the_demo_ca(tmp_path: Path) -> None:
    cirebon = ensure_demo_pki(tmp_path, "3274", "Kota Cirebon", OFFICER)
    cilegon = ensure_demo_pki(tmp_path, "3672", "Kota Cilegon", "Hj. Ratna Dewi, S.H.")

    assert cilegon.trust_root_pem == cirebon.trust_root_pem
    assert cilegon.pkcs12_path != cirebon.pkcs12_path
    result = validate_pdf(sign(akta_pdf(), cilegon), cirebon.trust_root_pem)
    assert result.valid
    assert result.signer == "Hj. Ratna Dewi, S.H."


def _create_when_all_ready(barrier: threading.Barrier, folder: Path, officer: str) -> Any:
    barrier.wait()
    return ensure_demo_pki(folder, "3274", "Kota Cirebon", officer)


@pytest.mark.parametrize("attempt", range(5))
def test_racing_creators_agree_on_one_pki(tmp_path: Path, attempt: int) -> None:
    # Threads run the same write-then-link protocol that keeps processes apart,
    # without the seconds it takes to start interpreters.
    create = functools.partial(_create_when_all_ready, threading.Barrier(4), tmp_path)
    with ThreadPoolExecutor(max_workers=4) as pool:
        identities = list(pool.map(create, [f"Pejabat {n}" for n in range(4)]))

    assert all(found == identities[0] for found in identities)
    assert validate_pdf(sign(akta_pdf(), identities[0]), identities[0].trust_root_pem).valid
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "demo-ca.key",
        "demo-ca.pem",
        "signing-3274.p12",
        "signing-3274.pass",
    ]


def test_signed_akta_is_valid(
    signed_akta: bytes, identity: SigningIdentity, signed_at: datetime
) -> None:
    result = validate_pdf(signed_akta, identity.trust_root_pem)

    assert result == AktaValidation(
        signed=True,
        intact=True,
        trusted=True,
        covers_whole_document=True,
        signer=OFFICER,
        signed_at=signed_at,
        summary="Tanda tangan sah dan dokumen utuh",
    )
    assert result.valid


def test_signature_is_pades_and_carries_the_chain(signed_akta: bytes) -> None:
    (embedded,) = PdfFileReader(io.BytesIO(signed_akta)).embedded_signatures

    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    subjects = {
        cert.chosen.subject.native["common_name"] for cert in embedded.signed_data["certificates"]
    }
    assert subjects == {OFFICER, signing.DEMO_CA_NAME}


def _signature_rect(pdf: bytes) -> list[float]:
    reader = PdfFileReader(io.BytesIO(pdf))
    page = reader.root["/Pages"]["/Kids"][0].get_object()
    widgets = [annot.get_object() for annot in page["/Annots"]]
    (widget,) = [w for w in widgets if w.get("/T") == signing.SIGNATURE_FIELD]
    return [float(value) for value in widget["/Rect"]]


def test_signature_is_stamped_in_the_pejabat_box(signed_akta: bytes) -> None:
    assert _signature_rect(signed_akta) == list(STAMP_BOX)


def test_signature_without_a_box_is_invisible(identity: SigningIdentity) -> None:
    pdf = sign(akta_pdf(), identity)

    assert _signature_rect(pdf) == [0.0, 0.0, 0.0, 0.0]
    assert validate_pdf(pdf, identity.trust_root_pem).valid


def test_signing_time_must_have_a_zone(identity: SigningIdentity) -> None:
    with pytest.raises(ValueError, match="time zone"):
        sign(akta_pdf(), identity, signed_at=datetime(2026, 11, 22, 9, 0))


def test_other_ca_is_not_trusted(signed_akta: bytes, tmp_path: Path) -> None:
    stranger = ensure_demo_pki(tmp_path, "3274", "Kota Cirebon", OFFICER)

    result = validate_pdf(signed_akta, stranger.trust_root_pem)

    assert result.intact
    assert not result.trusted
    assert not result.valid
    assert result.summary == signing.SUMMARY_UNTRUSTED


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
    "last-xref": lambda pdf: pdf.rindex(b"xref") + 10,
    "last-startxref": lambda pdf: pdf.rindex(b"startxref") + 11,
    "last-byte": lambda pdf: len(pdf) - 1,
}


@pytest.mark.parametrize("where", POSITIONS)
def test_changing_one_signed_byte_is_detected(
    signed_akta: bytes, identity: SigningIdentity, where: str
) -> None:
    offset = POSITIONS[where](signed_akta)
    assert any(offset in covered for covered in signed_ranges(signed_akta))

    assert_changed(validate_pdf(flipped(signed_akta, offset), identity.trust_root_pem))


def test_changing_any_signed_byte_is_detected(
    signed_akta: bytes, identity: SigningIdentity
) -> None:
    offsets = [offset for covered in signed_ranges(signed_akta) for offset in covered[5::89]]
    missed = []
    for offset in offsets:
        result = validate_pdf(flipped(signed_akta, offset), identity.trust_root_pem)
        if result.intact or "diubah" not in result.summary:
            missed.append((offset, signed_akta[offset - 10 : offset + 10], result.summary))

    assert len(offsets) > 50
    assert missed == []


def test_changed_signature_value_is_detected(signed_akta: bytes, identity: SigningIdentity) -> None:
    first, _second = signed_ranges(signed_akta)
    offset = first.stop + 41  # in the hex of the CMS structure, past "<"
    changed = bytearray(signed_akta)
    changed[offset] = ord("0") if changed[offset] != ord("0") else ord("1")

    assert_changed(validate_pdf(bytes(changed), identity.trust_root_pem))


def test_appended_bytes_are_detected(signed_akta: bytes, identity: SigningIdentity) -> None:
    result = validate_pdf(signed_akta + b"\n% catatan tambahan\n", identity.trust_root_pem)

    assert result.intact
    assert not result.covers_whole_document
    assert not result.valid
    assert result.summary == signing.SUMMARY_CHANGED


def test_incremental_update_of_the_page_is_detected(
    signed_akta: bytes, identity: SigningIdentity
) -> None:
    writer = IncrementalPdfFileWriter(io.BytesIO(signed_akta))
    overlay = generic.StreamObject(stream_data=b"q 1 1 1 rg 70 695 200 20 re f Q")
    writer.add_stream_to_page(0, writer.add_object(overlay))
    output = io.BytesIO()
    writer.write(output)

    result = validate_pdf(output.getvalue(), identity.trust_root_pem)

    assert result.signed
    assert not result.covers_whole_document
    assert not result.valid
    assert result.summary == signing.SUMMARY_CHANGED


def test_unsigned_pdf_has_no_signature(identity: SigningIdentity) -> None:
    result = validate_pdf(akta_pdf(), identity.trust_root_pem)

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
def test_garbage_is_not_signed(garbage: bytes, identity: SigningIdentity) -> None:
    result = validate_pdf(garbage, identity.trust_root_pem)

    assert not result.signed
    assert not result.valid
    assert result.summary
