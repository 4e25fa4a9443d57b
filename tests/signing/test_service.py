"""The sandbox signing service as a real subprocess with the officers' keys in SoftHSM2:
PAdES B-LT signatures by the officer's own key, checked by pyHanko and by poppler's
pdfsig; wrong passphrases, the lock after five, unlocking; missing tokens at start-up."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from pyhanko.pdf_utils.misc import PdfReadError
from reportlab.pdfgen import canvas

from akta_service.akta.signing import (
    PdfToSign,
    sign_pdf,
    sign_pdfs,
    signature_room,
    validate_pdf,
)
from akta_service.signing.client import (
    Authorisation,
    RemoteSigner,
    SigningReuse,
    SigningServiceClient,
    SigningServiceError,
)
from tests.services import (
    BIN,
    SOFTHSM2_MODULE,
    SigningOfficer,
    SigningServer,
    enrol,
    free_port,
    require_softhsm,
    signing_env,
    spawn,
    start_signing_service,
    stop,
)

WIB = ZoneInfo("Asia/Jakarta")
BAMBANG = SigningOfficer(
    nik="3274010101700001",
    nip="197001011990031001",
    name="Drs. Bambang Sutrisno, M.Si.",
    passphrase="ttd-bambang-2026",
)
RINA = SigningOfficer(
    nik="3274014202800002",
    nip="198002022005012002",
    name="Rina Kartika, S.Sos.",
    passphrase="ttd-rina-2026",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningServer]:
    require_softhsm()
    started = start_signing_service(
        tmp_path_factory.mktemp("signing") / "service", (BAMBANG, RINA), token="softhsm"
    )
    yield started
    stop(started.process)


@pytest.fixture
def client(server: SigningServer) -> Iterator[SigningServiceClient]:
    with SigningServiceClient(server.url) as connection:
        yield connection


def one_page() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0)
    page.drawString(72, 700, "KUTIPAN AKTA KELAHIRAN - Nama anak: SITI AMINAH")
    page.showPage()
    page.save()
    return buffer.getvalue()


def signed_by(
    client: SigningServiceClient,
    server: SigningServer,
    officer: SigningOfficer,
    authorisation: Authorisation | None = None,
    reuse: SigningReuse | None = None,
) -> bytes:
    authorisation = authorisation or client.authorise(officer.nik, officer.passphrase)
    return sign_pdf(
        one_page(),
        client.signer(officer.nik, authorisation),
        timestamper=client.timestamper(),
        trust_root_pem=server.trust_root(),
        field_box=(330, 60, 560, 130),
        reason="Kutipan Akta Kelahiran 3274-LU-01122026-0001",
        location="Cirebon",
        signer_name=officer.name,
        signed_at=datetime.now(WIB),
        reuse=reuse,
    )


@pytest.fixture(scope="module")
def signed(server: SigningServer) -> bytes:
    with SigningServiceClient(server.url) as connection:
        return signed_by(connection, server, BAMBANG)


def test_signature_is_the_officers_with_timestamp_and_validation_data(
    server: SigningServer, signed: bytes
) -> None:
    result = validate_pdf(signed, server.trust_root())

    assert result.valid, result.summary
    assert result.summary == "Tanda tangan sah dan dokumen utuh"
    assert result.signer == BAMBANG.name
    assert result.signer_nip == BAMBANG.nip
    assert result.timestamped_at is not None
    assert abs(result.timestamped_at - datetime.now(UTC)) < timedelta(minutes=10)
    assert result.validation_data_embedded  # chain and OCSP answers: PAdES B-LT


def test_the_certificate_names_the_officer_and_their_nip(
    client: SigningServiceClient,
) -> None:
    credential = client.credential(RINA.nik)

    subject = credential.certificate.subject.native
    assert subject["common_name"] == RINA.name
    assert subject["serial_number"] == RINA.nip
    assert credential.chain[0].subject.native["common_name"].startswith("Demo CA")


def test_still_valid_after_the_officers_certificate_expired(
    server: SigningServer, signed: bytes, client: SigningServiceClient
) -> None:
    certificate = x509.load_der_x509_certificate(client.credential(BAMBANG.nik).certificate.dump())
    after_expiry = certificate.not_valid_after_utc + timedelta(days=30)

    result = validate_pdf(signed, server.trust_root(), at=after_expiry)

    assert result.valid, result.summary
    assert result.signer == BAMBANG.name
    # Without the timestamp's word the signature would be judged then, and refused.
    assert result.timestamped_at is not None
    assert result.timestamped_at < after_expiry


def test_pdfsig_finds_the_signature_valid_and_names_the_officer(
    tmp_path: Path, signed: bytes
) -> None:
    path = tmp_path / "akta.pdf"
    path.write_bytes(signed)

    report = _pdfsig(path)

    assert "Signature Validation: Signature is Valid." in report
    assert f"Signer Certificate Common Name: {BAMBANG.name}" in report
    assert f"serialNumber={BAMBANG.nip}" in report
    assert "ETSI.CAdES.detached" in report


def test_a_tampered_pdf_fails_both_validators(
    server: SigningServer, signed: bytes, tmp_path: Path
) -> None:
    found = re.search(rb"SITI AMINAH", signed)
    assert found is not None
    tampered = signed.replace(b"SITI AMINAH", b"SITI AMINAX", 1)
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)

    result = validate_pdf(tampered, server.trust_root())

    assert not result.valid
    assert "diubah" in result.summary
    assert "Signature is Valid." not in _pdfsig(path)


def test_another_ca_is_not_trusted(signed: bytes, tmp_path: Path) -> None:
    from akta_service.signing.pki import DemoCA

    stranger = DemoCA(tmp_path / "other-ca", "http://127.0.0.1:9")
    root = tmp_path / "other.pem"
    root.write_bytes(stranger.certificate_pem)

    result = validate_pdf(signed, root)

    assert not result.valid
    assert "tidak dapat dipercaya" in result.summary


def test_wrong_passphrase_is_refused_saying_how_many_tries_are_left(
    server: SigningServer, client: SigningServiceClient
) -> None:
    with pytest.raises(SigningServiceError) as refused:
        client.authorise(RINA.nik, "bukan-passphrase-rina")

    assert refused.value.code == "passphrase_wrong"
    assert refused.value.attempts_left == 4
    # The right one clears the count.
    assert client.authorise(RINA.nik, RINA.passphrase).sad
    listing = server.command("officers").stdout
    assert f"{RINA.nip}  {RINA.name}  salah=0  aktif" in listing


def test_five_wrong_passphrases_lock_the_officer_until_an_admin_unlocks(
    server: SigningServer, client: SigningServiceClient
) -> None:
    codes = []
    for attempt in range(5):
        with pytest.raises(SigningServiceError) as refused:
            client.authorise(RINA.nik, f"salah-{attempt}-passphrase")
        codes.append(refused.value.code)
    assert codes == ["passphrase_wrong"] * 4 + ["signer_locked"]

    with pytest.raises(SigningServiceError) as still:
        client.authorise(RINA.nik, RINA.passphrase)  # even the right passphrase
    assert still.value.code == "signer_locked"
    assert "TERKUNCI" in server.command("officers").stdout

    unlocked = server.command("unlock", "--nip", RINA.nip)
    assert unlocked.returncode == 0, unlocked.stderr
    assert "dapat dipakai lagi" in unlocked.stdout
    assert client.authorise(RINA.nik, RINA.passphrase).sad


def test_an_authorisation_signs_once(client: SigningServiceClient) -> None:
    authorisation = client.authorise(BAMBANG.nik, BAMBANG.passphrase)
    digest = bytes(range(32))
    assert client.sign_hashes(BAMBANG.nik, authorisation.sad, [digest])

    with pytest.raises(SigningServiceError) as again:
        client.sign_hashes(BAMBANG.nik, authorisation.sad, [digest])
    assert again.value.code == "authorisation_used"
    with pytest.raises(SigningServiceError) as other:
        client.sign_hashes(
            RINA.nik, client.authorise(BAMBANG.nik, BAMBANG.passphrase).sad, [digest]
        )
    assert other.value.code == "authorisation_invalid"


def test_an_unknown_officer_is_refused(client: SigningServiceClient) -> None:
    with pytest.raises(SigningServiceError) as refused:
        client.authorise("3274019999990009", "apa-saja-passphrase")
    assert refused.value.code == "credential_unknown"


def test_a_missing_token_stops_start_up_naming_it(tmp_path: Path) -> None:
    require_softhsm()
    folder = tmp_path / "service"
    env = signing_env(folder, f"http://127.0.0.1:{free_port()}", "softhsm")
    assert enrol(env, BAMBANG).returncode == 0
    shutil.rmtree(folder / "tokens")
    (folder / "tokens").mkdir()

    output = _serve_until_exit(env)

    assert f"akta-{BAMBANG.nip}" in output
    assert BAMBANG.name in output
    assert "missing" in output


def test_softhsm_configured_but_not_installed_names_the_module(tmp_path: Path) -> None:
    env = signing_env(tmp_path / "service", f"http://127.0.0.1:{free_port()}", "softhsm")
    env["AKTA_SOFTHSM2_MODULE"] = str(tmp_path / "libsofthsm2.so")

    output = _serve_until_exit(env)

    assert f"PKCS#11 module {tmp_path / 'libsofthsm2.so'} not found" in output
    assert "softhsm2" in output


def test_without_softhsm_the_software_token_signs_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "service"
    started = start_signing_service(
        folder, (RINA,), token="auto", AKTA_SOFTHSM2_MODULE=str(tmp_path / "absent.so")
    )
    try:
        with SigningServiceClient(started.url) as connection:
            result = validate_pdf(signed_by(connection, started, RINA), started.trust_root())
    finally:
        output = stop(started.process)
    assert result.valid, result.summary
    assert result.signer == RINA.name
    assert "SoftHSM2 tidak terpasang" in output
    assert list((folder / "software-tokens").iterdir())
    assert RINA.passphrase not in output  # never logged
    for path in folder.rglob("*"):  # nor stored: the key file is encrypted with it
        assert not path.is_file() or RINA.passphrase.encode() not in path.read_bytes(), path


def _serve_until_exit(env: dict[str, str]) -> str:
    process = spawn([str(BIN / "akta"), "signing", "serve"], env)
    try:
        process.wait(timeout=60)
    finally:
        output = stop(process)
    assert process.returncode != 0
    return output


def _pdfsig(path: Path) -> str:
    result = subprocess.run(  # noqa: S603 - a fixed system tool
        [shutil.which("pdfsig") or "/usr/bin/pdfsig", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.stdout + result.stderr


def test_the_key_cannot_leave_the_officers_token(server: SigningServer) -> None:
    import os

    import pkcs11
    from pkcs11 import Attribute, ObjectClass

    os.environ["SOFTHSM2_CONF"] = str(server.folder / "softhsm2.conf")
    library = pkcs11.lib(os.environ.get("AKTA_SOFTHSM2_MODULE", SOFTHSM2_MODULE))
    library.reinitialize()
    token = library.get_token(token_label=f"akta-{BAMBANG.nip}")
    with token.open(user_pin=BAMBANG.passphrase) as session:
        key = session.get_key(object_class=ObjectClass.PRIVATE_KEY)
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.EXTRACTABLE] is False
    with pytest.raises(pkcs11.exceptions.PinIncorrect):
        token.open(user_pin="bukan-passphrase")
    for path in server.folder.rglob("*"):
        assert not path.is_file() or BAMBANG.passphrase.encode() not in path.read_bytes(), path


def test_hashes_signed_at_once_from_several_workers_all_come_back(
    signing_server: SigningServer,
) -> None:
    """Issue steps run side by side (the in-process runner has four workers): the token
    signs every one of their hashes, none refused."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import SIGNING_OFFICERS

    officer = SIGNING_OFFICERS["pj1"]
    with SigningServiceClient(signing_server.url) as client:
        authorisation = client.authorise(officer.nik, officer.passphrase, 16)

    def sign(index: int) -> int:
        with SigningServiceClient(signing_server.url) as own:
            digest = hashlib.sha256(f"akta {index}".encode()).digest()
            (signature,) = own.sign_hashes(officer.nik, authorisation.sad, [digest])
            return len(signature)

    with ThreadPoolExecutor(max_workers=8) as pool:
        lengths = list(pool.map(sign, range(16)))
    assert all(60 <= length <= 72 for length in lengths)  # 16 DER ECDSA signatures


