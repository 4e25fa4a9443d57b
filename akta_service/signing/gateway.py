"""The signing service this process talks to, one client per app.

Embedded default (`AKTA_SIGNING_SERVICE=embedded`, outside production): the sandbox signing
service runs as a child process (`akta signing serve`, state in `instance/signing-service`)
at `AKTA_SIGNING_SERVICE_URL`, started on first use unless one already answers there, so
that even `make run` keeps every key out of the process that answers requests.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from flask import Flask, current_app

from akta_service.core.config import Settings, SigningServiceMode, current_settings
from akta_service.signing.client import SigningServiceClient, SigningServiceError

log = logging.getLogger("akta_service.signing")

EXTENSION = "akta_signing_service"
_start_lock = threading.Lock()
_started: list[subprocess.Popen[bytes]] = []
#: `akta signing` run by this Python, wherever the `akta` script is.
_SIGNING_COMMAND = (sys.executable, "-m", "akta_service.signing")


def signing_service(app: Flask | None = None) -> SigningServiceClient:
    """This app's client of the signing service (the embedded one started if need be)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client: SigningServiceClient | None = app.extensions.get(EXTENSION)
    if client is None:
        settings: Settings = app.config["AKTA_SETTINGS"]
        with _start_lock:
            client = app.extensions.get(EXTENSION)
            if client is None:
                if settings.signing_service == SigningServiceMode.EMBEDDED:
                    ensure_embedded_service(settings)
                client = SigningServiceClient(
                    settings.signing_service_url, settings.signing_service_api_key
                )
                app.extensions[EXTENSION] = client
    return client


def close_signing_service(app: Flask) -> None:
    """Close this app's connections to the signing service."""
    client: SigningServiceClient | None = app.extensions.pop(EXTENSION, None)
    if client is not None:
        client.close()


def trust_root(settings: Settings | None = None) -> Path:
    """The CA certificate the signing service's signatures chain to (`signing_path/ca.pem`);
    fetched from the service once outside production, configured in production."""
    settings = settings or current_settings()
    path = settings.signing_path / "ca.pem"
    if path.is_file():
        return path
    if settings.is_production:
        raise FileNotFoundError(f"{path} is missing: put the signing CA's certificate there")
    pem = signing_service().trust_root_pem()
    settings.signing_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".ca.pem.{os.getpid()}")
    temporary.write_bytes(pem)
    temporary.replace(path)
    return path


def embedded_folder(settings: Settings) -> Path:
    return settings.instance_path / "signing-service"


def embedded_env(settings: Settings) -> dict[str, str]:
    """The environment `akta signing` commands of the embedded service run with."""
    return {
        **os.environ,
        "AKTA_SIGNING_SERVICE_PATH": str(embedded_folder(settings)),
        "AKTA_SIGNING_SERVICE_URL": settings.signing_service_url,
    }


def enrol_embedded(settings: Settings, nik: str, nip: str, name: str, passphrase: str) -> None:
    """Enrol an officer in the embedded sandbox service unless enrolled already (demo data).

    Runs `akta signing enrol` as its own process: the key is made there, not here.
    """
    from akta_service.signing.registry import Registry

    folder = embedded_folder(settings)
    if folder.exists() and Registry(folder).officer_by_nip(nip) is not None:
        return
    subprocess.run(  # noqa: S603 - our own program
        [*_SIGNING_COMMAND, "enrol", "--nik", nik, "--nip", nip, "--name", name],
        env={**embedded_env(settings), "AKTA_SIGNING_PASSPHRASE": passphrase},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def ensure_embedded_service(settings: Settings) -> None:
    """Start the sandbox signing service as a child process unless one answers already."""
    health = f"{settings.signing_service_url}/_health"
    if _answers(health):
        return
    process = subprocess.Popen(  # noqa: S603 - our own program
        [*_SIGNING_COMMAND, "serve", "--exit-with-parent"],
        env=embedded_env(settings),
    )
    _started.append(process)
    atexit.register(_stop, process)
    deadline = time.monotonic() + 60
    while not _answers(health):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process)
            raise SigningServiceError("signing_service_unavailable")
        time.sleep(0.1)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def atexit_stoppers() -> list[Callable[[], None]]:
    """Stop each embedded service this process started (what runs at exit anyway)."""
    return [functools.partial(_stop, process) for process in _started]
