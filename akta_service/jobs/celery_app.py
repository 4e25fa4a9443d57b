"""The Celery application: the same job functions, run by workers on any machine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask

from akta_service.jobs.queue import BATCH_TASK, JOBS, run_batch, run_job


def make_celery(app: Flask) -> Celery:
    """A Celery app bound to the Flask app; every registered job becomes a task."""
    settings = app.config["AKTA_SETTINGS"]
    celery = Celery("akta", broker=settings.broker_url, set_as_current=False)
    celery.conf.update(
        # A job is acknowledged when it finished: a worker lost mid-job leaves it queued.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        # Beat keeps its last-run times with the instance's other files, not in the cwd.
        beat_schedule_filename=str(settings.instance_path / "celerybeat-schedule"),
        beat_schedule={
            "sweep": {
                "task": "jobs.sweep",
                "schedule": timedelta(seconds=settings.sweep_interval_seconds),
            }
        },
    )

    class FlaskJob(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return run_job(app, self.name, args)

    for name in JOBS:
        celery.task(name=name, base=FlaskJob, bind=False)(JOBS[name])

    @celery.task(name=BATCH_TASK)
    def batch(jobs: list[list[Any]]) -> None:
        run_batch(app, [(name, tuple(args)) for name, args in jobs])

    return celery
