"""What the sandbox signing service knows: enrolled officers, their wrong-passphrase count
and lock, the certificates its CA issued, and the authorisations already used.

Kept in a SQLite file in the service's folder, so that `akta signing unlock` (another
process) and the running server see one state, and a wrong passphrase is counted
atomically however many requests arrive at once.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

#: Wrong passphrases in a row that lock an officer's signing until an admin unlocks it.
MAX_WRONG_PASSPHRASES = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS officers (
    nik TEXT PRIMARY KEY,
    nip TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    certificate BLOB NOT NULL,
    wrong_passphrases INTEGER NOT NULL DEFAULT 0,
    locked_at TEXT,
    enrolled_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS certificates (serial TEXT PRIMARY KEY, der BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS used_authorisations (
    id TEXT PRIMARY KEY, signatures INTEGER NOT NULL, used_at TEXT NOT NULL
);
"""


class EnrolmentRefused(ValueError):
    """The officer cannot be enrolled as asked (the message says why)."""


@dataclass(frozen=True)
class EnrolledOfficer:
    nik: str = ""
    nip: str = ""
    name: str = ""
    certificate: x509.Certificate | None = None
    wrong_passphrases: int = 0
    locked: bool = False

    def __repr__(self) -> str:  # the NIK is personal data: never in a log line
        return f"<EnrolledOfficer nip={self.nip} locked={self.locked}>"


class Registry:
    """The service's state file."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path = folder / "registry.sqlite3"
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=15, isolation_level=None)) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL stays consistent and survives a crash of the service; only
            # a power cut can forget the last counts. FULL would sync (and checkpoint) on
            # every signature: ~30 ms per signHash for a sandbox's state.
            connection.execute("PRAGMA synchronous=NORMAL")
            yield connection

    def enrol(self, nik: str, nip: str, name: str, certificate: x509.Certificate) -> None:
        der = certificate.public_bytes(serialization.Encoding.DER)
        with self._connect() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(
                    "INSERT INTO officers (nik, nip, name, certificate, enrolled_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (nik, nip, name, der, _now()),
                )
            except sqlite3.IntegrityError:
                connection.execute("ROLLBACK")
                raise EnrolmentRefused(f"NIK or NIP {nip} is already enrolled") from None
            connection.execute(
                "INSERT INTO certificates (serial, der) VALUES (?, ?)",
                (format(certificate.serial_number, "x"), der),
            )
            connection.execute("COMMIT")

    def add_certificate(self, certificate: x509.Certificate) -> None:
        """Known to the OCSP responder (the TSA's certificate, for one)."""
        der = certificate.public_bytes(serialization.Encoding.DER)
        with self._connect() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO certificates (serial, der) VALUES (?, ?)",
                (format(certificate.serial_number, "x"), der),
            )

    def officer(self, nik: str) -> EnrolledOfficer | None:
        return self._one("nik", nik)

    def officer_by_nip(self, nip: str) -> EnrolledOfficer | None:
        return self._one("nip", nip)

    def officers(self) -> list[EnrolledOfficer]:
        with self._connect() as connection:
            rows = connection.execute(f"SELECT {_COLUMNS} FROM officers ORDER BY nip").fetchall()  # noqa: S608
        return [_officer(row) for row in rows]

    def _one(self, column: str, value: str) -> EnrolledOfficer | None:
        with self._connect() as connection:
            row = connection.execute(
                f"SELECT {_COLUMNS} FROM officers WHERE {column} = ?",  # noqa: S608 - ours
                (value,),
            ).fetchone()
        return _officer(row) if row else None

    def count_wrong_passphrase(self, nik: str) -> int:
        """One more wrong passphrase, counted atomically; returns the count. The fifth locks."""
        with self._connect() as connection:
            row = connection.execute(
                "UPDATE officers SET wrong_passphrases = wrong_passphrases + 1, "
                "locked_at = CASE WHEN wrong_passphrases + 1 >= ? THEN coalesce(locked_at, ?) "
                "ELSE locked_at END WHERE nik = ? RETURNING wrong_passphrases",
                (MAX_WRONG_PASSPHRASES, _now(), nik),
            ).fetchone()
        return int(row[0]) if row else 0

    def clear_wrong_passphrases(self, nik: str) -> None:
        """The right passphrase, while not locked: the count starts again."""
        with self._connect() as connection:
            connection.execute(
                "UPDATE officers SET wrong_passphrases = 0 WHERE nik = ? AND locked_at IS NULL",
                (nik,),
            )

    def unlock(self, nip: str) -> bool:
        """An admin lifts the lock; False when no such officer is enrolled."""
        with self._connect() as connection:
            cursor = connection.execute(
                "UPDATE officers SET wrong_passphrases = 0, locked_at = NULL WHERE nip = ?",
                (nip,),
            )
        return cursor.rowcount == 1

    def use_authorisation(self, authorisation_id: str, signatures: int, limit: int) -> bool:
        """Count `signatures` more against an authorisation good for `limit`; False (and
        nothing counted) when that would exceed it. Atomic across requests."""
        with self._connect() as connection:
            row = connection.execute(
                "INSERT INTO used_authorisations (id, signatures, used_at) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET signatures = signatures + excluded.signatures "
                "WHERE signatures + excluded.signatures <= ? RETURNING signatures",
                (authorisation_id, signatures, _now(), limit),
            ).fetchone()
        return row is not None and int(row[0]) <= limit

    def issued_certificates(self) -> dict[int, x509.Certificate]:
        with self._connect() as connection:
            rows = connection.execute("SELECT serial, der FROM certificates").fetchall()
        return {int(serial, 16): x509.load_der_x509_certificate(der) for serial, der in rows}


_COLUMNS = "nik, nip, name, certificate, wrong_passphrases, locked_at"


def _officer(row: tuple[str, str, str, bytes, int, str | None]) -> EnrolledOfficer:
    nik, nip, name, der, wrong, locked_at = row
    return EnrolledOfficer(
        nik=nik,
        nip=nip,
        name=name,
        certificate=x509.load_der_x509_certificate(der),
        wrong_passphrases=wrong,
        locked=locked_at is not None,
    )


def _now() -> str:
    return datetime.now(UTC).isoformat()


def check_identity(nik: str, nip: str, name: str) -> None:
    """Refuse an enrolment whose NIK, NIP or name cannot be right."""
    if not re.fullmatch(r"[0-9]{16}", nik):
        raise EnrolmentRefused("NIK harus 16 angka")
    if not re.fullmatch(r"[0-9]{18}", nip):
        raise EnrolmentRefused("NIP harus 18 angka")
    if not name.strip():
        raise EnrolmentRefused("Nama pejabat wajib diisi")
