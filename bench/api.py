"""POST /api/v1/births under gunicorn on PostgreSQL: throughput and latency, beside a bare
Flask endpoint taking the same bodies (bench/bare_app.py) as the floor.

Targets (issue 19), as ratios to the bare endpoint on the same server settings, since
absolute times move with the machine: at least 0.15 x its throughput at full load, p95 at
100 submissions/s at most 2 x its p95; at most 5,000 Python calls per submission (the
deterministic figure, `--calls`); a gunicorn worker's RSS at most 120 MB and not growing
over 20,000 submissions. Each is printed with met / not met.

- Max throughput: wrk (Debian package `wrk`; skipped with a message when missing), closed
  loop, `-t2 -c32 -d15s`. Its Lua script cycles through real sandbox families and varies the
  child's name and birth date, so every body differs and every one is valid.
- Fixed rate: an open-loop generator (asyncio streams, each request's bytes prepared
  beforehand: an HTTP client's own CPU would count as the server's) schedules 100
  requests/s for 20 s; a latency counts from the request's scheduled time, so a slow answer
  cannot slow the generator down and hide itself (plain wrk has no fixed rate; wrk2's -R
  is not in Debian).
- The service runs with AKTA_JOBS=celery on a Redis broker database and no worker, so a
  submission only enqueues its verification; rate limits are counted in Redis as in
  production, with a limit the bench cannot reach.
- gunicorn with 2, 3 and 4 sync workers and with 2 gthread workers of 4 threads, each
  measured both ways (a deployment runs one setting for both); the one meeting both targets
  with the most throughput (failing that, the one serving most) is summarised, and serves
  the bare app too. Server, database, Redis and load generator share the same 2 cores, as
  they would on a one-box deployment.
- Memory: with that setting, wrk runs long enough for 1,000 submissions to warm the
  workers up, then for 20,000 more (at the throughput just measured, plus a fifth); every
  worker's RSS (/proc/PID/status VmRSS) is read before and after those.
- Nothing lost: every stored report has its submission journalled and exactly one
  verification message waiting in Redis (no worker takes them off).

Run: `.venv/bin/python -m bench.api` (everything, then the publisher A/B);
`--calls` prints only the deterministic in-process figure (Python calls per submission);
`--workers "2 sync workers"` measures only that server setting (see WORKER_CLASSES);
`--publisher-ab` only the A/B of the direct Redis push against Celery's send_task.
"""

from __future__ import annotations

import asyncio
import base64
import cProfile
import json
import math
import os
import pstats
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import redis
import sqlalchemy as sa
from faker import Faker
from flask import Flask

from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.clock import local_today
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.jobs.celery_app import TaskPublisher
from akta_service.jobs.queue import BATCH_TASK
from akta_service.verification.operations import VERIFY_JOB
from akta_service.verification.sandbox import SandboxPopulation
from bench.common import bench_app, machine_line, postgres_available

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
PATH = "/api/v1/births"
REDIS_DB = 12
#: Bodies cycle through families x names x dates; pairwise coprime sizes, so the cycle
#: (200 * 199 * 29 = 1.15 million) is far longer than any run.
FAMILIES, NAMES, DATES = 200, 199, 29
WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS = 2, 32, 15
SERIAL_SECONDS = 5
RATE_PER_SECOND, RATE_SECONDS = 100, 20
#: How long after the last scheduled send an overloaded server still gets to answer.
OPEN_LOOP_GRACE_SECONDS = 10
#: Server settings tried for the service; the one serving most is used for the rest of the
#: run, the bare app included. A sync worker waits idle on the database and Redis, so a
#: third or fourth process can use that time on 2 cores.
WORKER_CLASSES = {
    "2 sync workers": ["--workers", "2", "--worker-class", "sync"],
    "3 sync workers": ["--workers", "3", "--worker-class", "sync"],
    "4 sync workers": ["--workers", "4", "--worker-class", "sync"],
    "2 gthread workers x4": ["--workers", "2", "--worker-class", "gthread", "--threads", "4"],
}
#: Issue 19: throughput at least this share of the bare endpoint's, p95 at 100/s at most
#: this multiple of its p95, Python calls per submission at most this many.
TARGET_THROUGHPUT_RATIO, TARGET_P95_RATIO, TARGET_CALLS = 0.15, 2.0, 5_000
#: A worker's RSS at most this many MB, and growing by at most GROWTH_MB over the run
#: (allocator noise: a leak of even 100 bytes per submission is 2 MB over 20,000).
TARGET_RSS_MB, GROWTH_MB = 120.0, 1.0
MEMORY_WARMUP, MEMORY_SUBMISSIONS = 1_000, 20_000
#: In-process submissions warmed up, then counted (calls) and timed (CPU).
PYTHON_WARMUP, PYTHON_SUBMISSIONS = 200, 500
SETTINGS = {
    "AKTA_JOBS": "celery",
    "AKTA_BROKER_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "AKTA_RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "AKTA_API_RATE_LIMIT": "1000000 per minute",
}


