"""The Dukcapil adapter this app uses, built once from its settings."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from akta_service.core.config import DukcapilMode
from akta_service.core.health import dependency
from akta_service.verification.dukcapil import Dukcapil

#: kab/kota the sandbox population covers: the served ones and their neighbours.
SANDBOX_REGIONS = ("3274", "3672", "3673")
_BUILDING = threading.Lock()


def build_dukcapil(app: Flask) -> Dukcapil:
    settings = app.config["AKTA_SETTINGS"]
    if settings.dukcapil_mode == DukcapilMode.HTTP:
        from akta_service.verification.client import HttpDukcapil

        return HttpDukcapil(
            settings.dukcapil_url,
            api_key=settings.dukcapil_api_key,
            connect_timeout=settings.dukcapil_connect_timeout,
            read_timeout=settings.dukcapil_read_timeout,
            attempts=settings.dukcapil_attempts,
            breaker_fail_max=settings.dukcapil_breaker_fail_max,
            breaker_reset_seconds=settings.dukcapil_breaker_reset_seconds,
        )
    from akta_service.verification.sandbox import SandboxDukcapil, SandboxPopulation

    regions = tuple(dict.fromkeys((*settings.region_codes, *SANDBOX_REGIONS)))
    return SandboxDukcapil(
        SandboxPopulation.build(
            seed=settings.sandbox_seed,
            region_codes=regions,
            families_per_region=settings.sandbox_families,
        )
    )


def dukcapil() -> Dukcapil:
    """The app's adapter (created on first use: the sandbox population takes a moment)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    adapter = app.extensions.get("akta_dukcapil")
    if adapter is None:
        # Jobs run in several threads: exactly one adapter (one pool, one breaker) per app.
        with _BUILDING:
            adapter = app.extensions.get("akta_dukcapil")
            if adapter is None:
                adapter = app.extensions["akta_dukcapil"] = build_dukcapil(app)
    return adapter


def close_dukcapil(app: Flask) -> None:
    """Release the adapter's connections (at shutdown, or when a test is done with the app)."""
    adapter = app.extensions.pop("akta_dukcapil", None)
    close = getattr(adapter, "close", None)
    if close is not None:
        close()


@dependency("dukcapil")
def dukcapil_state() -> str:
    """This process's Dukcapil adapter: its circuit breaker's state ("closed", "open",
    "half-open"), "sandbox" for the built-in registry, "not_connected" before first use."""
    adapter = current_app.extensions.get("akta_dukcapil")
    if adapter is None:
        return "not_connected"
    return str(getattr(adapter, "circuit_state", "sandbox"))
