"""Jobs are enqueued inside a transaction and dispatched only once it commits.

A job is a plain function registered by name; it takes ids, loads what it
needs and is safe to run twice. The runner decides where it runs: threads in
this process (embedded default), Celery workers (production), or nowhere
until someone calls :func:`run_pending` (tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import InstanceState, Session

from akta_service.core.config import JobsMode
from akta_service.core.db import db, unit_of_work

log = logging.getLogger("akta_service.jobs")

#: name -> function; filled by the @job decorator at import.
JOBS: dict[str, Callable[..., Any]] = {}

_PENDING_KEY = "akta_jobs_pending"


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a background job under `name`."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        JOBS[name] = fn
        return fn

    return register


class Runner(Protocol):
    def dispatch(self, name: str, args: tuple[Any, ...]) -> None: ...


#: A transaction's few follow-up jobs (a submission's verification and its receipt) travel
#: to Celery as one message: publishing is most of what enqueueing costs a request. More
#: than this go one message each, so that workers share them out (a sweep's hundreds).
BATCH_MAX = 4
BATCH_TASK = "jobs.batch"


def run_batch(app: Flask, jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
    """Run jobs one after another, each in its own transaction; one failing does not stop
    the others (the database still says its work is due: the sweep tries it again)."""
    for name, args in jobs:
        try:
            run_job(app, name, tuple(args))
        except Exception:
            log.exception("job %s%r failed", name, tuple(args))


def run_job(app: Flask, name: str, args: tuple[Any, ...]) -> Any:
    """Run one job in its own app context and transaction (the one commit point of a job)."""
    with app.app_context():
        try:
            with unit_of_work():
                return JOBS[name](*args)
        finally:
            db.session.remove()


class InProcessRunner:
    """Threads in this process: the embedded default, no broker needed."""

    def __init__(self, app: Flask, workers: int = 4) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="akta-job")

    def dispatch(self, name: str, args: tuple[Any, ...]) -> None:
        self.pool.submit(self._run, name, args)

    def _run(self, name: str, args: tuple[Any, ...]) -> None:
        try:
            run_job(self.app, name, args)
        except Exception:
            # The database still says the work is due: the sweep will try again.
            log.exception("job %s%r failed", name, args)


class ManualRunner:
    """Keeps jobs until :func:`run_pending` runs them (tests and maintenance)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pending: list[tuple[str, tuple[Any, ...]]] = []
        self.lock = threading.Lock()

    def dispatch(self, name: str, args: tuple[Any, ...]) -> None:
        with self.lock:
            self.pending.append((name, args))


class CeleryRunner:
    """Celery workers through the broker: production, many machines."""

    def __init__(self, app: Flask) -> None:
        from akta_service.jobs.celery_app import TaskPublisher, make_celery

        self.celery = make_celery(app)
        self.publisher = TaskPublisher(self.celery)

    def dispatch(self, name: str, args: tuple[Any, ...]) -> None:
        self.publisher.send(name, list(args))

    def dispatch_all(self, jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
        if 1 < len(jobs) <= BATCH_MAX:
            self.publisher.send(BATCH_TASK, [[[name, list(args)] for name, args in jobs]])
            return
        for name, args in jobs:
            self.dispatch(name, args)


def make_runner(app: Flask) -> Runner:
    kind = app.config["AKTA_SETTINGS"].jobs
    if kind == JobsMode.CELERY:
        return CeleryRunner(app)
    if kind == JobsMode.MANUAL:
        return ManualRunner(app)
    return InProcessRunner(app)


def runner() -> Runner:
    runner_: Runner = current_app.extensions["akta_jobs"]
    return runner_


def enqueue(name: str, *args: Any) -> None:
    """Run job `name` after the current transaction commits (never if it rolls back).

    An argument may be a mapped object not yet flushed: the job gets its primary key,
    known once the commit has written it, so the caller need not flush to learn an id.
    """
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}")
    db.session.info.setdefault(_PENDING_KEY, []).append((name, args))


def _job_argument(value: Any) -> Any:
    state = sa.inspect(value, raiseerr=False)
    if state is None or not isinstance(state, InstanceState):
        return value
    identity = state.identity  # the key stays known after commit expires the object
    if identity is None or len(identity) != 1:
        raise ValueError(f"a job argument {value!r} has no single primary key")
    return identity[0]


@sa.event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    if not pending or not has_app_context():
        return
    jobs = [(name, tuple(_job_argument(arg) for arg in args)) for name, args in pending]
    target = runner()
    if isinstance(target, CeleryRunner):
        target.dispatch_all(jobs)
        return
    for name, args in jobs:
        target.dispatch(name, args)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING_KEY, None)


def run_pending(app: Flask, limit: int = 10_000) -> int:
    """Run the jobs a ManualRunner holds, including ones they enqueue; return how many ran."""
    target = app.extensions["akta_jobs"]
    assert isinstance(target, ManualRunner)  # noqa: S101 - only meaningful for that runner
    ran = 0
    while ran < limit:
        with target.lock:
            if not target.pending:
                return ran
            name, args = target.pending.pop(0)
        run_job(app, name, args)
        ran += 1
    return ran