@dataclass(frozen=True)
class Bodies:
    """Report bodies as templates: prefix + child name + middle + birth date + suffix."""

    templates: list[tuple[str, str, str]]
    names: list[str]
    dates: list[str]

    def body(self, n: int) -> str:
        prefix, middle, suffix = self.templates[n % len(self.templates)]
        return (
            prefix
            + self.names[n % len(self.names)]
            + middle
            + self.dates[n % len(self.dates)]
            + suffix
        )


@dataclass(frozen=True)
class Figures:
    label: str
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    failures: int
    how: str

    def line(self) -> str:
        return (
            f"{self.label}: {self.per_second:7.1f} req/s  p50 {self.p50_ms:6.2f} ms  "
            f"p95 {self.p95_ms:6.2f} ms  p99 {self.p99_ms:6.2f} ms  "
            f"({self.requests} requests, {self.failures} not 201; {self.how})"
        )


def make_bodies() -> Bodies:
    """Real sandbox families (valid NIKs, KK, marriage), each a template with the child's
    name and birth date left open; births 1-29 days ago, so none is late or in the future."""
    families = SandboxPopulation.build(families_per_region=FAMILIES).sample_families(
        FAMILIES, region="3274"
    )
    templates = []
    for family in families:
        report = json.loads(json.dumps(family["example_report"]))
        report["child"]["name"], report["child"]["birth_date"] = "@@NAME@@", "@@DATE@@"
        prefix, rest = json.dumps(report).split("@@NAME@@")
        middle, suffix = rest.split("@@DATE@@")
        templates.append((prefix, middle, suffix))
    faker = Faker("id_ID")
    faker.seed_instance(2026)
    names: list[str] = []
    while len(names) < NAMES:
        name = json.dumps(f"{faker.first_name()} {faker.last_name()}")[1:-1]  # JSON-escaped
        if name not in names:
            names.append(name)
    today = local_today()
    dates = [(today - timedelta(days=days)).isoformat() for days in range(1, DATES + 1)]
    return Bodies(templates, names, dates)


def _lua_string(text: str) -> str:
    assert "]==]" not in text, text
    return f"[==[{text}]==]"


def wrk_script(bodies: Bodies, token: str) -> str:
    """The wrk script: each thread walks its own stretch of the body cycle; `done` prints
    the figures as one JSON line (wrk's own report has no p95)."""
    templates = ",\n".join("{" + ", ".join(map(_lua_string, t)) + "}" for t in bodies.templates)
    names = ", ".join(map(_lua_string, bodies.names))
    dates = ", ".join(map(_lua_string, bodies.dates))
    return f"""
local templates = {{
{templates}
}}
local names = {{ {names} }}
local dates = {{ {dates} }}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"

local threads = {{}}
function setup(thread)
  thread:set("offset", #threads * 1000003)
  table.insert(threads, thread)
end

local n = 0
function init(args)
  n = offset
end

function request()
  n = n + 1
  local t = templates[n % #templates + 1]
  local body = t[1] .. names[n % #names + 1] .. t[2] .. dates[n % #dates + 1] .. t[3]
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{{"requests": %d, "duration_us": %d, "socket_errors": %d, "not_2xx": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Served:
    url: str
    #: gunicorn's master process; its workers are its children.
    pid: int

    def worker_rss_mb(self) -> dict[int, float]:
        """Each worker's resident memory in MB, by process id."""
        rss = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) != self.pid:  # the parent's pid
                    continue
                status = (stat.parent / "status").read_text()
            except (OSError, IndexError, ValueError):
                continue  # a process that ended meanwhile
            kilobytes = next(
                line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")
            )
            rss[int(stat.parent.name)] = int(kilobytes) / 1024
        return rss


