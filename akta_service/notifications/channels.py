"""How a message leaves: SMTP e-mail, an SMS gateway, a signed webhook POST."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

from akta_service.core.log_redaction import redact
from akta_service.core.outbound import AddressRefused, check_url

log = logging.getLogger("akta_service.notifications")


class DeliveryFailed(Exception):
    """This attempt failed; the outbox retries later."""


def send_email(
    smtp_url: str | None, sender: str, to: str, subject: str, body: str, reference: str = ""
) -> None:
    """Send through the SMTP server in AKTA_SMTP_URL; without one, only say in the log that
    it was not sent (`reference` names the delivery; the log never holds an address, a
    subject or a text: they name the family)."""
    if not smtp_url:
        log.info("e-mail %s not sent: no SMTP server configured (AKTA_SMTP_URL)", reference)
        return
    url = urlsplit(smtp_url)
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    message.set_content(body)
    try:
        with smtplib.SMTP(url.hostname or "127.0.0.1", url.port or 25, timeout=10) as smtp:
            if url.scheme == "smtp+starttls":
                smtp.starttls()
            if url.username:
                smtp.login(url.username, url.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        # A refused recipient's error quotes the address: the outbox keeps the kind of failure.
        raise DeliveryFailed(f"SMTP: {redact(f'{type(exc).__name__}: {exc}')}") from exc


def send_sms(phone: str, text: str, reference: str = "") -> None:
    """The SMS gateway: until a provider is contracted, a message is only noted in the log,
    by `reference` (the delivery) and length; its text stays in the outbox (deliveries), for
    a text names the child and may hold the status PIN, and logs are kept and read by more
    people than the informant. Neither the number nor the text is logged."""
    log.info("SMS %s (%d characters) handed to the log gateway", reference, len(text))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", as the receiver recomputes it."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


#: Seconds a facility's receiver has to connect and to answer.
WEBHOOK_TIMEOUT_SECONDS = 10.0


class WebhookFailed(DeliveryFailed):
    """A webhook attempt that did not land; `result` is what the delivery log shows."""

    def __init__(self, result: str) -> None:
        super().__init__(f"webhook: {result}")
        self.result = result


def status_class(status_code: int) -> str:
    """An HTTP status as the delivery log shows it: "2xx", "4xx", ..."""
    return f"{status_code // 100}xx"


def post_webhook(
    url: str,
    secret: str,
    event_id: str,
    timestamp: str,
    payload: dict[str, Any],
    *,
    require_https: bool,
    allow_private: bool,
) -> int:
    """POST the event, signed, to the address its host resolves to now, once that address is
    checked (core.outbound); a non-2xx answer or no answer is a failed attempt. Redirects
    are not followed, and nothing of the answer but its status is kept."""
    try:
        target = check_url(url, require_https=require_https, allow_private=allow_private)
    except AddressRefused as refused:
        log.warning("webhook to %s refused: %s", urlsplit(url).hostname, refused.code)
        raise WebhookFailed("refused") from None
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Host": target.authority,
        "Content-Type": "application/json",
        "User-Agent": "akta-service-webhook",
        "X-Akta-Event-Id": event_id,
        "X-Akta-Timestamp": timestamp,
        "X-Akta-Signature": signature(secret, timestamp, body),
    }
    # The checked address in the URL, the host's name in Host and in TLS (SNI and the
    # certificate check): nothing is resolved again between the check and the connection.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    import httpx  # the delivery job's, not every web worker's

    try:
        with httpx.Client(
            trust_env=False, follow_redirects=False, timeout=WEBHOOK_TIMEOUT_SECONDS
        ) as client:
            response = client.post(
                target.pinned_url, content=body, headers=headers, extensions=extensions
            )
    except httpx.TimeoutException:
        raise WebhookFailed("timeout") from None
    except httpx.HTTPError as exc:
        log.warning("webhook to %s unreachable: %s", target.host, type(exc).__name__)
        raise WebhookFailed("unreachable") from None
    if not 200 <= response.status_code < 300:
        raise WebhookFailed(status_class(response.status_code))
    return response.status_code
