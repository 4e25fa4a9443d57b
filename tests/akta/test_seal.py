"""The sealed QR: its payload round-trips, any change breaks the seal, a rotated key keeps
old seals valid, the status list says annulled or superseded, and the code reads back
from the rendered page at 150 dpi."""

from __future__ import annotations

import zlib
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import base45
import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from flask import Flask

from akta_service.akta import seal_keys
from akta_service.akta.document import render_akta_pdf
from akta_service.akta.qr_image import read_qr
from akta_service.akta.seal import (
    ANNULLED,
    INVALID,
    PREFIX,
    SUPERSEDED,
    VALID,
    SealError,
    check_qr,
    printed_text,
    printed_text_sha256,
    read_status_list,
    seal_text,
    status_list,
)
from tests.akta.test_document import content_for

ISSUER = "https://akta.example.go.id"


@pytest.fixture
def keys(app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A seal-key folder of this test's own, inside an app context."""
    folder = tmp_path / "seal-keys"
    monkeypatch.setattr(seal_keys, "keys_folder", lambda: folder)
    with app.app_context():
        yield folder


def _cose(text: str) -> list[Any]:
    message = cbor2.loads(zlib.decompress(base45.b45decode(text[len(PREFIX) :])))
    return list(message.value)


def _pack(parts: list[Any]) -> str:
    sealed = cbor2.dumps(cbor2.CBORTag(18, parts))
    return PREFIX + base45.b45encode(zlib.compress(sealed)).decode()


def test_the_payload_round_trips_with_exactly_the_printed_facts(keys: Path) -> None:
    content = content_for()
    text = seal_text(content, ISSUER)
    assert text.startswith(PREFIX)
    assert set(text[len(PREFIX) :]) <= set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
    result = check_qr(text)
    assert result.status == VALID
    assert result.kid == seal_keys.active_kid()
    facts = result.facts
    assert facts is not None
    assert facts.registration_number == "3274-LU-22112026-0001"
    assert facts.version == 1
    assert facts.child_name == "AISYAH PUTRI"
    assert facts.child_sex == "perempuan"
    assert (facts.birth_date, facts.birth_place) == ("2017-07-18", "CIREBON")
    assert (facts.father_name, facts.mother_name) == ("AGUS SETIAWAN", "DEWI LESTARI")
    assert facts.issue_date == "2026-11-22"
    assert facts.verification_url == content.verification_url
    # The digest covers the printed text, which anyone can type again from the paper.
    assert facts.text_sha256 == printed_text_sha256(content).hex()
    assert "telah lahir AISYAH PUTRI" in printed_text(content)
    assert printed_text(content).startswith("3274055807170001\n")


def test_a_mother_only_akta_seals_no_father(keys: Path) -> None:
    facts = check_qr(seal_text(content_for("mother_only"), ISSUER)).facts
    assert facts is not None
    assert (facts.father_name, facts.mother_name) == (None, "DEWI LESTARI")


def test_one_changed_byte_breaks_the_seal(keys: Path) -> None:
    text = seal_text(content_for(), ISSUER)
    protected, unprotected, payload, signature = _cose(text)
    for position in (0, len(payload) // 2, len(payload) - 1):
        changed = bytearray(payload)
        changed[position] ^= 0x01
        result = check_qr(_pack([protected, unprotected, bytes(changed), signature]))
        assert result.status == INVALID
        assert result.facts is None
    flipped = bytearray(signature)
    flipped[10] ^= 0x80
    assert check_qr(_pack([protected, unprotected, payload, bytes(flipped)])).status == INVALID
    # A changed letter of the text itself: not a code, or not the sealed one.
    letters = list(text)
    letters[len(PREFIX) + 40] = "A" if letters[len(PREFIX) + 40] != "A" else "B"
    assert check_qr("".join(letters)).status == INVALID


def test_one_changed_printed_name_fails(keys: Path) -> None:
    text = seal_text(content_for(), ISSUER)
    protected, unprotected, payload, signature = _cose(text)
    claims = cbor2.loads(payload)
    facts = dict(claims[-65537])
    facts[3] = "ANISA PUTRI"  # another child's name on a forged paper
    forged = cbor2.dumps({**claims, -65537: facts})
    result = check_qr(_pack([protected, unprotected, forged, signature]))
    assert (result.status, result.problem) == (INVALID, "seal_signature_invalid")


def test_a_code_sealed_by_another_key_with_our_key_id_fails(keys: Path) -> None:
    text = seal_text(content_for(), ISSUER)
    protected, unprotected, payload, _signature = _cose(text)
    stranger = ec.generate_private_key(ec.SECP256R1())
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    r, s = decode_dss_signature(stranger.sign(to_sign, ec.ECDSA(hashes.SHA256())))
    forged = _pack([protected, unprotected, payload, r.to_bytes(32, "big") + s.to_bytes(32, "big")])
    assert check_qr(forged).problem == "seal_signature_invalid"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("https://akta.example.go.id/verifikasi/abc", "seal_prefix_missing"),
        ("AK1:abc", "seal_not_base45"),
        (PREFIX + base45.b45encode(b"not zlib").decode(), "seal_not_zlib"),
        (PREFIX + base45.b45encode(zlib.compress(b"\xff\xff")).decode(), "seal_not_cbor"),
        (PREFIX + base45.b45encode(zlib.compress(b"\x00" * 5000)).decode(), "seal_too_large"),
    ],
)
def test_what_is_not_a_sealed_code_is_invalid_with_its_reason(
    keys: Path, text: str, problem: str
) -> None:
    assert check_qr(text) == check_qr(text)  # no exception, whatever the input
    result = check_qr(text)
    assert (result.status, result.problem) == (INVALID, problem)