@contextmanager
def gunicorn(
    target: str,
    worker_args: list[str],
    env: dict[str, str],
    folder: Path,
    startup_seconds: float = 30,
) -> Iterator[Served]:
    """gunicorn serving `target` on a free port; output to a log file in `folder`.

    :param startup_seconds: how long its workers may take to answer (a busy machine).
    """
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = folder / f"gunicorn-{port}.log"
    args = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}"]
    args += [*worker_args, target]
    # cwd: a folder without a developer's .env; PYTHONPATH: `bench` for the bare app.
    environment = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own programs and arguments
            args,
            cwd=folder,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {target} exited:\n{log_path.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {target} did not answer:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield Served(url, process.pid)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_wrk(url: str, script: Path, seconds: int, threads: int, connections: int) -> dict[str, Any]:
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", str(script)]
    result = subprocess.run(  # noqa: S603 - wrk with our arguments
        [*args, url + PATH], capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    figures: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return figures


def one_connection(label: str, url: str, script: Path) -> Figures:
    """One request at a time: the time a request takes with no queue in front of it."""
    raw = run_wrk(url, script, SERIAL_SECONDS, threads=1, connections=1)
    return _wrk_figures(label, raw, f"wrk -t1 -c1 -d{SERIAL_SECONDS}s, one request at a time")


def _wrk_figures(label: str, raw: dict[str, Any], how: str) -> Figures:
    return Figures(
        label=label,
        per_second=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        requests=raw["requests"],
        failures=raw["not_2xx"] + raw["socket_errors"],
        how=how,
    )


def max_throughput(label: str, url: str, script: Path) -> Figures:
    run_wrk(url, script, seconds=3, threads=1, connections=4)  # warm both workers up
    raw = run_wrk(url, script, WRK_SECONDS, WRK_THREADS, WRK_CONNECTIONS)
    how = f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s, closed loop"
    return _wrk_figures(label, raw, how)


def _raw_request(url: str, token: str, body: str) -> bytes:
    """One submission as the bytes on the wire, written at once (`Connection: close`: a
    sync worker closes every connection after its answer anyway)."""
    host = url.removeprefix("http://")
    content = body.encode()
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + content


async def _open_loop(
    url: str, token: str, bodies: list[str], rate: float
) -> tuple[list[float], Counter[int], float]:
    """Send body i at start + i/rate whatever the answers do; return each latency from the
    scheduled time, the statuses (0: no answer in time) and how long the sending took.

    Each request is its prepared bytes on a connection of its own through asyncio's
    streams: an HTTP client library's own work per request (httpx: several ms of this
    process's CPU on these 2 cores, shared with the server) would be measured as the
    server's latency, and made a server that keeps up look as if it fell behind.
    """
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    host, port = url.removeprefix("http://").rsplit(":", 1)
    wire = [_raw_request(url, token, body) for body in bodies]
    # As many connections as wrk's; a request waiting for one still counts from its schedule.
    connections = asyncio.Semaphore(WRK_CONNECTIONS)
    deadline = len(bodies) / rate + OPEN_LOOP_GRACE_SECONDS
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2

    async def send(i: int, request: bytes) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        async with connections:
            try:
                reader, writer = await asyncio.open_connection(host, int(port))
                writer.write(request)
                status_line = await reader.readline()
                await reader.read()  # the rest of the answer, until the server closes
                writer.close()
            except OSError:
                statuses[0] += 1
                return
        statuses[int(status_line.split()[1]) if status_line else 0] += 1
        latencies.append((loop.time() - scheduled) * 1000)

    tasks = [asyncio.create_task(send(i, request)) for i, request in enumerate(wire)]
    _, late = await asyncio.wait(tasks, timeout=deadline)
    for task in late:  # an overloaded server: stop waiting, count them as failures
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    statuses[0] += len(late)
    elapsed = loop.time() - start
    return latencies, statuses, elapsed


def fixed_rate(label: str, url: str, token: str, bodies: Bodies, first: int) -> Figures:
    count = RATE_PER_SECOND * RATE_SECONDS
    payloads = [bodies.body(first + i) for i in range(count)]
    latencies, statuses, elapsed = asyncio.run(_open_loop(url, token, payloads, RATE_PER_SECOND))
    # Nothing answered at all: no percentiles to give.
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    cuts = cuts or [math.nan] * 99
    return Figures(
        label=label,
        per_second=statuses[201] / elapsed,
        p50_ms=cuts[49],
        p95_ms=cuts[94],
        p99_ms=cuts[98],
        requests=count,
        failures=count - statuses[201],
        how=f"open loop {RATE_PER_SECOND}/s for {RATE_SECONDS} s, asyncio streams, "
        "latency from the scheduled send",
    )


def _first_submission(url: str, token: str, bodies: Bodies) -> None:
    """Fail loudly before measuring when a submission is not accepted."""
    response = httpx.post(
        url + PATH,
        content=bodies.body(999_999_937),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=10,
    )
    if response.status_code != 201:
        raise RuntimeError(
            f"a bench submission was refused: {response.status_code} {response.text}"
        )


def _busy_percent(seconds: float = 2.0) -> float:
    """How busy the machine's cores are before the bench starts (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    busy_before, total_before = sample()
    time.sleep(seconds)
    busy_after, total_after = sample()
    return 100 * (busy_after - busy_before) / max(1, total_after - total_before)


def _meets(rated: Figures) -> bool:
    """Every submission at the fixed rate answered 201."""
    return rated.failures == 0


def _best_setting(service: dict[str, tuple[Figures, Figures]]) -> str:
    """The setting serving most of those that kept up with the fixed rate (the targets are
    ratios to the bare endpoint, measured afterwards on the chosen setting); failing that,
    the one serving most."""
    meeting = [name for name, (_, rated) in service.items() if _meets(rated)]
    return max(meeting or service, key=lambda name: service[name][0].per_second)


def _why_chosen(service: dict[str, tuple[Figures, Figures]], chosen: str) -> str:
    if _meets(service[chosen][1]):
        return "kept up with the fixed rate, serving most of those that did"
    return "none kept up with the fixed rate; it serves most"


def _verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def _bench_facility(app: Flask) -> str:
    """A facility for the bench's submissions; its API token."""
    with app.app_context():
        admin = Actor.system("bench")
        create_facility("RS-BENCH", "RS Bench", "hospital", "3274", admin)
        token = issue_credential("RS-BENCH", admin).token
        db.session.commit()
    return token


def run(*, served: bool = True, settings: list[str] | None = None) -> None:
    """Every figure; with `served` False only the in-process one (`--calls`: no wrk)."""
    busy = _busy_percent()
    print(f"{machine_line()}; {busy:.0f}% busy before the bench starts")
    if busy > 10:
        print("  other work is running: the figures below are lower than a quiet machine's")
    redis.Redis(db=REDIS_DB).flushdb()
    bodies = make_bodies()
    with bench_app("postgresql", SETTINGS) as app:
        token = _bench_facility(app)
        calls, work = python_work(app, token, bodies)
        print(work, flush=True)
        print(
            f"target Python calls per submission <= {TARGET_CALLS:,}: "
            f"{_verdict(calls <= TARGET_CALLS)} ({calls:,.0f})"
        )
        if served:
            with app.app_context():
                measure(app, token, bodies, work, calls, settings or list(WORKER_CLASSES))
    redis.Redis(db=REDIS_DB).flushdb()


def python_work(app: Flask, token: str, bodies: Bodies) -> tuple[float, str]:
    """Python function calls per submission, in this process through Flask's test client
    (the same app, database and Redis): a count that does not move with the machine's
    speed, unlike every timing here, so two commits compare on it from any two runs."""
    calls, cpu_ms = _python_figures(app, token, bodies, 8_000_000)
    return calls, (
        f"api  in this process: {calls:,.0f} Python function calls per submission "
        f"(cProfile over {PYTHON_SUBMISSIONS}, test client); {cpu_ms:.2f} ms CPU each "
        "(a timing: it moves with the machine)"
    )


def _python_figures(app: Flask, token: str, bodies: Bodies, first: int) -> tuple[float, float]:
    """(Python calls, ms of CPU) per in-process submission, from body number `first` on."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def submit(n: int) -> None:
        response = client.post(PATH, data=bodies.body(n), headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"an in-process submission was refused: {response.text}")

    for n in range(first, first + PYTHON_WARMUP):  # caches, prepared statements
        submit(n)
    started = time.process_time()
    for n in range(first + 100_000, first + 100_000 + PYTHON_SUBMISSIONS):
        submit(n)
    cpu_ms = (time.process_time() - started) * 1000 / PYTHON_SUBMISSIONS
    profile = cProfile.Profile()
    profile.enable()
    for n in range(first + 200_000, first + 200_000 + PYTHON_SUBMISSIONS):
        submit(n)
    profile.disable()
    # total_calls is set by Stats but missing from its type stubs.
    calls = pstats.Stats(profile).total_calls / PYTHON_SUBMISSIONS  # type: ignore[attr-defined]
    return calls, cpu_ms


#: Alternating runs of each publisher in the A/B, so that a change in the machine's load
#: falls on both alike.
PUBLISHER_AB_PAIRS = 4


def publisher_ab() -> None:
    """A/B in one session: a submission's CPU and Python calls with job messages pushed
    onto Redis directly, and through Celery's send_task; the direct push is kept only
    while it saves at least 10% of a submission's CPU."""
    redis.Redis(db=REDIS_DB).flushdb()
    bodies = make_bodies()
    with bench_app("postgresql", SETTINGS) as app:
        token = _bench_facility(app)
        runner = app.extensions["akta_jobs"]
        publishers = {
            "direct LPUSH": TaskPublisher(runner.celery, direct=True),
            "Celery send_task": TaskPublisher(runner.celery, direct=False),
        }
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in publishers}
        for pair in range(PUBLISHER_AB_PAIRS):
            for number, (name, publisher) in enumerate(publishers.items()):
                runner.publisher = publisher
                first = 10_000_000 + (pair * 2 + number) * 1_000_000
                figures[name].append(_python_figures(app, token, bodies, first))
                calls, cpu_ms = figures[name][-1]
                print(
                    f"publisher A/B pair {pair + 1}, {name}: {calls:,.0f} calls, "
                    f"{cpu_ms:.2f} ms CPU per submission",
                    flush=True,
                )
    redis.Redis(db=REDIS_DB).flushdb()
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in figures.items()}
    calls = {name: statistics.median(n for n, _ in runs) for name, runs in figures.items()}
    saving = 1 - cpu["direct LPUSH"] / cpu["Celery send_task"]
    fewer = 1 - calls["direct LPUSH"] / calls["Celery send_task"]
    print(
        f"publisher A/B (median of {PUBLISHER_AB_PAIRS}): direct {cpu['direct LPUSH']:.2f} ms, "
        f"{calls['direct LPUSH']:,.0f} calls; send_task {cpu['Celery send_task']:.2f} ms, "
        f"{calls['Celery send_task']:,.0f} calls; the direct push saves {saving:.0%} of a "
        f"submission's CPU and {fewer:.0%} of its Python calls (the bar for keeping it: "
        "10% of CPU, unless dropping it lifts the calls above their ceiling)"
    )