def _embedded_ocsp_answers(pdf: bytes) -> list[bytes]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation.dss import DocumentSecurityStore

    dss = DocumentSecurityStore.read_dss(PdfFileReader(io.BytesIO(pdf)))
    return sorted(reference.get_object().data for reference in dss.ocsps)


def test_akta_of_a_batch_share_the_ocsp_answers_each_with_its_own_timestamp(
    server: SigningServer, client: SigningServiceClient, tmp_path: Path
) -> None:
    authorisation = client.authorise(BAMBANG.nik, BAMBANG.passphrase, signatures=3)

    def signed(reuse: SigningReuse) -> bytes:
        return signed_by(client, server, BAMBANG, authorisation, reuse)

    first, second = signed(client.reuse()), signed(client.reuse())
    client.forget_reuse()
    third = signed(client.reuse())

    # The officer's and the TSA's OCSP answers, fetched once, are in both (PAdES B-LT) ...
    assert len(_embedded_ocsp_answers(first)) == 2
    assert _embedded_ocsp_answers(first) == _embedded_ocsp_answers(second)
    # ... asked anew once forgotten (each answer carries its request's nonce).
    assert _embedded_ocsp_answers(third) != _embedded_ocsp_answers(first)
    # The second took the room the first signature measured, not a dry-run estimate.
    assert signature_room(second) == signature_room(first)
    certificate = x509.load_der_x509_certificate(client.credential(BAMBANG.nik).certificate.dump())
    stamps = set()
    for pdf in (first, second, third):
        now = validate_pdf(pdf, server.trust_root())
        later = validate_pdf(
            pdf, server.trust_root(), at=certificate.not_valid_after_utc + timedelta(days=30)
        )
        assert now.valid, now.summary
        assert later.valid, later.summary
        stamps.add(now.timestamped_at)
        # One incremental write: the signature and its validation data (DSS) together.
        assert pdf.count(b"%%EOF") == one_page().count(b"%%EOF") + 1
        path = tmp_path / "akta.pdf"
        path.write_bytes(pdf)
        assert "Signature Validation: Signature is Valid." in _pdfsig(path)
    assert len(stamps) == 3


