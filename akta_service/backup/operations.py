"""One consistent backup of the database and its files, and a restore that checks all of it.

The rows are read in one snapshot (PostgreSQL: SERIALIZABLE READ ONLY DEFERRABLE; SQLite:
one read transaction, which WAL keeps steady while others write), table by table in the
order foreign keys need, in parts of `PART_ROWS`. After each part come the files its rows
refer to (a `storage_key` column, or a `storage_key` inside a JSON column, as a draft's
uploads), read through the storage, so that every backend is backed up alike. Files are
immutable and written before the row that names them commits, so a file named in the
snapshot is there; a file let go after the snapshot (a draft's replaced upload) makes the
backup start again with a new snapshot, and a file still named by its row but missing is
an error that names both.

Each table is dumped as JSON lines (one object per row, gzip), each file as it is; the
manifest at the end holds the schema revision, rows and SHA-256 per table, and the files'
count; the files' own SHA-256 are in index parts after them. A restore loads everything in
one transaction that commits only when every count and hash matched, so an interrupted or
refused restore leaves the database empty (the files it put are replaced with --force).

Files are read as their plaintext through `storage()` (the whole backup is encrypted) and put
back through it, sealed under the target's master key; the storage's own tables are never
dumped. Its writes through `db.session` (every file's key; the files too with the database
backend) join the restore's transaction, so they commit or roll back with the rows.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.util.exc import CommandError
from flask import current_app
from sqlalchemy.pool import NullPool

from akta_service.backup.archive import ArchiveError, ArchiveReader, ArchiveWriter
from akta_service.core.config import Settings
from akta_service.core.db import READ_ONLY_OPTION, configure_engine_events, db, utcnow
from akta_service.core.storage import STORAGE_TABLES, Storage
from akta_service.core.transaction import session_joined

#: Rows per table part, and files per index part: what a backup holds in memory at once.
PART_ROWS = 2000
#: Snapshots tried when files are let go while a backup reads them.
ATTEMPTS = 3
START_MEMBER = "start.json"
MANIFEST_MEMBER = "manifest.json"
_SKIPPED_TABLES = ("alembic_version",)


class BackupError(RuntimeError):
    """A backup that cannot be made as asked; the message names the row or file."""


class RestoreRefused(RuntimeError):
    """A restore that would not bring back exactly the backup; nothing was committed."""


class _SnapshotOutdated(Exception):
    """A file named in the snapshot was let go since: take a new snapshot."""


@dataclass
class Outcome:
    """What a backup wrote or a restore brought back."""

    revision: str
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    file_bytes: int = 0
    #: Snapshots a backup needed (more than one when files were let go while it ran).
    attempts: int = 1


def owner_engine(settings: Settings) -> sa.Engine:
    """The schema owner's engine (AKTA_MIGRATION_DATABASE_URL): it reads and writes every
    table, the journal included."""
    engine = sa.create_engine(
        settings.migration_database_url, poolclass=NullPool, hide_parameters=True
    )
    configure_engine_events(engine, settings.db_idle_check_seconds)
    return engine


def referenced_keys(row: Mapping[Any, Any]) -> list[str]:
    """The storage keys a row names: a `storage_key` column or one inside its JSON."""
    found: list[str] = []
    for name, value in row.items():
        if name == "storage_key" and isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict | list):
            found.extend(_keys_in(value))
    return list(dict.fromkeys(found))


def _keys_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name == "storage_key" and isinstance(item, str):
                yield item
            else:
                yield from _keys_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys_in(item)


def _tables(connection: sa.Connection, *, with_storage: bool = False) -> list[sa.Table]:
    """The database's own tables as they are at its revision, parents before children.

    The storage's tables (its files' bytes and wrapped keys) are left out unless asked for:
    the files are backed up through the storage, as their plaintext, once whatever the
    backend, and restored through it, sealed under the target's master key.
    """
    skipped = {*_SKIPPED_TABLES, *(() if with_storage else STORAGE_TABLES)}
    metadata = sa.MetaData()
    metadata.reflect(bind=connection)
    return [t for t in metadata.sorted_tables if t.name not in skipped]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot back up a {type(value).__name__}")


def _json_lines(rows: Iterator[Mapping[Any, Any]]) -> bytes:
    return b"".join(
        json.dumps(dict(row), default=_encode, separators=(",", ":")).encode() + b"\n"
        for row in rows
    )


# Backup ----------------------------------------------------------------------------------


def backup_service(target: Path, key: bytes, settings: Settings, store: Storage) -> Outcome:
    """Write one consistent backup to `target` (replaced only once it is complete)."""
    engine = owner_engine(settings)
    partial = target.with_name(f".{target.name}.partial")
    try:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with open(partial, "wb") as handle:
                    outcome = _write_backup(handle, engine, key, store)
                    handle.flush()
                    os.fsync(handle.fileno())
            except _SnapshotOutdated:
                continue
            os.replace(partial, target)
            outcome.attempts = attempt
            return outcome
        raise BackupError(
            f"berkas terus dilepas selama {ATTEMPTS} percobaan pencadangan; coba lagi nanti"
        )
    finally:
        partial.unlink(missing_ok=True)
        engine.dispose()


@contextmanager
def _snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One read-only transaction that sees the database as of one moment.

    The storage reads the file keys (and the database backend its files) through `db.session`,
    begun anew after the snapshot (so it sees every file the snapshot names) and read-only
    (so on SQLite it holds no write lock while the backup runs).
    """
    options: dict[str, Any] = {READ_ONLY_OPTION: True}
    if engine.dialect.name == "postgresql":
        options |= {
            "isolation_level": "SERIALIZABLE",
            "postgresql_readonly": True,
            "postgresql_deferrable": True,
        }
    with engine.connect() as connection:
        connection = connection.execution_options(**options)
        with connection.begin():
            db.session.remove()
            db.session.connection(execution_options={READ_ONLY_OPTION: True})
            try:
                yield connection
            finally:
                db.session.remove()


