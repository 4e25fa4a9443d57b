"""A facility's webhook reaches the facility and nothing else, and its log tells only how
each attempt went: internal addresses refused at registration and again at delivery (a
host whose DNS answer changes after it was registered included), the call pinned to the
address that was checked, redirects not followed, the receiver's answer never kept."""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import certifi
import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask
from flask.testing import FlaskClient

from akta_service.cli import cli as akta
from akta_service.core import outbound
from akta_service.core.actors import Actor
from akta_service.core.config import Environment
from akta_service.core.db import db
from akta_service.core.errors import InvalidInput
from akta_service.facilities.models import Facility
from akta_service.facilities.operations import create_facility, issue_credential, set_webhook
from akta_service.jobs.queue import run_pending
from akta_service.notifications import channels
from akta_service.notifications.models import Delivery, DeliveryChannel, DeliveryStatus
from akta_service.workflow.engine import fire
from tests.conftest import changed_settings
from tests.factories import BirthReportFactory
from tests.services import free_port

ADMIN = Actor.system("test")
#: A public address (example.com's): what a facility's host name resolves to.
PUBLIC = "93.184.215.14"
HOST = "simrs.rsud-gj.example"


@dataclasses.dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records each POST and gives the next answer."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.answers: list[Answer] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((self.path, dict(self.headers), body))
                answer = receiver.answers.pop(0) if receiver.answers else Answer()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.scheme = "http"
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}/hooks/akta"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The names the service resolves, as a test sets them (no DNS here): a name not in it
    is not found. The test may change an answer at any time, as a rebinding attacker does."""
    answers: dict[str, list[str]] = {}
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in answers:
            raise OSError(f"{host}: name not known")
        return list(answers[host])

    monkeypatch.setattr(outbound, "resolve_host", resolve)
    answers["_calls"] = calls  # type: ignore[assignment]
    return answers


@pytest.fixture
def strict(app: Flask) -> Iterator[None]:
    """AKTA_WEBHOOK_ALLOW_PRIVATE off, as in production."""
    with changed_settings(app, webhook_allow_private=False):
        yield


@pytest.fixture
def production(app: Flask) -> Iterator[None]:
    with changed_settings(app, webhook_allow_private=False, env=Environment.PRODUCTION):
        yield


@pytest.fixture
def token(session: Any) -> str:
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", ADMIN)
    value = issue_credential("RSUD-GJ", ADMIN).token
    db.session.commit()
    return value


def _put(client: FlaskClient, token: str, url: str | None) -> Any:
    return client.put(
        "/api/v1/webhook", json={"url": url}, headers={"Authorization": f"Bearer {token}"}
    )


def _log(client: FlaskClient, token: str) -> Any:
    return client.get("/api/v1/webhook/deliveries", headers={"Authorization": f"Bearer {token}"})


def _refused_with(answer: Any, code: str) -> str:
    assert answer.status_code == 422, answer.get_json()
    assert answer.mimetype == "application/problem+json"
    body = answer.get_json()
    (error,) = body["errors"]
    assert error["field"] == "url"
    assert error["code"] == code
    return str(error["message"])


def _hook() -> Delivery:
    return db.session.scalars(
        sa.select(Delivery).where(Delivery.channel == DeliveryChannel.WEBHOOK)
    ).one()


def _deliver_one_change(app: Flask, actors: dict[str, Actor]) -> Delivery:
    report = BirthReportFactory(status="in_review", facility_code="RSUD-GJ")
    fire(report, "approve", actors["operator"])
    db.session.commit()
    run_pending(app)
    hook = _hook()
    db.session.refresh(hook)
    return hook


# Registration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://10.20.30.40/hooks",
        "http://192.168.1.5/hooks",
        "http://100.64.1.1/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/hooks",
        "http://[::1]:8080/hooks",
        "http://[fd00:ec2::254]/latest/meta-data/",
    ],
)
def test_an_internal_address_is_refused_at_registration_naming_the_field(
    client: FlaskClient, token: str, strict: None, url: str
) -> None:
    message = _refused_with(_put(client, token, url), "webhook_host_internal")
    assert "jaringan internal" in message
    assert db.session.get(Facility, "RSUD-GJ").webhook_url is None


def test_an_ipv4_mapped_loopback_is_refused_through_the_api_and_the_command_line(
    client: FlaskClient, token: str, strict: None
) -> None:
    answer = _put(client, token, "http://[::ffff:127.0.0.1]:8080/hooks")
    assert answer.status_code == 422
    assert answer.get_json()["errors"][0]["field"] == "url"
    with pytest.raises(InvalidInput) as refused:  # the CLI's way in, past the API's schema
        set_webhook("RSUD-GJ", "http://[::ffff:127.0.0.1]:8080/hooks", ADMIN)
    (error,) = refused.value.detail["errors"]
    assert (error.field, error.code) == ("url", "webhook_host_internal")


def test_a_name_that_resolves_inwards_is_refused(
    client: FlaskClient, token: str, strict: None, dns: dict[str, list[str]]
) -> None:
    dns[HOST] = [PUBLIC, "10.0.0.8"]  # one internal address among public ones is enough
    _refused_with(_put(client, token, f"https://{HOST}/akta"), "webhook_host_internal")
    dns[HOST] = [PUBLIC]
    assert _put(client, token, f"https://{HOST}/akta").status_code == 200


def test_an_unknown_host_is_refused(
    client: FlaskClient, token: str, dns: dict[str, list[str]]
) -> None:
    message = _refused_with(_put(client, token, f"https://{HOST}/akta"), "webhook_host_unknown")
    assert "tidak ditemukan" in message


def test_metadata_stays_refused_when_local_receivers_are_allowed(
    client: FlaskClient, token: str
) -> None:
    assert _put(client, token, "http://127.0.0.1:8080/hooks").status_code == 200
    for url in ("http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/"):
        _refused_with(_put(client, token, url), "webhook_host_internal")


def test_production_takes_https_only(
    client: FlaskClient, token: str, production: None, dns: dict[str, list[str]]
) -> None:
    dns[HOST] = [PUBLIC]
    message = _refused_with(_put(client, token, f"http://{HOST}/akta"), "webhook_https_required")
    assert "https://" in message
    answer = _put(client, token, f"https://{HOST}/akta")
    assert answer.status_code == 200
    assert answer.get_json()["url"] == f"https://{HOST}/akta"


# Delivery ----------------------------------------------------------------------------------


def test_a_host_that_rebinds_to_loopback_after_registration_is_refused_at_delivery(
    app: Flask,
    client: FlaskClient,
    token: str,
    strict: None,
    dns: dict[str, list[str]],
    receiver: Receiver,
    actors: dict[str, Actor],
) -> None:
    dns[HOST] = [PUBLIC]
    assert _put(client, token, receiver.url(HOST)).status_code == 200
    dns[HOST] = ["127.0.0.1"]  # the attacker's DNS now points the name at the service itself

    hook = _deliver_one_change(app, actors)

    assert receiver.requests == [], "the webhook reached an internal address"
    assert hook.status == DeliveryStatus.PENDING
    assert hook.last_result == "refused"
    (entry,) = _log(client, token).get_json()
    assert entry["last_result"] == "refused"


def test_the_call_goes_to_the_checked_address_under_the_hosts_name(
    app: Flask,
    client: FlaskClient,
    token: str,
    dns: dict[str, list[str]],
    receiver: Receiver,
    actors: dict[str, Actor],
) -> None:
    """With local receivers allowed (dev and test), a name resolving to 127.0.0.1 is called
    there; the delivery resolves once, checks, and connects to what it checked."""
    dns[HOST] = ["127.0.0.1"]
    assert _put(client, token, receiver.url(HOST)).status_code == 200
    calls: list[str] = dns["_calls"]  # type: ignore[assignment]
    calls.clear()

    hook = _deliver_one_change(app, actors)

    assert hook.status == DeliveryStatus.SENT
    assert hook.last_result == "2xx"
    ((path, headers, _body),) = receiver.requests
    assert path == "/hooks/akta"
    assert headers["Host"] == f"{HOST}:{receiver.port}"
    assert calls == [HOST], "the delivery resolved the name more than once"
    (entry,) = _log(client, token).get_json()
    assert entry["status"] == "sent"
    assert entry["last_result"] == "2xx"


def test_the_delivery_log_shows_the_class_of_the_answer_never_its_body(
    app: Flask, client: FlaskClient, token: str, receiver: Receiver, actors: dict[str, Actor]
) -> None:
    assert _put(client, token, receiver.url()).status_code == 200
    receiver.answers = [Answer(503, b"Traceback: db password hunter2 at 10.0.0.3")]

    _deliver_one_change(app, actors)

    answer = _log(client, token)
    (entry,) = answer.get_json()
    assert entry["status"] == "pending"
    assert entry["attempts"] == 1
    assert entry["last_result"] == "5xx"
    # Neither the status code nor the error text is a field: only the class above. (The text
    # "503" may well appear inside an event id or a timestamp, so the fields are what is read.)
    assert set(entry) == {
        "event_id", "event", "status", "attempts", "last_result",
        "created_at", "sent_at", "next_attempt_at",
    }  # fmt: skip
    assert "hunter2" not in answer.get_data(as_text=True)


def test_a_redirect_is_not_followed(
    app: Flask, client: FlaskClient, token: str, receiver: Receiver, actors: dict[str, Actor]
) -> None:
    inside = Receiver()
    try:
        assert _put(client, token, receiver.url()).status_code == 200
        receiver.answers = [Answer(307, headers={"Location": inside.url()})]

        hook = _deliver_one_change(app, actors)

        assert inside.requests == []
        assert len(receiver.requests) == 1
        assert hook.last_result == "3xx"
    finally:
        inside.close()


def test_a_receiver_nobody_answers_is_unreachable(
    app: Flask, client: FlaskClient, token: str, actors: dict[str, Actor]
) -> None:
    assert _put(client, token, f"http://127.0.0.1:{free_port()}/hooks").status_code == 200
    hook = _deliver_one_change(app, actors)
    assert hook.last_result == "unreachable"
    assert hook.last_error == "webhook: unreachable"


def test_a_receiver_that_never_answers_times_out(
    app: Flask,
    client: FlaskClient,
    token: str,
    actors: dict[str, Actor],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(channels, "WEBHOOK_TIMEOUT_SECONDS", 0.2)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes connections, says nothing
        port = silent.getsockname()[1]
        assert _put(client, token, f"http://127.0.0.1:{port}/hooks").status_code == 200
        hook = _deliver_one_change(app, actors)
    assert hook.status == DeliveryStatus.PENDING
    assert hook.last_result == "timeout"
    (entry,) = _log(client, token).get_json()
    assert entry["last_result"] == "timeout"


# TLS ---------------------------------------------------------------------------------------


def _certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
) -> x509.Certificate:
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
    )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), False)
    return builder.sign(issuer_key or key, hashes.SHA256())


@pytest.fixture
def facility_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A facility's TLS server certificate for HOST from a CA the service is made to trust
    (in place of the public CAs it trusts in production)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Uji CA Fasilitas", ca_key)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setattr(certifi, "where", lambda: str(tmp_path / "ca.pem"))

    def server_context(name: str, seen: list[str | None]) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _certificate(name, key, ca, ca_key)
        pem = tmp_path / f"{name}.pem"
        pem.write_bytes(
            leaf.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(pem)
        context.sni_callback = lambda _sock, server_name, _ctx: seen.append(server_name)
        return context

    return server_context


def test_an_https_webhook_is_pinned_to_the_checked_address_with_the_hosts_tls_name(
    app: Flask,
    client: FlaskClient,
    token: str,
    dns: dict[str, list[str]],
    actors: dict[str, Actor],
    facility_tls: Any,
) -> None:
    seen: list[str | None] = []
    secure = Receiver(tls=facility_tls(HOST, seen))
    try:
        dns[HOST] = ["127.0.0.1"]
        assert _put(client, token, secure.url(HOST)).status_code == 200

        hook = _deliver_one_change(app, actors)

        assert hook.status == DeliveryStatus.SENT
        assert seen == [HOST]  # SNI: the host's name, though the connection went to the IP
        ((_path, headers, _body),) = secure.requests
        assert headers["Host"] == f"{HOST}:{secure.port}"
    finally:
        secure.close()


def test_an_https_webhook_whose_certificate_names_another_host_is_not_delivered(
    app: Flask,
    client: FlaskClient,
    token: str,
    dns: dict[str, list[str]],
    actors: dict[str, Actor],
    facility_tls: Any,
) -> None:
    seen: list[str | None] = []
    impostor = Receiver(tls=facility_tls("lain.example", seen))
    try:
        dns[HOST] = ["127.0.0.1"]
        assert _put(client, token, impostor.url(HOST)).status_code == 200

        hook = _deliver_one_change(app, actors)

        assert impostor.requests == []
        assert hook.last_result == "unreachable"
    finally:
        impostor.close()


# The command line -------------------------------------------------------------------------


def test_the_command_line_refuses_an_internal_address_and_lists_outcomes_by_class(
    app: Flask, token: str, strict: None, receiver: Receiver, actors: dict[str, Actor]
) -> None:
    runner = app.test_cli_runner()

    def cli(*args: str) -> Any:
        return runner.invoke(akta, list(args))

    refused = cli("facilities", "webhook", "--code", "RSUD-GJ", "--url", receiver.url())
    assert refused.exit_code != 0
    assert "url: Alamat webhook menuju jaringan internal" in refused.output
    assert db.session.get(Facility, "RSUD-GJ").webhook_url is None

    with _allowing_local_receivers(app):
        registered = cli("facilities", "webhook", "--code", "RSUD-GJ", "--url", receiver.url())
        assert registered.exit_code == 0, registered.output
        receiver.answers = [Answer(404, b"<html>Not Found: /hooks/akta on simrs-01</html>")]
        _deliver_one_change(app, actors)

    listed = cli("facilities", "deliveries", "--code", "RSUD-GJ")
    assert listed.exit_code == 0, listed.output
    assert "birth_report.awaiting_signature" in listed.output
    assert "4xx" in listed.output
    assert "simrs-01" not in listed.output


@contextmanager
def _allowing_local_receivers(app: Flask) -> Iterator[None]:
    with changed_settings(app, webhook_allow_private=True):
        yield
