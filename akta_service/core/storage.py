"""Where files (uploaded documents, their pictures, issued akta) are kept, encrypted at rest.

Keys are relative paths chosen by the service; an existing key is never overwritten. Two
backends (AKTA_STORAGE_BACKEND): `folder`, a folder on the host's disk (the embedded default),
and `database`, a table of blobs in the service's database (the production default), written
in the session of the request or job: a report and its files commit or roll back together,
and every host reaches them. Whatever the backend, `storage()` encrypts each file with a key
of its own (see core/storage_crypto.py), so the backend only ever holds ciphertext.
"""

from __future__ import annotations

import enum
import os
import secrets
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.db import Base, UTCDateTime, db, utcnow
from akta_service.core.storage_crypto import EncryptedStorage, FileKey, keyring


class Storage(Protocol):
    """Put and get whole files by key."""

    def put(self, key: str, data: bytes) -> None: ...

    def put_many(self, files: Sequence[tuple[str, bytes]]) -> None:
        """Put each (key, data), all at once where the backend can."""

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order."""


class StorageBackend(enum.StrEnum):
    """AKTA_STORAGE_BACKEND: where the (encrypted) bytes of stored files live."""

    FOLDER = "folder"
    DATABASE = "database"


class StorageKeyError(ValueError):
    """A key that would leave the storage folder."""


def _written_beside(path: Path, data: bytes) -> Path:
    """The data in a hidden temporary file beside `path`, on disk, ready to be put in place."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return temporary


class LocalStorage:
    """Files under one folder (AKTA_STORAGE_PATH, default instance/files); writes are atomic,
    so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise StorageKeyError(f"storage key outside the storage folder: {key!r}")
        return path

    def put(self, key: str, data: bytes) -> None:
        """Write atomically; writing the same key again is refused (files are immutable)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _written_beside(path, data)
        try:
            os.link(temporary, path)
        finally:
            temporary.unlink()

    def put_many(self, files: Sequence[tuple[str, bytes]]) -> None:
        """`put` each, at the same time: each file waits for its own flush to disk."""
        if len(files) < 2:
            for key, data in files:
                self.put(key, data)
            return
        with ThreadPoolExecutor(len(files), thread_name_prefix="storage-put") as pool:
            for written in [pool.submit(self.put, key, data) for key, data in files]:
                written.result()

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def replace(self, key: str, data: bytes) -> None:
        """Rewrite an existing file atomically (only to seal one kept before encryption)."""
        path = self._path(key)
        os.replace(_written_beside(path, data), path)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove a file that is no longer needed (e.g. an expired draft's upload); a missing
        file is not an error, so deleting twice is harmless."""
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order (a write under way is not one yet)."""
        for folder, _, names in os.walk(self.root):
            for name in names:
                if not name.startswith("."):
                    yield (Path(folder) / name).relative_to(self.root).as_posix()


class StoredFile(Base):
    """A stored file's bytes (ciphertext) in the database: the `database` storage backend."""

    __tablename__ = "stored_files"

    key: Mapped[str] = mapped_column(sa.String(300), primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<StoredFile {self.key} {self.size_bytes} B>"


#: The storage's own tables, whatever the backend: the files' bytes (`database`) and every
#: file's wrapped key. Only `storage()` reads and writes them, and a backup carries the files
#: through it (plaintext, sealed anew under the target's master key on restore), not the rows.
STORAGE_TABLES = (StoredFile.__tablename__, FileKey.__tablename__)


def _read_binary(connection: sa.Connection, key: str) -> bytes | None:
    """The file's bytes in PostgreSQL's binary format, on the session's own connection (so in
    its transaction): a 2 MB file arrives in a fifth of the time its hex text takes."""
    driver = connection.connection.driver_connection
    assert driver is not None  # noqa: S101 - a connection in use has its driver's
    with driver.cursor(binary=True) as cursor:
        cursor.execute("SELECT data FROM stored_files WHERE key = %s", (key,))
        row = cursor.fetchone()
    return None if row is None else bytes(row[0])


#: Keys listed per query by `keys()`: a page at a time, never the whole table.
KEYS_PAGE = 1000


class DatabaseStorage:
    """Files as rows of `stored_files`, written and deleted in the current session's
    transaction (a rolled-back request leaves no file). Bytes are read by column, never
    as ORM objects, so the session does not hold on to them."""

    def put(self, key: str, data: bytes) -> None:
        """Insert in the session's transaction; an existing key is refused (IntegrityError)."""
        self.put_many([(key, data)])

    def put_many(self, files: Sequence[tuple[str, bytes]]) -> None:
        """`put` each, in one statement."""
        now = utcnow()
        db.session.execute(
            sa.insert(StoredFile),
            [
                {"key": key, "data": data, "size_bytes": len(data), "created_at": now}
                for key, data in files
            ],
        )

    def get(self, key: str) -> bytes:
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            data = _read_binary(connection, key)
        else:
            data = db.session.scalar(sa.select(StoredFile.data).where(StoredFile.key == key))
        if data is None:
            raise FileNotFoundError(key)
        return bytes(data)

    def exists(self, key: str) -> bool:
        return db.session.scalar(sa.select(StoredFile.key).where(StoredFile.key == key)) is not None

    def delete(self, key: str) -> None:
        db.session.execute(sa.delete(StoredFile).where(StoredFile.key == key))

    def keys(self) -> Iterator[str]:
        """Every stored key, a page at a time (keyset order), so a caller may commit between
        pages."""
        after = ""
        while True:
            page = db.session.scalars(
                sa.select(StoredFile.key)
                .where(StoredFile.key > after)
                .order_by(StoredFile.key)
                .limit(KEYS_PAGE)
            ).all()
            yield from page
            if len(page) < KEYS_PAGE:
                return
            after = page[-1]


def backend_storage(app: Flask, backend: StorageBackend | None = None) -> Storage:
    """The raw backend (ciphertext in, ciphertext out) named, or the configured one."""
    settings = app.config["AKTA_SETTINGS"]
    if (backend or settings.storage_backend) == StorageBackend.DATABASE:
        return DatabaseStorage()
    return LocalStorage(settings.storage_path)


def storage() -> Storage:
    """The app's storage: files encrypted with a key each, in the configured backend."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found: Storage | None = app.extensions.get("akta_storage")
    if found is None:
        found = app.extensions["akta_storage"] = EncryptedStorage(
            backend_storage(app), keyring(app.config["AKTA_SETTINGS"])
        )
    return found