def _write_backup(handle: IO[bytes], engine: sa.Engine, key: bytes, store: Storage) -> Outcome:
    backup_id = uuid.uuid4().hex
    writer = ArchiveWriter(handle, key, backup_id)
    tables: dict[str, dict[str, Any]] = {}
    with _snapshot(engine) as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None:
            raise BackupError("basis data belum bermigrasi (jalankan `akta db upgrade`)")
        found = _tables(connection)
        start = {
            "backup_id": backup_id,
            "revision": revision,
            "database": engine.dialect.name,
            "created_at": utcnow().isoformat(),
            "tables": [t.name for t in found],
        }
        writer.add_json(START_MEMBER, start)
        files = _FileWriter(writer, store, engine)
        outcome = Outcome(revision)
        for table in found:
            tables[table.name] = _dump_table(connection, table, writer, files)
            outcome.rows[table.name] = tables[table.name]["rows"]
        files.flush()
    writer.add_json(MANIFEST_MEMBER, {**start, "tables": tables, "files": files.manifest()})
    writer.close()
    outcome.files, outcome.file_bytes = files.count, files.bytes
    return outcome


def _dump_table(
    connection: sa.Connection, table: sa.Table, writer: ArchiveWriter, files: _FileWriter
) -> dict[str, Any]:
    order = list(table.primary_key.columns) or list(table.columns)
    # A generated column is the database's to write: the restore's database makes it again.
    kept = [column for column in table.columns if column.computed is None]
    statement = sa.select(*kept).order_by(*order)
    digest = hashlib.sha256()
    rows = parts = 0
    # Closed however the loop ends: PostgreSQL streams the rows through a server cursor.
    with connection.execution_options(yield_per=PART_ROWS).execute(statement) as result:
        for chunk in result.partitions():
            lines = _json_lines(row._mapping for row in chunk)
            digest.update(lines)
            rows += len(chunk)
            parts += 1
            writer.add(f"tables/{table.name}/{parts:06d}.jsonl.gz", gzip.compress(lines, 6))
            for row in chunk:
                for found in referenced_keys(row._mapping):
                    files.add(table, row._mapping, found)
    return {"rows": rows, "sha256": digest.hexdigest(), "parts": parts}


class _FileWriter:
    """Appends each file named by the snapshot once, and an index of their hashes."""

    def __init__(self, writer: ArchiveWriter, store: Storage, engine: sa.Engine) -> None:
        self.writer, self.store, self.engine = writer, store, engine
        self.seen: set[str] = set()
        self.index: list[dict[str, Any]] = []
        self.index_digest = hashlib.sha256()
        self.count = self.bytes = self.parts = 0

    def add(self, table: sa.Table, row: Mapping[Any, Any], key: str) -> None:
        if key in self.seen:
            return
        try:
            data = self.store.get(key) if self.store.exists(key) else None
        except (FileNotFoundError, KeyError):
            data = None
        if data is None:
            if _still_names(self.engine, table, row, key):
                where = ", ".join(f"{c.name}={row[c.name]}" for c in table.primary_key.columns)
                raise BackupError(f"{table.name} ({where}) menyebut berkas {key} yang tidak ada")
            raise _SnapshotOutdated(key)
        self.seen.add(key)
        self.count += 1
        self.bytes += len(data)
        member = f"files/{self.count:08d}"
        self.writer.add(member, key.encode() + b"\n" + data)
        sha256 = hashlib.sha256(data).hexdigest()
        self.index.append({"key": key, "member": member, "sha256": sha256, "size": len(data)})
        if len(self.index) >= PART_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.index:
            return
        lines = _json_lines(iter(self.index))
        self.index_digest.update(lines)
        self.parts += 1
        self.writer.add(f"files-index/{self.parts:06d}.jsonl.gz", gzip.compress(lines, 6))
        self.index = []

    def manifest(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "bytes": self.bytes,
            "index_parts": self.parts,
            "index_sha256": self.index_digest.hexdigest(),
        }


