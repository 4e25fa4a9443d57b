"""Stored files: both backends, encryption at rest, the transaction they are written in, the
master key's rotation and the move from one backend to another (`akta storage …`)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Blueprint, Flask

from akta_service.cli import cli
from akta_service.core import storage as storage_module
from akta_service.core.db import db
from akta_service.core.sessions import csrf
from akta_service.core.storage import (
    DatabaseStorage,
    LocalStorage,
    Storage,
    StorageBackend,
    StoredFile,
    backend_storage,
    storage,
)
from akta_service.core.storage_crypto import (
    EncryptedStorage,
    FileKey,
    Keyring,
    MasterKey,
    StorageDecryptionError,
    rewrap_file_keys,
)
from akta_service.core.transaction import unit_of_work
from tests.conftest import make_migrated_app
from tests.databases import fresh_database

#: What a scan of a KK says, in a form the tests can look for in what is stored.
SECRET_TEXT = b"KARTU KELUARGA No. 3274010101700001 - IBU SITI AMINAH"


def _raw(kind: str, tmp_path: Path) -> Storage:
    return DatabaseStorage() if kind == "database" else LocalStorage(tmp_path / "files")


@pytest.fixture(params=["folder", "database"])
def raw(request: pytest.FixtureRequest, session: Any, tmp_path: Path) -> Storage:
    """A bare backend (the bytes as they rest) in the test's transaction."""
    return _raw(str(request.param), tmp_path)


@pytest.fixture
def ring() -> Keyring:
    return Keyring(MasterKey.generate())


def test_a_file_reads_back_whole_and_rests_only_as_ciphertext(raw: Storage, ring: Keyring) -> None:
    store = EncryptedStorage(raw, ring)
    store.put("documents/3274/A/kk.pdf", SECRET_TEXT * 1000)

    assert store.get("documents/3274/A/kk.pdf") == SECRET_TEXT * 1000
    assert store.exists("documents/3274/A/kk.pdf")
    resting = raw.get("documents/3274/A/kk.pdf")
    assert SECRET_TEXT[:16] not in resting
    # What a dump of the database holds (the wrapped key, and with the database backend the
    # file) does not open without the master key kept in the settings.
    wrapped = db.session.scalar(sa.select(FileKey.wrapped_key))
    assert ring.current.secret not in resting + bytes(wrapped)
    stranger = EncryptedStorage(raw, Keyring(MasterKey(ring.current.id, bytes(32))))
    with pytest.raises(StorageDecryptionError, match="its key does not open"):
        stranger.get("documents/3274/A/kk.pdf")
    without = EncryptedStorage(raw, Keyring(MasterKey.generate()))
    with pytest.raises(StorageDecryptionError, match="is not configured"):
        without.get("documents/3274/A/kk.pdf")


def test_each_file_has_a_key_of_its_own(raw: Storage, ring: Keyring) -> None:
    store = EncryptedStorage(raw, ring)
    store.put("a.pdf", SECRET_TEXT)
    store.put("b.pdf", SECRET_TEXT)

    assert raw.get("a.pdf") != raw.get("b.pdf")
    wrapped = db.session.scalars(sa.select(FileKey.wrapped_key).order_by(FileKey.key)).all()
    assert len(set(wrapped)) == 2


def test_two_files_swapped_at_rest_do_not_open(raw: Storage, ring: Keyring) -> None:
    store = EncryptedStorage(raw, ring)
    store.put("a.pdf", b"akta of child A")
    store.put("b.pdf", b"akta of child B")
    a, b = raw.get("a.pdf"), raw.get("b.pdf")
    raw.delete("a.pdf")
    raw.delete("b.pdf")
    raw.put("a.pdf", b)
    raw.put("b.pdf", a)

    with pytest.raises(StorageDecryptionError, match="changed or not its own"):
        store.get("a.pdf")
    with pytest.raises(StorageDecryptionError):
        store.get("b.pdf")


def test_two_wrapped_keys_swapped_do_not_open(raw: Storage, ring: Keyring) -> None:
    store = EncryptedStorage(raw, ring)
    store.put("a.pdf", b"one")
    store.put("b.pdf", b"two")
    rows = {r.key: r for r in db.session.scalars(sa.select(FileKey))}
    rows["a.pdf"].wrapped_key, rows["b.pdf"].wrapped_key = (
        rows["b.pdf"].wrapped_key,
        rows["a.pdf"].wrapped_key,
    )
    db.session.flush()

    with pytest.raises(StorageDecryptionError, match="its key does not open"):
        store.get("a.pdf")


