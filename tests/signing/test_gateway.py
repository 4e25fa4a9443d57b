"""How the service reaches its signing service: the embedded sandbox started as its own
process, the trust root, and a service that does not answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask

from akta_service.core.config import load_settings
from akta_service.signing import gateway
from akta_service.signing.client import SigningServiceClient, SigningServiceError
from tests.services import SigningServer, free_port, softhsm_token

OFFICER = ("3274011503700002", "197003151995031002", "Drs. Ahmad Pejabat, M.Si.")


def test_the_embedded_service_runs_as_its_own_process_and_signs_for_the_demo_pejabat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AKTA_SIGNING_TOKEN", softhsm_token())
    settings = load_settings(
        {
            "AKTA_INSTANCE_PATH": str(tmp_path / "instance"),
            "AKTA_SIGNING_SERVICE": "embedded",
            "AKTA_SIGNING_SERVICE_URL": f"http://127.0.0.1:{free_port()}",
        }
    )
    gateway.enrol_embedded(settings, *OFFICER, "ttd-pejabat-2026")
    gateway.enrol_embedded(settings, *OFFICER, "ttd-pejabat-2026")  # enrolled once only
    app = Flask(__name__)
    app.config["AKTA_SETTINGS"] = settings
    try:
        client = gateway.signing_service(app)
        assert gateway.signing_service(app) is client  # one client per app
        assert client.authorise(OFFICER[0], "ttd-pejabat-2026").sad
        with app.app_context():
            root = gateway.trust_root(settings)
        assert root == settings.signing_path / "ca.pem"
        assert b"BEGIN CERTIFICATE" in root.read_bytes()
    finally:
        app.extensions[gateway.EXTENSION].close()
        for stop in gateway.atexit_stoppers():
            stop()
    # The keys are the signing service's, in its own folder; none in the service's pki.
    assert not list(settings.signing_path.glob("*.key"))
    assert (tmp_path / "instance" / "signing-service" / "registry.sqlite3").exists()


def test_an_embedded_service_already_answering_is_used_as_it_is(
    signing_server: SigningServer, tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        load_settings({"AKTA_INSTANCE_PATH": str(tmp_path / "instance")}),
        signing_service_url=signing_server.url,
    )

    gateway.ensure_embedded_service(settings)

    assert not (tmp_path / "instance" / "signing-service").exists()


def test_production_needs_the_trust_root_installed(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "AKTA_ENV": "production",
            "AKTA_SECRET_KEY": "production-secret-key-that-is-long-enough-0123456789",
            "AKTA_DATABASE_URL": "postgresql://akta@db.example/akta",
            "AKTA_DUKCAPIL_URL": "https://dukcapil.example/api",
            "AKTA_SIGNING_SERVICE_URL": "https://tte.example.go.id",
            "AKTA_PUBLIC_BASE_URL": "https://akta.example.go.id",
            "AKTA_RATELIMIT_STORAGE_URI": "redis://redis.example:6379/1",
            "AKTA_SIGNING_PATH": str(tmp_path / "pki"),
            "AKTA_STORAGE_MASTER_KEY": "k2026-prod:" + "A" * 43 + "=",
            "AKTA_SEAL_TOKEN_PIN": "seal-token-pin-2026",
        }
    )

    with pytest.raises(FileNotFoundError, match=r"ca\.pem is missing"):
        gateway.trust_root(settings)


def test_a_signing_service_that_does_not_answer_is_unavailable() -> None:
    with SigningServiceClient(f"http://127.0.0.1:{free_port()}", timeout=2) as client:
        with pytest.raises(SigningServiceError) as authorising:
            client.authorise("3274011503700002", "ttd-pejabat-2026")
        with pytest.raises(SigningServiceError) as fetching:
            client.trust_root_pem()

    assert authorising.value.code == "signing_service_unavailable"
    assert fetching.value.code == "signing_service_unavailable"
