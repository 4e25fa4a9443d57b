"""Shared helpers: throw-away databases, percentile figures and the machine's speed."""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import timeit
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import sqlalchemy as sa
from flask import Flask

from akta_service import create_app
from akta_service.accounts.models import User
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.regions.models import Region
from akta_service.regions.operations import ensure_regions

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def core_speed_us() -> float:
    """Microseconds one core takes for `sum(range(1000))`, the best of five runs: the
    figure `python -m timeit "sum(range(1000))"` prints."""
    timer = timeit.Timer("sum(range(1000))")
    loops, _ = timer.autorange()
    return min(timer.repeat(5, loops)) / loops * 1e6


def machine_line() -> str:
    """The machine the figures come from: its cores and one core's speed. A target in
    milliseconds met on one machine may not be met on a slower one: two runs' absolute
    timings compare only where this figure is alike."""
    return (
        f"machine: {os.cpu_count()} cores; one core sums range(1000) in "
        f'{core_speed_us():.1f} µs (python -m timeit "sum(range(1000))"; lower is faster)'
    )


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return f"n={len(ordered)} p50={cuts[49]:.2f} ms p95={cuts[94]:.2f} ms max={ordered[-1]:.2f} ms"


@contextmanager
def bench_app(backend: str, settings: dict[str, str] | None = None) -> Iterator[Flask]:
    """A migrated app on a fresh database of `backend`, removed afterwards.

    `app.config["AKTA_BENCH_ENV"]` holds the environment other processes need to join it.
    """
    folder = Path(tempfile.mkdtemp(prefix="akta-bench-"))
    name = f"akta_bench_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    else:
        url = f"sqlite:///{folder / 'bench.sqlite3'}"
    env = {
        "AKTA_ENV": "test",
        "AKTA_DATABASE_URL": url,
        "AKTA_INSTANCE_PATH": str(folder / "instance"),
        "AKTA_SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
        # Each bench its own sandbox signing service, started on first use.
        "AKTA_SIGNING_SERVICE": "embedded",
        "AKTA_SIGNING_SERVICE_URL": free_local_url(),
    }
    # Jobs wait unless a bench chooses a runner: each bench drives exactly what it measures.
    app = create_app({**env, "AKTA_JOBS": "manual", **(settings or {})})
    app.config["AKTA_BENCH_ENV"] = env
    with app.app_context():
        flask_migrate.upgrade()
        ensure_regions()
        db.session.commit()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if backend == "postgresql":
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available() -> bool:
    try:
        psycopg.connect(POSTGRES_ADMIN, connect_timeout=3).close()
    except psycopg.OperationalError:
        return False
    return True


#: The bench pejabat's signing identity in the embedded sandbox signing service.
BENCH_SIGNER = ("3274011503700002", "197003151995031002", "ttd-bench-2026")


def bench_signer(app: Flask) -> User:
    """A committed pejabat enrolled in the app's embedded signing service (its own process)."""
    from akta_service.signing.gateway import enrol_embedded

    nik, nip, passphrase = BENCH_SIGNER
    enrol_embedded(app.config["AKTA_SETTINGS"], nik, nip, "Bench Pejabat", passphrase)
    bench_staff("pejabat")
    user = db.session.scalars(sa.select(User).where(User.username == "bench-pejabat")).one()
    user.nik, user.nip = nik, nip
    db.session.commit()
    return user


def free_local_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def bench_staff(role: str) -> Actor:
    """A committed staff member of Kota Cirebon who never logs in."""
    user = User(
        username=f"bench-{role}",
        full_name=f"Bench {role}",
        role=role,
        password_hash="not-a-login",  # noqa: S106 - a bench user never logs in
        regions=[db.session.get(Region, "3274")],
    )
    db.session.add(user)
    db.session.commit()
    return user.as_actor()


def submit_sandbox_reports(count: int) -> list[Any]:
    """`count` web reports of different sandbox families of Kota Cirebon, submitted (flushed)."""
    from akta_service.births.models import Channel
    from akta_service.births.operations import load_report_input, submit_birth_report
    from akta_service.core.actors import Role
    from akta_service.verification.gateway import dukcapil

    informant = Actor(id="informant:web", name="Bench", role=Role.INFORMANT)
    families = dukcapil().population.sample_families(count, region="3274")  # type: ignore[attr-defined]
    return [
        submit_birth_report(load_report_input(f["example_report"]), Channel.WEB, informant)
        for f in families
    ]
