"""`akta akta verify FILE.pdf`: check an akta's electronic signature from the command line."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from akta_service.akta.operations import trust_root
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