def test_keys_lists_every_stored_file(
    raw: Storage, ring: Keyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_module, "KEYS_PAGE", 2)  # several pages in the database
    store = EncryptedStorage(raw, ring)
    names = {f"documents/3274/R{n}/{n}.png" for n in range(5)}
    for name in names:
        store.put(name, b"x")
    store.delete("documents/3274/R0/0.png")

    assert set(store.keys()) == names - {"documents/3274/R0/0.png"}
    assert not store.exists("documents/3274/R0/0.png")
    with pytest.raises(FileNotFoundError):
        store.get("documents/3274/R0/0.png")


def test_a_key_is_written_once(raw: Storage, ring: Keyring) -> None:
    store = EncryptedStorage(raw, ring)
    store.put("once.pdf", b"first")

    with pytest.raises((FileExistsError, sa.exc.IntegrityError)), db.session.begin_nested():
        store.put("once.pdf", b"second")
    assert store.get("once.pdf") == b"first"


@contextmanager
def _committing_app(backend: str, tmp_path: Path, stored_in: str) -> Iterator[Flask]:
    with fresh_database(backend, tmp_path) as url:
        app = make_migrated_app(url, tmp_path / "instance", AKTA_STORAGE_BACKEND=stored_in)
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def database_app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """A committing app whose files live in its database."""
    with _committing_app(backend, tmp_path, "database") as app:
        yield app


def _count(model: type[Any]) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)))


def _store_then_fail(key: str, in_savepoint: bool = False) -> None:
    """A job that stores a file, then fails (writing the row that refers to it, say)."""
    with unit_of_work():
        if in_savepoint:
            with db.session.begin_nested():
                storage().put(key, SECRET_TEXT)
                raise RuntimeError("refused inside its savepoint")
        storage().put(key, SECRET_TEXT)
        raise RuntimeError("the report's row could not be written")


def test_with_the_database_backend_work_that_fails_leaves_no_file(database_app: Flask) -> None:
    with database_app.app_context():
        with pytest.raises(RuntimeError):
            _store_then_fail("documents/3274/X/failed.pdf")
        with pytest.raises(RuntimeError):
            _store_then_fail("documents/3274/X/refused.pdf", in_savepoint=True)
        with unit_of_work():
            storage().put("documents/3274/X/kept.pdf", SECRET_TEXT)
        db.session.remove()

        assert (_count(StoredFile), _count(FileKey)) == (1, 1)
        assert set(storage().keys()) == {"documents/3274/X/kept.pdf"}
        assert storage().get("documents/3274/X/kept.pdf") == SECRET_TEXT
        assert not (database_app.config["AKTA_SETTINGS"].storage_path).exists()


def _with_keys(app: Flask, current: MasterKey, *previous: MasterKey) -> None:
    settings = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(
        settings, storage_master_key=current, storage_previous_master_keys=previous
    )
    app.extensions.pop("akta_storage", None)


def _resting(app: Flask) -> dict[str, str]:
    """SHA-256 of every file as it rests in the backend (ciphertext)."""
    raw = backend_storage(app)
    every_key = raw.keys()
    return {key: hashlib.sha256(raw.get(key)).hexdigest() for key in every_key}


