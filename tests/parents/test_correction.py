"""A report that needs correction: the status page says what to fix and why, the parent fixes
exactly that (or uploads the document asked for), sends it back, and verification runs again.
All through plain forms, without JavaScript."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.births.models import Document, DocumentKind, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.jobs.queue import run_pending
from akta_service.parents.correction import report_answers
from akta_service.parents.steps import FIELDS
from akta_service.review.operations import claim
from akta_service.workflow.engine import fire
from tests.files import png_bomb
from tests.parents.conftest import sandbox_report
from tests.parents.form import PDF, errors_of, text_of
from tests.parents.reporting import (
    WRONG_MOTHER_NAME,
    find_report,
    hidden_version,
    input_value,
    open_status,
    post_page_form,
    report_through_the_form,
    stage,
    with_wrong_mother_name,
)
from tests.web import csrf_token

S = ReportStatus
MISMATCH = "Nama ibu tidak sesuai data Dukcapil; tulis nama sesuai KTP."


@pytest.fixture
def corrected_family(app: Flask, client: FlaskClient) -> tuple[dict[str, Any], str, str]:
    """A family that typed the mother's name wrong; verification sent the report back."""
    family = sandbox_report("recorded")
    code, pin = report_through_the_form(client, with_wrong_mother_name(family))
    run_pending(app)
    assert find_report(code).status == S.NEEDS_CORRECTION
    return family, code, pin


def _send(client: FlaskClient, fields: dict[str, Any], action: str = "send") -> Any:
    return post_page_form(
        client, "/status/perbaiki", "/status/perbaiki", {"action": action, **fields}
    )


def test_the_parent_fixes_the_name_dukcapil_questioned_and_verification_passes(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    family, code, pin = corrected_family
    page = open_status(client, code, pin)
    assert stage(page, "checked") == "attention"
    assert text_of(page, "reasons") == MISMATCH
    assert text_of(page, "fix-fields") == "Data yang perlu diubah: Nama ibu"
    assert 'href="/status/perbaiki"' in page

    form = client.get("/status/perbaiki").get_data(as_text=True)
    assert text_of(form, "reasons") == MISMATCH
    assert input_value(form, "f-mother-name") == WRONG_MOTHER_NAME  # what was sent
    # Only what needs fixing is asked again.
    assert input_value(form, "f-mother-nik") is None
    assert input_value(form, "f-child-name") is None
    assert "Data ibu kandung" in form

    emptied = _send(client, {"mother.name": ""})
    assert emptied.status_code == 200
    html = emptied.get_data(as_text=True)
    assert errors_of(html) == ["Nama ibu: Wajib diisi"]
    assert text_of(html, "err-f-mother-name") == "Kesalahan: Wajib diisi"
    unchanged = _send(client, {"mother.name": WRONG_MOTHER_NAME}).get_data(as_text=True)
    assert errors_of(unchanged) == [
        "Belum ada yang diubah. Ubah data yang diminta atau unggah dokumen, lalu kirim lagi."
    ]
    assert find_report(code).status == S.NEEDS_CORRECTION

    sent = _send(client, {"mother.name": family["mother"]["name"]})
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/status/laporan"
    report = find_report(code)
    assert report.status == S.SUBMITTED
    assert report.mother_name == family["mother"]["name"]
    resubmit = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.trigger == "resubmit"
        )
    ).one()
    assert resubmit.actor_id == f"informant:{report.tracking_code}"
    assert resubmit.data["changed_fields"] == ["mother_name"]
    page = client.get("/status/laporan").get_data(as_text=True)
    assert "Perbaikan terkirim" in page
    assert stage(page, "checked") == "current"

    run_pending(app)  # verification again, against the sandbox
    assert find_report(code).status == S.IN_REVIEW
    page = client.get("/status/laporan").get_data(as_text=True)
    assert stage(page, "checked") == "done"
    assert 'id="reasons"' not in page
    assert client.get("/status/perbaiki").headers["Location"] == "/status/laporan"


