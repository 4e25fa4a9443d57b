"""Issuing: sign -> 3-in-1 -> signed PDF stored -> issued; corrections; public verification."""

from __future__ import annotations

import copy
import hashlib
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from akta_service.accounts.models import User
from akta_service.akta import seal_keys
from akta_service.akta.models import AktaDocument, SigningAuthorisation
from akta_service.akta.operations import (
    ISSUE_JOB,
    SigningRefused,
    akta_pdf,
    authorise_issue,
    authorise_signature,
    correct_akta,
    current_akta,
    issue_akta,
    trust_root,
)
from akta_service.akta.signing import validate_pdf
from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db, utcnow
from akta_service.core.errors import GuardRefused, InvalidInput
from akta_service.core.nik import parse_nik
from akta_service.core.sweep import sweep
from akta_service.regions.models import Region
from akta_service.verification.client import HttpDukcapil
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.workflow.engine import fire
from tests.conftest import SIGNING_OFFICERS, changed_settings, sign_as
from tests.files import pdf_text
from tests.services import require_softhsm, softhsm_token

S = ReportStatus
INFORMANT = Actor(id="informant:web", name="Pelapor", role=Role.INFORMANT)


def _family(kind: str = "recorded", index: int = 0) -> dict[str, Any]:
    population = dukcapil().population  # type: ignore[attr-defined]
    return copy.deepcopy(population.sample_families(index + 1, kind, region="3274")[index])


def _signed(actors: dict[str, Actor], kind: str = "recorded", index: int = 0) -> BirthReport:
    payload = _family(kind, index)["example_report"]
    report = submit_birth_report(load_report_input(payload), Channel.WEB, INFORMANT)
    assert verify_report(report.id) == "pass_verification"
    fire(report, "approve", actors["operator"])
    sign_as(report)
    return report


def _text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    ("kind", "father_named", "phrase"),
    [
        ("recorded", True, None),
        ("unrecorded", True, "perkawinannya belum tercatat"),
        ("single_mother", False, "anak seorang ibu"),
    ],
)
def test_signing_issues_a_signed_akta_in_the_right_wording(
    app: Flask,
    officer: Region,
    actors: dict[str, Actor],
    kind: str,
    father_named: bool,
    phrase: str | None,
) -> None:
    report = _signed(actors, kind)
    db.session.commit()  # the signature commits: the issue step is queued after it
    assert (ISSUE_JOB, (report.id,)) in app.extensions["akta_jobs"].pending
    assert issue_akta(report.id) == "issued"
    db.session.flush()

    assert report.status == S.ISSUED
    assert report.child_nik is not None
    child = parse_nik(report.child_nik)
    assert child.matches_birth_date(report.child_birth_date)
    assert child.female == (str(report.child_sex) == "female")
    document = current_akta(report)
    assert document is not None
    assert document.version == 1
    pdf = akta_pdf(document)
    assert hashlib.sha256(pdf).hexdigest() == document.sha256

    text = _text(pdf)
    assert f"Berdasarkan Akta Kelahiran Nomor {report.registration_number}" in text
    assert report.child_name.upper() in text
    assert report.mother_name.upper() in text
    assert report.child_nik in text.replace(" ", "")
    assert (report.father_name is not None and report.father_name.upper() in text) == father_named
    if phrase:
        assert phrase in text
    assert "Pindai untuk memeriksa keaslian" in text

    validation = validate_pdf(pdf, trust_root("3274", app.config["AKTA_SETTINGS"]))
    assert validation.signed
    assert validation.intact
    assert validation.trusted
    assert validation.covers_whole_document
    assert validation.signer == "Pejabat pj1"  # the pejabat who signed, from the certificate

    tampered = bytearray(pdf)
    position = pdf.index(b"/Type /Page") if b"/Type /Page" in pdf else len(pdf) // 3
    tampered[position + 1] ^= 0x01
    broken = validate_pdf(bytes(tampered), trust_root("3274", app.config["AKTA_SETTINGS"]))
    assert not (broken.intact and broken.trusted and broken.covers_whole_document)


