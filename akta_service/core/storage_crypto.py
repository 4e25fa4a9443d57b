"""Encryption at rest of every stored file (UU 27/2022: scans of KK, birth letters, marriage
books).

Each file is sealed with AES-256-GCM under a random key of its own; that file key is wrapped
(AES-256-GCM again) by a master key that lives only in the settings
(AKTA_STORAGE_MASTER_KEY, never in the database), and the wrapped key is a row of
`storage_file_keys`. A database dump, a backup or a copied folder alone reveals no document.
The storage key is the associated data of both seals: a file moved or copied under another
key, or a wrapped key swapped with another's, fails to open. Rotating the master key re-wraps
the file keys (small rows) and leaves the files as they are.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.db import Base, UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from akta_service.core.config import Settings
    from akta_service.core.storage import Storage

#: The first bytes of every sealed file: the format, so that a later one can be told apart.
MAGIC = b"AKS1"
NONCE_BYTES = 12
MASTER_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,40}")


class MasterKeyError(ValueError):
    """A master key setting that cannot be used; the message says what to fix."""


class StorageDecryptionError(RuntimeError):
    """A stored file that does not open: its master key is not configured, or the file (or
    its wrapped key) was changed, swapped or damaged."""


@dataclass(frozen=True)
class MasterKey:
    """A master key and the identifier stored beside every file key it wraps."""

    id: str
    secret: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> MasterKey:
        """`<id>:<base64 of 32 bytes>`, as `akta storage new-master-key` prints it."""
        key_id, _, encoded = text.strip().partition(":")
        if not MASTER_KEY_ID.fullmatch(key_id) or not encoded:
            raise MasterKeyError(
                "a storage master key is written <id>:<base64 key>, the id of letters, digits, "
                "'.', '_' or '-' (make one with: akta storage new-master-key)"
            )
        try:
            secret = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise MasterKeyError(f"storage master key {key_id!r} is not valid base64") from None
        if len(secret) != 32:
            raise MasterKeyError(
                f"storage master key {key_id!r} must be 32 bytes (AES-256), got {len(secret)}"
            )
        return cls(key_id, secret)

    @classmethod
    def generate(cls) -> MasterKey:
        return cls(f"k{utcnow():%Y%m%d}-{secrets.token_hex(3)}", AESGCM.generate_key(256))

    def encoded(self) -> str:
        return f"{self.id}:{base64.b64encode(self.secret).decode()}"


@dataclass(frozen=True)
class Keyring:
    """The current master key (wraps every new file key) and older ones still to be read."""

    current: MasterKey
    previous: tuple[MasterKey, ...] = ()

    def by_id(self) -> Mapping[str, MasterKey]:
        return {key.id: key for key in (*self.previous, self.current)}


def keyring(settings: Settings) -> Keyring:
    return Keyring(settings.storage_master_key, settings.storage_previous_master_keys)


class FileKey(Base):
    """A stored file's own key, wrapped by a master key kept outside the database."""

    __tablename__ = "storage_file_keys"

    #: The storage key of the file (in whichever backend holds its bytes).
    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    #: Which master key wraps it (rotation moves rows from one to the next).
    master_key_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    #: nonce + AES-GCM of the 32-byte file key.
    wrapped_key: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<FileKey {self.key} under {self.master_key_id}>"


def is_sealed(stored: bytes) -> bool:
    """Whether the bytes are a sealed file (every file is, but those kept before encryption
    at rest until `akta storage encrypt-existing` has run)."""
    return stored.startswith(MAGIC)


def file_key_row(key: str) -> sa.Row[str, bytes] | None:
    """(master_key_id, wrapped_key) of the stored file, if it has its key."""
    return db.session.execute(
        sa.select(FileKey.master_key_id, FileKey.wrapped_key).where(FileKey.key == key)
    ).first()


def _seal(key: bytes, data: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, data, associated)


def _open(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)


def _file_aad(storage_key: str) -> bytes:
    return b"akta-storage:file:" + storage_key.encode()


def _wrap_aad(storage_key: str, master: MasterKey) -> bytes:
    return f"akta-storage:key:{master.id}:{storage_key}".encode()


def wrap(storage_key: str, file_key: bytes, master: MasterKey) -> bytes:
    return _seal(master.secret, file_key, _wrap_aad(storage_key, master))


def unwrap(storage_key: str, master_key_id: str, wrapped: bytes, ring: Keyring) -> bytes:
    master = ring.by_id().get(master_key_id)
    if master is None:
        raise StorageDecryptionError(
            f"stored file {storage_key}: its master key {master_key_id!r} is not configured "
            "(AKTA_STORAGE_MASTER_KEY or AKTA_STORAGE_PREVIOUS_MASTER_KEYS)"
        )
    try:
        return _open(master.secret, wrapped, _wrap_aad(storage_key, master))
    except InvalidTag:
        raise StorageDecryptionError(f"stored file {storage_key}: its key does not open") from None


