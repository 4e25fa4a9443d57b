"""Liveness and readiness probes, as a load balancer or an orchestrator sees them."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from akta_service import create_app
from akta_service.core.db import db
from tests.conftest import app_config


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
