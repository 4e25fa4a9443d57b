"""The head of the office's dashboard: counts, timeliness, speed, backlog, silent facilities."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.akta.models import AktaDocument
from akta_service.births.models import Channel
from akta_service.core.actors import Actor
from akta_service.core.db import db, utcnow
from akta_service.facilities.models import Facility, FacilityKind
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, sign_in

PASSWORD = STAFF_PASSWORD


@pytest.fixture
def viewer(session: Any, client: FlaskClient) -> FlaskClient:
    create_user("kepala", "Kepala Dinas", "viewer", STAFF_PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    assert sign_in(client, "kepala") == 302
    return client


def _issued(hours: float, **fields: Any) -> None:
    report = BirthReportFactory(status="issued", **fields)
    db.session.add(
        AktaDocument(
            report_id=report.id,
            version=1,
            registration_number=report.registration_number,
            sha256="a" * 64,
            size_bytes=1000,
            storage_key=f"akta/{report.tracking_code}.pdf",
            verification_token=report.tracking_code,
            signer_name="Pejabat",
            issued_at=report.submitted_at + timedelta(hours=hours),
        )
    )
    db.session.flush()


def test_the_dashboard_shows_adoption_timeliness_and_speed(viewer: FlaskClient) -> None:
    db.session.add(
        Facility(code="RS-DIAM", name="RS Diam", kind=FacilityKind.HOSPITAL, region_code="3274")
    )
    db.session.flush()
    BirthReportFactory(
        status="in_review", channel=Channel.WEB, submitted_at=utcnow() - timedelta(hours=30)
    )
    BirthReportFactory(
        status="in_review", channel=Channel.FACILITY_API, is_late=True, born_days_ago=90
    )
    BirthReportFactory(
        status="rejected", facility_code="RS-DIAM", submitted_at=utcnow() - timedelta(days=40)
    )
    for hours in (2, 4, 6, 8, 30):
        _issued(hours)
    db.session.commit()

    page = viewer.get("/kantor/dasbor").get_data(as_text=True)
    assert '<svg id="per-week"' in page
    assert "http" not in page.split('<svg id="per-week"')[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", ""
    )  # drawn here, nothing fetched from elsewhere
    on_time = re.search(r'id="on-time">(\d+)%', page)
    assert on_time
    assert int(on_time.group(1)) == 88  # 7 of 8 reports in the window were on time
    assert re.search(r'id="speed">6\.0 jam', page)  # median of 2, 4, 6, 8, 30 hours
    assert "Perlu diperiksa operator: 2" in page
    assert "terlama menunggu 30 jam" in page
    assert "RS Diam (RS-DIAM)" in page
    assert "Kejaksan" in page  # the factory's KK lies in kecamatan Kejaksan


def test_the_csv_export_holds_aggregates_only(viewer: FlaskClient) -> None:
    report = BirthReportFactory(status="in_review", mother_name="Dewi Rahasia")
    db.session.commit()
    response = viewer.get("/kantor/dasbor/ekspor.csv")
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["minggu_mulai", "web", "facility_api", "office"]
    assert sum(int(row[1]) for row in rows[1:13]) == 1
    assert report.mother_nik not in text
    assert "Dewi Rahasia" not in text
    assert report.tracking_code not in text


def test_the_dashboard_draws_the_queue_and_kecamatan_as_bars(viewer: FlaskClient) -> None:
    for _ in range(3):
        BirthReportFactory(status="in_review")
    BirthReportFactory(status="awaiting_signature")
    db.session.commit()
    page = viewer.get("/kantor/dasbor").get_data(as_text=True)
    queue = page.split('id="queue-chart"')[1].split("</ul>")[0]
    # The longest queue fills the width; the others are drawn to the same scale.
    assert re.search(r'Perlu diperiksa operator</span><span class="bar w-100">3<', queue)
    assert re.search(r'class="bar w-33">1<', queue)
    assert "Kejaksan</span>" in page.split('id="districts"')[1]
    table = page.split('id="per-week-table"')[1].split("</table>")[0]
    assert table.count("<tr>") == 13  # a header and twelve weeks


def test_the_dashboard_answers_today_this_week_same_day_and_longest_in_a_table(
    viewer: FlaskClient,
) -> None:
    db.session.add(
        Facility(code="RS-SIBUK", name="RS Sibuk", kind=FacilityKind.HOSPITAL, region_code="3274")
    )
    db.session.flush()
    now = utcnow()
    BirthReportFactory(status="in_review", submitted_at=now, facility_code="RS-SIBUK")
    BirthReportFactory(status="in_review", submitted_at=now - timedelta(hours=50))
    BirthReportFactory(status="in_review", submitted_at=now - timedelta(days=30))
    _issued(0, submitted_at=now, facility_code="RS-SIBUK")  # issued the hour it came in
    db.session.commit()
    page = viewer.get("/kantor/dasbor").get_data(as_text=True)
    glance = page.split('id="glance"')[1].split("</table>")[0]
    assert '<td id="today">2</td>' in glance  # two reports came in today
    assert '<td id="issued-week">1</td>' in glance
    assert '<td id="same-day">1</td>' in glance
    assert '<td id="longest">720 jam</td>' in glance
    this_week = int(re.search(r'id="this-week">(\d+)<', glance).group(1))  # type: ignore[union-attr]
    assert 2 <= this_week <= 3  # 50 hours ago may lie in last week
    facilities = page.split('id="facilities-table"')[1].split("</table>")[0]
    assert '<th scope="row">RS Sibuk</th><td>2</td>' in facilities
    assert "Kejaksan</th><td>" in page.split('id="districts-table"')[1]
