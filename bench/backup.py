"""`akta backup` and `akta restore` of a PostgreSQL office with 100,000 reports.

1. A fresh database gets `--reports` birth reports through COPY (the queue bench's
   generator: three kota over three years, in every state), and a fraction of them
   (`--with-documents`, 1 % by default) two uploaded documents each of 0.3-1.5 MB of
   incompressible bytes, as photos and scans are, written through the storage.
2. The backup is timed (rows read in one snapshot, files read through the storage, all of it
   encrypted), then the restore into another new database and storage folder (migrations,
   rows in one transaction, files put and read back, every hash checked).

Run: `.venv/bin/python -m bench.backup` (`--reports 10000` for a quick look).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import psycopg
from cryptography.fernet import Fernet
from flask import Flask

from akta_service import create_app
from akta_service.backup.archive import load_backup_key
from akta_service.backup.operations import Outcome, backup_service, restore_service
from akta_service.core.config import Settings
from akta_service.core.db import db
from akta_service.core.storage import Storage, storage
from bench.common import POSTGRES_ADMIN, postgres_available
from bench.queue import bench_database_url, generate, queue_database

#: What the journal holds per report after an ordinary life (submitted, verified, approved,
#: signed, issued, a clerk's read).
JOURNAL_ACTIONS = (
    ("report:submitted", "informant", None, "submitted"),
    ("report:verified", "system", "verifying", "in_review"),
    ("report:read", "operator", None, None),
    ("report:approved", "operator", "in_review", "awaiting_signature"),
    ("report:signed", "pejabat", "awaiting_signature", "registered"),
    ("report:issued", "system", "registered", "issued"),
)


def add_journal(app: Flask) -> int:
    """Six journal entries per report, by COPY (outside the hash chains: the bench measures
    the backup's size and time, not the chains)."""
    columns = (
        "report_id, action, from_state, to_state, data, actor_id, actor_name, actor_role, "
        "occurred_at"
    )
    count = 0
    with psycopg.connect(bench_database_url(app)) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM birth_reports ORDER BY id")]
        with conn.cursor().copy(f"COPY journal_entries ({columns}) FROM STDIN") as copy:
            for report_id in ids:
                for action, role, before, after in JOURNAL_ACTIONS:
                    data = '{"channel": "web", "version": 1}'
                    copy.write_row(
                        (
                            report_id,
                            action,
                            before,
                            after,
                            data,
                            f"{role}:1",
                            "Petugas",
                            role,
                            "now()",
                        )
                    )
                    count += 1
        conn.commit()
    return count


def add_documents(app: Flask, fraction: float, seed: int) -> tuple[int, int]:
    """Two documents for `fraction` of the reports: rows by COPY, bytes through storage()."""
    chooser = random.Random(seed)
    url = bench_database_url(app)
    count = size = 0
    with app.app_context(), psycopg.connect(url) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM birth_reports ORDER BY id")]
        chosen = chooser.sample(ids, max(1, int(len(ids) * fraction)))
        columns = (
            "report_id, kind, content_type, size_bytes, sha256, storage_key, uploaded_at, "
            "uploaded_by"
        )
        with conn.cursor().copy(f"COPY documents ({columns}) FROM STDIN") as copy:
            for report_id in chosen:
                for kind in ("kk", "birth_letter"):
                    data = os.urandom(chooser.randint(300_000, 1_500_000))
                    key = f"documents/bench/{report_id}/{uuid.uuid4().hex}.jpg"
                    storage().put(key, data)
                    digest = hashlib.sha256(data).hexdigest()
                    copy.write_row(
                        (report_id, kind, "image/jpeg", len(data), digest, key, "now()", "web")
                    )
                    count, size = count + 1, size + len(data)
        db.session.commit()  # the files' keys, written by storage() in the app's session
        conn.commit()
    return count, size


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--with-documents", type=float, default=0.01)
    args = parser.parse_args(argv)
    if not postgres_available():
        print("backup: PostgreSQL not reachable, not measured")
        return
    key = Fernet.generate_key().decode()
    folder = Path(tempfile.mkdtemp(prefix="akta-bench-backup-"))
    backup = folder / "cadangan.akta-backup"
    try:
        with queue_database(None, keep=False) as (app, _fresh):
            try:
                measure(app, args.reports, args.with_documents, backup, key)
            finally:  # the 2 GB of documents the bench stored
                shutil.rmtree(app.config["AKTA_SETTINGS"].storage_path, ignore_errors=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def measure(app: Flask, reports: int, fraction: float, backup: Path, key: str) -> None:
    generate(app, reports, min(5_000, reports // 4), seed=15)
    started = time.perf_counter()
    entries = add_journal(app)
    print(f"backup: {entries:,} journal entries in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    documents, document_bytes = add_documents(app, fraction, seed=15)
    print(
        f"backup: {documents:,} documents ({document_bytes / 1e6:,.0f} MB) stored in "
        f"{time.perf_counter() - started:.1f} s"
    )
    made, took = timed(app, backup_service, backup, key)
    print(
        f"backup: {reports:,} reports, {sum(made.rows.values()):,} rows, {made.files:,} "
        f"files -> {backup.stat().st_size / 1e6:,.0f} MB in {took:.1f} s"
    )
    restore_into(backup, key, backup.parent, reports)


def timed(
    app: Flask, operation: Callable[[Path, bytes, Settings, Storage], Outcome], path: Path, key: str
) -> tuple[Outcome, float]:
    """The backup or restore as the command runs it, and the seconds it took."""
    with app.app_context():
        started = time.perf_counter()
        outcome = operation(path, load_backup_key(key), app.config["AKTA_SETTINGS"], storage())
        took = time.perf_counter() - started
        db.session.remove()
    return outcome, took


def restore_into(backup: Path, key: str, folder: Path, reports: int) -> None:
    name = f"akta_bench_restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        app = create_app(
            {
                "AKTA_ENV": "test",
                "AKTA_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                "AKTA_INSTANCE_PATH": str(folder / "restored"),
                "AKTA_SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
                "AKTA_JOBS": "manual",
            }
        )
        restored, took = timed(app, restore_service, backup, key)
        with app.app_context():
            db.engine.dispose()
        print(
            f"restore: {reports:,} reports, {sum(restored.rows.values()):,} rows, "
            f"{restored.files:,} files ({restored.file_bytes / 1e6:,.0f} MB), every hash "
            f"checked, in {took:.1f} s"
        )
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
