"""`akta backup FILE` and `akta restore FILE`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from akta_service.backup.archive import ArchiveError, load_backup_key
from akta_service.backup.operations import (
    BackupError,
    Outcome,
    RestoreRefused,
    backup_service,
    restore_service,
)
from akta_service.core.storage import storage

_KEY_FILE = click.option(
    "--key-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the backup key (otherwise AKTA_BACKUP_KEY).",
)


def _key(key_file: Path | None) -> bytes:
    encoded = key_file.read_text() if key_file else os.environ.get("AKTA_BACKUP_KEY", "")
    if not encoded.strip():
        raise click.ClickException(
            "tidak ada kunci cadangan: setel AKTA_BACKUP_KEY atau --key-file (32 bita base64, "
            "mis. dari `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`), dan simpan salinannya di luar server"
        )
    try:
        return load_backup_key(encoded)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc


def _summary(outcome: Outcome, seconds: float) -> str:
    rows = sum(outcome.rows.values())
    return (
        f"revisi {outcome.revision}, {rows} baris dalam {len(outcome.rows)} tabel, "
        f"{outcome.files} berkas ({outcome.file_bytes} bita), {seconds:.1f} detik"
    )


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_KEY_FILE
@with_appcontext
def backup_command(file: Path, key_file: Path | None) -> None:
    """Write one consistent, encrypted backup of the database and every stored file."""
    key = _key(key_file)
    started = time.monotonic()
    try:
        outcome = backup_service(file, key, current_app.config["AKTA_SETTINGS"], storage())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    seconds = time.monotonic() - started
    click.echo(f"Cadangan {file} ({file.stat().st_size} bita): {_summary(outcome, seconds)}")
    if outcome.attempts > 1:
        click.echo(f"({outcome.attempts} percobaan: berkas dilepas selama pencadangan)")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_KEY_FILE
@click.option(
    "--force",
    is_flag=True,
    help="Restore although the storage holds files (left by an interrupted restore); the "
    "database must still be empty.",
)
@with_appcontext
def restore_command(file: Path, key_file: Path | None, force: bool) -> None:
    """Restore a backup into an empty database and storage, checking every hash."""
    key = _key(key_file)
    started = time.monotonic()
    try:
        outcome = restore_service(
            file, key, current_app.config["AKTA_SETTINGS"], storage(), force=force
        )
    except (ArchiveError, RestoreRefused) as exc:
        raise click.ClickException(f"pemulihan dibatalkan, tidak ada yang disimpan: {exc}") from exc
    click.echo(f"Dipulihkan dari {file}: {_summary(outcome, time.monotonic() - started)}")


#: Added to the `akta` command by akta_service.cli.
BACKUP_COMMANDS = (backup_command, restore_command)