class EncryptedStorage:
    """A backend holding only ciphertext; the file keys are rows in the current session."""

    def __init__(self, backend: Storage, ring: Keyring) -> None:
        self.backend = backend
        self.ring = ring

    def put(self, key: str, data: bytes) -> None:
        self.put_many([(key, data)])

    def put_many(self, files: Sequence[tuple[str, bytes]]) -> None:
        """`put` each: the backend writes them at once, their keys in one statement."""
        if not files:
            return
        sealed = [(key, data, AESGCM.generate_key(256)) for key, data in files]
        self.backend.put_many(
            [(key, MAGIC + _seal(file_key, data, _file_aad(key))) for key, data, file_key in sealed]
        )
        self._keep_keys([(key, file_key) for key, _data, file_key in sealed])

    def _keep_keys(self, file_keys: Sequence[tuple[str, bytes]]) -> None:
        """Each file's key, wrapped by the current master key, in the session's transaction."""
        master, now = self.ring.current, utcnow()
        db.session.execute(
            sa.insert(FileKey),
            [
                {
                    "key": key,
                    "master_key_id": master.id,
                    "wrapped_key": wrap(key, file_key, master),
                    "created_at": now,
                }
                for key, file_key in file_keys
            ],
        )

    def get(self, key: str) -> bytes:
        stored = self.backend.get(key)
        if not is_sealed(stored):
            return stored  # kept before encryption at rest: `akta storage encrypt-existing`
        row = file_key_row(key)
        if row is None:
            raise FileNotFoundError(key)  # sealed by work that rolled back: nothing refers to it
        return self.decrypt(key, stored, row.master_key_id, bytes(row.wrapped_key))

    def seal_existing(self, key: str) -> bool:
        """Encrypt a file kept before encryption at rest, in place; False if it already is.

        The file key is committed first (by the caller's unit of work), the file replaced
        after: stopped in between, the file still reads as it was, and the next run seals it
        with the key already there.
        """
        stored = self.backend.get(key)
        if is_sealed(stored):
            return False
        row = file_key_row(key)
        if row is None:
            self._keep_keys([(key, AESGCM.generate_key(256))])
            return True  # sealed on the next call, once the key is committed
        file_key = unwrap(key, row.master_key_id, bytes(row.wrapped_key), self.ring)
        replace = getattr(self.backend, "replace", None)
        if replace is None:
            raise StorageDecryptionError(f"stored file {key}: this backend cannot seal in place")
        replace(key, MAGIC + _seal(file_key, stored, _file_aad(key)))
        return True

    def decrypt(self, key: str, sealed: bytes, master_key_id: str, wrapped: bytes) -> bytes:
        """The file's bytes from its stored form and its wrapped key."""
        file_key = unwrap(key, master_key_id, wrapped, self.ring)
        try:
            return _open(file_key, sealed[len(MAGIC) :], _file_aad(key))
        except InvalidTag:
            raise StorageDecryptionError(f"stored file {key}: changed or not its own") from None

    def exists(self, key: str) -> bool:
        return self.backend.exists(key)

    def delete(self, key: str) -> None:
        self.backend.delete(key)
        db.session.execute(sa.delete(FileKey).where(FileKey.key == key))

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order."""
        return self.backend.keys()


#: File keys re-wrapped per transaction by `rewrap_file_keys`.
REWRAP_BATCH = 500


def rewrap_file_keys(ring: Keyring, batch: int = REWRAP_BATCH) -> int:
    """Re-wrap up to `batch` file keys not yet under the current master key; returns how many.

    Each row changes whole (its key id and wrapped key together), so a rotation stopped at
    any point leaves every file readable, and running it again goes on where it stopped.
    """
    rows = db.session.scalars(
        sa.select(FileKey)
        .where(FileKey.master_key_id != ring.current.id)
        .order_by(FileKey.key)
        .limit(batch)
        .with_for_update()
    ).all()
    for row in rows:
        file_key = unwrap(row.key, row.master_key_id, bytes(row.wrapped_key), ring)
        row.wrapped_key = wrap(row.key, file_key, ring.current)
        row.master_key_id = ring.current.id
    db.session.flush()
    return len(rows)


def file_keys_by_master_key() -> dict[str, int]:
    """How many file keys each master key wraps."""
    rows = db.session.execute(
        sa.select(FileKey.master_key_id, sa.func.count()).group_by(FileKey.master_key_id)
    ).all()
    return {str(key_id): int(count) for key_id, count in rows}


def unknown_master_key(ring: Keyring) -> str | None:
    """A master key id some file key is wrapped by but the settings do not hold, if any."""
    found = db.session.scalar(
        sa.select(FileKey.master_key_id)
        .where(FileKey.master_key_id.not_in(list(ring.by_id())))
        .limit(1)
    )
    return str(found) if found is not None else None
