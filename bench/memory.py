"""A gunicorn worker's memory, RSS beside PSS, after submissions and after a FHIR Bundle.

`python -m bench.api` holds the target (issue 19: a worker's RSS at most 120 MB, not
growing over 20,000 submissions) and reads VmRSS. RSS counts every page a worker maps,
those it shares with the master and the other workers too; PSS (/proc/PID/smaps_rollup)
splits each shared page among the processes mapping it, so the workers' PSS add up to what
they cost the machine. Both are printed here, for each worker:

- after `--warmup` submissions (wrk, the bench's own bodies);
- after FHIR Bundles sent to every worker (fhir.resources and pydantic load on the first);
- in this process: what rendering and signing an akta (ReportLab, pyHanko, segno) load on
  the first PDF a worker renders, signs or serves, beside the app alone.

With `--preload`, gunicorn creates the app once in the master and forks the workers from
it (copy-on-write): their RSS stays the same, their PSS falls. The service does not ship
that setting: the seal token's PKCS#11 session, opened per process by `akta_service.wsgi`,
does not survive a fork.

Run: `.venv/bin/python -m bench.memory [--preload] [--warmup 2000]`.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path

import httpx
import redis

from akta_service.core.clock import local_today
from bench.api import (
    REDIS_DB,
    SETTINGS,
    Served,
    _bench_facility,
    gunicorn,
    make_bodies,
    run_wrk,
    wrk_script,
)
from bench.common import bench_app, postgres_available

WORKERS = ["--workers", "2", "--worker-class", "sync"]
EXAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fhir" / "single_birth_hospital.json"
#: What an akta's first rendering and signing import, beyond the app itself.
PDF_MODULES = ("akta_service.akta.document", "akta_service.akta.kia", "akta_service.akta.signing")


def _kilobytes(path: Path, field: str) -> int:
    line = next(line for line in path.read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


def workers_memory(served: Served) -> dict[int, tuple[float, float]]:
    """Each worker's (RSS, PSS) in MB, by process id."""
    return {
        pid: (rss, _kilobytes(Path(f"/proc/{pid}/smaps_rollup"), "Pss:") / 1024)
        for pid, rss in served.worker_rss_mb().items()
    }


def _print(label: str, memory: dict[int, tuple[float, float]]) -> None:
    each = ", ".join(f"RSS {rss:.1f} / PSS {pss:.1f} MB" for rss, pss in memory.values())
    print(f"memory  {label}: {each}", flush=True)


def _bundle(number: int, mother: dict[str, str]) -> bytes:
    day = local_today().replace(day=1).isoformat()
    text = EXAMPLE.read_text(encoding="utf-8")
    for placeholder, value in {
        "{{MOTHER_NIK}}": mother["nik"],
        "{{MOTHER_NAME}}": mother["name"],
        "{{SEX}}": "female",
        "{{BIRTH_DATE_UTC}}": day,
        "{{BIRTH_MOMENT_UTC}}": f"{day}T20:10:00+00:00",
        "RSUD-GJ-20261201-0001": f"BENCH-MEMORY-{number}",
    }.items():
        text = text.replace(placeholder, value)
    return text.encode()


def _send_bundles(url: str, token: str, mother: dict[str, str], count: int) -> int:
    """`count` Bundles on fresh connections (gunicorn spreads them over its workers)."""
    answered = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    for number in range(count):
        response = httpx.post(
            f"{url}/api/v1/fhir", content=_bundle(number, mother), headers=headers, timeout=60
        )
        answered += response.status_code < 300
    return answered


def in_process_pdf_cost() -> str:
    """RSS of this process beside a created app, before and after the PDF modules import."""
    from akta_service.app import create_app

    def rss() -> float:
        return _kilobytes(Path("/proc/self/status"), "VmRSS:") / 1024

    with tempfile.TemporaryDirectory() as folder:
        create_app(
            {
                "AKTA_ENV": "test",
                "AKTA_INSTANCE_PATH": folder,
                "AKTA_DATABASE_URL": f"sqlite:///{folder}/memory.sqlite3",
                "AKTA_SECRET_KEY": "bench-memory-secret-key-long-enough-0123456789",
            }
        )
        before = rss()
        for name in PDF_MODULES:
            importlib.import_module(name)
        return f"in process: app {before:.1f} MB RSS; with akta rendering + signing {rss():.1f} MB"


def run(preload: bool, warmup: int) -> None:
    redis.Redis(db=REDIS_DB).flushdb()
    bodies = make_bodies()
    mother = json.loads(bodies.body(0))["mother"]
    with bench_app("postgresql", SETTINGS) as app:
        token = _bench_facility(app)
        env = {**app.config["AKTA_BENCH_ENV"], **SETTINGS}
        folder = Path(app.instance_path).parent
        script = folder / "memory.lua"
        script.write_text(wrk_script(bodies, token))
        workers = [*WORKERS, "--preload"] if preload else WORKERS
        how = "preload_app" if preload else "app per worker"
        with gunicorn("akta_service.wsgi:app", workers, env, folder, startup_seconds=180) as served:
            _print(f"started ({how})", workers_memory(served))
            seconds = 5
            sent = int(run_wrk(served.url, script, seconds, 2, 8)["requests"])
            while sent < warmup:
                sent += int(run_wrk(served.url, script, seconds, 2, 8)["requests"])
            _print(f"after {sent:,} submissions", workers_memory(served))
            answered = _send_bundles(served.url, token, mother, 8)
            _print(f"after {answered} FHIR Bundles (2xx)", workers_memory(served))
    redis.Redis(db=REDIS_DB).flushdb()
    print(f"memory  {in_process_pdf_cost()}")


def main(argv: list[str] | None = None) -> None:
    options = sys.argv[1:] if argv is None else argv
    if not postgres_available():
        print("memory skipped: PostgreSQL not reachable at 127.0.0.1:5432")
        return
    warmup = int(options[options.index("--warmup") + 1]) if "--warmup" in options else 1_000
    run(preload="--preload" in options, warmup=warmup)


if __name__ == "__main__":
    main()
