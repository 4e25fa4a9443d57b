"""Where committed jobs run: threads in this process (embedded default), Celery workers
(production), or nowhere until someone calls :func:`run_pending` (tests).

Enqueueing and the after-commit hand-over are core's (`akta_service.core.jobs`).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from akta_service.core.config import JobsMode
from akta_service.core.jobs import Runner, run_job

log = logging.getLogger("akta_service.jobs")

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


class InProcessRunner:
    """Threads in this process: the embedded default, no broker needed."""

    def __init__(self, app: Flask, workers: int = 4) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="akta-job")

    def dispatch(self, name: str, args: tuple[Any, ...]) -> None:
        self.pool.submit(self._run, name, args)

    def dispatch_all(self, jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
        for name, args in jobs:
            self.dispatch(name, args)

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

    def dispatch_all(self, jobs: list[tuple[str, tuple[Any, ...]]]) -> None:
        with self.lock:
            self.pending.extend(jobs)


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
