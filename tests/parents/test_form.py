"""The parents' form without JavaScript: every step, validation next to each field and in the
summary, NIK contradictions, drafts that survive a new browser, CSRF, English."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient

from akta_service.births.models import BirthReport, Channel, Document, ReportStatus
from akta_service.core.clock import local_today
from akta_service.core.db import db
from akta_service.core.storage import storage
from akta_service.jobs.queue import run_pending
from akta_service.notifications.models import Delivery, DeliveryChannel
from akta_service.parents.models import Draft
from tests.mail import Inbox
from tests.parents.conftest import sandbox_report
from tests.parents.form import (
    PDF,
    errors_of,
    fill_steps,
    finish_documents,
    form_answers,
    input_tag,
    post_step,
    required_kinds,
    start,
    submit,
    summary_links,
    text_of,
    upload,
)
from tests.parents.reporting import input_value
from tests.web import csrf_token

#: The documents each marriage situation asks for, besides the birth letter and the KK.
SITUATION_DOCUMENTS = {
    "recorded": ["birth_letter", "marriage_certificate", "kk"],
    "unrecorded": ["birth_letter", "sptjm_marriage", "kk"],
    "single_mother": ["birth_letter", "kk"],
}


@pytest.mark.parametrize("kind", ["recorded", "unrecorded", "single_mother"])
def test_a_sandbox_family_reports_through_every_step_and_is_verified(
    app: Flask, client: FlaskClient, session: Any, smtp: Inbox, kind: str
) -> None:
    report_data = sandbox_report(kind)
    answers = form_answers(report_data)
    answers["keluarga"]["informant.email"] = "keluarga@example.id"
    start(client)
    fill_steps(client, answers)

    assert required_kinds(client) == SITUATION_DOCUMENTS[kind]
    for document_kind in SITUATION_DOCUMENTS[kind]:
        assert upload(client, document_kind, PDF).status_code == 302
    draft = db.session.scalar(sa.select(Draft))
    draft_keys = [d["storage_key"] for d in draft.documents.values()] + [
        p["storage_key"] for d in draft.documents.values() for p in d["pictures"]
    ]
    assert finish_documents(client).headers["Location"].endswith("/lapor/periksa")

    review = client.get("/lapor/periksa").get_data(as_text=True)
    assert errors_of(review) == []
    assert report_data["child"]["name"] in review
    assert report_data["mother"]["nik"] in review

    done = submit(client)
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    pin = text_of(page, "pin")
    code = text_of(page, "tracking-code").replace("-", "")
    assert re.fullmatch(r"[0-9]{6}", pin)

    report = db.session.scalar(sa.select(BirthReport).where(BirthReport.tracking_code == code))
    assert report is not None
    assert report.channel == Channel.WEB
    assert report.child_name == report_data["child"]["name"]
    assert report.mother_nik == report_data["mother"]["nik"]
    assert report.father_nik == (report_data["father"] or {}).get("nik")
    assert report.kk_number == report_data["kk_number"]
    assert report.marriage_recorded is report_data["marriage"]["recorded"]
    assert report.witness2_nik == report_data["witnesses"][1]["nik"]
    assert report.informant_email == "keluarga@example.id"
    assert report.pin_hash is not None
    assert pin not in report.pin_hash
    documents = db.session.scalars(sa.select(Document).where(Document.report_id == report.id)).all()
    assert sorted(d.kind.value for d in documents) == sorted(SITUATION_DOCUMENTS[kind])
    assert db.session.scalar(sa.select(Draft)) is None

    run_pending(app)  # verification with the sandbox, the receipt by e-mail, draft files freed
    db.session.refresh(report)
    assert report.status == ReportStatus.IN_REVIEW
    assert not any(storage().exists(key) for key in draft_keys)
    assert all(storage().exists(d.storage_key) for d in report.documents)
    # Each page drawn when it was uploaded is what the office is shown.
    assert all(d.pages == 1 and storage().exists(d.pictures[0].storage_key) for d in documents)
    receipts = [m for m in smtp.messages if m["To"] == "keluarga@example.id"]
    assert receipts
    assert "diterima" in receipts[0]["Subject"]
    assert code[:3] in receipts[0].get_payload(decode=True).decode()
    sms = db.session.scalars(
        sa.select(Delivery).where(
            Delivery.report_id == report.id, Delivery.channel == DeliveryChannel.SMS
        )
    ).all()
    assert sms
    assert sms[0].recipient == report_data["informant"]["phone"]


def test_each_message_is_next_to_its_field_and_in_the_summary_with_input_kept(
    client: FlaskClient,
) -> None:
    start(client)
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    response = post_step(
        client,
        "bayi",
        {
            "child.name": "",
            "child.sex": "female",
            "child.birth_date": tomorrow,
            "child.birth_place": "RSUD Gunung Jati",
            "child.birth_place_kind": "facility",
            "child.birth_order": "dua",
            "child.attendant": "midwife",
            "child.weight_grams": "9000",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    expected = {
        "f-child-name": "Wajib diisi",
        "f-child-birth_date": "Tanggal lahir bayi tidak boleh di masa depan",
        "f-child-birth_order": "Harus berupa bilangan bulat",
        "f-child-weight_grams": "Berat lahir harus antara 200 dan 8000 gram",
    }
    links = summary_links(page)
    for field_id, message in expected.items():
        assert message in text_of(page, f"err-{field_id}")
        tag = input_tag(page, field_id)
        assert f"err-{field_id}" in re.search(r'aria-describedby="([^"]*)"', tag).group(1)
        assert 'aria-invalid="true"' in tag
        assert message in links[f"#{field_id}"]
    assert list(links) == [f"#{f}" for f in expected]  # in the order of the form
    assert 'value="RSUD Gunung Jati"' in page
    assert f'value="{tomorrow}"' in page
    assert 'value="dua"' in page
    assert re.search(r'value="female"\s+checked', page)
    assert page.startswith("<!doctype html>")
    assert "<title>Kesalahan: " in page

    # The step is saved all the same: coming back shows the input and the messages again.
    again = client.get("/lapor/bayi").get_data(as_text=True)
    assert 'value="dua"' in again
    assert "Harus berupa bilangan bulat" in text_of(again, "err-f-child-birth_order")
    # ... and the next step stays closed until this one is right.
    assert client.get("/lapor/ibu").headers["Location"].endswith("/lapor/bayi")


def _through(client: FlaskClient, report: dict[str, Any], last: str) -> dict[str, dict[str, str]]:
    answers = form_answers(report)
    start(client)
    for slug in ("bayi", "ibu", "ayah", "keluarga", "saksi"):
        if slug == last:
            break
        assert post_step(client, slug, answers[slug]).status_code == 302
    return answers


def test_a_nik_that_contradicts_the_birth_date_or_sex_is_pointed_out(
    client: FlaskClient, session: Any
) -> None:
    report = sandbox_report("recorded")
    answers = _through(client, report, "ibu")
    mother = answers["ibu"]
    born = mother["mother.birth_date"]
    wrong_day = f"{born[:8]}{(int(born[8:]) % 27) + 1:02d}"
    page = post_step(client, "ibu", {**mother, "mother.birth_date": wrong_day}).get_data(True)
    message = text_of(page, "err-f-mother-nik")
    encoded, typed = (
        format_date(date.fromisoformat(d), "d MMMM y", locale="id") for d in (born, wrong_day)
    )
    # Both dates written the same way, and both fields pointed at.
    assert f"Menurut NIK ini tanggal lahirnya {encoded}, tetapi yang diisi {typed}." in message
    assert "Periksa lagi NIK atau tanggal lahir" in message
    assert any("NIK: Menurut NIK ini" in line for line in errors_of(page))
    beside_date = text_of(page, "err-f-mother-birth_date")
    assert f"Tanggal lahir {typed} tidak cocok dengan NIK di atas ({encoded})" in beside_date
    assert 'aria-invalid="true"' in input_tag(page, "f-mother-birth_date")

    # A man's NIK given as the mother's.
    father_nik = report["father"]["nik"]
    page = post_step(client, "ibu", {**mother, "mother.nik": father_nik}).get_data(True)
    assert "NIK ini milik laki-laki" in text_of(page, "err-f-mother-nik")

    assert post_step(client, "ibu", mother).status_code == 302
    swapped = {**answers["ayah"], "father.nik": mother["mother.nik"]}
    page = post_step(client, "ayah", swapped).get_data(True)
    assert "NIK ini milik perempuan" in text_of(page, "err-f-father-nik")


def test_rules_across_steps_are_shown_where_they_can_be_fixed(
    client: FlaskClient, session: Any
) -> None:
    report = sandbox_report("recorded")
    answers = _through(client, report, "ibu")
    baby_born = answers["bayi"]["child.birth_date"]
    page = post_step(client, "ibu", {**answers["ibu"], "mother.birth_date": baby_born}).get_data(
        True
    )
    assert "Tanggal lahir ibu harus sebelum tanggal lahir bayi" in text_of(
        page, "err-f-mother-birth_date"
    )
    assert post_step(client, "ibu", answers["ibu"]).status_code == 302

    no_father = {
        **answers["ayah"],
        "father.nik": "",
        "father.name": "",
        "father.birth_date": "",
    }
    page = post_step(client, "ayah", no_father).get_data(True)
    assert "Perkawinan tercatat memerlukan data ayah" in text_of(page, "err-f-father-nik")
    page = post_step(client, "ayah", {**no_father, "marriage.situation": "unrecorded"}).get_data(
        True
    )
    assert "perkawinan belum tercatat" in text_of(page, "err-f-father-nik")
    page = post_step(
        client, "ayah", {**answers["ayah"], "marriage.situation": "not_married"}
    ).get_data(True)
    # Not married: the father's fields are set aside, not refused; the certificate is asked
    # to go, as it is shown beside the choice.
    assert 'id="err-f-father-nik"' not in page
    assert input_value(page, "f-father-nik") == ""
    assert input_value(page, "f-father-name") == ""
    assert "Nomor dan tanggal perkawinan hanya diisi bila perkawinan tercatat" in text_of(
        page, "err-f-marriage-certificate_number"
    )
    single = {**answers["ayah"], "marriage.situation": "not_married"}
    single.update({"marriage.certificate_number": "", "marriage.date": ""})
    assert post_step(client, "ayah", single).status_code == 302

    assert post_step(client, "ayah", answers["ayah"]).status_code == 302
    assert post_step(client, "keluarga", answers["keluarga"]).status_code == 302
    same = {
        **answers["saksi"],
        "witnesses.1.nik": answers["saksi"]["witnesses.0.nik"],
    }
    page = post_step(client, "saksi", same).get_data(True)
    assert "Dua saksi harus orang yang berbeda" in text_of(page, "err-f-witnesses-1-nik")


def test_a_step_reports_every_problem_in_one_pass(client: FlaskClient, session: Any) -> None:
    """Field errors and the rules across fields together: nothing shows up only after the
    first round of fixes."""
    report = sandbox_report("recorded")
    answers = _through(client, report, "ibu")
    baby_born = answers["bayi"]["child.birth_date"]
    page = post_step(
        client, "ibu", {**answers["ibu"], "mother.birth_date": baby_born, "mother.name": ""}
    ).get_data(True)
    assert "Tanggal lahir ibu harus sebelum tanggal lahir bayi" in text_of(
        page, "err-f-mother-birth_date"
    )
    assert len(errors_of(page)) >= 2
    assert post_step(client, "ibu", answers["ibu"]).status_code == 302

    no_father = {**answers["ayah"], "father.nik": "", "father.name": "", "father.birth_date": ""}
    page = post_step(client, "ayah", {**no_father, "marriage.date": "kemarin"}).get_data(True)
    assert "Perkawinan tercatat memerlukan data ayah" in text_of(page, "err-f-father-nik")
    assert text_of(page, "err-f-marriage-date")
    assert post_step(client, "ayah", answers["ayah"]).status_code == 302
    assert post_step(client, "keluarga", answers["keluarga"]).status_code == 302

    same = {
        **answers["saksi"],
        "witnesses.1.nik": answers["saksi"]["witnesses.0.nik"],
        "witnesses.1.name": "",
    }
    page = post_step(client, "saksi", same).get_data(True)
    assert "Dua saksi harus orang yang berbeda" in text_of(page, "err-f-witnesses-1-nik")
    assert text_of(page, "err-f-witnesses-1-name")
    assert len(errors_of(page)) == 2


def test_a_refused_step_is_shown_by_a_get_and_keeps_what_was_typed_on_reload_and_in_english(
    client: FlaskClient, session: Any
) -> None:
    start(client)
    page = client.get("/lapor/bayi").get_data(True)
    refused = client.post(
        "/lapor/bayi",
        data={
            "csrf_token": csrf_token(page),
            "child.name": "Siti Aminah",
            "child.birth_order": "x",
        },
    )
    assert refused.status_code == 302  # never a page a reload would post again
    assert refused.headers["Location"].endswith("/lapor/bayi")
    shown = client.get(refused.headers["Location"]).get_data(True)
    messages = errors_of(shown)
    assert messages
    assert input_value(shown, "f-child-name") == "Siti Aminah"
    reloaded = client.get("/lapor/bayi").get_data(True)
    assert errors_of(reloaded) == messages
    assert input_value(reloaded, "f-child-name") == "Siti Aminah"
    english = client.get("/lapor/bayi?lang=en").get_data(True)
    assert input_value(english, "f-child-name") == "Siti Aminah"
    assert len(errors_of(english)) == len(messages)
    assert "Baby" in english


def test_a_parent_who_reports_types_their_nik_once(client: FlaskClient, session: Any) -> None:
    report = sandbox_report("recorded")
    answers = _through(client, report, "keluarga")
    keluarga = {**answers["keluarga"], "informant.relation": "mother"}
    keluarga["informant.nik"] = keluarga["informant.name"] = ""
    assert post_step(client, "keluarga", keluarga).status_code == 302
    page = client.get("/lapor/keluarga").get_data(as_text=True)
    assert f'value="{report["mother"]["nik"]}"' in input_tag(page, "f-informant-nik")


def test_a_draft_resumes_by_its_link_in_a_new_browser(
    app: Flask, client: FlaskClient, session: Any
) -> None:
    report = sandbox_report("recorded")
    answers = _through(client, report, "ayah")
    page = client.get("/lapor/ayah").get_data(as_text=True)
    link = re.search(r'class="resume-link" href="([^"]+)"', page).group(1)
    assert "/lapor/lanjut/" in link

    other_phone = app.test_client()
    assert other_phone.get("/lapor/ayah").headers["Location"].endswith("/lapor")
    resumed = other_phone.get(urlsplit(link).path)
    assert resumed.status_code == 302
    assert resumed.headers["Location"].endswith("/lapor/ayah")
    mother_page = other_phone.get("/lapor/ibu").get_data(as_text=True)
    assert f'value="{answers["ibu"]["mother.nik"]}"' in mother_page
    assert post_step(other_phone, "ayah", answers["ayah"]).status_code == 302

    assert client.get("/lapor/lanjut/not-a-real-token").status_code == 404


def test_steps_cannot_be_skipped(client: FlaskClient) -> None:
    start(client)
    for slug in ("saksi", "dokumen", "periksa"):
        assert client.get(f"/lapor/{slug}").headers["Location"].endswith("/lapor/bayi")
    assert client.get("/lapor/tidak-ada").status_code == 404


def test_every_form_needs_its_csrf_token(client: FlaskClient, session: Any) -> None:
    start(client)
    refused = client.post("/lapor/bayi", data={"child.name": "Tanpa Token"})
    assert refused.status_code == 400
    assert "Halaman sudah kedaluwarsa" in refused.get_data(as_text=True)
    assert "Tanpa Token" not in client.get("/lapor/bayi").get_data(as_text=True)
    assert client.post("/lapor/mulai").status_code == 400
    assert client.post("/status", data={"code": "X", "pin": "1"}).status_code == 400


def test_submitting_needs_the_documents_and_the_declaration(
    client: FlaskClient, session: Any
) -> None:
    report = sandbox_report("recorded")
    start(client)
    fill_steps(client, form_answers(report))
    upload(client, "kk", PDF)
    page = finish_documents(client).get_data(as_text=True)
    assert "Unggah Surat keterangan lahir" in text_of(page, "err-file-birth_letter")
    assert "#file-marriage_certificate" in summary_links(page)
    upload(client, "birth_letter", PDF)
    upload(client, "marriage_certificate", PDF)
    assert finish_documents(client).status_code == 302

    page = submit(client, declaration=False).get_data(as_text=True)
    assert "Centang pernyataan ini" in text_of(page, "err-f-declaration")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)) == 0


def test_the_english_switch_shows_english_labels_and_messages(client: FlaskClient) -> None:
    start(client)
    english = client.get("/lapor/bayi?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Name of the baby" in english
    assert "Nama bayi" not in english
    assert 'href="/lapor/bayi?lang=id"' in english
    # The choice is remembered, validation messages included.
    page = post_step(client, "bayi", {"child.birth_date": "2999-01-01"}).get_data(True)
    assert "The baby's birth date cannot be in the future" in page
    assert "Required" in text_of(page, "err-f-child-name")
    indonesian = client.get("/lapor/bayi?lang=id").get_data(as_text=True)
    assert "Nama bayi" in indonesian
    assert '<html lang="id">' in indonesian
    assert "Laporkan kelahiran" in client.get("/").get_data(as_text=True)
