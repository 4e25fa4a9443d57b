"""The Celery application: the same job functions, run by workers on any machine."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from datetime import timedelta
from typing import Any

from celery import Celery, Task
from flask import Flask
from kombu import Connection, Producer

from akta_service.jobs.queue import BATCH_TASK, JOBS, run_batch, run_job

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
    """Task messages as `Celery.send_task` writes them, for half of what it costs.

    send_task takes a producer from a pool, routes, fires signals, checks the queue's
    declaration and wraps the publish in retries on every call: about 1,700 Python calls a
    message, a sixth of a whole API submission. Here Celery itself builds the message
    (`amqp.as_task_v2`, message protocol 2) and one kombu producer kept per process
    publishes it to the default queue, declared once. Custom task routes are not consulted:
    every job goes to the default queue.

    A broker error drops that producer and the message goes through send_task, with its
    reconnection and retries. Should that fail too, the database still says the work is
    due, and the sweep dispatches it again.
    """

    def __init__(self, celery: Celery) -> None:
        self.celery = celery
        # A kombu channel is not thread-safe, and a gthread worker serves several requests.
        self._lock = threading.Lock()
        self._producer: Producer | None = None
        self._connection: Connection | None = None
        self._pid = 0

    def send(self, name: str, args: list[Any]) -> None:
        """Queue task `name` with positional `args` (ids: nothing personal is in a message)."""
        task_id = str(uuid.uuid4())
        message = self.celery.amqp.as_task_v2(
            task_id, name, args=args, kwargs={}, argsrepr=repr(args), kwargsrepr="{}"
        )
        with self._lock:
            try:
                self._producer_of_this_process().publish(
                    message.body,
                    routing_key=self.celery.amqp.default_queue.name,
                    headers=message.headers,
                    delivery_mode=self.celery.conf.task_default_delivery_mode,
                    **message.properties,
                )
                return
            except Exception as exc:  # noqa: BLE001 - any broker trouble: Celery's own way
                log.warning("publishing %s failed (%r); once more through Celery", name, exc)
                self._drop()
        self.celery.send_task(name, args=args, task_id=task_id)

    def _producer_of_this_process(self) -> Producer:
        if self._producer is None or self._pid != os.getpid():
            connection = self.celery.connection_for_write()
            channel = connection.default_channel
            # A message to a queue that does not exist yet would be dropped by RabbitMQ.
            self.celery.amqp.default_queue.bind(channel).declare()
            self._producer = Producer(
                channel, serializer=self.celery.conf.task_serializer, auto_declare=False
            )
            self._connection, self._pid = connection, os.getpid()
        return self._producer

    def _drop(self) -> None:
        connection, self._producer, self._connection = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # noqa: BLE001 - already broken; a new one is made next time
                log.debug("releasing a broken broker connection failed", exc_info=True)