def test_rotating_the_master_key_rewraps_the_keys_and_leaves_the_files(
    database_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    files = {f"akta/3274/{n}.pdf": SECRET_TEXT + bytes([n]) for n in range(5)}
    with database_app.app_context():
        _with_keys(database_app, old)
        with unit_of_work():
            for key, data in files.items():
                storage().put(key, data)
        before = _resting(database_app)
        _with_keys(database_app, new, old)
        # Stopped after the first batch of two: every file still opens, some keys moved.
        with unit_of_work():
            assert rewrap_file_keys(Keyring(new, (old,)), batch=2) == 2
        assert {key: storage().get(key) for key in files} == files

        result = database_app.test_cli_runner().invoke(cli, ["storage", "rotate-key"])
        assert result.exit_code == 0, result.output
        assert f"3 kunci berkas dibungkus ulang dengan kunci induk {new.id}" in result.output
        assert "hapus dari AKTA_STORAGE_PREVIOUS_MASTER_KEYS" in result.output

        _with_keys(database_app, new)  # the old key is gone from the settings
        db.session.remove()
        assert {key: storage().get(key) for key in files} == files
        assert _resting(database_app) == before  # no file was rewritten
        assert set(db.session.scalars(sa.select(FileKey.master_key_id))) == {new.id}

        again = database_app.test_cli_runner().invoke(cli, ["storage", "rotate-key"])
        assert "0 kunci berkas dibungkus ulang" in again.output


def test_rotating_without_the_old_key_configured_stops_saying_which(
    database_app: Flask,
) -> None:
    old = MasterKey.generate()
    with database_app.app_context():
        _with_keys(database_app, old)
        with unit_of_work():
            storage().put("a.pdf", SECRET_TEXT)
        _with_keys(database_app, MasterKey.generate())

        result = database_app.test_cli_runner().invoke(cli, ["storage", "rotate-key"])

        assert result.exit_code == 1
        assert f"its master key {old.id!r} is not configured" in result.output


@pytest.fixture
def folder_app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """A committing app on the folder backend, about to move its files into the database."""
    with _committing_app(backend, tmp_path, "folder") as app:
        yield app


def _switch(app: Flask, backend: StorageBackend) -> None:
    settings = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(settings, storage_backend=backend)
    app.extensions.pop("akta_storage", None)


def test_migrating_copies_every_file_checked_and_resumes_after_an_interruption(
    folder_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"documents/3274/R{n}/{n}.pdf": SECRET_TEXT * (n + 1) for n in range(6)}
    with folder_app.app_context():
        with unit_of_work():
            for key, data in files.items():
                storage().put(key, data)
        # A file left by a request that rolled back: no key refers to it, nothing reads it.
        with pytest.raises(RuntimeError):
            _store_then_fail("orphan.pdf")
        before = _resting(folder_app)
        runner = folder_app.test_cli_runner()

        real_put = DatabaseStorage.put
        calls = {"n": 0}

        def dies_on_the_fourth(self: DatabaseStorage, key: str, data: bytes) -> None:
            calls["n"] += 1
            if calls["n"] == 4:
                raise sa.exc.OperationalError("INSERT", {}, Exception("connection lost"))
            real_put(self, key, data)

        monkeypatch.setattr(DatabaseStorage, "put", dies_on_the_fourth)
        interrupted = runner.invoke(cli, ["storage", "migrate", "--to", "database"])
        assert interrupted.exit_code != 0
        db.session.remove()
        # Nothing changed for the service: it still reads every file from the folder.
        assert _resting(folder_app) == before
        assert {key: storage().get(key) for key in files} == files
        assert _count(StoredFile) == 3

        monkeypatch.setattr(DatabaseStorage, "put", real_put)
        done = runner.invoke(cli, ["storage", "migrate", "--to", "database"])
        assert done.exit_code == 0, done.output
        assert "3 berkas disalin, 3 sudah ada, 1 tanpa kunci dilewati" in done.output
        assert "AKTA_STORAGE_BACKEND=database" in done.output

        _switch(folder_app, StorageBackend.DATABASE)
        db.session.remove()
        assert {key: storage().get(key) for key in files} == files
        assert _resting(folder_app) == {k: v for k, v in before.items() if k != "orphan.pdf"}

        same = runner.invoke(cli, ["storage", "migrate", "--to", "database"])
        assert same.exit_code == 1
        assert "AKTA_STORAGE_BACKEND sudah database" in same.output


def test_migrating_onto_a_different_copy_refuses_naming_the_file(folder_app: Flask) -> None:
    with folder_app.app_context():
        with unit_of_work():
            storage().put("documents/3274/R1/kk.pdf", SECRET_TEXT)
            DatabaseStorage().put("documents/3274/R1/kk.pdf", b"another file")

        result = folder_app.test_cli_runner().invoke(
            cli, ["storage", "migrate", "--to", "database"]
        )

        assert result.exit_code == 1
        assert "documents/3274/R1/kk.pdf: the target holds SHA-256" in result.output


def test_readyz_reports_storage_and_a_master_key_that_is_missing(
    database_app: Flask,
) -> None:
    client = database_app.test_client()
    body = client.get("/readyz").get_json()
    assert body["status"] == "ready"
    current = database_app.config["AKTA_SETTINGS"].storage_master_key
    assert body["storage"] == {"backend": "database", "master_key": current.id, "state": "ok"}

    old = MasterKey.generate()
    with database_app.app_context():
        _with_keys(database_app, old)
        with unit_of_work():
            storage().put("a.pdf", SECRET_TEXT)
        _with_keys(database_app, current)
        db.session.remove()
        assert _count(StoredFile) == 1  # the probes wrote nothing that stayed

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["storage"]["state"] == "master_key_missing"
    assert response.get_json()["storage"]["missing_master_key"] == old.id


def test_readyz_is_not_ready_when_the_folder_cannot_be_written(
    folder_app: Flask, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the storage folder should be")
    folder_app.config["AKTA_SETTINGS"] = dataclasses.replace(
        folder_app.config["AKTA_SETTINGS"], storage_path=blocked
    )
    folder_app.extensions.pop("akta_storage", None)

    response = folder_app.test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["storage"]["state"] == "unavailable"


def test_files_kept_before_encryption_are_read_then_sealed_in_place(
    folder_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"documents/3274/OLD/{n}.pdf": SECRET_TEXT + bytes([n]) for n in range(4)}
    with folder_app.app_context():
        folder = LocalStorage(folder_app.config["AKTA_SETTINGS"].storage_path)
        for key, data in files.items():
            folder.put(key, data)  # as the service stored them before this version
        assert {key: storage().get(key) for key in files} == files  # still read after upgrading
        runner = folder_app.test_cli_runner()
        refused = runner.invoke(cli, ["storage", "migrate", "--to", "database"])
        assert refused.exit_code == 1
        assert "run `akta storage encrypt-existing` first" in refused.output

        real_replace = LocalStorage.replace
        calls = {"n": 0}

        def dies_on_the_third(self: LocalStorage, key: str, data: bytes) -> None:
            calls["n"] += 1
            if calls["n"] == 3:
                raise OSError("disk full")
            real_replace(self, key, data)

        monkeypatch.setattr(LocalStorage, "replace", dies_on_the_third)
        interrupted = runner.invoke(cli, ["storage", "encrypt-existing"])
        assert interrupted.exit_code != 0
        db.session.remove()
        assert {key: storage().get(key) for key in files} == files  # every file still reads

        monkeypatch.setattr(LocalStorage, "replace", real_replace)
        done = runner.invoke(cli, ["storage", "encrypt-existing"])
        assert done.exit_code == 0, done.output
        assert "2 berkas dienkripsi" in done.output
        db.session.remove()
        assert {key: storage().get(key) for key in files} == files
        assert all(SECRET_TEXT[:16] not in folder.get(key) for key in files)
        assert _count(FileKey) == 4
        assert "0 berkas dienkripsi" in runner.invoke(cli, ["storage", "encrypt-existing"]).output


requests = Blueprint("storage_test", __name__)


@requests.post("/t/store/<name>")
def store(name: str) -> str:
    storage().put(f"documents/3274/T/{name}.pdf", SECRET_TEXT)
    if name == "crash":
        raise RuntimeError("a fault after the file was stored")
    return "stored"


def test_a_request_that_fails_after_storing_leaves_no_file_in_the_database(
    backend: str, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path) as url:
        app = make_migrated_app(
            url, tmp_path / "instance", AKTA_STORAGE_BACKEND="database", PROPAGATE_EXCEPTIONS=False
        )
        csrf.exempt(requests)  # posted by this test, not by a browser form
        app.register_blueprint(requests)
        try:
            client = app.test_client()
            assert client.post("/t/store/crash").status_code == 500
            assert client.post("/t/store/kept").status_code == 200
            with app.app_context():
                assert set(storage().keys()) == {"documents/3274/T/kept.pdf"}
                assert _count(FileKey) == 1
        finally:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def test_a_new_master_key_is_printed_ready_for_the_settings(app: Flask) -> None:
    first = app.test_cli_runner().invoke(cli, ["storage", "new-master-key"])
    second = app.test_cli_runner().invoke(cli, ["storage", "new-master-key"])

    assert first.exit_code == 0
    key = MasterKey.parse(first.output)
    assert len(key.secret) == 32
    assert MasterKey.parse(second.output) != key
