"""A real SMTP server on this machine (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from tests.services import free_port


class Inbox:
    def __init__(self, refuse_recipients: bool = False) -> None:
        self.messages: list[Any] = []
        self.refuse_recipients = refuse_recipients

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.refuse_recipients:
            return f"550 5.1.1 <{address}>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def local_smtp(app: Flask, refuse_recipients: bool = False) -> Iterator[Inbox]:
    """The app sends its e-mail through a new local SMTP server while this lasts (one that
    refuses every recipient, with `refuse_recipients`)."""
    inbox = Inbox(refuse_recipients)
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