def _still_names(engine: sa.Engine, table: sa.Table, row: Mapping[Any, Any], key: str) -> bool:
    """Whether the row, as committed now, still names the file (outside the snapshot)."""
    same_row = [c == row[c.name] for c in table.primary_key.columns]
    with engine.connect() as connection:
        connection = connection.execution_options(**{READ_ONLY_OPTION: True})
        current = connection.execute(sa.select(table).where(*same_row)).first()
    return current is not None and key in referenced_keys(current._mapping)


# Restore ---------------------------------------------------------------------------------


def restore_service(
    source: Path, key: bytes, settings: Settings, store: Storage, *, force: bool = False
) -> Outcome:
    """Bring a backup back into an empty database and storage; commits only when every row
    count and every hash matched the manifest."""
    engine = owner_engine(settings)
    try:
        with open(source, "rb") as handle:
            reader = ArchiveReader(handle, key)
            members = iter(reader)
            name, data = next(members, ("", b""))
            if name != START_MEMBER:
                raise ArchiveError(f"cadangan tidak diawali {START_MEMBER}")
            start = json.loads(data)
            _refuse_filled_database(engine)
            _migrate(engine, start["revision"])
            _refuse_filled_storage(store, force)  # its tables exist now, whatever the backend
            # One transaction for the rows and for what the storage writes through
            # db.session (the database backend's files, every backend's file keys).
            with engine.connect() as connection, connection.begin(), session_joined(connection):
                loader = _Loader(connection, {t.name: t for t in _tables(connection)}, store)
                for name, data in members:
                    loader.take(name, data)
                loader.check(start)
                if connection.dialect.name == "postgresql":
                    _reset_sequences(connection, list(loader.tables.values()))
            reader.close()
        return loader.outcome
    finally:
        engine.dispose()


def _refuse_filled_database(engine: sa.Engine) -> None:
    with engine.connect() as connection, connection.begin():
        filled = [
            table.name
            for table in _tables(connection, with_storage=True)
            if connection.scalar(sa.select(sa.exists().select_from(table)))
        ]
    if filled:
        raise RestoreRefused(
            f"basis data tujuan tidak kosong (tabel {', '.join(filled)}): pulihkan ke basis "
            "data baru yang kosong"
        )


def _refuse_filled_storage(store: Storage, force: bool) -> None:
    stored = next(iter(store.keys()), None)
    db.session.remove()  # the restore's own transaction writes next
    if stored is not None and not force:
        raise RestoreRefused(
            f"penyimpanan berkas tujuan tidak kosong (mis. {stored}). Jika pemulihan "
            "sebelumnya terputus, basis datanya masih kosong: jalankan lagi dengan --force"
        )


def _migrate(engine: sa.Engine, revision: str) -> None:
    """The schema exactly at the backup's revision (migrations run as for `akta db upgrade`)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    try:
        command.upgrade(config, revision)
    except CommandError as exc:
        raise RestoreRefused(
            f"revisi skema cadangan {revision} tidak dapat dicapai: {exc} (pulihkan dengan "
            "versi layanan yang membuat cadangan, ke basis data baru)"
        ) from exc
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current != revision:
        raise RestoreRefused(
            f"basis data tujuan pada revisi {current}, cadangan pada {revision}: pulihkan ke "
            "basis data baru"
        )


def _decoder(column: sa.Column[Any]) -> Callable[[Any], Any] | None:
    """Turns a value as written by `_encode` back into what the column takes."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return _datetime
    if isinstance(kind, sa.Date):
        return date.fromisoformat
    if isinstance(kind, sa.Time):
        return time.fromisoformat
    if isinstance(kind, sa.LargeBinary):
        return base64.b64decode
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return Decimal
    return None


