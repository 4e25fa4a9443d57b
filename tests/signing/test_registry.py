"""The signing service's state: wrong passphrases counted atomically, authorisations
counted against what they allow, unlocking."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from akta_service.signing.pki import DemoCA, Officer
from akta_service.signing.registry import (
    MAX_WRONG_PASSPHRASES,
    EnrolmentRefused,
    Registry,
    check_identity,
)

NIK, NIP = "3274010101700001", "197001011990031001"


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    found = Registry(tmp_path / "state")
    ca = DemoCA(tmp_path / "state" / "ca", "http://127.0.0.1:9")
    key = ec.generate_private_key(ec.SECP256R1())
    found.enrol(
        NIK, NIP, "Drs. Bambang", ca.issue_officer_certificate(Officer(NIP, "X"), key.public_key())
    )
    return found


def test_wrong_passphrases_arriving_together_are_all_counted_and_lock(registry: Registry) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = sorted(pool.map(lambda _: registry.count_wrong_passphrase(NIK), range(20)))

    assert counts == list(range(1, 21))  # no lost update
    officer = registry.officer(NIK)
    assert officer is not None
    assert officer.locked
    registry.clear_wrong_passphrases(NIK)  # the right passphrase does not lift a lock
    assert registry.officer(NIK).locked  # type: ignore[union-attr]
    assert registry.unlock(NIP)
    assert not registry.officer(NIK).locked  # type: ignore[union-attr]
    assert not registry.unlock("199001012020011001")


def test_the_fifth_wrong_passphrase_locks(registry: Registry) -> None:
    for _ in range(MAX_WRONG_PASSPHRASES - 1):
        registry.count_wrong_passphrase(NIK)
    assert not registry.officer(NIK).locked  # type: ignore[union-attr]
    registry.count_wrong_passphrase(NIK)
    assert registry.officer(NIK).locked  # type: ignore[union-attr]


def test_an_authorisation_signs_no_more_than_it_allows(registry: Registry) -> None:
    assert registry.use_authorisation("sad-1", 2, 3)
    assert not registry.use_authorisation("sad-1", 2, 3)  # 4 > 3: refused, not counted
    assert registry.use_authorisation("sad-1", 1, 3)
    assert not registry.use_authorisation("sad-1", 1, 3)


def test_an_officer_is_enrolled_once(registry: Registry, tmp_path: Path) -> None:
    ca = DemoCA(tmp_path / "state" / "ca", "http://127.0.0.1:9")
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = ca.issue_officer_certificate(Officer(NIP, "X"), key.public_key())

    with pytest.raises(EnrolmentRefused, match="already enrolled"):
        registry.enrol(NIK, NIP, "Drs. Bambang", certificate)
    assert "3274010101700001" not in repr(registry.officer(NIK))  # a NIK never in a log line


@pytest.mark.parametrize(
    ("nik", "nip", "name", "problem"),
    [
        ("12345", NIP, "X", "NIK harus 16 angka"),
        (NIK, "1970", "X", "NIP harus 18 angka"),
        (NIK, NIP, " ", "Nama pejabat wajib diisi"),
    ],
)
def test_an_enrolment_that_cannot_be_right_is_refused(
    nik: str, nip: str, name: str, problem: str
) -> None:
    with pytest.raises(EnrolmentRefused, match=problem):
        check_identity(nik, nip, name)