def test_the_akta_names_the_kab_kota_of_birth_and_keeps_the_facility_in_the_report(
    officer: Region, actors: dict[str, Actor]
) -> None:
    report = _signed(actors)
    report.child_birth_order = 2
    assert issue_akta(report.id) == "issued"
    document = current_akta(report)
    assert document is not None
    words = pdf_text(akta_pdf(document))
    printed = words
    # "Kota Cirebon" is written as the KTP writes a place of birth: CIREBON.
    assert "bahwa di CIREBON pada tanggal" in words
    assert "anak ke DUA, " in words
    assert report.child_birth_place not in printed
    assert report.child_birth_place.upper() not in printed
    assert report.child_birth_place == _family()["example_report"]["child"]["birth_place"]


def test_issuing_twice_issues_once(officer: Region, actors: dict[str, Actor]) -> None:
    report = _signed(actors)
    assert issue_akta(report.id) == "issued"
    assert issue_akta(report.id) == "not_waiting"
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AktaDocument)
        .where(AktaDocument.report_id == report.id)
    )
    assert count == 1


def test_dukcapil_down_at_issue_leaves_nothing_half_issued(
    app: Flask, officer: Region, actors: dict[str, Actor]
) -> None:
    report = _signed(actors)
    number = report.registration_number
    down = HttpDukcapil("http://127.0.0.1:9", attempts=1, connect_timeout=0.2, read_timeout=0.2)
    assert issue_akta(report.id, down) == "dukcapil_unavailable"
    db.session.refresh(report)
    assert report.status == S.REGISTERED
    assert report.registration_number == number
    assert report.child_nik is None
    assert current_akta(report) is None

    report.registered_at = utcnow() - timedelta(minutes=5)
    db.session.flush()
    app.extensions["akta_jobs"].pending.clear()
    assert sweep() >= 1
    db.session.commit()
    assert (ISSUE_JOB, (report.id,)) in app.extensions["akta_jobs"].pending
    assert issue_akta(report.id) == "issued"
    assert report.registration_number == number


def _user(actor: Actor) -> User:
    user = db.session.get(User, actor.user_id)
    assert user is not None
    return user


def _approved(actors: dict[str, Actor]) -> BirthReport:
    payload = _family()["example_report"]
    report = submit_birth_report(load_report_input(payload), Channel.WEB, INFORMANT)
    assert verify_report(report.id) == "pass_verification"
    fire(report, "approve", actors["operator"])
    return report


def test_the_akta_names_and_is_signed_by_the_pejabat_who_signed(
    app: Flask, officer: Region, actors: dict[str, Actor]
) -> None:
    report = _approved(actors)
    sign_as(report, "pj2")
    assert issue_akta(report.id) == "issued"

    document = current_akta(report)
    assert document is not None
    assert (document.signer_name, document.signer_nip) == (
        SIGNING_OFFICERS["pj2"].name,
        SIGNING_OFFICERS["pj2"].nip,
    )
    pdf = akta_pdf(document)
    text = _text(pdf)
    assert SIGNING_OFFICERS["pj2"].name.upper() in text  # under the signature, and its NIP
    assert "NIP. 198002022005012002" in text
    validation = validate_pdf(pdf, trust_root("3274", app.config["AKTA_SETTINGS"]))
    assert validation.valid
    assert (validation.signer, validation.signer_nip) == (
        SIGNING_OFFICERS["pj2"].name,
        SIGNING_OFFICERS["pj2"].nip,
    )
    assert validation.timestamped_at is not None
    assert validation.validation_data_embedded
    # The authorisation is spent: nothing of it is kept.
    assert db.session.get(SigningAuthorisation, report.id) is None


@pytest.mark.parametrize(
    ("passphrase", "message"),
    [
        ("", "Ketik passphrase tanda tangan elektronik Anda."),
        ("bukan-passphrase", "Passphrase tanda tangan elektronik salah. Sisa percobaan: 4."),
    ],
)
def test_signing_needs_the_pejabats_own_passphrase(
    officer: Region, actors: dict[str, Actor], passphrase: str, message: str
) -> None:
    report = _approved(actors)

    with pytest.raises(SigningRefused) as refused:
        authorise_issue(report, _user(actors["pejabat_b"]), passphrase)

    assert refused.value.status == 403
    assert refused.value.message == message
    assert db.session.get(SigningAuthorisation, report.id) is None
    # pj2's count starts again with their right passphrase (the service is shared).
    authorise_issue(report, _user(actors["pejabat_b"]), SIGNING_OFFICERS["pj2"].passphrase)


