"""Fixtures for the parents' form: sandbox families, a real local SMTP server."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from akta_service.verification.gateway import dukcapil
from tests.services import free_port


def sandbox_report(kind: str = "recorded", index: int = 0) -> dict[str, Any]:
    """The example report of a real family in the sandbox registry (Kota Cirebon)."""
    population = dukcapil().population  # type: ignore[attr-defined]
    families = population.sample_families(index + 1, kind, region="3274")
    return copy.deepcopy(families[index]["example_report"])


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server on this machine; the app sends through it for this test."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(
        original, smtp_url=f"smtp://127.0.0.1:{controller.port}", mail_from="akta@cirebonkota.test"
    )
    try:
        yield inbox
    finally:
        app.config["AKTA_SETTINGS"] = original
        controller.stop()
