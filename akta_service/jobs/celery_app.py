"""The Celery application: the same job functions, run by workers on any machine."""

from __future__ import annotations

import base64
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import redis
from celery import Celery, Task
from flask import Flask
from kombu.serialization import dumps

from akta_service.core.jobs import JOBS, run_job
from akta_service.jobs.queue import BATCH_TASK, run_batch

log = logging.getLogger("akta_service.jobs")


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


class TaskPublisher:
    """Task messages as `Celery.send_task` writes them, for a fraction of what it costs.

    send_task takes a producer from a pool, routes, fires signals, checks the queue's
    declaration, wraps the publish in retries and, on Redis, builds a new client object for
    every message: about 1,500 Python calls, a sixth of an API submission's (`python -m
    bench.api --publisher-ab` measures both ways in one session: 17% of a submission's
    calls, 8-9% of its CPU). On a Redis broker
    this publisher lets Celery build the message (`amqp.as_task_v2`, message protocol 2),
    wraps it as kombu's Redis transport (with its default options) stores a message, and
    pushes it onto the default queue's list with one kept client: one LPUSH. The tests read
    what it writes with kombu's own consumer and with a real worker. Custom task routes are
    not consulted: every job goes to the default queue.

    Other brokers, and any Redis error, go through send_task with its reconnection and
    retries. Should that fail too, the database still says the work is due, and the sweep
    dispatches it again. If an installed kombu or Celery stores messages in another shape,
    tests/core/test_jobs.py says so (the direct message against send_task's, key by key).
    """

    def __init__(self, celery: Celery, *, direct: bool = True) -> None:
        """:param direct: push onto Redis lists ourselves; False publishes through send_task
        alone (what `bench.api --publisher-ab` compares, and the format test's reference)."""
        self.celery = celery
        url = str(celery.conf.broker_url or "")
        on_redis = url.startswith(("redis://", "rediss://"))
        self._redis_url = url if direct and on_redis else None
        self._redis: redis.Redis | None = None
        # Read once: Celery's settings are a chain of mappings, looked through on every read.
        self._queue = str(celery.conf.task_default_queue)
        self._serializer = str(celery.conf.task_serializer)
        self._delivery_mode = celery.conf.task_default_delivery_mode

    def send(self, name: str, args: list[Any]) -> None:
        """Queue task `name` with positional `args` (ids: nothing personal is in a message)."""
        task_id = str(uuid.uuid4())
        if self._redis_url is not None:
            try:
                self._push(task_id, name, args)
                return
            except redis.RedisError as exc:
                log.warning("publishing %s failed (%r); once more through Celery", name, exc)
                self._redis = None
        self.celery.send_task(name, args=args, task_id=task_id)

    def _push(self, task_id: str, name: str, args: list[Any]) -> None:
        message = self.celery.amqp.as_task_v2(
            task_id, name, args=args, kwargs={}, argsrepr=repr(args), kwargsrepr="{}"
        )
        content_type, content_encoding, body = dumps(message.body, serializer=self._serializer)
        raw = body if isinstance(body, bytes) else body.encode(content_encoding)
        envelope = {
            "body": base64.b64encode(raw).decode(),
            "content-encoding": content_encoding,
            "content-type": content_type,
            "headers": message.headers,
            "properties": {
                **message.properties,
                "delivery_mode": self._delivery_mode,
                "delivery_info": {"exchange": "", "routing_key": self._queue},
                "priority": 0,
                "body_encoding": "base64",
                "delivery_tag": str(uuid.uuid4()),
            },
        }
        if self._redis is None:
            self._redis = redis.Redis.from_url(str(self._redis_url))
        self._redis.lpush(self._queue, json.dumps(envelope))
