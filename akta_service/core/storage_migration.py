"""Moving every stored file from the configured backend to another (`akta storage migrate`).

The copy never changes the source: each file is read, checked to open, written to the
target and read back there, its SHA-256 compared; a file already in the target is checked
the same way and left. Stopped at any point, the service still runs on the source, and the
next run goes on where this one stopped. Switching AKTA_STORAGE_BACKEND is the operator's
step, once a run ends with every file copied.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from akta_service.core.storage import Storage
from akta_service.core.storage_crypto import EncryptedStorage, file_key_row, is_sealed


class StorageMigrationError(RuntimeError):
    """A file whose copy does not match its source; the message names it."""


@dataclass(frozen=True)
class Copied:
    """What became of one file: `copied`, `present` (already there, same bytes) or
    `orphaned` (no key refers to it: left by a request that rolled back; not copied)."""

    key: str
    outcome: str
    sha256: str


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def copy_file(key: str, source: Storage, target: Storage, opener: EncryptedStorage) -> Copied:
    """Copy one stored file (as ciphertext) and prove the copy; raises StorageMigrationError."""
    data = source.get(key)
    digest = _digest(data)
    if not is_sealed(data):
        raise StorageMigrationError(
            f"{key} is kept unencrypted (from before encryption at rest): run "
            "`akta storage encrypt-existing` first; nothing was switched"
        )
    row = file_key_row(key)
    if row is None:
        return Copied(key, "orphaned", digest)
    opener.decrypt(key, data, row.master_key_id, bytes(row.wrapped_key))  # the source opens
    outcome = "present"
    if not target.exists(key):
        target.put(key, data)
        outcome = "copied"
    found = _digest(target.get(key))
    if found != digest:
        raise StorageMigrationError(
            f"{key}: the target holds SHA-256 {found}, the source {digest}; nothing was switched"
        )
    return Copied(key, outcome, digest)
