"""`akta signing`: the sandbox signing service (serve), its officers (enrol, unlock, list).

Plain click commands: the signing service is another system than the registration
service, and needs neither the service's app nor its database.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from akta_service.signing.registry import EnrolmentRefused
from akta_service.signing.service import (
    ServiceConfig,
    SigningService,
    TokenKind,
    create_signing_app,
)
from akta_service.signing.tokens import (
    DEFAULT_SOFTHSM2_MODULE,
    SoftwareKeyStore,
    TokenError,
    TokenMissing,
)

_options = [
    click.option(
        "--folder",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("instance/signing-service"),
        show_default=True,
        envvar="AKTA_SIGNING_SERVICE_PATH",
        help="The service's state: CA, tokens, registry.",
    ),
    click.option(
        "--url",
        default="http://127.0.0.1:5002",
        show_default=True,
        envvar="AKTA_SIGNING_SERVICE_URL",
        help="How clients reach the service (its certificates name {url}/ocsp).",
    ),
    click.option(
        "--token",
        "token_kind",
        type=click.Choice(["auto", "softhsm", "software"]),
        default="auto",
        show_default=True,
        envvar="AKTA_SIGNING_TOKEN",
        help="Where keys live: SoftHSM2, encrypted key files, or SoftHSM2 when installed.",
    ),
    click.option(
        "--softhsm2-module",
        default=DEFAULT_SOFTHSM2_MODULE,
        show_default=True,
        envvar="AKTA_SOFTHSM2_MODULE",
    ),
]


def _service_options(command: Any) -> Any:
    for option in reversed(_options):
        command = option(command)
    return command


def _open(
    folder: Path, url: str, token_kind: str, softhsm2_module: str, **extra: Any
) -> SigningService:
    config = ServiceConfig(
        folder=folder.resolve(),
        url=url,
        token_kind=TokenKind(token_kind),
        softhsm2_module=softhsm2_module,
        **extra,
    )
    try:
        return SigningService(config)
    except TokenMissing as exc:
        raise click.ClickException(f"signing service: {exc}") from exc


@click.group("signing")
def signing_group() -> None:
    """The sandbox electronic-signature service (TTE): officers' keys in tokens, CA, TSA."""


@signing_group.command("serve")
@_service_options
@click.option("--host", default=None, help="Default: the host of --url.")
@click.option("--port", default=None, type=int, help="Default: the port of --url.")
@click.option("--api-key", default=None, envvar="AKTA_SIGNING_SERVICE_API_KEY")
@click.option("--authorisation-minutes", default=480, show_default=True, type=int)
@click.option(
    "--exit-with-parent",
    is_flag=True,
    help="Stop when the process that started this one ends (the embedded service).",
)
def serve_command(
    folder: Path,
    url: str,
    token_kind: str,
    softhsm2_module: str,
    host: str | None,
    port: int | None,
    api_key: str | None,
    authorisation_minutes: int,
    exit_with_parent: bool,
) -> None:
    """Serve the signing service with waitress until stopped."""
    import waitress

    if exit_with_parent:
        _exit_with(os.getppid())

    service = _open(
        folder,
        url,
        token_kind,
        softhsm2_module,
        api_key=api_key,
        authorisation_lifetime=timedelta(minutes=authorisation_minutes),
    )
    try:
        service.check_tokens()
    except TokenMissing as exc:
        raise click.ClickException(f"signing service: {exc}") from exc
    where = urlsplit(url)
    if isinstance(service.keys, SoftwareKeyStore) and token_kind != TokenKind.SOFTWARE:
        click.echo(
            "SoftHSM2 tidak terpasang: kunci pejabat disimpan sebagai berkas terenkripsi "
            "(token perangkat lunak), hanya untuk percobaan."
        )
    click.echo(f"Layanan tanda tangan berjalan di {url} ({service.keys.description})")
    waitress.serve(
        create_signing_app(service),
        host=host or where.hostname or "127.0.0.1",
        port=port or where.port or 5002,
        threads=4,
        ident="akta-signing",
    )


def _exit_with(parent: int) -> None:
    """End this process once `parent` has ended (it is re-parented then), however it ended."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@signing_group.command("enrol")
@_service_options
@click.option("--nip", required=True, help="The officer's 18-digit NIP.")
@click.option("--name", required=True, help="The name on the certificate, with titles.")
@click.option("--nik", required=True, help="The officer's 16-digit NIK: their identity here.")
@click.option("--office", default="Dinas Kependudukan dan Pencatatan Sipil", show_default=True)
@click.option(
    "--passphrase",
    prompt="Passphrase pejabat",
    hide_input=True,
    confirmation_prompt=True,
    envvar="AKTA_SIGNING_PASSPHRASE",
    help="Asked for when not given in AKTA_SIGNING_PASSPHRASE; never on the command line.",
)
def enrol_command(
    folder: Path,
    url: str,
    token_kind: str,
    softhsm2_module: str,
    nip: str,
    name: str,
    nik: str,
    office: str,
    passphrase: str,
) -> None:
    """Create an officer's key in a new token and a certificate naming them and their NIP."""
    service = _open(folder, url, token_kind, softhsm2_module)
    try:
        officer = service.enrol(nik, nip, name, passphrase, office)
    except (EnrolmentRefused, TokenError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    assert officer.certificate is not None  # noqa: S101 - always loaded
    click.echo(
        f"Pejabat {officer.name} (NIP {officer.nip}) terdaftar; sertifikat berlaku sampai "
        f"{officer.certificate.not_valid_after_utc:%d-%m-%Y}; kunci di {service.keys.description}"
    )


@signing_group.command("unlock")
@_service_options
@click.option("--nip", required=True)
def unlock_command(folder: Path, url: str, token_kind: str, softhsm2_module: str, nip: str) -> None:
    """Let a locked officer sign again (after five wrong passphrases)."""
    service = _open(folder, url, token_kind, softhsm2_module)
    if not service.registry.unlock(nip):
        raise click.ClickException(f"Tidak ada pejabat terdaftar dengan NIP {nip}")
    click.echo(f"Tanda tangan pejabat NIP {nip} dapat dipakai lagi.")


@signing_group.command("officers")
@_service_options
def officers_command(folder: Path, url: str, token_kind: str, softhsm2_module: str) -> None:
    """The enrolled officers: NIP, name, wrong passphrases in a row, locked or not."""
    service = _open(folder, url, token_kind, softhsm2_module)
    for officer in service.registry.officers():
        state = "TERKUNCI" if officer.locked else "aktif"
        click.echo(f"{officer.nip}  {officer.name}  salah={officer.wrong_passphrases}  {state}")