def test_the_sandbox_tsa_answers_each_request_with_a_token_of_its_own(
    server: SigningServer,
) -> None:
    """Its tokens are built from parts encoded once: each still vouches for the request's
    own digest and nonce, with its own serial number, signed by the TSA's certificate."""
    import hashlib

    import httpx
    from asn1crypto import tsp
    from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.hashes import SHA256
    from cryptography.x509 import load_der_x509_certificate
    from pyhanko.sign.timestamps.api import TimeStamper

    answers = []
    for text in (b"akta", b"kia"):
        nonce, request = TimeStamper().request_cms(hashlib.sha256(text).digest(), "sha256")
        response = httpx.post(
            f"{server.url}/tsa",
            content=request.dump(),
            headers={"Content-Type": "application/timestamp-query"},
        )
        assert response.headers["Content-Type"] == "application/timestamp-reply"
        answer = tsp.TimeStampResp.load(response.content)
        assert answer["status"]["status"].native == "granted"
        signed_data = answer["time_stamp_token"]["content"]
        info = signed_data["encap_content_info"]["content"].parsed
        assert info["nonce"].native == nonce
        assert info["message_imprint"]["hashed_message"].native == hashlib.sha256(text).digest()
        (signer,) = signed_data["signer_infos"]
        serial = signer["sid"].chosen["serial_number"].native
        (tsa,) = (c.chosen for c in signed_data["certificates"] if c.chosen.serial_number == serial)
        assert "TSA" in tsa.subject.native["common_name"]
        attributes = signer["signed_attrs"].untag().dump()
        key = load_der_x509_certificate(tsa.dump()).public_key()
        assert isinstance(key, RSAPublicKey)
        key.verify(signer["signature"].native, attributes, PKCS1v15(), SHA256())  # or raises
        answers.append(info["serial_number"].native)
    assert answers[0] != answers[1]


