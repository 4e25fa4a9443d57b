"""Time from submission to `in_review` with Celery workers, PostgreSQL, Redis and the
sandbox Dukcapil answering every call in 20 ms.

Two measurements per worker count:
- latency: 1,000 reports submitted at 12 a second;
- throughput: a burst of reports submitted at once, timed until the last is in review.

Targets (issue 19): p95 <= 100 ms at 12 reports/s with one worker; two workers clear a
burst about twice as fast as one (at least 1.8x). `--workers 1 --reports 300` is a quicker
run of the latency figure alone, for trying a change.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis
import sqlalchemy as sa

from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.verification.sandbox import SandboxPopulation
from bench.common import bench_app, machine_line, percentiles, postgres_available

LATENCY_MS = 20
REPORTS = 1000
RATE_PER_SECOND = 12
BURST = 400
FAMILIES = 1600
BIN = Path(sys.executable).parent
INFORMANT = Actor(id="informant:web", name="Bench", role=Role.INFORMANT)
#: Issue 19's targets.
TARGET_P95_MS = 100.0
TARGET_SCALING = 1.8


def _spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # noqa: S603 - our own programs
        args,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _wait_for(url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def _cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    """CPU time (user and system) the processes' groups have used so far, read from /proc:
    a worker's cost per report, much steadier than its latency on a loaded machine."""
    groups = {process.pid for process in processes}
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) in groups:  # fields[2]: the process group, [11], [12]: utime, stime
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _in_review(count_from: int) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(BirthReport)
            .where(BirthReport.id > count_from, BirthReport.status == ReportStatus.IN_REVIEW)
        )
        or 0
    )


def _latencies_ms(after_id: int) -> list[float]:
    rows = db.session.execute(
        sa.select(BirthReport.submitted_at, JournalEntry.occurred_at)
        .join(JournalEntry, JournalEntry.report_id == BirthReport.id)
        .where(BirthReport.id > after_id, JournalEntry.trigger == "pass_verification")
    ).all()
    return [(done - submitted).total_seconds() * 1000 for submitted, done in rows]


def _submit(payloads: list[dict], rate: float | None) -> int:
    """Submit the reports (each its own committed transaction); return the last id before."""
    before = int(db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(BirthReport.id), 0))))
    db.session.commit()
    started = time.perf_counter()
    for index, payload in enumerate(payloads):
        if rate:
            delay = started + index / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        submit_birth_report(load_report_input(payload), Channel.WEB, INFORMANT)
        db.session.commit()
    return before


def _drain(before: int, count: int, timeout: float = 600) -> float:
    started = time.perf_counter()
    while _in_review(before) < count:
        db.session.commit()
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"only {_in_review(before)} of {count} reached in_review")
        time.sleep(0.05)
    return time.perf_counter() - started


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def run(
    workers: int, sandbox_url: str, families: list[dict], redis_db: int, reports: int, burst: int
) -> tuple[float, float | None]:
    """Run the latency and (if `burst`) the throughput figures; return p95 ms and reports/s."""
    settings = {
        "AKTA_JOBS": "celery",
        "AKTA_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "AKTA_DUKCAPIL": "http",
        "AKTA_DUKCAPIL_URL": sandbox_url,
        "AKTA_SANDBOX_FAMILIES": str(FAMILIES),
    }
    redis.Redis(db=redis_db).flushdb()
    with bench_app("postgresql", settings) as app, app.app_context():
        env = {**settings, **app.config["AKTA_BENCH_ENV"]}
        processes = [
            _spawn([str(BIN / "akta"), "worker", "--concurrency=1", "--loglevel=WARNING"], env)
            for _ in range(workers)
        ]
        try:
            time.sleep(3)  # workers connect to the broker
            warm = _submit([f["example_report"] for f in families[:20]], None)
            _drain(warm, 20)
            payloads = [f["example_report"] for f in families[20 : 20 + reports]]
            cpu = _cpu_seconds(processes)
            before = _submit(payloads, RATE_PER_SECOND)
            _drain(before, len(payloads))
            time.sleep(1)  # the last reports' receipts
            cpu = _cpu_seconds(processes) - cpu
            latencies = _latencies_ms(before)
            print(
                f"verification[{workers} worker(s)] submission -> in_review at "
                f"{RATE_PER_SECOND}/s: {percentiles(latencies)}; workers' CPU "
                f"{cpu / len(payloads) * 1000:.1f} ms per report; load {os.getloadavg()[0]:.2f}"
            )
            p95 = statistics.quantiles(sorted(latencies), n=100, method="inclusive")[94]
            rate = None
            if burst:
                bursting = [
                    f["example_report"] for f in families[20 + reports : 20 + reports + burst]
                ]
                before = _submit(bursting, None)
                seconds = _drain(before, len(bursting))
                rate = len(bursting) / seconds
                print(
                    f"verification[{workers} worker(s)] burst of {len(bursting)}: all in review "
                    f"after {seconds:.1f} s = {rate:.1f} reports/s; load {os.getloadavg()[0]:.2f}"
                )
        finally:
            for process in processes:
                _stop(process)
    redis.Redis(db=redis_db).flushdb()
    return p95, rate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.verification")
    parser.add_argument("--workers", type=int, choices=(1, 2), help="only this worker count")
    parser.add_argument("--reports", type=int, default=REPORTS, help="reports at 12/s")
    parser.add_argument("--burst", type=int, default=BURST, help="reports at once (0: none)")
    options = parser.parse_args(argv)
    print(machine_line())
    if not postgres_available():
        print("verification skipped: PostgreSQL not reachable at 127.0.0.1:5432")
        return
    try:
        redis.Redis(socket_connect_timeout=2).ping()
    except redis.RedisError:
        print("verification skipped: Redis not reachable at 127.0.0.1:6379")
        return
    port = 5399
    sandbox = _spawn(
        [
            str(BIN / "akta"),
            "sandbox",
            "serve",
            "--port",
            str(port),
            "--latency-ms",
            str(LATENCY_MS),
            "--families",
            str(FAMILIES),
            "--threads",
            "16",
        ]
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/_health")
        population = SandboxPopulation.build(families_per_region=FAMILIES)
        wanted = 20 + options.reports + options.burst
        families = population.sample_families(wanted, region="3274")
        if len(families) < wanted:
            raise RuntimeError(f"only {len(families)} sandbox families; raise FAMILIES")
        figures = {
            workers: run(
                workers,
                f"http://127.0.0.1:{port}",
                families,
                redis_db=14,
                reports=options.reports,
                burst=options.burst,
            )
            for workers in ((options.workers,) if options.workers else (1, 2))
        }
    finally:
        _stop(sandbox)
    if 1 in figures:
        p95 = figures[1][0]
        print(
            f"target p95 <= {TARGET_P95_MS:.0f} ms at {RATE_PER_SECOND}/s, 1 worker: "
            f"{p95:.1f} ms, {_met(p95 <= TARGET_P95_MS)}"
        )
    one, two = figures.get(1, (0, None))[1], figures.get(2, (0, None))[1]
    if one and two:
        print(
            f"target 2 workers ~2x 1 worker (>= {TARGET_SCALING}x): {two / one:.2f}x, "
            f"{_met(two / one >= TARGET_SCALING)}"
        )


if __name__ == "__main__":
    main()
