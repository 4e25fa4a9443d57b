"""The review page's action panel, the next report after an action, the queue as a table,
and the issued akta opened from the report."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.models import AktaDocument
from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db, utcnow
from akta_service.core.storage import storage
from akta_service.review.queries import next_in_tab, queue_page
from akta_service.workflow.engine import fire
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, csrf_token, sign_in


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    people = {
        name: create_user(name, full, role, STAFF_PASSWORD, ["3274"], Actor.system("t"))
        for name, full, role in (
            ("siti", "Siti Operator", "operator"),
            ("budi", "Budi Operator", "operator"),
            ("ahmad", "Ahmad Pejabat", "pejabat"),
        )
    }
    db.session.commit()
    return people


def _waiting(hours: float, **fields: Any) -> BirthReport:
    return BirthReportFactory(submitted_at=utcnow() - timedelta(hours=hours), **fields)


def _claimed_page(client: FlaskClient, report: BirthReport, tab: str | None = None) -> str:
    url = f"/kantor/laporan/{report.tracking_code}"
    page = client.get(url, query_string={"tab": tab} if tab else None).get_data(as_text=True)
    response = client.post(
        f"{url}/klaim",
        data={"csrf_token": csrf_token(page), "version": str(report.version), "tab": tab or ""},
    )
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _form_of(page: str, action: str) -> str:
    match = re.search(rf'<form[^>]*id="action-{action}".*?</form>', page, re.S)
    assert match, f"no {action} form"
    return match.group(0)


def test_the_panel_says_what_each_action_does_and_each_looks_different(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    report = _waiting(3, status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = _claimed_page(client, report)
    panel = page.split('<aside id="action-panel"')[1].split("</aside>")[0]
    # The claim's outcome, the holder and the actions sit together in the panel.
    assert "Ditangani oleh <strong>Siti Operator</strong>" in panel
    approve, correct, reject = (
        _form_of(panel, a) for a in ("approve", "request_correction", "reject")
    )
    assert "diteruskan ke Pejabat Pencatatan Sipil untuk ditandatangani" in approve
    assert "Pelapor diberi tahu data yang harus diperbaiki" in correct
    assert "Laporan ditolak untuk selamanya" in reject
    kinds = {
        re.search(r'class="action (action-[\w-]+)"', f).group(1) for f in (approve, correct, reject)
    }  # type: ignore[union-attr]
    assert kinds == {"action-approve", "action-correction", "action-reject"}
    assert 'name="confirm" value="yes" required' in reject  # asked before it is sent
    assert 'name="confirm"' not in approve
    assert 'accesskey="s"' in approve  # Setujui by keyboard
    served = client.get("/static/office/report.css")
    css = served.get_data(as_text=True)
    served.close()
    assert re.search(r"#action-panel \{[^}]*position: sticky", css)  # stays in view
    for kind in ("approve", "sign", "send-back", "reject"):
        assert re.search(rf"\.action-{kind} button \{{[^}}]*background: #", css), kind

    db.session.refresh(report)  # the claim was made by the request, not by this session
    fire(report, "approve", db.session.merge(staff["siti"]).as_actor())
    db.session.commit()
    client.post("/kantor/keluar", data={"csrf_token": csrf_token(page)})
    sign_in(client, "ahmad")
    page = _claimed_page(client, report)
    sign, send_back = _form_of(page, "sign"), _form_of(page, "send_back")
    assert "Tidak dapat dibatalkan" in sign
    assert "Laporan kembali ke antrian operator" in send_back
    assert 'name="confirm" value="yes" required' in send_back


@pytest.mark.parametrize("action", ["reject", "send_back"])
def test_reject_and_send_back_are_refused_unconfirmed_and_keep_the_reason(
    client: FlaskClient, staff: dict[str, User], action: str
) -> None:
    report = _waiting(3, status="in_review")
    db.session.commit()
    if action == "send_back":
        fire(report, "approve", staff["siti"].as_actor())
        db.session.commit()
    sign_in(client, "ahmad" if action == "send_back" else "siti")
    page = _claimed_page(client, report)
    url = f"/kantor/laporan/{report.tracking_code}/{action}"
    form = {
        "csrf_token": csrf_token(page),
        "version": str(report.version + 1),
        "reason": "KK buram",
    }
    unconfirmed = client.post(url, data=form)
    assert unconfirmed.status_code == 422
    text = unconfirmed.get_data(as_text=True)
    assert "Centang kotak konfirmasi" in text
    assert "KK buram</textarea>" in text  # nothing typed is lost
    db.session.refresh(report)
    before = report.status
    assert before in (ReportStatus.IN_REVIEW, ReportStatus.AWAITING_SIGNATURE)

    confirmed = client.post(url, data={**form, "confirm": "yes"})
    assert confirmed.status_code == 302
    db.session.refresh(report)
    assert report.status == (
        ReportStatus.REJECTED if action == "reject" else ReportStatus.IN_REVIEW
    )


def test_after_an_action_the_next_report_of_the_tab_opens(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    first = _waiting(30, status="in_review")
    held = _waiting(20, status="in_review", assigned_to_id=staff["budi"].id)  # Budi's
    following = _waiting(10, status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = _claimed_page(client, first, tab="in_review")
    response = client.post(
        f"/kantor/laporan/{first.tracking_code}/approve",
        data={
            "csrf_token": csrf_token(page),
            "version": str(first.version + 1),
            "tab": "in_review",
        },
    )
    assert response.status_code == 302
    # Budi's report is skipped: the next one nobody holds opens, in the same tab.
    assert response.headers["Location"].endswith(
        f"/kantor/laporan/{following.tracking_code}?tab=in_review"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Laporan {first.tracking_code} disetujui dan diteruskan ke pejabat." in page
    assert f"Berikutnya di “Perlu diperiksa”: {following.tracking_code}." in page
    assert "<h1>Laporan " + following.tracking_code in page
    assert held.tracking_code not in page

    page = _claimed_page(client, following, tab="in_review")
    response = client.post(
        f"/kantor/laporan/{following.tracking_code}/reject",
        data={
            "csrf_token": csrf_token(page),
            "version": str(following.version + 1),
            "tab": "in_review",
            "reason": "Bukan kelahiran di wilayah ini",
            "confirm": "yes",
        },
    )
    # Nothing else is free in the tab: back to the tab, told so.
    assert response.headers["Location"].endswith("/kantor/antrian?tab=in_review")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Laporan {following.tracking_code} ditolak." in page
    assert "Tidak ada laporan lain di “Perlu diperiksa”." in page


def test_the_queue_sorts_by_waiting_time_both_ways_and_pages_by_keyset(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    reports = [_waiting(hours, status="in_review") for hours in (50, 40, 30, 20, 10)]
    db.session.commit()
    settings = app.config["AKTA_SETTINGS"]
    for sort, expected in (("longest", reports), ("shortest", reports[::-1])):
        seen: list[int] = []
        cursor = None
        while True:
            page, cursor = queue_page(
                ["3274"], settings, "in_review", after=cursor, page_size=2, sort=sort
            )
            seen += [r.id for r in page]
            if cursor is None:
                break
        assert seen == [r.id for r in expected], sort

    sign_in(client, "siti")
    page = client.get("/kantor/antrian?tab=in_review&urut=shortest").get_data(as_text=True)
    assert re.findall(r'id="row-(\w+)"', page) == [r.tracking_code for r in reports[::-1]]
    assert 'aria-sort="ascending"' in page
    assert 'id="sort-waited" href="/kantor/antrian?tab=in_review"' in page  # and back
    page = client.get("/kantor/antrian?tab=in_review").get_data(as_text=True)
    assert 'aria-sort="descending"' in page
    assert "urut=shortest" in page
    assert client.get("/kantor/antrian?tab=in_review&urut=sideways").status_code == 404


def test_the_queue_shows_badges_channel_waiting_time_and_who_holds_what(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    flagged = _waiting(
        50, status="in_review", is_late=True, potential_duplicate=True, channel=Channel.FACILITY_API
    )
    _waiting(26, status="in_review", assigned_to_id=staff["budi"].id)
    _waiting(25, status="in_review", assigned_to_id=staff["budi"].id)
    _waiting(3, status="in_review", assigned_to_id=staff["siti"].id)
    db.session.commit()
    sign_in(client, "siti")
    page = client.get("/kantor/antrian?tab=in_review").get_data(as_text=True)
    row = page.split(f'id="row-{flagged.tracking_code}"')[1].split("</tr>")[0]
    assert '<span class="badge badge-late">Terlambat</span>' in row
    assert '<span class="badge badge-potential_duplicate">Kemungkinan ganda</span>' in row
    assert "<td>Fasilitas (API)</td>" in row
    assert '<td class="waited">2 hari</td>' in row
    claims = page.split('id="claims"')[1].split("</p>")[0]
    assert (
        "belum ditangani: <strong>1</strong>; ditangani Budi Operator: <strong>2</strong>; "
        "ditangani Siti Operator: <strong>1</strong>"
    ) in claims
    assert page.count("<td>Budi Operator</td>") == 2


def _issued_with_versions(report: BirthReport) -> list[bytes]:
    contents = []
    for version in (1, 2):
        content = f"%PDF-1.7 akta {report.tracking_code} versi {version}".encode()
        key = f"akta/{report.tracking_code}-v{version}.pdf"
        storage().put(key, content)
        db.session.add(
            AktaDocument(
                report_id=report.id,
                version=version,
                registration_number=report.registration_number,
                sha256=f"{version}" * 64,
                size_bytes=len(content),
                storage_key=key,
                verification_token=f"{report.tracking_code}-{version}",
                signer_name="Ahmad Pejabat",
                superseded_at=utcnow() if version == 1 else None,
                correction_reason="Salah ketik nama" if version == 2 else None,
            )
        )
        contents.append(content)
    db.session.commit()
    return contents


def test_staff_open_every_version_of_the_issued_akta_and_each_view_is_journalled(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="issued")
    db.session.commit()
    contents = _issued_with_versions(report)
    sign_in(client, "siti")
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    for version, content in enumerate(contents, start=1):
        link = re.search(rf'href="([^"]+)"[^>]*id="open-akta-{version}"', page)
        assert link, version
        opened = client.get(link.group(1))
        assert opened.status_code == 200
        assert opened.mimetype == "application/pdf"
        assert opened.data == content
        assert opened.headers["Cache-Control"] == "private, no-store"
    # Each opening is a counted copy (the first of each version: the signed original).
    prints = db.session.scalars(
        sa.select(JournalEntry.data)
        .where(
            JournalEntry.report_id == report.id,
            JournalEntry.action == "akta:birth_report:print",
            JournalEntry.actor_id == staff["siti"].as_actor().id,
        )
        .order_by(JournalEntry.id)
    ).all()
    assert [(r["version"], r["copy"]) for r in prints] == [(1, 1), (2, 1)]
    assert client.get(f"/kantor/laporan/{report.tracking_code}/akta/3").status_code == 404
    other = BirthReportFactory(status="issued", region_code="3673")
    db.session.commit()
    _issued_with_versions(other)
    assert client.get(f"/kantor/laporan/{other.tracking_code}/akta/1").status_code == 404


def test_the_time_waited_counts_from_entering_the_status_not_from_submission(
    app: Flask, client: FlaskClient, staff: dict[str, User], actors: dict[str, Actor]
) -> None:
    # Submitted five days ago, corrected and verified again just now: in review for minutes.
    corrected = _waiting(5 * 24, status="needs_correction")
    fresh = _waiting(3, status="in_review")
    parent = Actor.informant(corrected.tracking_code, corrected.informant_name)
    fire(corrected, "resubmit", parent)
    fire(corrected, "start_verification", actors["system"])
    fire(corrected, "pass_verification", actors["system"])
    db.session.commit()
    assert utcnow() - corrected.status_since < timedelta(minutes=1)
    sign_in(client, "siti")
    page = client.get("/kantor/antrian?tab=in_review").get_data(as_text=True)
    row = page.split(f'id="row-{corrected.tracking_code}"')[1].split("</tr>")[0]
    assert '<td class="waited">0 menit</td>' in row
    assert '<td class="waited">3 jam</td>' in page.split(f'id="row-{fresh.tracking_code}"')[1]
    # The longest in review comes first: the fresh report, three hours in.
    order = re.findall(r'id="row-(\w+)"', page)
    assert order.index(fresh.tracking_code) < order.index(corrected.tracking_code)
    settings = app.config["AKTA_SETTINGS"]
    assert next_in_tab(["3274"], settings, "in_review", corrected, staff["siti"].id) == fresh
