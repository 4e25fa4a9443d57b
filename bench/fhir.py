"""POST /api/v1/fhir beside POST /api/v1/births, in the same run, under gunicorn on
PostgreSQL: how many FHIR Bundles a second the intake takes, against the JSON API's reports.

Issue target: the FHIR intake reaches at least 50% of the JSON API's throughput. The figures
are printed whether or not it is met.

- Both are served by the same gunicorn setting (3 sync workers), one after the other, with
  the same closed-loop load: an asyncio + httpx generator with 16 connections for 15 s
  after a 3 s warm-up (wrk, when installed, is what bench.api uses; this one needs only
  what the service installs).
- Every Bundle differs (its Bundle.identifier, the mother from 200 sandbox families, the
  birth day) and every one is valid, as every report body is (bench.api's bodies).
- As in bench.api, AKTA_JOBS=celery on a Redis database and no worker: a request only
  enqueues what follows it (verification, the family's messages).

Run: `.venv/bin/python -m bench.fhir`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import redis

from akta_service.core.clock import local_today
from bench.api import REDIS_DB, SETTINGS, Bodies, _bench_facility, gunicorn, make_bodies
from bench.common import bench_app, postgres_available

EXAMPLE = Path(__file__).resolve().parents[1] / "tests" / "fhir" / "single_birth_hospital.json"
WORKERS = ["--workers", "3", "--worker-class", "sync"]
CONNECTIONS, WARMUP_SECONDS, SECONDS = 16, 3, 15
TARGET_SHARE = 0.5


def _mothers(bodies: Bodies) -> list[dict[str, str]]:
    """The mother of each sandbox family the report bodies cycle through."""
    return [json.loads(bodies.body(n))["mother"] for n in range(len(bodies.templates))]


async def _closed_loop(url: str, token: str, body: Any, content_type: str) -> tuple[int, int]:
    """Requests answered 2xx and not, by CONNECTIONS clients for SECONDS after a warm-up."""
    counted = {"ok": 0, "failed": 0}
    refusals: Counter[str] = Counter()
    sequence = iter(range(10**9))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    stop_warmup = time.monotonic() + WARMUP_SECONDS
    stop = stop_warmup + SECONDS

    async def client() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            while (now := time.monotonic()) < stop:
                response = await http.post(url, content=body(next(sequence)), headers=headers)
                if now >= stop_warmup:
                    counted["ok" if response.status_code < 300 else "failed"] += 1
                if response.status_code >= 300:
                    refusals[f"{response.status_code} {response.text[:200]}"] += 1

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))
    for refusal, count in refusals.most_common(3):
        print(f"  not 2xx x{count}: {refusal}")
    return counted["ok"], counted["failed"]


def measure(label: str, url: str, token: str, body: Any, content_type: str) -> float:
    ok, failed = asyncio.run(_closed_loop(url, token, body, content_type))
    rate = ok / SECONDS
    print(
        f"{label}: {rate:7.1f} req/s ({ok} answered 2xx, {failed} not; {CONNECTIONS} "
        f"connections, {SECONDS} s closed loop)",
        flush=True,
    )
    return rate


def run() -> None:
    redis.Redis(db=REDIS_DB).flushdb()
    bodies = make_bodies()
    mothers = _mothers(bodies)
    template = EXAMPLE.read_text(encoding="utf-8")

    def bundle(n: int) -> bytes:
        mother = mothers[n % len(mothers)]
        utc_day = local_today() - timedelta(days=2 + n % 29)
        text = template
        for placeholder, value in {
            "{{MOTHER_NIK}}": mother["nik"],
            "{{MOTHER_NAME}}": mother["name"],
            "{{SEX}}": "female" if n % 2 else "male",
            "{{BIRTH_DATE_UTC}}": utc_day.isoformat(),
            "{{BIRTH_MOMENT_UTC}}": f"{utc_day.isoformat()}T20:10:00+00:00",
            "RSUD-GJ-20261201-0001": f"BENCH-{n}",
        }.items():
            text = text.replace(placeholder, value)
        return text.encode()

    with bench_app("postgresql", SETTINGS) as app:
        token = _bench_facility(app)
        env = {**app.config["AKTA_BENCH_ENV"], **SETTINGS}
        folder = Path(app.instance_path).parent
        with gunicorn("akta_service.wsgi:app", WORKERS, env, folder, startup_seconds=180) as url:
            births = measure(
                "births POST /api/v1/births",
                f"{url}/api/v1/births",
                token,
                lambda n: bodies.body(n).encode(),
                "application/json",
            )
            fhir = measure(
                "fhir   POST /api/v1/fhir  ",
                f"{url}/api/v1/fhir",
                token,
                bundle,
                "application/fhir+json",
            )
    redis.Redis(db=REDIS_DB).flushdb()
    share = fhir / births if births else 0.0
    verdict = "met" if share >= TARGET_SHARE else "NOT met"
    print(f"fhir intake vs births API: {share:.2f} x the throughput (3 sync workers)")
    print(f"target >= {TARGET_SHARE:.0%} of the JSON API's throughput: {verdict} ({share:.0%})")


def main() -> None:
    if not postgres_available():
        print("fhir skipped: PostgreSQL not reachable at 127.0.0.1:5432")
        return
    try:
        redis.Redis(db=REDIS_DB, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        print(f"fhir skipped: Redis not reachable at 127.0.0.1:6379: {exc}")
        return
    run()


if __name__ == "__main__":
    main()