def test_a_pasted_code_with_line_breaks_still_reads(keys: Path) -> None:
    text = seal_text(content_for(), ISSUER)
    pasted = "  " + "\r\n".join(text[i : i + 60] for i in range(0, len(text), 60)) + "\n"
    assert check_qr(pasted).status == VALID


def test_key_rotation_keeps_old_seals_valid(keys: Path) -> None:
    old = seal_text(content_for(), ISSUER)
    first = seal_keys.active_kid()
    second = seal_keys.rotate()
    assert second != first
    assert seal_keys.active_kid() == second
    new = seal_text(content_for(version=2), ISSUER)
    assert (check_qr(old).status, check_qr(old).kid) == (VALID, first)
    assert (check_qr(new).status, check_qr(new).kid) == (VALID, second)
    published = seal_keys.key_set()["keys"]
    assert [(k["kid"], k["status"]) for k in published] == [  # type: ignore[index, union-attr]
        (first, "retired"),
        (second, "active"),
    ]
    # The old key's public half gone from what we publish: its seals no longer verify.
    (keys / f"{first}.pub.pem").unlink()
    assert check_qr(old).problem == "seal_key_unknown"
    assert check_qr(new).status == VALID


def test_the_status_list_says_annulled_or_superseded_and_is_sealed(keys: Path) -> None:
    first = seal_text(content_for(), ISSUER)
    corrected = seal_text(content_for(version=2), ISSUER)
    other = seal_text(content_for(registration_number="3274-LU-22112026-0002"), ISSUER)
    entries = [
        ("3274-LU-22112026-0001", 1, SUPERSEDED, date(2026, 11, 25)),
        ("3274-LU-22112026-0002", 1, ANNULLED, date(2026, 11, 30)),
    ]
    statuses = read_status_list(status_list(entries, ISSUER))
    assert check_qr(first, statuses=statuses).status == SUPERSEDED
    assert check_qr(corrected, statuses=statuses).status == VALID
    annulled = check_qr(other, statuses=statuses)
    assert (annulled.status, annulled.status_date) == (ANNULLED, "2026-11-30")
    assert annulled.status_as_of == statuses.issued_at
    sealed = bytearray(status_list(entries, ISSUER))
    sealed[-70] ^= 0x01
    with pytest.raises(SealError):
        read_status_list(bytes(sealed))


def test_the_qr_decodes_from_the_rendered_page_at_150_dpi(keys: Path, tmp_path: Path) -> None:
    # The longest text the issue path seals: long names, a long public address.
    content = content_for(
        child_name="Muhammad Rizky Pratama Adiwijaya Nugraha",
        father_name="Raden Mas Bambang Sutrisno Hadiningrat",
        mother_name="Siti Nurhaliza Kartika Dewi Anggraini",
        verification_url=f"{ISSUER}/verifikasi/" + "Ab3_x-" * 6,
    )
    sealed = replace(content, seal=seal_text(content, ISSUER))
    pdf = tmp_path / "akta.pdf"
    pdf.write_bytes(render_akta_pdf(sealed))
    assert read_qr(pdf) == sealed.seal
    assert check_qr(sealed.seal).status == VALID
