"""The one commit point: a request commits unless an exception escaped its view; a refused
operation's savepoint undoes its own writes and jobs, and nothing else."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Blueprint, Flask
from flask.testing import FlaskClient

import akta_service
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry, record
from akta_service.core.db import db
from akta_service.core.errors import ConflictError, DomainError
from akta_service.core.jobs import JOBS, enqueue
from akta_service.core.sessions import csrf
from tests.conftest import make_migrated_app
from tests.databases import fresh_database

PACKAGE = Path(akta_service.__file__).parent
#: The modules that may end a transaction: the request, job and command boundary.
BOUNDARY = {PACKAGE / "core" / "transaction.py"}

boundary = Blueprint("boundary_test", __name__)


def _write(step: str) -> None:
    record(f"test:boundary:{step}", Actor.system("boundary test"))


def _boundary_job(step: str) -> None:
    """A job the savepoint test enqueues; it is never run here."""


@boundary.post("/t/refused-answer")
def refused_answer() -> Any:
    _write("refused-answer")
    return "Tidak dapat: laporan sudah berubah", 409


@boundary.post("/t/raised")
def raised() -> Any:
    _write("raised")
    raise ConflictError("changed_by_someone")


@boundary.post("/t/crashed")
def crashed() -> Any:
    _write("crashed")
    raise RuntimeError("a fault of ours")


@boundary.post("/t/savepoint")
def savepoint() -> Any:
    _write("before")
    enqueue("test.boundary", "before")
    try:
        with db.session.begin_nested():
            _write("refused")
            enqueue("test.boundary", "refused")
            raise DomainError("changed_by_someone")
    except DomainError:
        pass
    return "ok"


@pytest.fixture(scope="module")
def boundary_app(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """An app of its own (routes can only be added before the first request), on the
    suite's backend, with nothing rolled back for it: what it commits is what we read."""
    folder = tmp_path_factory.mktemp(f"boundary-{backend}")
    with fresh_database(backend, folder) as url:
        application = make_migrated_app(url, folder / "instance", PROPAGATE_EXCEPTIONS=False)
        csrf.exempt(boundary)  # posted by this test, not by a browser form
        application.register_blueprint(boundary)
        JOBS["test.boundary"] = _boundary_job
        try:
            yield application
        finally:
            JOBS.pop("test.boundary", None)
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def client(boundary_app: Flask) -> FlaskClient:
    boundary_app.extensions["akta_jobs"].pending.clear()
    return boundary_app.test_client()


def _stored(app: Flask, step: str) -> int:
    with app.app_context():
        return int(
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.action == f"test:boundary:{step}")
            )
        )


def test_a_refusal_answered_by_the_view_keeps_what_it_wrote(
    boundary_app: Flask, client: FlaskClient
) -> None:
    before = _stored(boundary_app, "refused-answer")
    assert client.post("/t/refused-answer").status_code == 409
    assert _stored(boundary_app, "refused-answer") == before + 1


def test_a_domain_error_that_escapes_the_view_rolls_back_the_request(
    boundary_app: Flask, client: FlaskClient
) -> None:
    response = client.post("/t/raised", headers={"Accept": "application/json"})
    assert response.status_code == 409
    assert response.json is not None
    assert response.json["code"] == "conflict"
    assert _stored(boundary_app, "raised") == 0


def test_a_crash_rolls_back_the_request(boundary_app: Flask, client: FlaskClient) -> None:
    assert client.post("/t/crashed").status_code == 500
    assert _stored(boundary_app, "crashed") == 0


def test_a_refused_savepoint_undoes_its_own_writes_and_jobs_only(
    boundary_app: Flask, client: FlaskClient
) -> None:
    before = _stored(boundary_app, "before")
    assert client.post("/t/savepoint").status_code == 200
    assert _stored(boundary_app, "before") == before + 1
    assert _stored(boundary_app, "refused") == 0
    pending = boundary_app.extensions["akta_jobs"].pending
    assert pending == [("test.boundary", ("before",))]


def _transaction_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("commit", "rollback")
    ]


def test_only_the_boundary_commits_or_rolls_back() -> None:
    found = [
        call
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in BOUNDARY
        for call in _transaction_calls(path)
    ]
    assert found == [], "operations flush; only core/transaction.py ends a transaction"
    assert _transaction_calls(PACKAGE / "core" / "transaction.py")  # the scan does see calls


def test_ensure_sync_still_tells_a_coroutine_from_a_plain_function(app: Flask) -> None:
    """TransactionalFlask remembers plain functions by their code; a coroutine is never
    taken for one (without Flask's async extra it is refused, as Flask refuses it)."""

    def plain() -> str:
        return "plain"

    async def coroutine() -> str:
        return "coroutine"

    assert app.ensure_sync(plain) is plain
    assert app.ensure_sync(plain) is plain  # remembered
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)