@dataclass(frozen=True)
class Memory:
    before: dict[int, float]
    after: dict[int, float]
    submissions: int

    @property
    def largest_mb(self) -> float:
        return max(self.after.values())

    @property
    def growth_mb(self) -> float:
        return max(self.after[pid] - self.before.get(pid, 0.0) for pid in self.after)

    def line(self) -> str:
        workers = ", ".join(
            f"{self.before.get(pid, math.nan):.1f} -> {rss:.1f} MB"
            for pid, rss in sorted(self.after.items())
        )
        return (
            f"api  memory: worker RSS before -> after {self.submissions:,} submissions: {workers}"
        )


def memory(served: Served, script: Path, per_second: float) -> Memory:
    """Workers' RSS before and after MEMORY_SUBMISSIONS submissions (after a warm-up).

    wrk has no request count (and Debian's 4.1 cannot stop a thread from its script), so
    each run lasts long enough for its count at the throughput just measured, and a fifth
    longer; the count sent is printed.
    """

    def send(count: int) -> int:
        seconds = max(5, math.ceil(1.2 * count / per_second))
        return int(run_wrk(served.url, script, seconds, WRK_THREADS, WRK_CONNECTIONS)["requests"])

    send(MEMORY_WARMUP)
    before = served.worker_rss_mb()
    sent = send(MEMORY_SUBMISSIONS)
    after = served.worker_rss_mb()
    if set(after) != set(before):
        print("  a worker was restarted during the memory run: its growth is not measured")
    if sent < MEMORY_SUBMISSIONS:
        print(f"  only {sent:,} submissions were answered in the time the run had")
    return Memory(before, after, sent)


