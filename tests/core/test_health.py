"""Liveness and readiness probes, as a load balancer or an orchestrator sees them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from akta_service import create_app
from akta_service.core.db import db
from akta_service.verification.client import HttpDukcapil
from akta_service.verification.dukcapil import DukcapilUnavailable, PersonClaim
from akta_service.verification.gateway import close_dukcapil, dukcapil
from tests.conftest import app_config
from tests.services import free_port


def test_healthz_reports_the_database_answers(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_readyz_reports_the_schema_at_head(client: FlaskClient) -> None:
    # The `client` fixture holds an open write transaction (on SQLite: the write lock);
    # the probe must still answer at once rather than wait for the lock and say 503.
    response = client.get("/readyz")
    body = response.get_json()

    assert response.status_code == 200
    assert body["status"] == "ready"
    assert body["migrations"] == "at_head"
    assert body["database_revision"]
    assert body["database_revision"] == body["code_revision"]


def test_readyz_on_a_database_never_migrated_is_not_ready(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}"
    app = create_app(app_config(url, tmp_path / "instance"))
    try:
        response = app.test_client().get("/readyz")
        body = response.get_json()

        assert response.status_code == 503
        assert body["status"] == "not_ready"
        assert body["migrations"] == "behind"
        assert body["database_revision"] == []
        assert len(body["code_revision"]) == 1
    finally:
        with app.app_context():
            db.engine.dispose()


def test_healthz_with_the_database_down_answers_503(tmp_path: Path) -> None:
    # Nothing listens on port 1: the connection is refused at once, no server needed.
    app = create_app(app_config("postgresql://postgres@127.0.0.1:1/x", tmp_path / "instance"))
    try:
        client = app.test_client()
        response = client.get("/healthz")

        assert response.status_code == 503
        assert response.get_json() == {
            "status": "unavailable",
            "database": "unreachable",
            "error": "OperationalError",
        }

        ready = client.get("/readyz")

        assert ready.status_code == 503
        assert ready.get_json()["database"] == "unreachable"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_readyz_tells_the_state_of_dukcapil_and_stays_ready_when_it_is_down(
    app: Flask, client: FlaskClient
) -> None:
    assert client.get("/readyz").get_json()["dependencies"] == {"dukcapil": "not_connected"}
    with app.app_context():
        dukcapil()  # the embedded sandbox registry, built on first use
    assert client.get("/readyz").get_json()["dependencies"] == {"dukcapil": "sandbox"}

    # A Dukcapil that does not answer: after one failed call its circuit opens.
    down = HttpDukcapil(
        f"http://127.0.0.1:{free_port()}", attempts=1, connect_timeout=0.2, breaker_fail_max=1
    )
    app.extensions["akta_dukcapil"] = down
    try:
        assert client.get("/readyz").get_json()["dependencies"] == {"dukcapil": "closed"}
        claim = PersonClaim("3274014101000001", "Siti", date(2000, 1, 1), "female")
        with pytest.raises(DukcapilUnavailable):
            down.verify_person(claim)
        response = client.get("/readyz")
        assert response.get_json()["dependencies"] == {"dukcapil": "open"}
        assert response.status_code == 200  # reports are still taken; verification waits
    finally:
        close_dukcapil(app)
