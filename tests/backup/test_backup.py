"""`akta backup` and `akta restore`: a populated service backed up, restored elsewhere, and
found whole there: rows, files, signed akta, journal chains, the pages that serve them."""

from __future__ import annotations

import copy
import hashlib
import io
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from click.testing import Result
from cryptography.fernet import Fernet
from flask import Flask

from akta_service import create_app
from akta_service.accounts.models import User
from akta_service.akta.models import AktaDocument
from akta_service.akta.operations import akta_pdf, issue_akta, trust_root
from akta_service.akta.signing import validate_pdf
from akta_service.backup.archive import ArchiveError, ArchiveReader, ArchiveWriter
from akta_service.backup.operations import owner_engine, referenced_keys
from akta_service.births.documents import attach_document
from akta_service.births.models import BirthReport, Channel, Document, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.cli import cli
from akta_service.core.actors import Actor
from akta_service.core.db import READ_ONLY_OPTION, db
from akta_service.core.journal_seal import last_midnight, seal_journal
from akta_service.core.storage import Storage, backend_storage, storage
from akta_service.core.storage_crypto import FileKey, is_sealed
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.queue import run_pending
from akta_service.parents.models import Draft
from akta_service.parents.operations import add_upload, start_draft
from akta_service.regions.models import Region
from akta_service.review.queries import search_condition
from akta_service.signing.gateway import close_signing_service
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.workflow.engine import fire
from tests.conftest import _staff, app_config, make_migrated_app, sign_as
from tests.databases import fresh_database
from tests.files import jpeg_bytes, pdf_bytes, png_bytes
from tests.services import SigningServer

S = ReportStatus
READ_ONLY = {READ_ONLY_OPTION: True}  # the helpers' reads wait for no writer on SQLite
STORAGE_MEMBERS = ("tables/stored_files/", "tables/storage_file_keys/")
KEY = Fernet.generate_key().decode()


def _run(app: Flask, *args: str, key: str = KEY) -> Result:
    return app.test_cli_runner().invoke(cli, list(args), env={"AKTA_BACKUP_KEY": key})


def _report(index: int) -> BirthReport:
    """A web report of a sandbox family, with its KK (a PDF) and birth letter (a photo)."""
    population = dukcapil().population  # type: ignore[attr-defined]
    family = copy.deepcopy(population.sample_families(index + 1, "recorded", region="3274"))
    informant = Actor.informant("web", "Pelapor")
    report = submit_birth_report(
        load_report_input(family[index]["example_report"]), Channel.WEB, informant
    )
    attach_document(report, "kk", pdf_bytes(2), informant)
    attach_document(report, "birth_letter", jpeg_bytes(), informant)
    db.session.commit()
    return report


def populate(app: Flask) -> dict[str, Any]:
    """Reports in several states, their documents, two issued and signed akta, a facility
    credential, a journal seal: what an office has after a day's work."""
    with app.app_context():
        region = db.session.get(Region, "3274")
        assert region is not None
        region.signing_officer_name = "Drs. Bambang Sutrisno, M.Si."
        region.signing_officer_nip = "197001011990031001"
        operator = _staff("op1", "operator", ["3274"])
        pejabat = _staff("pj1", "pejabat", ["3274"])
        create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", Actor.system("t"))
        token = issue_credential("RSUD-GJ", Actor.system("t")).token
        db.session.commit()
        ids = [_report(i).id for i in range(6)]  # 0 stays submitted
        for report_id in ids[1:]:
            assert verify_report(report_id) == "pass_verification"
            db.session.commit()
        reports = [db.session.get(BirthReport, i) for i in ids]
        fire(reports[2], "request_correction", operator.as_actor(), reason="Foto KK buram")
        for report in reports[3:]:
            fire(report, "approve", operator.as_actor())
        for report in reports[4:]:
            report.facility_code = "RSUD-GJ"
            sign_as(report, pejabat)
        db.session.commit()
        for report in reports[4:]:
            assert issue_akta(report.id) == "issued"
            db.session.commit()
        seal_journal(last_midnight())
        db.session.commit()
        statuses = [str(r.status) for r in reports if r is not None]
        tracking = [r.tracking_code for r in reports if r is not None]
        db.session.remove()
    assert (
        statuses
        == ["submitted", "in_review", "needs_correction", "awaiting_signature"] + ["issued"] * 2
    )
    return {"token": token, "issued": tracking[4:]}


