"""Completeness per facility and week, the timeliness buckets, the facilities notifying fewer,
and the CSV of aggregates without personal data."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.births.models import ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.db import db, utcnow
from akta_service.notified.models import NotificationStatus, NotifiedBirth
from tests.factories import BirthReportFactory
from tests.notified.notifying import days_ago, notification_of, notify
from tests.parents.conftest import sandbox_report
from tests.web import STAFF_PASSWORD, sign_in

ADMIN = Actor.system("test admin")


def _completed_as(code: str, status: ReportStatus, born_days_ago: int) -> None:
    """The family completed it; the report has come as far as `status`."""
    notice = db.session.scalar(sa.select(NotifiedBirth).where(NotifiedBirth.tracking_code == code))
    assert notice is not None
    numbered = status in (ReportStatus.REGISTERED, ReportStatus.ISSUED)
    report = BirthReportFactory(
        status=status,
        child_birth_date=days_ago(born_days_ago),
        registration_number=f"3274-LU-01012026-{notice.id:04d}" if numbered else None,
        registered_at=utcnow() if numbered else None,
    )
    notice.status = NotificationStatus.COMPLETED
    notice.report_id = report.id
    notice.completed_at = utcnow()
    db.session.flush()


def test_the_completeness_page_and_csv_count_what_became_of_each_notification(
    app: Flask, client: FlaskClient, tokens: dict[str, str]
) -> None:
    create_user("rina", "Rina Pimpinan", "viewer", STAFF_PASSWORD, ["3274"], ADMIN)
    family = sandbox_report()
    codes = [
        notify(client, tokens["hospital"], notification_of(family))["tracking_code"]
        for _ in range(3)
    ]
    notify(client, tokens["midwife"], notification_of(family))
    _completed_as(codes[0], ReportStatus.ISSUED, born_days_ago=10)
    _completed_as(codes[1], ReportStatus.IN_REVIEW, born_days_ago=10)
    late = BirthReportFactory(
        status=ReportStatus.ISSUED,
        child_birth_date=days_ago(400),
        registration_number="3274-LT-01012026-0999",
        registered_at=utcnow(),
    )
    assert late.id
    # The midwife notified five births in the four weeks before, none since but one.
    for weeks_ago in (5, 5, 6, 6, 7):
        extra = notify(client, tokens["midwife"], notification_of(family))["tracking_code"]
        db.session.execute(
            sa.update(NotifiedBirth)
            .where(NotifiedBirth.tracking_code == extra)
            .values(notified_at=utcnow() - timedelta(weeks=weeks_ago))
        )

    sign_in(client, "rina")
    page = client.get("/kantor/kelengkapan").get_data(as_text=True)
    assert "RSUD Gunung Jati: jumlah 8 minggu" in page
    assert 'id="bucket-on_time">50%' in page
    assert 'id="bucket-later">50%' in page
    assert "Bidan Sri Wahyuni</th><td>1</td><td>5</td>" in page
    assert 'id="follow-up"' not in page  # a viewer reads aggregates only

    exported = client.get("/kantor/kelengkapan.csv")
    assert exported.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    hospital = [r for r in rows if r and r[0] == "RSUD Gunung Jati" and r[2] != "0"]
    assert [[int(n) for n in r[2:6]] for r in hospital] == [[3, 2, 1, 1]]
    text = exported.get_data(as_text=True)
    assert family["mother"]["nik"] not in text
    assert family["mother"]["name"] not in text
