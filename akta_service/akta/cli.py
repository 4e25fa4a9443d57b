"""`akta akta verify FILE.pdf`: check an akta's electronic signature from the command line;
`akta verify-qr IMAGE|TEXT`: check its sealed QR code; `akta akta rotate-seal-key` and
`akta akta import-seal-keys`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from akta_service.akta.operations import trust_root
from akta_service.akta.seal import (
    ANNULLED,
    INVALID,
    PREFIX,
    SUPERSEDED,
    check_qr,
    read_status_list,
    status_list,
)
from akta_service.akta.seal import VALID as VALID_SEAL
from akta_service.akta.seal_keys import SealKeyError, import_file_keys, rotate
from akta_service.akta.seal_views import status_entries
from akta_service.akta.signing import validate_pdf
from akta_service.core.clock import local_time
from akta_service.core.errors import DomainError

#: Exit codes: the signature holds, it does not, the file could not be read at all.
VALID, NOT_VALID, UNREADABLE = 0, 1, 2


@click.group("akta")
def akta_group() -> None:
    """Issued birth certificates (akta kelahiran)."""


@akta_group.command("verify")
@click.argument("pdf_file", metavar="FILE.pdf", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--region",
    help="kab/kota code whose signing authority is trusted (default: the first of AKTA_REGIONS).",
)
@with_appcontext
def verify_command(pdf_file: Path, region: str | None) -> None:
    """Say whether FILE.pdf carries a valid signature of the office; exit 1 when it does not."""
    context = click.get_current_context()
    settings = current_app.config["AKTA_SETTINGS"]
    try:
        pdf = pdf_file.read_bytes()
    except OSError:
        click.echo(f"Berkas {pdf_file} tidak ada atau tidak dapat dibaca.", err=True)
        context.exit(UNREADABLE)
    try:
        root = trust_root(region or settings.region_codes[0], settings)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--region") from exc
    result = validate_pdf(pdf, root)
    click.echo(f"Tanda tangan: {'SAH' if result.valid else 'TIDAK SAH'}")
    click.echo(f"Penanda tangan: {result.signer or '—'}")
    click.echo(f"NIP penanda tangan: {result.signer_nip or '—'}")
    click.echo(f"Waktu tanda tangan: {local_time(result.signed_at)}")
    stamp = local_time(result.timestamped_at) if result.timestamped_at else "tidak ada"
    click.echo(f"Cap waktu (RFC 3161): {stamp}")
    click.echo(f"Ringkasan: {result.summary}")
    if not result.readable:
        context.exit(UNREADABLE)
    context.exit(VALID if result.valid else NOT_VALID)


def _qr_text(source: str) -> str:
    """The code's text: `source` itself, or the QR code read from the image file it names
    (PNG, JPEG, or a PDF's first page rendered at 150 dpi with pdftoppm)."""
    path = Path(source)
    if source.upper().startswith(PREFIX) or not path.is_file():
        return source
    from akta_service.akta.qr_image import read_qr

    found = read_qr(path)
    if found is None:
        raise click.ClickException(f"Tidak ada kode QR yang terbaca pada {path}.")
    return found


_VERDICTS = {
    VALID_SEAL: "SAH",
    INVALID: "TIDAK SAH",
    ANNULLED: "DIBATALKAN",
    SUPERSEDED: "TIDAK BERLAKU (sudah diperbaiki, ada versi yang lebih baru)",
}


@click.command("verify-qr")
@click.argument("source", metavar="IMAGE|TEXT")
@with_appcontext
def verify_qr_command(source: str) -> None:
    """Check an akta's sealed QR code (a photo or scan of it, or its text): exit 0 when it is
    valid, 1 when it is not (invalid, annulled or superseded)."""
    statuses = read_status_list(
        status_list(status_entries(), current_app.config["AKTA_SETTINGS"].public_base_url)
    )
    result = check_qr(_qr_text(source), statuses=statuses)
    suffix = f" pada {result.status_date}" if result.status_date else ""
    click.echo(f"Status: {_VERDICTS[result.status]}{suffix}")
    if result.problem:
        click.echo(f"Masalah: {result.problem}")
    if result.facts:
        facts = result.facts
        for label, value in (
            ("Nomor akta", facts.registration_number),
            ("Versi", facts.version),
            ("Nama anak", facts.child_name),
            ("Jenis kelamin", facts.child_sex),
            ("Tempat lahir", facts.birth_place),
            ("Tanggal lahir", facts.birth_date),
            ("Nama ayah", facts.father_name or "—"),
            ("Nama ibu", facts.mother_name or "—"),
            ("Tanggal terbit", facts.issue_date),
            ("SHA-256 teks akta", facts.text_sha256),
            ("Halaman verifikasi", facts.verification_url),
            ("Kunci segel", result.kid),
        ):
            click.echo(f"{label}: {value}")
    click.echo(f"Status pembatalan per: {local_time(statuses.issued_at)}")
    click.get_current_context().exit(VALID if result.status == VALID_SEAL else NOT_VALID)


@akta_group.command("rotate-seal-key")
@with_appcontext
def rotate_seal_key_command() -> None:
    """A new seal key signs from now on; the old ones stay published and valid for what
    they sealed."""
    try:
        kid = rotate()
    except SealKeyError as exc:
        raise click.ClickException(f"kunci segel: {exc}") from None
    click.echo(f"Kunci segel baru: {kid}")


@akta_group.command("import-seal-keys")
@with_appcontext
def import_seal_keys_command() -> None:
    """Move the seal keys kept as key files into the seal token (once: each key file's
    private half is removed once the token signs with it); what they sealed stays valid."""
    try:
        imported = import_file_keys()
    except SealKeyError as exc:
        raise click.ClickException(f"kunci segel: {exc}") from None
    for kid in imported:
        click.echo(f"Kunci segel {kid} dipindahkan ke token; berkas kuncinya dihapus.")
    if not imported:
        click.echo("Tidak ada berkas kunci segel untuk dipindahkan: semua kunci sudah di token.")
