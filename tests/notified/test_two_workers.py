"""Two workers sweeping at the same moment send each reminder once (PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from akta_service.core.actors import Actor
from akta_service.core.clock import local_today
from akta_service.core.db import db
from akta_service.core.transaction import unit_of_work
from akta_service.facilities.models import Facility
from akta_service.facilities.operations import create_facility
from akta_service.notifications.models import Delivery
from akta_service.notified.models import NotifiedBirth
from akta_service.notified.operations import load_notification_input, notify_birth, send_reminders
from tests.conftest import make_migrated_app
from tests.databases import postgres_database
from tests.notified.notifying import notification_of
from tests.parents.conftest import sandbox_report


def _in_unit(app: Flask, fn: Any, *args: Any) -> Any:
    with app.app_context():
        try:
            with unit_of_work():
                return fn(*args)
        finally:
            db.session.remove()


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[Flask]:
    """The service on a fresh PostgreSQL database whose transactions really commit."""
    with postgres_database() as url:
        app = make_migrated_app(url, tmp_path / "instance")
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_two_workers_send_each_reminder_once(pg_app: Flask) -> None:
    committed_app = pg_app
    admin = Actor.system("test admin")

    def notify_ten() -> None:
        facility = create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", admin)
        report = sandbox_report()
        for _ in range(10):
            payload = notification_of(report, born=local_today() - timedelta(days=8))
            notify_birth(load_notification_input(payload), facility, admin)
        assert db.session.get(Facility, "RSUD-GJ") is not None

    _in_unit(committed_app, notify_ten)
    start = threading.Barrier(2)
    results: list[int] = []

    def worker() -> None:
        start.wait()
        results.append(_in_unit(committed_app, send_reminders, local_today()))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    def counts() -> tuple[int, list[list[int]]]:
        reminders = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Delivery)
            .where(Delivery.event == "notified_birth.notified_reminder")
        )
        sent = [n.reminders_sent for n in db.session.scalars(sa.select(NotifiedBirth))]
        return int(reminders or 0), sent

    reminders, sent = _in_unit(committed_app, counts)
    assert sum(results) == reminders == 20  # ten families, e-mail and SMS each, once
    assert sent == [[7]] * 10
