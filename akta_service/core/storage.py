"""Where files (uploaded documents, issued akta) are kept: a folder by default.

Keys are relative paths chosen by the service; writes are atomic, so a reader
never sees half a file, and an existing key is never overwritten.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from flask import current_app


class Storage(Protocol):
    """Put and get whole files by key."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order."""


class StorageKeyError(ValueError):
    """A key that would leave the storage folder."""


class LocalStorage:
    """Files under one folder (AKTA_STORAGE_PATH, default instance/files)."""

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
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        finally:
            temporary.unlink()

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove a file that is no longer needed (e.g. an expired draft's upload); a missing
        file is not an error, so deleting twice is harmless."""
        self._path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        """Every stored key, in no particular order (a write still under way is not one)."""
        for folder, _subfolders, names in os.walk(self.root):
            for name in names:
                if name.startswith(".") and name.endswith(".tmp"):
                    continue
                yield (Path(folder) / name).relative_to(self.root).as_posix()


def storage() -> Storage:
    """The app's storage."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found: Storage | None = app.extensions.get("akta_storage")
    if found is None:
        settings = app.config["AKTA_SETTINGS"]
        found = app.extensions["akta_storage"] = LocalStorage(settings.storage_path)
    return found
