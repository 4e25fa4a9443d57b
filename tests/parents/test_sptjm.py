"""The SPTJM forms F-2.03 and F-2.04 as PDFs filled in with the report's data: offered where
the documents step and the status page ask for them, read as a person would read the printed
page (pdftotext), and given to the report's own reporter only."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.jobs.queue import run_pending
from tests.files import pdf_text
from tests.parents.conftest import sandbox_report
from tests.parents.form import fill_steps, form_answers, required_kinds, start
from tests.parents.reporting import (
    find_report,
    open_status,
    report_through_the_form,
    with_wrong_mother_name,
)

BIRTH_URL = "/lapor/dokumen/sptjm/sptjm_birth.pdf"
MARRIAGE_URL = "/lapor/dokumen/sptjm/sptjm_marriage.pdf"


def _without_birth_letter(kind: str) -> dict[str, Any]:
    report = sandbox_report(kind)
    report["birth_letter_number"] = None
    return report


def _download(client: FlaskClient, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, answer.status_code
    assert answer.mimetype == "application/pdf"
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    assert "no-store" in answer.headers["Cache-Control"]
    return pdf_text(answer.get_data())


def test_the_documents_step_offers_both_forms_filled_in_with_the_draft(
    client: FlaskClient, session: Any
) -> None:
    report = _without_birth_letter("unrecorded")
    start(client)
    fill_steps(client, form_answers(report))
    assert required_kinds(client) == ["sptjm_birth", "sptjm_marriage", "kk"]
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    assert f'href="{BIRTH_URL}"' in page
    assert f'href="{MARRIAGE_URL}"' in page
    assert "Unduh formulir F-2.03 yang sudah terisi (PDF)" in page

    birth = _download(client, BIRTH_URL)
    assert "SURAT PERNYATAAN TANGGUNG JAWAB MUTLAK KEBENARAN DATA KELAHIRAN" in birth
    informant = report["informant"]
    mother, father = report["mother"], report["father"]
    for text in (
        report["child"]["name"].upper(),
        mother["name"].upper(),
        mother["nik"],
        father["nik"],
        report["witnesses"][0]["name"].upper(),
        report["witnesses"][0]["nik"],
        report["witnesses"][1]["name"].upper(),
        report["witnesses"][1]["nik"],
        "Yang membuat pernyataan",
    ):
        assert text in birth, text
    assert (informant["nik"] or mother["nik"]) in birth

    marriage = _download(client, MARRIAGE_URL)
    assert "KEBENARAN SEBAGAI PASANGAN SUAMI ISTRI" in marriage
    assert "perkawinannya belum tercatat" in marriage
    for text in (father["name"].upper(), father["nik"], mother["name"].upper(), mother["nik"]):
        assert text in marriage, text
    assert report["witnesses"][1]["nik"] in marriage


def test_a_form_the_draft_does_not_need_or_another_browser_is_refused(
    app: Flask, client: FlaskClient, session: Any
) -> None:
    start(client)
    fill_steps(client, form_answers(sandbox_report("recorded")))  # letter and buku nikah
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    assert "sptjm" not in page
    assert client.get(BIRTH_URL).status_code == 404
    assert client.get(MARRIAGE_URL).status_code == 404
    assert client.get("/lapor/dokumen/sptjm/kk.pdf").status_code == 404
    # Someone else's browser, with no draft, gets nothing of anyone's.
    other = app.test_client()
    assert other.get(BIRTH_URL).status_code == 404


def test_the_status_page_offers_the_form_with_the_report_s_data_to_its_reporter_only(
    app: Flask, client: FlaskClient, session: Any, caplog: pytest.LogCaptureFixture
) -> None:
    family = _without_birth_letter("unrecorded")
    code, pin = report_through_the_form(client, with_wrong_mother_name(family))
    run_pending(app)
    report = find_report(code)
    assert str(report.status) == "needs_correction"

    url = "/status/sptjm/sptjm_birth.pdf"
    stranger = app.test_client()
    assert stranger.get(url).headers["Location"] == "/status"  # the PIN first
    parent = app.test_client()
    page = open_status(parent, code, pin)
    assert f'href="{url}"' in page
    assert 'href="/status/sptjm/sptjm_marriage.pdf"' in page
    printed = _download(parent, url)
    for text in (
        report.child_name.upper(),
        report.mother_nik,
        report.witness1_nik,
        report.witness2_name.upper(),
    ):
        assert text in printed, text
    read = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id,
            JournalEntry.action == "public:birth_report:sptjm_read",
        )
    ).one()
    assert read.actor_id == f"informant:{report.tracking_code}"
    assert report.mother_nik not in caplog.text
    assert report.witness1_nik not in caplog.text


def test_a_report_with_its_letter_and_buku_nikah_has_no_form_to_download(
    app: Flask, session: Any
) -> None:
    client = app.test_client()
    code, pin = report_through_the_form(client, with_wrong_mother_name(sandbox_report()))
    run_pending(app)
    page = open_status(client, code, pin)
    assert "sptjm" not in page
    assert client.get("/status/sptjm/sptjm_birth.pdf").status_code == 404
    assert client.get("/status/sptjm/sptjm_marriage.pdf").status_code == 404
