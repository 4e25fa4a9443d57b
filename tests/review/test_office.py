"""The office queue and review page: tabs, search, keyset pages, journalled reads, actions,
the conflict message when two clerks act at once."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.models import SigningAuthorisation
from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db, utcnow
from akta_service.review.queries import queue_page
from akta_service.workflow.engine import fire
from tests.conftest import SIGNING_OFFICERS, clear_wrong_passphrases, with_signing_identity
from tests.factories import BirthReportFactory
from tests.services import SigningServer
from tests.web import STAFF_PASSWORD, csrf_token, next_code, sign_in

PASSWORD = STAFF_PASSWORD


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    people = {
        name: create_user(name, full, role, PASSWORD, ["3274"], Actor.system("t"))
        for name, full, role in (
            ("siti", "Siti Operator", "operator"),
            ("budi", "Budi Operator", "operator"),
            ("ahmad", "Ahmad Pejabat", "pejabat"),
            ("kepala", "Kepala Dinas", "viewer"),
        )
    }
    with_signing_identity(people["ahmad"], "pj1")
    db.session.commit()
    return people


def _claim(client: FlaskClient, report: BirthReport) -> str:
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    response = client.post(
        f"/kantor/laporan/{report.tracking_code}/klaim", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def _act(client: FlaskClient, report: BirthReport, action: str, **form: str) -> str:
    page = _claim(client, report)
    version = re.search(rf'id="action-{action}".*?name="version" value="(\d+)"', page, re.S)
    assert version, f"no {action} button on the page"
    data = {"csrf_token": csrf_token(page), "version": version.group(1), **form}
    response = client.post(f"/kantor/laporan/{report.tracking_code}/{action}", data=data)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_queue_lists_oldest_first_and_pages_by_keyset(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    reports = [BirthReportFactory(status="in_review") for _ in range(5)]
    BirthReportFactory(status="in_review", region_code="3673")  # another region
    db.session.commit()
    settings = app.config["AKTA_SETTINGS"]
    first, cursor = queue_page(["3274"], settings, "in_review", page_size=2)
    second, cursor2 = queue_page(["3274"], settings, "in_review", after=cursor, page_size=2)
    third, cursor3 = queue_page(["3274"], settings, "in_review", after=cursor2, page_size=2)
    assert [r.id for r in first + second + third] == [r.id for r in reports]
    assert cursor3 is None

    sign_in(client, "siti")
    page = client.get("/kantor/antrian?tab=in_review").get_data(as_text=True)
    codes = re.findall(r'id="row-(\w+)"', page)
    assert codes == [r.tracking_code for r in reports]
    lists = db.session.scalars(
        sa.select(JournalEntry).where(JournalEntry.action == "staff:birth_report:list")
    ).all()
    assert lists
    assert lists[-1].data["report_ids"] == [r.id for r in reports]


def test_search_by_nik_code_and_name(client: FlaskClient, staff: dict[str, User]) -> None:
    wanted = BirthReportFactory(status="in_review", child_name="Rahmat Hidayat")
    BirthReportFactory(status="in_review", child_name="Bunga Citra")
    db.session.commit()
    sign_in(client, "siti")
    for query in (wanted.mother_nik, wanted.tracking_code.lower(), "hidayat"):
        page = client.get(f"/kantor/antrian?q={query}").get_data(as_text=True)
        assert re.findall(r'id="row-(\w+)"', page) == [wanted.tracking_code], query
        # Results span every tab: the report opens without one.
        assert f'href="/kantor/laporan/{wanted.tracking_code}">' in page, query
    listed = client.get("/kantor/antrian?tab=in_review").get_data(as_text=True)
    assert f'href="/kantor/laporan/{wanted.tracking_code}?tab=in_review">' in listed


def test_a_name_search_needs_three_letters_and_takes_wildcards_literally(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    BirthReportFactory(status="in_review", child_name="Rahmat Hidayat")
    underscored = BirthReportFactory(status="in_review", child_name="Nur_Aini")
    db.session.commit()
    sign_in(client, "siti")
    short = client.get("/kantor/antrian?q=ra").get_data(as_text=True)
    assert "Ketik minimal 3 huruf untuk mencari nama" in short
    assert 'id="row-' not in short
    for wildcard in ("%%%", "___"):
        page = client.get("/kantor/antrian", query_string={"q": wildcard}).get_data(True)
        assert 'id="row-' not in page, wildcard  # not "every report"
    page = client.get("/kantor/antrian", query_string={"q": "r_a"}).get_data(as_text=True)
    assert re.findall(r'id="row-(\w+)"', page) == [underscored.tracking_code]


def _listed(client: FlaskClient, text: str) -> list[str]:
    page = client.get("/kantor/antrian", query_string={"q": text}).get_data(as_text=True)
    return re.findall(r'id="row-(\w+)"', page)


def test_a_name_search_finds_the_child_or_the_mother_in_any_case_and_within_a_word(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    hidayat = BirthReportFactory(
        status="in_review", child_name="Rahmat Hidayat", mother_name="Siti Aminah"
    )
    lestari = BirthReportFactory(
        status="issued", child_name="Bunga Citra", mother_name="Dewi Lestari"
    )
    nurhayati = BirthReportFactory(
        status="needs_correction", child_name="Ayu Kartika", mother_name="NURHAYATI"
    )
    BirthReportFactory(
        status="in_review", region_code="3672", child_name="Rahmat Hidayat", mother_name="Siti"
    )
    db.session.commit()
    sign_in(client, "siti")
    assert _listed(client, "HIDAYAT") == [hidayat.tracking_code]  # the child's name
    assert _listed(client, "siti aminah") == [hidayat.tracking_code]  # the mother's, whole
    assert _listed(client, "estar") == [lestari.tracking_code]  # inside a word
    assert _listed(client, "hayati") == [nurhayati.tracking_code]
    # Both names hold "ayat"; the list is in waiting order, as every list is.
    found = _listed(client, "ayat")
    assert sorted(found) == sorted([hidayat.tracking_code, nurhayati.tracking_code])
    rows = {r.tracking_code: r for r in (hidayat, nurhayati)}
    assert found == sorted(found, key=lambda code: (rows[code].status_since, rows[code].id))


def test_a_name_search_never_joins_the_childs_name_to_the_mothers(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    BirthReportFactory(status="in_review", child_name="Rahmat Hidayat", mother_name="Siti Aminah")
    db.session.commit()
    sign_in(client, "siti")
    for text in ("hidayat siti", "hidayat\nsiti", "hidayatsiti"):
        assert _listed(client, text) == [], text


def test_a_corrected_name_is_found_by_its_new_spelling_only(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="needs_correction", mother_name="Siti Aminah")
    db.session.commit()
    report.mother_name = "Siti Aminah Rahayu"
    report.child_name = "Putri Anjani"
    db.session.commit()
    sign_in(client, "siti")
    assert _listed(client, "rahayu") == [report.tracking_code]
    assert _listed(client, "anjani") == [report.tracking_code]
    assert _listed(client, "aisyah") == []  # the child's name before the correction


def test_reading_a_report_is_journalled(client: FlaskClient, staff: dict[str, User]) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = client.get(f"/kantor/laporan/{report.tracking_code}")
    assert page.status_code == 200
    assert report.mother_nik in page.get_data(as_text=True)
    read = db.session.scalar(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.action == "staff:birth_report:read"
        )
    )
    assert read is not None
    assert read.actor_name == "Siti Operator"


def test_another_regions_report_is_not_shown(client: FlaskClient, staff: dict[str, User]) -> None:
    report = BirthReportFactory(status="in_review", region_code="3673")
    db.session.commit()
    sign_in(client, "siti")
    assert client.get(f"/kantor/laporan/{report.tracking_code}").status_code == 404


def test_operator_approves_and_another_pejabat_signs(
    app: Flask, client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = _act(client, report, "approve")
    # Nothing else waits in her tab: she is back on it, told what became of the report.
    assert f"Laporan {report.tracking_code} disetujui dan diteruskan ke pejabat." in page
    assert "Tidak ada laporan lain di “Perlu diperiksa”." in page
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert "Menunggu tanda tangan Pejabat Pencatatan Sipil" in page
    assert 'id="action-sign"' not in page  # an operator cannot sign
    client.post("/kantor/keluar", data={"csrf_token": csrf_token(page)})
    sign_in(client, "ahmad")
    page = _act(
        client,
        report,
        "sign",
        passphrase=SIGNING_OFFICERS["pj1"].passphrase,
        code=next_code(app, "ahmad"),
    )
    assert f"Laporan {report.tracking_code} ditandatangani; akta sedang diterbitkan." in page
    db.session.refresh(report)
    assert report.status == ReportStatus.REGISTERED
    assert report.registration_number is not None
    assert db.session.get(SigningAuthorisation, report.id) is not None  # for the issue step


def test_signing_with_a_wrong_passphrase_is_refused_and_nothing_moves(
    app: Flask, client: FlaskClient, staff: dict[str, User], signing_server: SigningServer
) -> None:
    report = BirthReportFactory(status="awaiting_signature")
    db.session.commit()
    sign_in(client, "ahmad")
    page = _claim(client, report)
    assert 'type="password" id="passphrase-sign" name="passphrase"' in page
    version = re.search(r'id="action-sign".*?name="version" value="(\d+)"', page, re.S)
    assert version is not None

    refused = client.post(
        f"/kantor/laporan/{report.tracking_code}/sign",
        data={
            "csrf_token": csrf_token(page),
            "version": version.group(1),
            "passphrase": "bukan-passphrase-ahmad",
            "code": next_code(app, "ahmad"),
        },
    )

    assert refused.status_code == 403
    text = refused.get_data(as_text=True)
    assert "Passphrase tanda tangan elektronik salah. Sisa percobaan: 4." in text
    assert "bukan-passphrase-ahmad" not in text
    db.session.refresh(report)
    assert report.status == "awaiting_signature"
    assert report.registration_number is None
    entries = db.session.scalars(sa.select(JournalEntry).where(JournalEntry.report_id == report.id))
    journal = " ".join(f"{e.data} {e.reason}" for e in entries)
    assert "bukan-passphrase" not in journal
    clear_wrong_passphrases(signing_server)


def test_when_two_clerks_act_at_once_the_second_is_told_who_and_keeps_the_text(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = _claim(client, report)
    # Budi approves while Siti is still typing her correction request (an admin had
    # released her claim a moment before: the page she has open is stale).
    db.session.refresh(report)  # the claim was made by the request, not by this session
    report.assigned_to_id = None
    db.session.commit()
    fire(report, "approve", staff["budi"].as_actor())
    db.session.commit()
    response = client.post(
        f"/kantor/laporan/{report.tracking_code}/request_correction",
        data={
            "csrf_token": csrf_token(page),
            "version": "1",
            "reason": "Foto KK buram sekali",
            "fields": ["documents", "kk_number"],
        },
    )
    assert response.status_code == 409
    assert "Location" not in response.headers  # what she typed never travels in a URL
    after = response.get_data(as_text=True)
    assert "Budi Operator" in after
    assert "sudah diubah" in after
    assert re.search(r"pada \d{2}-\d{2}-\d{4} \d{2}:\d{2} WIB", after)  # office time
    assert "Foto KK buram sekali</textarea>" in after  # what she typed is still there
    assert "Data yang Anda pilih: Nomor KK, Dokumen" in after  # and what she picked
    db.session.refresh(report)
    assert report.status == ReportStatus.AWAITING_SIGNATURE


def test_a_refused_action_keeps_the_journal_of_the_page_that_shows_the_refusal(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = _claim(client, report)
    reads = _reads_by(report, staff["siti"])
    response = client.post(
        f"/kantor/laporan/{report.tracking_code}/approve",
        data={"csrf_token": csrf_token(page), "version": "999"},  # a page from another time
    )
    assert response.status_code == 409
    # The page with the refusal showed her the report: that read is on record.
    assert _reads_by(report, staff["siti"]) == reads + 1
    db.session.refresh(report)
    assert report.status == ReportStatus.IN_REVIEW


def _reads_by(report: BirthReport, user: User) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(JournalEntry)
            .where(
                JournalEntry.report_id == report.id,
                JournalEntry.action == "staff:birth_report:read",
                JournalEntry.actor_id == user.as_actor().id,
            )
        )
    )


def test_a_viewer_cannot_act(client: FlaskClient, staff: dict[str, User]) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "kepala")
    # The dashboard only: no queue, no report, no personal data.
    assert client.get("/kantor/dasbor").status_code == 200
    assert client.get("/kantor/antrian").status_code == 403
    page = client.get(f"/kantor/laporan/{report.tracking_code}")
    assert page.status_code == 403
    assert report.mother_name not in page.get_data(as_text=True)
    token = csrf_token(client.get("/kantor/").get_data(as_text=True))  # the sign-out form's
    response = client.post(
        f"/kantor/laporan/{report.tracking_code}/approve",
        data={"csrf_token": token, "version": "1"},
    )
    assert response.status_code == 403
    db.session.refresh(report)
    assert report.status == ReportStatus.IN_REVIEW


def test_a_claimed_report_is_read_only_for_the_others(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = _claim(client, report)
    assert "Ditangani oleh <strong>Siti Operator</strong>" in page
    assert 'id="action-approve"' in page
    client.post("/kantor/keluar", data={"csrf_token": csrf_token(page)})

    sign_in(client, "budi")
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert "Siti Operator" in page
    assert 'id="action-approve"' not in page
    assert 'id="claim"' not in page
    db.session.refresh(report)
    refused = client.post(
        f"/kantor/laporan/{report.tracking_code}/approve",
        data={
            "csrf_token": csrf_token(client.get("/kantor/").get_data(as_text=True)),
            "version": str(report.version),
        },
    )
    assert refused.status_code >= 400
    assert "sedang ditangani Siti Operator" in refused.get_data(as_text=True)
    db.session.refresh(report)
    assert report.status == ReportStatus.IN_REVIEW


@pytest.mark.parametrize("decision", ["duplicate", "not_duplicate"])
def test_a_clerk_decides_a_suspected_duplicate(
    client: FlaskClient, staff: dict[str, User], decision: str
) -> None:
    original = BirthReportFactory(status="registered", child_name="Aisyah Putri")
    suspect = BirthReportFactory(
        status="in_review",
        child_name="Aisyah Putry",
        mother_nik=original.mother_nik,
        potential_duplicate=True,
        duplicate_of_id=original.id,
    )
    db.session.commit()
    sign_in(client, "siti")
    page = _claim(client, suspect)
    assert original.tracking_code in page  # the original, side by side
    assert 'id="action-approve"' in page  # shown, but the guard holds until decided
    form = {"csrf_token": csrf_token(page), "decision": decision, "reason": "Dicek dengan KK"}
    if decision == "duplicate":
        # "Ganda" rejects for good: unconfirmed, it is refused and nothing changes.
        response = client.post(f"/kantor/laporan/{suspect.tracking_code}/ganda", data=form)
        refused = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Centang kotak konfirmasi untuk “Ganda — tolak laporan ini”" in refused
        db.session.refresh(suspect)
        assert suspect.status == ReportStatus.IN_REVIEW
        form["confirm"] = "yes"
    response = client.post(f"/kantor/laporan/{suspect.tracking_code}/ganda", data=form)
    assert response.status_code == 302
    db.session.refresh(suspect)
    if decision == "duplicate":
        assert suspect.status == ReportStatus.REJECTED
        reason = db.session.scalar(
            sa.select(JournalEntry.reason).where(
                JournalEntry.report_id == suspect.id, JournalEntry.trigger == "reject"
            )
        )
        assert reason == "Dicek dengan KK"
    else:
        assert suspect.status == ReportStatus.IN_REVIEW
        assert not suspect.potential_duplicate
        assert suspect.duplicate_of_id is None
        page = _act(client, suspect, "approve")
        assert f"Laporan {suspect.tracking_code} disetujui" in page
        db.session.refresh(suspect)
        assert suspect.status == ReportStatus.AWAITING_SIGNATURE


def test_a_correction_request_names_the_fields_the_parent_must_fix(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = _claim(client, report)
    assert 'name="fields" value="mother.name"' in page
    version = re.search(
        r'id="action-request_correction".*?name="version" value="(\d+)"', page, re.S
    )
    assert version
    form = {"csrf_token": csrf_token(page), "version": version.group(1)}
    url = f"/kantor/laporan/{report.tracking_code}/request_correction"

    nothing_picked = client.post(url, data={**form, "reason": "Nama ibu tidak sesuai KTP"})
    assert nothing_picked.status_code == 422
    html = nothing_picked.get_data(as_text=True)
    assert "Pilih data yang harus diperbaiki pelapor" in html
    assert "Nama ibu tidak sesuai KTP</textarea>" in html
    db.session.refresh(report)
    assert report.status == ReportStatus.IN_REVIEW

    done = client.post(
        url,
        data={**form, "reason": "Nama ibu tidak sesuai KTP", "fields": ["mother.name", "nope"]},
    )
    assert done.status_code == 302
    db.session.refresh(report)
    assert report.status == ReportStatus.NEEDS_CORRECTION
    entry = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "request_correction"
        )
    ).one()
    assert entry.data["fields"] == ["mother.name"]  # only fields the form offers
    assert entry.reason == "Nama ibu tidak sesuai KTP"


def test_a_claim_from_a_stale_page_is_told_who_moved_the_report(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    sign_in(client, "siti")
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    fire(report, "approve", staff["budi"].as_actor())  # while Siti's page is open
    db.session.commit()
    response = client.post(
        f"/kantor/laporan/{report.tracking_code}/klaim",
        data={"csrf_token": csrf_token(page), "version": "1"},
    )
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "sudah diubah oleh Budi Operator (operator)" in after
    db.session.refresh(report)
    assert report.assigned_to_id is None


def test_a_tab_says_how_many_wait_in_each_tab_and_who_holds_them(
    client: FlaskClient, staff: dict[str, User]
) -> None:
    siti, budi = staff["siti"], staff["budi"]
    for holder in (None, None, None, siti, siti, budi):
        BirthReportFactory(
            status="in_review",
            assigned_to_id=holder.id if holder else None,
            assigned_at=utcnow() if holder else None,
        )
    BirthReportFactory(
        status="awaiting_signature", is_late=True, born_days_ago=90, assigned_to_id=budi.id
    )
    BirthReportFactory(status="in_review", region_code="3673", assigned_to_id=siti.id)
    BirthReportFactory(status="issued")  # not waiting: in no tab
    db.session.commit()
    sign_in(client, "siti")

    def counts(page: str) -> dict[str, int]:
        found = re.findall(r'id="tab-(\w+)">[^<]*\(<span class="count">(\d+)<', page)
        return {tab: int(count) for tab, count in found}

    page = client.get("/kantor/antrian?tab=in_review").get_data(as_text=True)
    assert counts(page) == {
        "in_review": 6,
        "awaiting_signature": 1,
        "needs_correction": 0,
        "stalled": 0,
        "potential_duplicate": 0,
        "late": 1,
        "akta_correction": 0,
    }
    claims = re.sub(r"<[^>]+>", "", re.search(r'<p id="claims">(.*?)</p>', page).group(1))
    assert claims == (
        "Di “Perlu diperiksa”: belum ditangani: 3; ditangani Siti Operator: 2; "
        "ditangani Budi Operator: 1."
    )
    late = client.get("/kantor/antrian?tab=late").get_data(as_text=True)
    assert counts(late) == counts(page)
    claims = re.sub(r"<[^>]+>", "", re.search(r'<p id="claims">(.*?)</p>', late).group(1))
    assert claims == "Di “Terlambat (&gt; 60 hari)”: ditangani Budi Operator: 1."
    for tab, said in (
        ("awaiting_signature", "Di “Menunggu tanda tangan”: ditangani Budi Operator: 1."),
        ("needs_correction", "Di “Menunggu perbaikan pelapor”: tidak ada laporan."),
    ):
        other = client.get(f"/kantor/antrian?tab={tab}").get_data(as_text=True)
        assert counts(other) == counts(page), tab
        claims = re.sub(r"<[^>]+>", "", re.search(r'<p id="claims">(.*?)</p>', other).group(1))
        assert claims == said, tab
    found = client.get("/kantor/antrian?q=" + siti.full_name.split()[0]).get_data(as_text=True)
    assert counts(found) == counts(page)
    assert 'id="claims"' not in found  # search results span every tab
