"""The contract: schemathesis, every check and every phase (examples, coverage, fuzzing and
the stateful phase following the spec's links), against gunicorn on PostgreSQL with a real
facility token, finds nothing.

The spec says what the server takes (patterns, lengths, formats, which bodies are
required); the only refusals of valid data it allows are the documented rules across
fields and requests (tests/contract_checks.py). schemathesis runs as its command, as an
integrator runs it, with our checks loaded as hooks.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from tests.conftest import app_config, make_migrated_app
from tests.databases import fresh_database
from tests.services import BIN, free_port, gunicorn_command, stop, wait_http

ROOT = Path(__file__).resolve().parent.parent
#: Cases per operation and phase: the whole run, server included, takes under two minutes.
MAX_EXAMPLES = 30
SEED = 2026


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """gunicorn serving the app on a fresh PostgreSQL database, and a facility's token."""
    folder = tmp_path_factory.mktemp("contract")
    with fresh_database("postgresql", folder) as url:
        env = {
            **app_config(url, folder / "instance"),
            "AKTA_JOBS": "inprocess",
            # The contract, not the rate limit, is under test here.
            "AKTA_API_RATE_LIMIT": "100000 per minute",
        }
        app = make_migrated_app(url, Path(env["AKTA_INSTANCE_PATH"]), AKTA_JOBS="manual")
        with app.app_context():
            create_facility("RS-KONTRAK", "RS Uji Kontrak", "hospital", "3274", Actor.system("t"))
            token = issue_credential("RS-KONTRAK", Actor.system("t")).token
            db.session.commit()
            db.session.remove()
        port = free_port()
        # The server's output goes to a file: a pipe nobody reads would fill and stall it.
        with (folder / "gunicorn.log").open("w") as log:
            process = subprocess.Popen(  # noqa: S603 - our own server
                gunicorn_command(port),
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                wait_http(f"{base}/healthz", process)
                yield {"url": base, "token": token, "log": folder / "gunicorn.log"}
            finally:
                stop(process)
                with app.app_context():
                    db.engine.dispose()


def _config(folder: Path, token: str) -> Path:
    path = folder / "schemathesis.toml"
    path.write_text(
        f"""
[auth.openapi.bearer]
bearer = "{token}"

# Valid data may get a 422 only for a documented rule across fields or requests: the
# check valid_data_refused_only_by_documented_rules (tests/contract_checks.py) says so.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
"""
    )
    return path


def test_schemathesis_finds_no_failure(server: dict[str, Any], tmp_path: Path) -> None:
    report = tmp_path / "report.ndjson"
    command = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(_config(tmp_path, server["token"])),
        "run",
        f"{server['url']}/api/v1/openapi.json",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--request-timeout",
        "30",
        # Nothing remembered from an earlier run: the same cases every time.
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contract_checks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(  # noqa: S603 - schemathesis, as an integrator runs it
        # In the test's folder: schemathesis keeps a cache where it runs.
        command,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, (
        output[-20_000:] + "\n--- server ---\n" + server["log"].read_text()[-5_000:]
    )
    events = [json.loads(line) for line in report.read_text().splitlines() if line.strip()]
    assert _stateful_scenarios(events) > 0, output[-5_000:]


def _stateful_scenarios(events: list[dict[str, Any]]) -> int:
    """How many stateful scenarios ran (links followed from one answer to the next)."""
    return sum(
        1 for e in events if "ScenarioFinished" in e and "stateful" in json.dumps(e)[:2000].lower()
    )
