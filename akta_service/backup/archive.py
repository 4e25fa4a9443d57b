"""The backup file: a tar archive whose every member is encrypted on its own.

A backup holds the rows (names, NIKs) and the documents as the service reads them, so the
file alone must reveal nothing: each member is sealed with AES-256-GCM under the backup key
(AKTA_BACKUP_KEY, kept apart from the database and the storage), with the backup's id and
the member's name as associated data, so a member cannot be swapped, renamed or moved into
another backup unnoticed. Only the first member, naming the format and the key's id, is
readable without the key. Members are written and read one at a time: a backup of any size
streams through a bounded amount of memory.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import tarfile
import time
from collections.abc import Iterator
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

#: Name and version of the format, in the readable first member.
FORMAT = "akta-backup"
FORMAT_VERSION = 1
HEADER_MEMBER = "akta-backup.json"
_NONCE_BYTES = 12


class ArchiveError(ValueError):
    """A backup file that cannot be read: not a backup, another key, damaged or altered."""


def load_backup_key(encoded: str) -> bytes:
    """The 32-byte key from its URL-safe base64 form (as `Fernet.generate_key()` writes)."""
    try:
        key = base64.urlsafe_b64decode(encoded.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ArchiveError("kunci cadangan bukan base64 (AKTA_BACKUP_KEY)") from exc
    if len(key) != 32:
        raise ArchiveError(f"kunci cadangan harus 32 bita, bukan {len(key)} (AKTA_BACKUP_KEY)")
    return key


def key_id(key: bytes) -> str:
    """Names the key without revealing it, so a restore can say "another key" plainly."""
    return hashlib.sha256(b"akta-backup-key-id:" + key).hexdigest()[:16]


class ArchiveWriter:
    """Adds sealed members to a backup file, one after another."""

    def __init__(self, fileobj: IO[bytes], key: bytes, backup_id: str) -> None:
        self._aead = AESGCM(key)
        self._backup_id = backup_id
        # Open for the writer's whole life; close() ends the archive.
        self._tar = tarfile.open(fileobj=fileobj, mode="w", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        header = {"format": FORMAT, "version": FORMAT_VERSION, "backup_id": backup_id}
        header["key_id"] = key_id(key)
        self._add_raw(HEADER_MEMBER, json.dumps(header).encode())

    def _add_raw(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = int(time.time())
        info.mode = 0o600
        self._tar.addfile(info, io.BytesIO(data))
        # tarfile keeps a list of every member (undeclared in its stubs); a stream needs none.
        self._tar.members.clear()  # type: ignore[attr-defined]

    def add(self, name: str, data: bytes) -> None:
        """Seal `data` and append it as member `name`."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, data, _associated(self._backup_id, name))
        self._add_raw(name, nonce + sealed)

    def add_json(self, name: str, value: Any) -> None:
        self.add(name, json.dumps(value).encode())

    def close(self) -> None:
        self._tar.close()


class ArchiveReader:
    """Opens each member of a backup file in the order it was written."""

    def __init__(self, fileobj: IO[bytes], key: bytes) -> None:
        self._aead = AESGCM(key)
        try:
            self._tar = tarfile.open(fileobj=fileobj, mode="r|")  # noqa: SIM115
            first = self._tar.next()
        except tarfile.TarError as exc:
            raise ArchiveError("bukan berkas cadangan (bukan arsip tar)") from exc
        if first is None or first.name != HEADER_MEMBER:
            raise ArchiveError("bukan berkas cadangan layanan ini (tidak ada akta-backup.json)")
        header = json.loads(self._read(first))
        if header.get("format") != FORMAT or header.get("version") != FORMAT_VERSION:
            raise ArchiveError(f"format cadangan tidak dikenal: {header.get('format')!r}")
        if header.get("key_id") != key_id(key):
            raise ArchiveError(
                f"cadangan ini dienkripsi dengan kunci lain (id {header.get('key_id')}, "
                f"kunci yang diberikan {key_id(key)})"
            )
        self.backup_id: str = header["backup_id"]

    def _read(self, member: tarfile.TarInfo) -> bytes:
        handle = self._tar.extractfile(member)
        if handle is None:
            raise ArchiveError(f"{member.name}: bukan berkas dalam arsip")
        return handle.read()

    def __iter__(self) -> Iterator[tuple[str, bytes]]:
        """(name, plaintext) of every sealed member; one that does not open stops the read."""
        try:
            while (member := self._tar.next()) is not None:
                self._tar.members.clear()  # type: ignore[attr-defined]  # as when writing
                sealed = self._read(member)
                nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
                try:
                    data = self._aead.decrypt(nonce, body, _associated(self.backup_id, member.name))
                except InvalidTag as exc:
                    raise ArchiveError(f"{member.name}: rusak atau diubah") from exc
                yield member.name, data
        except tarfile.TarError as exc:
            raise ArchiveError(f"arsip terpotong atau rusak: {exc}") from exc

    def close(self) -> None:
        self._tar.close()


def _associated(backup_id: str, name: str) -> bytes:
    return f"{backup_id}/{name}".encode()