def test_a_signature_the_kept_certificate_does_not_verify_is_refused(
    server: SigningServer, client: SigningServiceClient
) -> None:
    """As if the officer re-enrolled (a new key) while the old chain was still kept."""
    authorisation = client.authorise(BAMBANG.nik, BAMBANG.passphrase)
    stale = RemoteSigner(client, BAMBANG.nik, authorisation, client.credential(RINA.nik))

    with pytest.raises(SigningServiceError) as refused:
        sign_pdf(
            one_page(),
            stale,
            timestamper=client.timestamper(),
            trust_root_pem=server.trust_root(),
            reason="Kutipan Akta Kelahiran",
            location="Cirebon",
            signer_name=BAMBANG.name,
            signed_at=datetime.now(WIB),
        )

    assert refused.value.code == "signing_certificate_mismatch"


class _CountingClient(SigningServiceClient):
    """The real client, counting the signHash calls it makes."""

    sign_calls = 0

    def sign_hashes(self, nik: str, sad: str, digests: list[bytes]) -> list[bytes]:
        self.sign_calls += 1
        return super().sign_hashes(nik, sad, digests)


def _sign_together(
    client: SigningServiceClient, server: SigningServer, pdfs: list[bytes], signatures: int
) -> list[bytes]:
    authorisation = client.authorise(BAMBANG.nik, BAMBANG.passphrase, signatures)
    return sign_pdfs(
        [PdfToSign(pdf, f"Dokumen {number}") for number, pdf in enumerate(pdfs)],
        client.signer(BAMBANG.nik, authorisation),
        timestamper=client.timestamper(),
        trust_root_pem=server.trust_root(),
        location="Cirebon",
        signer_name=BAMBANG.name,
        signed_at=datetime.now(WIB),
    )


