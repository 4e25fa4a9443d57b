"""What only concurrency shows (PostgreSQL): two workers sweeping at the same moment send
each reminder once; twenty re-sends of one FHIR Bundle make one notification."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask

from akta_service.core.actors import Actor
from akta_service.core.clock import local_today
from akta_service.core.db import db
from akta_service.core.transaction import unit_of_work
from akta_service.facilities.models import Facility
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.notifications.models import Delivery
from akta_service.notified.models import NotifiedBirth
from akta_service.notified.operations import load_notification_input, notify_birth, send_reminders
from tests.notified.bundles import bundle
from tests.notified.notifying import notification_of
from tests.parents.conftest import sandbox_report


def _in_unit(app: Flask, fn: Any, *args: Any) -> Any:
    with app.app_context():
        try:
            with unit_of_work():
                return fn(*args)
        finally:
            db.session.remove()


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


def test_twenty_resends_of_one_bundle_at_once_make_one_notification(pg_app: Flask) -> None:
    admin = Actor.system("test admin")

    def facility_and_bundle() -> tuple[str, dict[str, Any]]:
        create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", admin)
        return issue_credential("RSUD-GJ", admin).token, bundle(
            "single_birth_hospital", sandbox_report()
        )

    token, body = _in_unit(pg_app, facility_and_bundle)
    start = threading.Barrier(20)
    answers: list[tuple[int, str]] = []

    def resend() -> None:
        client = pg_app.test_client()
        start.wait()
        sent = client.post(
            "/api/v1/fhir",
            data=json.dumps(body),
            content_type="application/fhir+json",
            headers={"Authorization": f"Bearer {token}"},
        )
        answers.append((sent.status_code, sent.get_json(force=True)["identifier"]["value"]))

    threads = [threading.Thread(target=resend) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(status for status, _ in answers) == [200] * 19 + [201]
    assert len({code for _, code in answers}) == 1
    count = _in_unit(
        pg_app, lambda: db.session.scalar(sa.select(sa.func.count()).select_from(NotifiedBirth))
    )
    assert count == 1