def test_a_pejabat_without_a_signing_identity_cannot_sign(actors: dict[str, Actor]) -> None:
    report = _approved(actors)
    user = _user(actors["pejabat"])
    user.nik = None

    with pytest.raises(SigningRefused) as refused:
        authorise_issue(report, user, SIGNING_OFFICERS["pj1"].passphrase)

    assert "belum terhubung dengan identitas tanda tangan elektronik" in refused.value.message


def test_without_the_pejabats_authorisation_the_issue_waits(
    officer: Region, actors: dict[str, Actor]
) -> None:
    report = _approved(actors)
    fire(report, "sign", actors["pejabat"])  # as if the authorisation had been lost

    assert issue_akta(report.id) == "authorisation_missing"
    assert report.status == S.REGISTERED
    assert current_akta(report) is None


def test_with_the_seal_token_unusable_the_issue_waits_and_then_issues(
    app: Flask,
    officer: Region,
    actors: dict[str, Actor],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_softhsm()
    monkeypatch.setattr(seal_keys, "keys_folder", lambda: tmp_path / "seal-keys")
    seal_keys.active_kid()  # the token, with the right PIN
    report = _signed(actors)

    with changed_settings(app, seal_token_pin="bukan-pin-token"):
        assert issue_akta(report.id) == "seal_keys_unavailable"
    assert report.status == S.REGISTERED
    assert current_akta(report) is None
    assert db.session.get(SigningAuthorisation, report.id) is not None  # kept for the retry

    assert issue_akta(report.id) == "issued"  # the PIN set right again: the next try issues
    assert report.status == S.ISSUED


def test_the_service_process_holds_no_signing_key(
    app: Flask, officer: Region, actors: dict[str, Actor]
) -> None:
    report = _signed(actors)
    assert issue_akta(report.id) == "issued"

    settings = app.config["AKTA_SETTINGS"]
    # The journal's daily seal key (core.journal_seal) is the one key still read from a
    # file; the office's QR seal keys (akta.seal_keys) are in the seal token, or, where
    # SoftHSM2 is absent, in encrypted key files. Neither signs an akta's PDF, which only
    # the officer's token at the signing service does.
    seal_keys = settings.instance_path / "akta-seal-keys"
    files = [
        p
        for p in settings.instance_path.rglob("*")
        if p.is_file() and p != settings.journal_seal_key_path and seal_keys not in p.parents
    ]
    private_files = [p for p in seal_keys.glob("*.pem") if not p.name.endswith(".pub.pem")]
    if softhsm_token() == "softhsm":
        assert private_files == []
        assert (seal_keys / "token" / "tokens").is_dir()
    assert all(b"ENCRYPTED PRIVATE KEY" in p.read_bytes() for p in private_files)
    assert settings.signing_path / "ca.pem" in files  # only the trust root, public
    for path in files:
        assert b"PRIVATE KEY" not in path.read_bytes(), path
        assert path.suffix not in (".p12", ".p8", ".key"), path


def test_a_correction_makes_a_new_version_with_the_same_number(
    client: FlaskClient, officer: Region, actors: dict[str, Actor]
) -> None:
    report = _signed(actors)
    issue_akta(report.id)
    first = current_akta(report)
    assert first is not None

    pejabat = _user(actors["pejabat"])
    # What the pejabat's TOTP code and passphrase bought (the form asks both).
    authorisation = authorise_signature(pejabat, SIGNING_OFFICERS["pj1"].passphrase)
    with pytest.raises(GuardRefused):
        correct_akta(
            report, {"child_name": "X"}, "salah", None, _user(actors["operator"]), authorisation
        )
    with pytest.raises(InvalidInput) as refused:
        correct_akta(report, {"registration_number": "X"}, "", None, pejabat, authorisation)
    assert {e.field for e in refused.value.detail["errors"]} == {"registration_number", "reason"}

    new_name = report.child_name + " Ramadhani"
    second = correct_akta(
        report,
        {"child_name": new_name},
        "Salah ketik nama pada laporan",
        None,
        pejabat,
        authorisation,
    )
    assert second.version == 2
    assert second.registration_number == first.registration_number
    assert first.superseded_at is not None
    assert current_akta(report) == second
    assert new_name.upper() in _text(akta_pdf(second))
    assert "Perbaikan ke-1" in _text(akta_pdf(second))
    journal = db.session.scalar(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.action == "akta:birth_report:correct"
        )
    )
    assert journal is not None
    assert journal.data["superseded_version"] == 1
    assert journal.data["changes"]["after"] == {"child_name": new_name}

    old_page = client.get(f"/verifikasi/{first.verification_token}").get_data(as_text=True)
    assert "sudah tidak berlaku" in old_page
    assert f"/verifikasi/{second.verification_token}" in old_page
    new_page = client.get(f"/verifikasi/{second.verification_token}").get_data(as_text=True)
    assert "berlaku" in new_page
    assert "sudah tidak berlaku" not in new_page