def test_the_pdfs_of_one_report_are_signed_in_one_call_each_with_its_own_signature(
    server: SigningServer,
) -> None:
    with _CountingClient(server.url) as client:
        akta, card = _sign_together(client, server, [one_page(), one_page()], signatures=2)

        assert client.sign_calls == 1
    for pdf in (akta, card):
        result = validate_pdf(pdf, server.trust_root())
        assert result.valid, result.summary
        assert result.signer_nip == BAMBANG.nip
        assert result.timestamped_at is not None
        assert result.validation_data_embedded  # chain and OCSP answers: PAdES B-LT
    assert _contents(akta) != _contents(card)  # two signatures, none reused


def test_a_pdf_that_cannot_be_signed_fails_its_fellows_without_spending_a_signature(
    server: SigningServer, client: SigningServiceClient
) -> None:
    authorisation = client.authorise(BAMBANG.nik, BAMBANG.passphrase, 2)
    signer = client.signer(BAMBANG.nik, authorisation)

    with pytest.raises(PdfReadError):
        sign_pdfs(
            [PdfToSign(one_page(), "Akta"), PdfToSign(b"not a pdf", "KIA")],
            signer,
            timestamper=client.timestamper(),
            trust_root_pem=server.trust_root(),
            location="Cirebon",
            signer_name=BAMBANG.name,
            signed_at=datetime.now(WIB),
        )

    # The authorisation still signs both once the report's PDFs are whole again.
    again = client.signer(BAMBANG.nik, authorisation)
    signed = sign_pdfs(
        [PdfToSign(one_page(), "Akta"), PdfToSign(one_page(), "KIA")],
        again,
        timestamper=client.timestamper(),
        trust_root_pem=server.trust_root(),
        location="Cirebon",
        signer_name=BAMBANG.name,
        signed_at=datetime.now(WIB),
    )
    assert all(validate_pdf(pdf, server.trust_root()).valid for pdf in signed)


def _contents(pdf: bytes) -> bytes:
    found = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", pdf)
    assert found is not None
    return found.group(1)
