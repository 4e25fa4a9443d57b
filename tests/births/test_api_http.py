"""The facility API over real HTTP: gunicorn on PostgreSQL, concurrent retries."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.verification.sandbox import SandboxPopulation
from tests.conftest import app_config, make_migrated_app
from tests.databases import fresh_database
from tests.services import start_gunicorn, stop

POPULATION = SandboxPopulation.build(seed=2026)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """gunicorn (2 workers) serving the app on a fresh PostgreSQL database."""
    folder = tmp_path_factory.mktemp("http")
    with fresh_database("postgresql", folder) as url:
        env = {**app_config(url, folder / "instance"), "AKTA_JOBS": "inprocess"}
        app = make_migrated_app(url, Path(env["AKTA_INSTANCE_PATH"]), AKTA_JOBS="manual")
        with app.app_context():
            tokens = {}
            for code, name in (("RSUD-GJ", "RSUD Gunung Jati"), ("BIDAN-SRI", "Bidan Sri")):
                create_facility(code, name, "hospital", "3274", Actor.system("test"))
                tokens[code] = issue_credential(code, Actor.system("test")).token
            db.session.commit()
            db.session.remove()
        base, process = start_gunicorn(env)
        try:
            yield {"url": base, "app": app, "tokens": tokens}
        finally:
            stop(process)
            with app.app_context():
                db.engine.dispose()


def _payload(index: int) -> dict[str, Any]:
    families = POPULATION.sample_families(index + 1, "recorded", region="3274")
    return copy.deepcopy(families[index]["example_report"])


def _reports_with_mother(server: dict[str, Any], nik: str) -> int:
    app = server["app"]
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(BirthReport).where(BirthReport.mother_nik == nik)
        )
        db.session.remove()
    return int(count or 0)


def test_the_same_key_sent_20_times_at_once_gives_one_report(server: dict[str, Any]) -> None:
    payload = _payload(0)
    headers = {
        "Authorization": f"Bearer {server['tokens']['RSUD-GJ']}",
        "Idempotency-Key": str(uuid.uuid4()),
    }
    with httpx.Client(base_url=server["url"], timeout=30) as http:

        def post(_: int) -> httpx.Response:
            return http.post("/api/v1/births", json=payload, headers=headers)

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(post, range(20)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["tracking_code"] for r in responses}) == 1
    assert sum(r.headers.get("Idempotent-Replayed") == "true" for r in responses) == 19
    assert _reports_with_mother(server, payload["mother"]["nik"]) == 1


def test_over_http_a_facility_sees_only_its_own(server: dict[str, Any]) -> None:
    with httpx.Client(base_url=server["url"], timeout=30) as http:
        mine = http.post(
            "/api/v1/births",
            json=_payload(1),
            headers={"Authorization": f"Bearer {server['tokens']['RSUD-GJ']}"},
        )
        assert mine.status_code == 201
        link = mine.json()["links"]["self"]
        theirs = http.get(
            link, headers={"Authorization": f"Bearer {server['tokens']['BIDAN-SRI']}"}
        )
        assert theirs.status_code == 404
        nobody = http.get(link)
        assert nobody.status_code == 401
        assert nobody.headers["content-type"].startswith("application/problem+json")
        broken = http.post(
            "/api/v1/births",
            content=b'{"child": ',
            headers={
                "Authorization": f"Bearer {server['tokens']['RSUD-GJ']}",
                "Content-Type": "application/json",
            },
        )
        assert broken.status_code == 400