def test_a_report_changed_meanwhile_keeps_what_the_parent_typed(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    family, code, pin = corrected_family
    open_status(client, code, pin)
    form = client.get("/status/perbaiki").get_data(as_text=True)
    token, version = csrf_token(form), hidden_version(form)

    # A clerk takes the report in hand while the parent is typing.
    report = find_report(code)
    clerk = User(username="op7", full_name="Operator Tujuh", role="operator", password_hash="-")
    db.session.add(clerk)
    db.session.flush()
    claim(report, clerk)
    db.session.commit()

    typed = {"mother.name": family["mother"]["name"], "action": "send", "version": version}
    refused = client.post("/status/perbaiki", data={"csrf_token": token, **typed})
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "Petugas membuka atau mengubah laporan Anda" in text_of(html, "correction-notice")
    assert "belum terkirim" in text_of(html, "correction-notice")
    assert input_value(html, "f-mother-name") == family["mother"]["name"]  # kept
    assert find_report(code).status == S.NEEDS_CORRECTION

    newer = hidden_version(html)
    assert int(newer) > int(version)
    again = client.post(
        "/status/perbaiki", data={"csrf_token": csrf_token(html), **typed, "version": newer}
    )
    assert again.status_code == 302
    assert find_report(code).status == S.SUBMITTED


def test_a_report_no_longer_waiting_says_so_and_keeps_the_input(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    family, code, pin = corrected_family
    open_status(client, code, pin)
    form = client.get("/status/perbaiki").get_data(as_text=True)
    report = find_report(code)
    fire(report, "cancel", Actor.informant(report.tracking_code, report.informant_name))
    db.session.commit()  # cancelled from another tab

    refused = client.post(
        "/status/perbaiki",
        data={
            "csrf_token": csrf_token(form),
            "mother.name": family["mother"]["name"],
            "action": "send",
            "version": hidden_version(form),
        },
    )
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert "tidak lagi menunggu perbaikan" in text_of(html, "correction-notice")
    assert input_value(html, "f-mother-name") == family["mother"]["name"]
    assert "Kirim perbaikan" not in html
    assert find_report(code).status == S.CANCELLED


def test_a_clerks_request_opens_the_whole_report_and_takes_a_new_document(
    app: Flask, client: FlaskClient, actors: dict[str, Actor]
) -> None:
    code, pin = report_through_the_form(client, sandbox_report("recorded"))
    run_pending(app)
    report = find_report(code)
    assert report.status == S.IN_REVIEW
    fire(report, "request_correction", actors["operator"], reason="Foto KK tidak terbaca.")
    db.session.commit()

    page = open_status(client, code, pin)
    assert text_of(page, "reasons") == "Foto KK tidak terbaca."
    form = client.get("/status/perbaiki").get_data(as_text=True)
    assert text_of(form, "reasons") == "Catatan petugas: Foto KK tidak terbaca."
    # The clerk named no field: every part of the report can be opened and changed.
    assert all(
        input_value(form, spec.id) is not None
        for spec in FIELDS.values()
        if spec.kind != "radio" and spec.kind != "select"
    )
    assert '<details class="group" id="part-ibu">' in form

    nothing = _send(client, {}).get_data(as_text=True)
    assert "Belum ada yang diubah" in errors_of(nothing)[0]

    stored = _send(
        client, {"kind": "kk", "file": (io.BytesIO(PDF), "kk-baru.pdf")}, action="upload"
    )
    assert stored.status_code == 200
    assert "Kartu Keluarga (KK) tersimpan. Perbaikan belum dikirim." in stored.get_data(True)
    assert find_report(code).status == S.NEEDS_CORRECTION
    kks = db.session.scalars(
        sa.select(Document).where(Document.report_id == report.id, Document.kind == DocumentKind.KK)
    ).all()
    assert len(kks) == 2  # the unreadable one stays in the record

    sent = _send(client, {})  # the new document is the correction
    assert sent.status_code == 302
    assert find_report(code).status == S.SUBMITTED


def test_a_new_marriage_situation_asks_for_its_document(
    app: Flask, client: FlaskClient, actors: dict[str, Actor]
) -> None:
    family = sandbox_report("recorded")
    code, pin = report_through_the_form(client, family)
    run_pending(app)
    report = find_report(code)
    fire(
        report,
        "request_correction",
        actors["operator"],
        reason="Buku nikah tidak sah; bila perkawinan belum tercatat, pilih itu dan unggah SPTJM.",
    )
    db.session.commit()
    open_status(client, code, pin)

    unrecorded = {
        "marriage.situation": "unrecorded",
        "marriage.certificate_number": "",
        "marriage.date": "",
    }
    asked = _send(client, unrecorded).get_data(as_text=True)
    assert errors_of(asked) == [
        "Dokumen: Unggah SPTJM kebenaran sebagai pasangan suami istri (F-2.04)"
    ]
    assert (
        'id="f-marriage-situation-unrecorded" name="marriage.situation" value="unrecorded"'
        " checked" in asked
    )  # the choice is kept
    assert find_report(code).status == S.NEEDS_CORRECTION

    sent = _send(
        client,
        {**unrecorded, "kind": "sptjm_marriage", "file": (io.BytesIO(PDF), "sptjm.pdf")},
    )
    assert sent.status_code == 302
    report = find_report(code)
    assert report.status == S.SUBMITTED
    assert report.marriage_recorded is False
    assert report.marriage_certificate_number is None
    assert DocumentKind.SPTJM_MARRIAGE in {d.kind for d in report.documents}


def test_a_refused_file_is_said_next_to_the_file_input(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    _family, code, pin = corrected_family
    open_status(client, code, pin)
    refused = _send(
        client,
        {"kind": "kk", "file": (io.BytesIO(b"MZ\x90\x00 not a document"), "kk.pdf")},
        action="upload",
    )
    html = refused.get_data(as_text=True)
    message = "Berkas harus foto (JPEG atau PNG) atau PDF. Berkas ini bukan salah satunya."
    assert errors_of(html) == [f"Dokumen: {message}"]
    assert text_of(html, "err-f-document-file") == f"Kesalahan: {message}"


def test_a_correction_s_document_stops_at_the_report_s_quota(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    _family, code, pin = corrected_family
    open_status(client, code, pin)
    before = len(find_report(code).documents)
    scan = PDF + b"%" * (600 * 1024)
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(original, document_quota_bytes=1024 * 1024)
    try:
        kept = _send(client, {"kind": "kk", "file": (io.BytesIO(scan), "kk.pdf")}, "upload")
        refused = _send(client, {"kind": "kk", "file": (io.BytesIO(scan), "kk.pdf")}, "upload")
    finally:
        app.config["AKTA_SETTINGS"] = original
    # The test client spools a large multipart body to a temporary file it never closes.
    for answer in (kept, refused):
        answer.request.environ["wsgi.input"].close()

    assert kept.status_code == 200
    assert errors_of(kept.get_data(as_text=True)) == []
    (error,) = errors_of(refused.get_data(as_text=True))
    assert "paling banyak 1 MB seluruhnya" in error
    assert len(find_report(code).documents) == before + 1  # the first one is kept


def test_uploads_of_a_correction_are_limited_per_report(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    _family, code, pin = corrected_family
    open_status(client, code, pin)
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(original, upload_rate_limit="1 per hour")
    try:
        first = _send(client, {"kind": "kk", "file": (io.BytesIO(PDF), "kk.pdf")}, "upload")
        second = _send(client, {"kind": "kk", "file": (io.BytesIO(PDF), "kk.pdf")}, "upload")
        # Sending the typed correction without a file is not an upload.
        typed = _send(client, {"mother.name": "Nama Lain"})
    finally:
        app.config["AKTA_SETTINGS"] = original

    assert first.status_code == 200
    assert second.status_code == 429
    assert "Coba lagi setelah pukul" in second.get_data(as_text=True)
    assert int(second.headers["Retry-After"]) > 0
    assert typed.status_code != 429


def test_the_report_as_answers_sends_back_unchanged(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    """What the form shows of a report is what the report holds: every field round-trips."""
    family, code, _pin = corrected_family
    answers = report_answers(find_report(code))
    assert set(answers) == set(FIELDS)
    assert answers["mother.name"] == WRONG_MOTHER_NAME
    assert answers["marriage.situation"] == "recorded"
    assert answers["witnesses.1.nik"] == family["witnesses"][1]["nik"]
    assert answers["child.birth_date"] == family["child"]["birth_date"]


def test_the_correction_page_speaks_english(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    _family, code, pin = corrected_family
    client.get("/status?lang=en")
    page = open_status(client, code, pin)
    assert "What needs correcting" in page
    assert "Fix the report" in page
    form = client.get("/status/perbaiki").get_data(as_text=True)
    assert "Send the correction" in form
    assert "Full name" in form


def test_without_the_pin_there_is_no_correction_form(
    client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    assert client.get("/status/perbaiki").headers["Location"] == "/status"
    token = csrf_token(client.get("/status").get_data(as_text=True))
    sent = client.post("/status/perbaiki", data={"csrf_token": token, "mother.name": "Siapa Saja"})
    assert sent.status_code == 302
    assert sent.headers["Location"] == "/status"
    assert find_report(corrected_family[1]).mother_name == WRONG_MOTHER_NAME


def test_the_fields_a_clerk_picks_are_the_ones_the_parent_is_asked_to_fix(
    app: Flask, client: FlaskClient, actors: dict[str, Actor]
) -> None:
    from akta_service.accounts.operations import create_user
    from tests.web import STAFF_PASSWORD, sign_in

    code, pin = report_through_the_form(client, sandbox_report("recorded"))
    run_pending(app)
    assert find_report(code).status == S.IN_REVIEW
    create_user("wulan", "Wulan Operator", "operator", STAFF_PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()

    # The clerk, on the review page: claims, ticks the mother's name, writes why.
    clerk = app.test_client()
    sign_in(clerk, "wulan")
    page = clerk.get(f"/kantor/laporan/{code}").get_data(as_text=True)
    clerk.post(
        f"/kantor/laporan/{code}/klaim",
        data={"csrf_token": csrf_token(page), "version": hidden_version(page)},
    )
    page = clerk.get(f"/kantor/laporan/{code}").get_data(as_text=True)
    asked = clerk.post(
        f"/kantor/laporan/{code}/request_correction",
        data={
            "csrf_token": csrf_token(page),
            "version": str(find_report(code).version),
            "reason": "Nama ibu di surat lahir berbeda dengan KTP.",
            "fields": ["mother.name"],
        },
    )
    assert asked.status_code == 302
    assert find_report(code).status == S.NEEDS_CORRECTION

    # The parent: the status page names that field, and the form offers only it.
    status = open_status(client, code, pin)
    assert "Nama ibu di surat lahir berbeda dengan KTP." in text_of(status, "reasons")
    assert "Nama ibu" in text_of(status, "fix-fields")
    form = client.get("/status/perbaiki").get_data(as_text=True)
    assert input_value(form, FIELDS["mother.name"].id) is not None
    assert input_value(form, FIELDS["child.name"].id) is None
    assert input_value(form, FIELDS["kk_number"].id) is None


def test_a_decompression_bomb_on_the_correction_form_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, corrected_family: tuple[dict[str, Any], str, str]
) -> None:
    _family, code, pin = corrected_family
    open_status(client, code, pin)
    report = find_report(code)
    documents_before = len(report.documents)
    refused = _send(
        client, {"kind": "kk", "file": (io.BytesIO(png_bomb()), "kk.png")}, action="upload"
    )
    assert refused.status_code == 200
    html = refused.get_data(as_text=True)
    assert "Berkas terlalu besar untuk dibuka" in text_of(html, "err-f-document-file")
    db.session.expire_all()
    assert len(find_report(code).documents) == documents_before
    assert find_report(code).status == S.NEEDS_CORRECTION