def nothing_lost(stored: int) -> tuple[bool, str]:
    """Every stored report journalled once and its verification queued once. (Redis
    database REDIS_DB is the bench's own: another bench flushing it meanwhile, as
    bench.fhir does, shows here as messages missing.)"""
    journalled = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(JournalEntry)
        .where(JournalEntry.action == "workflow:birth_report:submit")
    )
    queued: Counter[str] = Counter()
    client = redis.Redis(db=REDIS_DB)
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        # A request's jobs go out as one batch message: [[name, args], ...].
        jobs = (
            args[0]
            if message["headers"]["task"] == BATCH_TASK
            else [[message["headers"]["task"], args]]
        )
        for name, job_args in jobs:
            if name == VERIFY_JOB:
                queued[repr(job_args)] += 1
    once = sum(1 for count in queued.values() if count == 1)
    met = journalled == stored and once == stored == len(queued)
    return met, (
        f"{stored} reports stored, {journalled} submissions journalled, "
        f"{len(queued)} reports with a verification queued ({once} exactly once)"
    )


def measure(
    app: Flask, token: str, bodies: Bodies, work: str, calls: float, settings: list[str]
) -> None:
    """The served figures (gunicorn, wrk, the open-loop generator) and the summary."""
    env = {**app.config["AKTA_BENCH_ENV"], **SETTINGS}
    folder = Path(app.instance_path).parent
    script = folder / "births.lua"
    script.write_text(wrk_script(bodies, token))

    # Each server setting gets both measurements, as a deployment would run one setting
    # for both: the most submissions a second, and the latency at 100 a second.
    service: dict[str, tuple[Figures, Figures]] = {}
    for number, name in enumerate(settings):
        worker_args = WORKER_CLASSES[name]
        with gunicorn("akta_service.wsgi:app", worker_args, env, folder) as served:
            url = served.url
            _first_submission(url, token, bodies)
            most = max_throughput(f"api  max, {name}", url, script)
            print(most.line(), flush=True)
            rated = fixed_rate(
                f"api  {RATE_PER_SECOND}/s, {name}",
                url,
                token,
                bodies,
                5_000_000 + number * RATE_PER_SECOND * RATE_SECONDS,
            )
            print(rated.line(), flush=True)
        service[name] = (most, rated)
    chosen = _best_setting(service)
    print(f"gunicorn: {chosen} used from here on ({_why_chosen(service, chosen)})")

    api_max, api_rate = service[chosen]
    with gunicorn("akta_service.wsgi:app", WORKER_CLASSES[chosen], env, folder) as served:
        api_one = one_connection("api  1 connection", served.url, script)
        api_memory = memory(served, script, api_max.per_second)
        print(api_memory.line(), flush=True)
    with gunicorn("bench.bare_app:app", WORKER_CLASSES[chosen], env, folder) as served:
        bare_max = max_throughput(f"bare max, {chosen}", served.url, script)
        bare_rate = fixed_rate(f"bare {RATE_PER_SECOND}/s", served.url, token, bodies, 9_000_000)
        bare_one = one_connection("bare 1 connection", served.url, script)

    stored = db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport))
    queued = redis.Redis(db=REDIS_DB).llen("celery")
    print(f"--- summary (gunicorn, {chosen}) ---")
    for figures in (api_max, bare_max, api_rate, bare_rate, api_one, bare_one):
        print(figures.line())
    print(
        f"api vs bare at max: {api_max.per_second / bare_max.per_second:.2f} x the "
        f"throughput, p50 {api_max.p50_ms / bare_max.p50_ms:.1f} x; at {RATE_PER_SECOND}/s: "
        f"p95 {api_rate.p95_ms / bare_rate.p95_ms:.1f} x; one at a time: "
        f"p50 {api_one.p50_ms / bare_one.p50_ms:.1f} x"
    )
    print(f"reports stored: {stored}; Celery messages queued in Redis, no worker: {queued}")
    print(work)
    print(api_memory.line())
    lost_met, lost = nothing_lost(stored or 0)
    throughput = api_max.per_second / bare_max.per_second
    p95 = api_rate.p95_ms / bare_rate.p95_ms
    for target, met, figure in (
        (
            f"throughput >= {TARGET_THROUGHPUT_RATIO} x bare at full load",
            throughput >= TARGET_THROUGHPUT_RATIO,
            f"{throughput:.2f} x: {api_max.per_second:.1f}/s vs {bare_max.per_second:.1f}/s",
        ),
        (
            f"p95 at {RATE_PER_SECOND}/s <= {TARGET_P95_RATIO:.0f} x bare",
            p95 <= TARGET_P95_RATIO,
            f"{p95:.2f} x: {api_rate.p95_ms:.2f} ms vs {bare_rate.p95_ms:.2f} ms",
        ),
        (
            f"Python calls per submission <= {TARGET_CALLS:,}",
            calls <= TARGET_CALLS,
            f"{calls:,.0f}",
        ),
        (
            f"worker RSS <= {TARGET_RSS_MB:.0f} MB",
            api_memory.largest_mb <= TARGET_RSS_MB,
            f"largest {api_memory.largest_mb:.1f} MB",
        ),
        (
            f"no RSS growth over {api_memory.submissions:,} submissions (<= {GROWTH_MB:.0f} MB)",
            api_memory.growth_mb <= GROWTH_MB,
            f"largest growth {api_memory.growth_mb:+.1f} MB",
        ),
        ("nothing lost", lost_met, lost),
    ):
        print(f"target {target}: {_verdict(met)} ({figure})")


def main(argv: list[str] | None = None) -> None:
    options = sys.argv[1:] if argv is None else argv
    publisher_only, calls_only = "--publisher-ab" in options, "--calls" in options
    if shutil.which("wrk") is None and not (publisher_only or calls_only):
        print("api skipped: wrk is not installed (Debian: apt-get install -y wrk)")
        return
    if not postgres_available():
        print("api skipped: PostgreSQL not reachable at 127.0.0.1:5432")
        return
    try:
        redis.Redis(db=REDIS_DB, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        print(f"api skipped: Redis not reachable at 127.0.0.1:6379: {exc}")
        return
    if publisher_only:
        publisher_ab()
        return
    # `--workers "2 sync workers"`: only that server setting (a shorter run).
    settings = [options[options.index("--workers") + 1]] if "--workers" in options else None
    run(served=not calls_only, settings=settings)
    if calls_only:
        return
    publisher_ab()


if __name__ == "__main__":
    main()
