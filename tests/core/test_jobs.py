"""Jobs on their way to Celery: a transaction's few travel as one message and each still
runs on its own; messages reach the broker's queue as a worker reads them, even after the
broker dropped its connections."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from kombu.simple import SimpleQueue

from akta_service import create_app
from akta_service.core.jobs import JOBS
from akta_service.jobs.celery_app import TaskPublisher
from akta_service.jobs.queue import BATCH_TASK, CeleryRunner, run_batch
from tests.conftest import app_config
from tests.services import REDIS_HOST, REDIS_PORT, free_port, own_redis_database


def test_one_failing_job_of_a_batch_does_not_stop_the_others(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[Any] = []

    def broken(report_id: int) -> None:
        raise RuntimeError(f"Dukcapil fell over for {report_id}")

    monkeypatch.setitem(JOBS, "test.broken", broken)
    monkeypatch.setitem(JOBS, "test.fine", done.append)
    run_batch(app, [("test.broken", (7,)), ("test.fine", (8,)), ("test.fine", (9,))])
    assert done == [8, 9]
    assert "job test.broken(7,) failed" in caplog.text


def _broker_queue(app: Flask) -> SimpleQueue:
    runner = app.extensions["akta_jobs"]
    assert isinstance(runner, CeleryRunner)
    connection = runner.celery.connection_for_read()
    return connection.SimpleQueue(runner.celery.conf.task_default_queue)


def _received(queue: SimpleQueue) -> tuple[str, list[Any]]:
    """The next task message, as a Celery worker reads it: task name and arguments."""
    message = queue.get(timeout=5)
    message.ack()
    args, kwargs, _embed = message.decode()
    assert kwargs == {}
    return str(message.headers["task"]), args


@pytest.fixture
def redis_broker(tmp_path: Path) -> Iterator[tuple[Flask, redis.Redis]]:
    with own_redis_database() as (database, broker):
        url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{database}"
        app = create_app(
            app_config(
                f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
                tmp_path / "instance",
                AKTA_JOBS="celery",
                AKTA_BROKER_URL=url,
            )
        )
        yield app, broker


def test_jobs_reach_the_worker_queue_as_celery_would_send_them(
    redis_broker: tuple[Flask, redis.Redis],
) -> None:
    app, _broker = redis_broker
    runner = app.extensions["akta_jobs"]
    runner.dispatch("verification.run", (41,))
    runner.dispatch_all([("verification.run", (42,)), ("notifications.deliver", (7,))])
    with _broker_queue(app) as queue:
        assert _received(queue) == ("verification.run", [41])
        assert _received(queue) == (
            BATCH_TASK,
            [[["verification.run", [42]], ["notifications.deliver", [7]]]],
        )


def _envelope_shape(raw: bytes) -> dict[str, Any]:
    """The keys of a stored message, level by level, and the values that are not ids."""
    stored = json.loads(raw)
    properties = dict(stored["properties"])
    delivery_info = properties.pop("delivery_info")
    headers = stored["headers"]
    return {
        "envelope": sorted(stored),
        "properties": sorted(properties),
        "delivery_info": delivery_info,
        "headers": sorted(headers),
        "fixed": {
            key: stored[key] for key in ("content-encoding", "content-type") if key in stored
        },
        "fixed properties": {
            key: properties[key]
            for key in ("body_encoding", "delivery_mode", "priority")
            if key in properties
        },
        "task": (headers["task"], headers["lang"], headers["argsrepr"]),
        "body": json.loads(base64.b64decode(stored["body"])),
    }


def test_the_direct_publisher_writes_exactly_what_kombu_writes(
    redis_broker: tuple[Flask, redis.Redis],
) -> None:
    """The seam that pushes task messages onto Redis itself: if an installed kombu or
    Celery stores messages in another shape, this fails and names the difference."""
    app, broker = redis_broker
    runner = app.extensions["akta_jobs"]
    queue_name = runner.celery.conf.task_default_queue
    TaskPublisher(runner.celery, direct=False).send("verification.run", [5])
    through_celery = broker.rpop(queue_name)
    TaskPublisher(runner.celery, direct=True).send("verification.run", [5])
    direct = broker.rpop(queue_name)
    assert through_celery is not None
    assert direct is not None
    assert _envelope_shape(direct) == _envelope_shape(through_celery)


def test_jobs_still_reach_the_queue_after_the_broker_dropped_every_connection(
    redis_broker: tuple[Flask, redis.Redis],
) -> None:
    app, broker = redis_broker
    runner = app.extensions["akta_jobs"]
    runner.dispatch("verification.run", (1,))
    # A Redis restart or failover: every client connection is cut under the publisher.
    broker.client_kill_filter(_type="normal", skipme=True)
    runner.dispatch("verification.run", (2,))
    broker.client_kill_filter(_type="normal", skipme=True)
    runner.dispatch_all([("verification.run", (3,)), ("notifications.deliver", (4,))])
    with _broker_queue(app) as queue:
        assert [_received(queue)[1] for _ in range(3)] == [
            [1],
            [2],
            [[["verification.run", [3]], ["notifications.deliver", [4]]]],
        ]


def test_a_broken_broker_connection_sends_the_job_through_celery_and_mends_itself(
    redis_broker: tuple[Flask, redis.Redis], caplog: pytest.LogCaptureFixture
) -> None:
    app, _broker = redis_broker
    runner = app.extensions["akta_jobs"]
    runner.dispatch("verification.run", (1,))
    # The kept connection now leads nowhere (a port nothing listens on).
    runner.publisher._redis = redis.Redis(REDIS_HOST, free_port(), socket_connect_timeout=1)
    runner.dispatch("verification.run", (2,))
    assert "publishing verification.run failed" in caplog.text
    caplog.clear()
    runner.dispatch("verification.run", (3,))
    assert "failed" not in caplog.text  # a new connection, not Celery's slower path every time
    with _broker_queue(app) as queue:
        assert [_received(queue)[1] for _ in range(3)] == [[1], [2], [3]]