def backed_up(source: Flask, tmp_path: Path) -> Path:
    """The populated service's backup."""
    populate(source)
    backup = tmp_path / "cadangan.akta-backup"
    made = _run(source, "backup", str(backup))
    assert made.exit_code == 0, made.output
    return backup


def table_counts(app: Flask) -> dict[str, int]:
    engine = owner_engine(app.config["AKTA_SETTINGS"])
    metadata = sa.MetaData()
    with engine.connect().execution_options(**READ_ONLY) as connection:
        metadata.reflect(bind=connection)
        counts = {
            t.name: int(connection.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
            for t in metadata.sorted_tables
            if t.name != "alembic_version"
        }
    engine.dispose()
    return counts


def sealed_under_its_master_key(app: Flask) -> set[str]:
    """The keys of every file as it rests in the app's backend, each checked to be ciphertext
    whose key is wrapped by the app's own master key and opens (else an error)."""
    current = app.config["AKTA_SETTINGS"].storage_master_key
    with app.app_context():
        raw = backend_storage(app)
        resting = set(raw.keys())
        rows = db.session.execute(sa.select(FileKey.key, FileKey.master_key_id))
        wrapped = {key: master_key_id for key, master_key_id in rows}
        for key in resting:
            assert is_sealed(raw.get(key)), key
            storage().get(key)
        db.session.remove()
    assert wrapped == dict.fromkeys(resting, current.id)
    return resting


def stored_keys(app: Flask) -> dict[str, str]:
    """Every file the rows name, with the SHA-256 of what the storage gives back."""
    engine = owner_engine(app.config["AKTA_SETTINGS"])
    metadata = sa.MetaData()
    found: dict[str, str] = {}
    with engine.connect().execution_options(**READ_ONLY) as connection, app.app_context():
        metadata.reflect(bind=connection)
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                for key in referenced_keys(row._mapping):
                    found[key] = hashlib.sha256(storage().get(key)).hexdigest()
    engine.dispose()
    return found


def _stored(backend: str) -> dict[str, str]:
    """Files where each database keeps them in the field: PostgreSQL's in itself."""
    return {"AKTA_STORAGE_BACKEND": "database"} if backend == "postgresql" else {}


@pytest.fixture
def source(backend: str, tmp_path: Path, signing_server: SigningServer) -> Iterator[Flask]:
    """A service whose transactions really commit, on a fresh database dropped afterwards."""
    with fresh_database(backend, tmp_path) as url:
        app = make_migrated_app(url, tmp_path / "instance", **_stored(backend))
        yield app
        close_signing_service(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def target(backend: str, tmp_path: Path, signing_server: SigningServer) -> Iterator[Flask]:
    """Another service: a new, empty database (not even migrated) and its own files."""
    folder = tmp_path / "elsewhere"
    with fresh_database(backend, folder.parent) as url:
        settings = app_config(url, folder / "instance", **_same_seal_key(tmp_path))
        app = create_app(settings | _stored(backend))
        yield app
        close_signing_service(app)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _same_seal_key(tmp_path: Path) -> dict[str, str]:
    # The journal's seal key is kept outside the backup, like every key: the office keeps it.
    return {"AKTA_JOURNAL_SEAL_KEY": str(tmp_path / "instance" / "journal-seal-key.pem")}


def test_a_backup_restores_into_another_database_and_storage(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    facts = populate(source)
    backup = tmp_path / "cadangan.akta-backup"
    made = _run(source, "backup", str(backup))
    assert made.exit_code == 0, made.output
    assert "Cadangan" in made.output
    before, files_before = table_counts(source), stored_keys(source)
    assert before["birth_reports"] == 6
    assert before["akta_documents"] == 2
    assert before["journal_seals"] == 1
    assert len(files_before) >= 6 * 2 + 2  # two documents a report (and pictures), two akta

    restored = _run(target, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert table_counts(target) == before
    assert stored_keys(target) == files_before  # every file reads back, byte for byte
    # Sealed anew under the restored service's own master key, not the source's.
    assert sealed_under_its_master_key(target) == set(files_before)
    source_key = source.config["AKTA_SETTINGS"].storage_master_key
    assert source_key.id != target.config["AKTA_SETTINGS"].storage_master_key.id

    with target.app_context():
        settings = target.config["AKTA_SETTINGS"]
        for document in db.session.scalars(sa.select(AktaDocument)):
            pdf = akta_pdf(document)
            assert hashlib.sha256(pdf).hexdigest() == document.sha256
            validation = validate_pdf(pdf, trust_root("3274", settings))
            assert validation.signed
            assert validation.intact
            assert validation.trusted
            assert validation.covers_whole_document
        for document in db.session.scalars(sa.select(Document)):
            assert hashlib.sha256(storage().get(document.storage_key)).hexdigest() == (
                document.sha256
            )
        tokens = db.session.scalars(sa.select(AktaDocument.verification_token)).all()
        # The names a clerk searches are made again by the restored database.
        for report in db.session.scalars(sa.select(BirthReport)):
            found = db.session.scalars(
                sa.select(BirthReport.id).where(search_condition(report.mother_name.upper()))
            ).all()
            assert report.id in found
        db.session.remove()
    journal = _run(target, "journal", "verify")
    assert journal.exit_code == 0, journal.output
    assert "Jurnal utuh." in journal.output
    assert "1 segel" in journal.output

    client = target.test_client()
    auth = {"Authorization": f"Bearer {facts['token']}"}
    for tracking in facts["issued"]:
        download = client.get(f"/api/v1/births/{tracking}/akta.pdf", headers=auth)
        assert download.status_code == 200
        assert hashlib.sha256(download.data).hexdigest() == download.headers["X-Akta-Sha256"]
    for token in tokens:
        page = client.get(f"/verifikasi/{token}")
        assert page.status_code == 200
        assert "berlaku" in page.get_data(as_text=True)

    with target.app_context():  # the counters go on after the restored rows
        _report(7)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)) == 7
        db.session.remove()


def test_a_restore_refuses_a_target_that_is_not_empty(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    backup = backed_up(source, tmp_path)
    into_itself = _run(source, "restore", str(backup))
    assert into_itself.exit_code == 1
    assert "basis data tujuan tidak kosong" in into_itself.output
    assert "birth_reports" in into_itself.output

    other_key = _run(target, "restore", str(backup), key=Fernet.generate_key().decode())
    assert other_key.exit_code == 1
    assert "dienkripsi dengan kunci lain" in other_key.output
    assert _run(target, "restore", str(backup)).exit_code == 0


def test_an_interrupted_restore_leaves_an_empty_database_and_is_finished_with_force(
    backend: str, source: Flask, target: Flask, tmp_path: Path
) -> None:
    backup = backed_up(source, tmp_path)
    cut = tmp_path / "terpotong.akta-backup"
    cut.write_bytes(backup.read_bytes()[: backup.stat().st_size * 3 // 4])

    broken = _run(target, "restore", str(cut))
    assert broken.exit_code == 1, broken.output
    assert "tidak ada yang disimpan" in broken.output
    assert not any(table_counts(target).values())  # nothing committed, no file key either
    with target.app_context():
        left = next(iter(storage().keys()), None)
        db.session.remove()
    if backend == "postgresql":
        assert left is None  # files in the database rolled back with the rows
        finished = _run(target, "restore", str(backup))
    else:
        assert left is not None  # files it had put in the folder, their keys rolled back
        again = _run(target, "restore", str(backup))
        assert again.exit_code == 1
        assert "--force" in again.output
        finished = _run(target, "restore", str(backup), "--force")
    assert finished.exit_code == 0, finished.output
    assert table_counts(target) == table_counts(source)
    assert stored_keys(target) == stored_keys(source)
    assert sealed_under_its_master_key(target) == set(stored_keys(source))


def test_a_backup_alone_reveals_no_document_and_no_name(source: Flask, tmp_path: Path) -> None:
    backup = backed_up(source, tmp_path)
    with source.app_context():
        mother = db.session.scalars(sa.select(BirthReport.mother_name)).first()
        keys = db.session.scalars(sa.select(Document.storage_key)).all()
        tracking = db.session.scalars(sa.select(BirthReport.tracking_code)).all()
        kk = storage().get(keys[0])
        db.session.remove()
    raw = backup.read_bytes()
    assert mother
    assert mother.encode() not in raw
    assert kk[:4000] not in raw
    with tarfile.open(backup) as archive:
        names = archive.getnames()
    assert names[0] == "akta-backup.json"
    # Not even the storage keys, which name the reports' tracking codes.
    assert not [name for name in names if any(code in name for code in tracking)]
    assert not set(keys) & set(names)
    # The files travel once, as the storage reads them, never as its rows.
    assert not [name for name in names if name.startswith(STORAGE_MEMBERS)]


def test_a_row_whose_file_is_missing_stops_the_backup_and_names_it(
    source: Flask, tmp_path: Path
) -> None:
    populate(source)
    with source.app_context():
        document = db.session.scalars(sa.select(Document).order_by(Document.id)).first()
        assert document is not None
        storage().delete(document.storage_key)
        missing, document_id = document.storage_key, document.id
        db.session.commit()  # with the database backend the file goes with the transaction
        db.session.remove()
    backup = tmp_path / "cadangan.akta-backup"
    result = _run(source, "backup", str(backup))
    assert result.exit_code == 1
    assert f"documents (id={document_id})" in result.output
    assert missing in result.output
    assert not backup.exists()
    assert not list(tmp_path.glob(".*partial"))


class _WritesDuringBackup:
    """The app's own storage; the first file the backup reads waits until another request's
    or job's work has committed."""

    def __init__(self, store: Storage, app: Flask, work: Callable[[], None]) -> None:
        self.store, self.app, self.work, self.done = store, app, work, False
        self.errors: list[BaseException] = []
        self.put, self.put_many, self.exists, self.delete, self.keys = (
            store.put,
            store.put_many,
            store.exists,
            store.delete,
            store.keys,
        )

    def get(self, key: str) -> bytes:
        if not self.done:
            self.done = True
            writer = threading.Thread(target=self._write)
            writer.start()
            writer.join(timeout=120)
        return self.store.get(key)

    def _write(self) -> None:
        with self.app.app_context():
            try:
                self.work()
                db.session.commit()
            except BaseException as exc:
                self.errors.append(exc)
            finally:
                db.session.remove()


def _backup_while(source: Flask, backup: Path, work: Callable[[], None]) -> Result:
    with source.app_context():
        busy = _WritesDuringBackup(storage(), source, work)
    source.extensions["akta_storage"] = busy
    try:
        made = _run(source, "backup", str(backup))
    finally:
        source.extensions["akta_storage"] = busy.store
    assert busy.done
    assert not busy.errors, busy.errors
    return made


def test_writes_during_a_backup_leave_it_consistent(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    populate(source)
    with source.app_context():
        # One more signed report whose akta the issue worker makes while the backup runs.
        report = _report(8)
        assert verify_report(report.id) == "pass_verification"
        db.session.commit()
        operator = db.session.scalar(sa.select(User).where(User.username == "op1"))
        assert operator is not None
        fire(report, "approve", operator.as_actor())
        sign_as(report, "pj1")
        db.session.commit()
        pending = report.id
        db.session.remove()
    before = table_counts(source)
    files_before = stored_keys(source)
    backup = tmp_path / "cadangan.akta-backup"

    def another_clerks_work() -> None:  # a new report with its documents, an akta issued
        _report(9)
        assert issue_akta(pending) == "issued"

    made = _backup_while(source, backup, another_clerks_work)
    assert made.exit_code == 0, made.output
    after = table_counts(source)
    assert after["birth_reports"] == before["birth_reports"] + 1  # written during the backup
    assert after["akta_documents"] == before["akta_documents"] + 1

    restored = _run(target, "restore", str(backup))
    assert restored.exit_code == 0, restored.output
    assert table_counts(target) == before  # the database as of the snapshot
    assert stored_keys(target) == files_before  # and exactly the files its rows name
    with target.app_context():
        report = db.session.get(BirthReport, pending)
        assert report is not None
        assert report.status == S.REGISTERED  # signed; its akta came after the snapshot
        db.session.remove()


def test_without_a_key_the_backup_says_how_to_make_one(source: Flask, tmp_path: Path) -> None:
    result = _run(source, "backup", str(tmp_path / "x"), key="")
    assert result.exit_code == 1
    assert "AKTA_BACKUP_KEY" in result.output
    short = _run(source, "backup", str(tmp_path / "x"), key="c2hvcnQ=")
    assert short.exit_code == 1
    assert "32 bita" in short.output


def test_a_database_migrated_but_empty_is_a_target_too(
    backend: str, source: Flask, tmp_path: Path
) -> None:
    backup = backed_up(source, tmp_path)
    with fresh_database(backend, tmp_path) as url:
        settings = app_config(url, tmp_path / "third", **_same_seal_key(tmp_path))
        migrated = create_app(settings | _stored(backend))
        with migrated.app_context():  # `akta db upgrade`, no seed
            flask_migrate.upgrade()
        result = _run(migrated, "restore", str(backup))
        assert result.exit_code == 0, result.output
        assert table_counts(migrated) == table_counts(source)
        with migrated.app_context():
            db.session.remove()
            db.engine.dispose()


def test_archive_members_are_sealed_with_their_names() -> None:
    key = bytes(range(32))
    out = io.BytesIO()
    writer = ArchiveWriter(out, key, "b1")
    writer.add("tables/a/000001.jsonl.gz", b"first")
    writer.add("files/00000001", b"second")
    writer.close()
    members = list(ArchiveReader(io.BytesIO(out.getvalue()), key))
    assert members == [("tables/a/000001.jsonl.gz", b"first"), ("files/00000001", b"second")]

    renamed = io.BytesIO()  # the same sealed bytes under another member's name
    with (
        tarfile.open(fileobj=io.BytesIO(out.getvalue())) as original,
        tarfile.open(fileobj=renamed, mode="w") as copy_,
    ):
        for member in original.getmembers():
            data = original.extractfile(member)
            if member.name == "files/00000001":
                member.name = "files/00000002"
            copy_.addfile(member, data)
    with pytest.raises(ArchiveError, match="files/00000002: rusak atau diubah"):
        list(ArchiveReader(io.BytesIO(renamed.getvalue()), key))
    with pytest.raises(ArchiveError, match="kunci lain"):
        ArchiveReader(io.BytesIO(out.getvalue()), bytes(32))


def test_an_upload_let_go_during_a_backup_makes_it_start_on_a_new_snapshot(
    source: Flask, target: Flask, tmp_path: Path
) -> None:
    with source.app_context():
        draft, _token = start_draft()
        add_upload(draft, "kk", jpeg_bytes())
        db.session.commit()
        draft_id, first = draft.id, draft.documents["kk"]["storage_key"]
        db.session.remove()

    def parent_replaces_the_photo() -> None:
        replaced = db.session.get(Draft, draft_id)
        assert replaced is not None
        add_upload(replaced, "kk", png_bytes())
        db.session.commit()
        run_pending(source)  # the old file is deleted once the change committed

    backup = tmp_path / "cadangan.akta-backup"
    made = _backup_while(source, backup, parent_replaces_the_photo)
    assert made.exit_code == 0, made.output
    assert "2 percobaan" in made.output
    with source.app_context():
        assert not storage().exists(first)
        db.session.remove()
    assert _run(target, "restore", str(backup)).exit_code == 0
    with target.app_context():
        restored = db.session.get(Draft, draft_id)
        assert restored is not None
        upload = restored.documents["kk"]
        assert upload["storage_key"] != first
        assert hashlib.sha256(storage().get(upload["storage_key"])).hexdigest() == upload["sha256"]
        db.session.remove()