def test_anyone_can_verify_an_akta_without_logging_in(
    client: FlaskClient, officer: Region, actors: dict[str, Actor]
) -> None:
    report = _signed(actors)
    issue_akta(report.id)
    document = current_akta(report)
    assert document is not None
    page = client.get(f"/verifikasi/{document.verification_token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert document.registration_number in html
    assert document.sha256 in html
    assert report.child_name.upper() not in html.upper()  # the name is partly masked
    first_word = report.child_name.split()[0]
    assert first_word[:2] in html
    assert report.mother_nik not in html

    pdf = akta_pdf(document)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert csrf, "the upload form carries a CSRF token"
    refused = client.post(
        f"/verifikasi/{document.verification_token}",
        data={"pdf": (io.BytesIO(pdf), "akta.pdf")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400  # no token: refused
    same = client.post(
        f"/verifikasi/{document.verification_token}",
        data={"pdf": (io.BytesIO(pdf), "akta.pdf"), "csrf_token": csrf.group(1)},
        content_type="multipart/form-data",
    )
    assert "sama persis" in same.get_data(as_text=True)
    changed = client.post(
        f"/verifikasi/{document.verification_token}",
        data={"pdf": (io.BytesIO(pdf + b"\n%tail"), "akta.pdf"), "csrf_token": csrf.group(1)},
        content_type="multipart/form-data",
    )
    assert "TIDAK sama" in changed.get_data(as_text=True)

    assert client.get("/verifikasi/" + "x" * 32).status_code == 404


def test_the_public_page_is_rate_limited(client: FlaskClient) -> None:
    browser = {"Accept": "text/html"}
    answers = [client.get("/verifikasi/unknown-token", headers=browser) for _ in range(40)]
    statuses = [answer.status_code for answer in answers]
    assert 429 in statuses
    assert statuses[0] == 404
    refused = answers[statuses.index(429)]
    # A person is told in words, on a page, and when to try again.
    assert refused.mimetype == "text/html"
    assert "Terlalu banyak percobaan" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Coba lagi dalam" in refused.get_data(as_text=True)
    # The limit is per akta: another one is still checked from the same address.
    assert client.get("/verifikasi/other-token", headers=browser).status_code == 404


def test_registration_number_format(officer: Region, actors: dict[str, Actor]) -> None:
    report = _signed(actors)
    assert re.fullmatch(r"3274-LU-\d{8}-\d{4}", report.registration_number or "")


def test_a_facility_downloads_its_issued_akta(
    client: FlaskClient, officer: Region, actors: dict[str, Actor]
) -> None:
    from akta_service.facilities.operations import create_facility, issue_credential

    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", Actor.system("t"))
    token = issue_credential("RSUD-GJ", Actor.system("t")).token
    report = _signed(actors)
    report.facility_code = "RSUD-GJ"
    # Requests share the test's session: commit (to the test's savepoint) what they must see,
    # since a refused request rolls back.
    db.session.commit()
    url = f"/api/v1/births/{report.tracking_code}/akta.pdf"
    auth = {"Authorization": f"Bearer {token}"}
    early = client.get(url, headers=auth)
    assert early.status_code == 409
    assert "belum terbit" in early.get_json()["detail"]
    issue_akta(report.id)
    db.session.commit()
    response = client.get(url, headers=auth)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    document = current_akta(report)
    assert document is not None
    assert hashlib.sha256(response.data).hexdigest() == document.sha256
    assert response.headers["X-Akta-Sha256"] == document.sha256
