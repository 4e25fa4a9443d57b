"""PostgreSQL going away under the service (a restart, a failover): connections that died
idle in the pool are replaced before anyone gets them; one that dies under a request is
answered 503 try_again with nothing stored, and the next request is served."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.engine import make_url

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.verification.gateway import dukcapil
from tests.conftest import make_migrated_app
from tests.databases import POSTGRES_ADMIN_URL, postgres_database

Api = tuple[Flask, dict[str, str], dict[str, Any], Callable[[], int]]


@pytest.fixture
def api_on_postgres(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Make an app on its own PostgreSQL database; returns the app, the API headers, a
    valid report and a function that cuts every connection the app holds to it."""
    made: list[Flask] = []
    with postgres_database() as url:

        def make(**settings: Any) -> Api:
            app = make_migrated_app(url, tmp_path / f"instance-{len(made)}", **settings)
            made.append(app)
            with app.app_context():
                admin = Actor.system("test admin")
                create_facility("RS-PG", "RS Uji", "hospital", "3274", admin)
                token = issue_credential("RS-PG", admin).token
                db.session.commit()
                family = dukcapil().population.sample_families(1, "recorded", region="3274")[0]  # type: ignore[attr-defined]
                db.session.remove()
            headers = {"Authorization": f"Bearer {token}"}
            return app, headers, copy.deepcopy(family["example_report"]), _cut(url)

        try:
            yield make
        finally:
            for app in made:
                with app.app_context():
                    db.engine.dispose()


def _cut(url: str) -> Callable[[], int]:
    database = make_url(url).database

    def cut() -> int:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()
            deadline = time.monotonic() + 10
            while admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchone() != (0,):
                assert time.monotonic() < deadline, "the backends did not go away"
                time.sleep(0.05)
        return int(ended[0]) if ended else 0

    return cut


def _stored(app: Flask) -> tuple[int, int]:
    with app.app_context():
        try:
            return (
                db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)) or 0,
                db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)) or 0,
            )
        finally:
            db.session.remove()


def test_a_connection_cut_under_a_request_answers_try_again_and_stores_nothing(
    api_on_postgres: Callable[..., Api],
) -> None:
    app, headers, report, cut = api_on_postgres()
    client = app.test_client()
    reports, entries = _stored(app)
    assert client.post("/api/v1/births", json=report, headers=headers).status_code == 201
    assert _stored(app) == (reports + 1, entries + 1)

    assert cut() >= 1  # the connection the pool keeps dies, a moment after its last use
    broken = client.post("/api/v1/births", json=report, headers=headers)
    assert broken.status_code == 503, broken.get_data(as_text=True)
    assert broken.headers["Retry-After"] == "1"
    assert broken.get_json()["code"] == "try_again"
    assert "Tidak ada yang tersimpan" in broken.get_json()["detail"]

    again = client.post("/api/v1/births", json=report, headers=headers)
    assert again.status_code == 201, again.get_data(as_text=True)
    # The first and the last, each with its journal entry: nothing of the cut one.
    assert _stored(app) == (reports + 2, entries + 2)


def test_connections_that_died_idle_are_replaced_before_a_request_gets_them(
    api_on_postgres: Callable[..., Api],
) -> None:
    app, headers, report, cut = api_on_postgres(AKTA_DB_IDLE_CHECK_SECONDS="0.2")
    client = app.test_client()
    reports, entries = _stored(app)
    assert client.post("/api/v1/births", json=report, headers=headers).status_code == 201
    time.sleep(0.3)  # longer than the idle check: the pool tries the connection first
    assert cut() >= 1
    served = client.post("/api/v1/births", json=report, headers=headers)
    assert served.status_code == 201, served.get_data(as_text=True)
    assert _stored(app) == (reports + 2, entries + 2)
