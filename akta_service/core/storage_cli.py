"""`akta storage …`: a new master key, rotating to it, moving files to another backend."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from akta_service.core.storage import StorageBackend, backend_storage, storage
from akta_service.core.storage_crypto import (
    EncryptedStorage,
    MasterKey,
    StorageDecryptionError,
    file_keys_by_master_key,
    keyring,
    rewrap_file_keys,
)
from akta_service.core.storage_migration import StorageMigrationError, copy_file
from akta_service.core.transaction import unit_of_work


@click.group("storage")
def storage_group() -> None:
    """Stored files: their master key and their backend."""


@storage_group.command("new-master-key")
def new_master_key_command() -> None:
    """Print a new master key for AKTA_STORAGE_MASTER_KEY (keep it off the database server)."""
    click.echo(MasterKey.generate().encoded())


@storage_group.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Re-wrap every file key under the current master key (AKTA_STORAGE_MASTER_KEY); the
    files themselves are not rewritten. Safe to stop and run again."""
    ring = keyring(current_app.config["AKTA_SETTINGS"])
    rewrapped = 0
    try:
        while True:
            with unit_of_work():
                done = rewrap_file_keys(ring)
            rewrapped += done
            if not done:
                break
    except StorageDecryptionError as exc:
        raise click.ClickException(f"{exc}; {rewrapped} kunci sudah dibungkus ulang") from exc
    with unit_of_work():
        counts = file_keys_by_master_key()
    click.echo(
        f"{rewrapped} kunci berkas dibungkus ulang dengan kunci induk {ring.current.id}; "
        f"per kunci induk: {counts or {}}"
    )
    if set(counts) <= {ring.current.id}:
        click.echo(
            "Kunci induk lama tidak dipakai lagi: hapus dari AKTA_STORAGE_PREVIOUS_MASTER_KEYS."
        )


@storage_group.command("migrate")
@click.option(
    "--to", "target_name", required=True, type=click.Choice([b.value for b in StorageBackend])
)
@with_appcontext
def migrate_command(target_name: str) -> None:
    """Copy every stored file to another backend and check each SHA-256; the service keeps
    using the current one until AKTA_STORAGE_BACKEND is changed. Safe to stop and run again."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config["AKTA_SETTINGS"]
    target = StorageBackend(target_name)
    if target == settings.storage_backend:
        raise click.ClickException(f"AKTA_STORAGE_BACKEND sudah {target.value}")
    source, destination = backend_storage(app), backend_storage(app, target)
    opener = storage()
    assert isinstance(opener, EncryptedStorage)  # noqa: S101 - storage() always encrypts
    outcomes: dict[str, int] = {"copied": 0, "present": 0, "orphaned": 0}
    every_key = source.keys()
    try:
        for key in every_key:
            with unit_of_work():
                outcomes[copy_file(key, source, destination, opener).outcome] += 1
    except (StorageMigrationError, StorageDecryptionError) as exc:
        raise click.ClickException(f"{exc}; {outcomes}") from exc
    click.echo(
        f"{outcomes['copied']} berkas disalin, {outcomes['present']} sudah ada, "
        f"{outcomes['orphaned']} tanpa kunci dilewati; setiap SHA-256 cocok. "
        f"Sekarang set AKTA_STORAGE_BACKEND={target.value} dan mulai ulang layanan."
    )


@storage_group.command("encrypt-existing")
@with_appcontext
def encrypt_existing_command() -> None:
    """Encrypt, in place, the files kept before encryption at rest (run once after upgrading;
    they are read as they are until then). Safe to stop and run again."""
    opener = storage()
    assert isinstance(opener, EncryptedStorage)  # noqa: S101 - storage() always encrypts
    sealed = 0
    every_key = opener.keys()
    for key in every_key:
        with unit_of_work():
            changed = opener.seal_existing(key)
        if changed:
            with unit_of_work():
                opener.seal_existing(key)  # the file, once its key is committed
            sealed += 1
    click.echo(f"{sealed} berkas dienkripsi; semua berkas kini tersimpan terenkripsi.")