def _datetime(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    # Times are written in UTC (core.db.UTCDateTime); SQLite keeps them without a zone.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Loader:
    """Takes the members of a backup in order and checks them against its manifest."""

    def __init__(
        self, connection: sa.Connection, tables: dict[str, sa.Table], store: Storage
    ) -> None:
        self.connection, self.tables, self.store = connection, tables, store
        self.digests: dict[str, Any] = {name: hashlib.sha256() for name in tables}
        self.index_digest = hashlib.sha256()
        self.index_parts = 0
        #: Files put whose index entry has not come yet: member -> (key, sha256, size).
        self.pending: dict[str, tuple[str, str, int]] = {}
        self.manifest: dict[str, Any] | None = None
        self.outcome = Outcome("")

    def take(self, name: str, data: bytes) -> None:
        if self.manifest is not None:
            raise ArchiveError(f"{name}: sesudah manifes")
        kind = name.split("/", 1)[0]
        if kind == "tables":
            self._rows(name.split("/")[1], gzip.decompress(data))
        elif kind == "files":
            self._file(name, data)
        elif kind == "files-index":
            self._index(gzip.decompress(data))
        elif name == MANIFEST_MEMBER:
            self.manifest = json.loads(data)
        else:
            raise ArchiveError(f"{name}: bagian cadangan tidak dikenal")

    def _rows(self, table_name: str, lines: bytes) -> None:
        table = self.tables.get(table_name)
        if table is None:
            raise RestoreRefused(f"tabel {table_name} tidak ada pada skema tujuan")
        self.digests[table_name].update(lines)
        decoders = {c.name: d for c in table.columns if (d := _decoder(c)) is not None}
        rows = []
        for line in lines.splitlines():
            row = json.loads(line)
            for column, decode in decoders.items():
                if row.get(column) is not None:
                    row[column] = decode(row[column])
            rows.append(row)
        self.connection.execute(table.insert(), rows)
        self.outcome.rows[table_name] = self.outcome.rows.get(table_name, 0) + len(rows)

    def _file(self, member: str, data: bytes) -> None:
        raw_key, _, body = data.partition(b"\n")
        key = raw_key.decode()
        digest = hashlib.sha256(body).hexdigest()
        if self.store.exists(key):
            # Left in a folder by an interrupted restore (--force): its key was rolled back
            # with the rest, so it no longer opens; sealed anew.
            self.store.delete(key)
        self.store.put(key, body)
        if hashlib.sha256(self.store.get(key)).hexdigest() != digest:
            raise RestoreRefused(f"berkas {key} terbaca lain dari yang disimpan")
        self.pending[member] = (key, digest, len(body))

    def _index(self, lines: bytes) -> None:
        self.index_digest.update(lines)
        self.index_parts += 1
        for line in lines.splitlines():
            entry = json.loads(line)
            put = self.pending.pop(entry["member"], None)
            if put != (entry["key"], entry["sha256"], entry["size"]):
                raise RestoreRefused(
                    f"berkas {entry['key']}: SHA-256 atau ukurannya tidak cocok dengan manifes"
                )
            self.outcome.files += 1
            self.outcome.file_bytes += entry["size"]

    def check(self, start: Mapping[Any, Any]) -> None:
        """Every table's rows and SHA-256 and the files' count as the manifest says."""
        manifest = self.manifest
        if manifest is None:
            raise ArchiveError("cadangan terpotong: manifesnya tidak ada")
        if manifest["backup_id"] != start["backup_id"]:
            raise ArchiveError("manifes milik cadangan lain")
        for name, expected in manifest["tables"].items():
            rows = self.outcome.rows.get(name, 0)
            if rows != expected["rows"] or self.digests[name].hexdigest() != expected["sha256"]:
                raise RestoreRefused(
                    f"tabel {name}: {rows} baris dimuat, manifes {expected['rows']} "
                    "(atau SHA-256-nya lain)"
                )
        files = manifest["files"]
        if (
            self.pending
            or self.outcome.files != files["count"]
            or self.index_parts != files["index_parts"]
            or self.index_digest.hexdigest() != files["index_sha256"]
        ):
            raise RestoreRefused(
                f"{self.outcome.files} berkas dipulihkan, manifes {files['count']}"
            )
        self.outcome.revision = manifest["revision"]


def _reset_sequences(connection: sa.Connection, tables: list[sa.Table]) -> None:
    """Each serial or identity column's counter continues after the highest restored value."""
    quote = connection.dialect.identifier_preparer.quote
    for table in tables:
        for column in table.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = connection.scalar(
                sa.text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote(table.name), "column": column.name},
            )
            if sequence is None:
                continue
            highest = sa.select(sa.func.max(column)).scalar_subquery()
            connection.execute(
                sa.select(
                    sa.func.setval(sequence, sa.func.coalesce(highest, 1), highest.is_not(None))
                )
            )
