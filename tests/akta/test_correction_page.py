"""The Pejabat Pencatatan Sipil corrects an issued akta on the office page: a new signed
version the family downloads, the old one superseded, everything journalled; nobody else
sees the form, and a refused correction keeps what was typed and changes nothing."""

from __future__ import annotations

import hashlib
import io
import re
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.akta.operations import CORRECTABLE_FIELDS, akta_versions
from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.jobs.queue import run_pending
from akta_service.regions.models import Region
from akta_service.workflow.engine import fire
from tests.conftest import (
    SIGNING_OFFICERS,
    clear_wrong_passphrases,
    sign_as,
    with_signing_identity,
)
from tests.factories import BirthReportFactory
from tests.parents.conftest import sandbox_report
from tests.parents.reporting import find_report, input_value, open_status, report_through_the_form
from tests.services import SigningServer
from tests.web import STAFF_PASSWORD, csrf_token, next_code, sign_in

NEW_NAME = "Kirana Larasati Wibisono"


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    people = {
        name: create_user(name, full, role, STAFF_PASSWORD, [region], Actor.system("t"))
        for name, full, role, region in (
            ("siti", "Siti Operator", "operator", "3274"),
            ("ahmad", "Ahmad Pejabat", "pejabat", "3274"),
            ("joko", "Joko Pejabat Cilegon", "pejabat", "3672"),
        )
    }
    with_signing_identity(people["ahmad"], "pj1")
    db.session.commit()
    return people


@pytest.fixture
def family(app: Flask, client: FlaskClient, officer: Region, staff: dict[str, User]) -> str:
    """A report sent through the parents' form and issued; `client` holds its status page
    open with the PIN. Returns the tracking code as stored."""
    code, pin = report_through_the_form(client, sandbox_report("recorded"))
    run_pending(app)
    report = find_report(code)
    fire(report, "approve", staff["siti"].as_actor())
    sign_as(report, staff["ahmad"], "pj1")
    db.session.commit()
    run_pending(app)
    report = find_report(code)
    assert report.status == ReportStatus.ISSUED
    open_status(client, code, pin)
    return report.tracking_code


def _office(app: Flask, username: str) -> FlaskClient:
    office = app.test_client()
    assert sign_in(office, username) == 302
    return office


def _url(code: str) -> str:
    return f"/kantor/laporan/{code}/akta/perbaiki"


def _shown(html: str) -> dict[str, str]:
    """What the form would send untouched: the CSRF token and every field as prefilled."""
    data = {"csrf_token": csrf_token(html)}
    for name in CORRECTABLE_FIELDS:
        value = input_value(html, name)
        if value is not None:
            data[name] = value
    return data


def _textarea(html: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*\bname="{name}"[^>]*>(.*?)</textarea>', html, re.S)
    assert match, f"no {name} textarea"
    return unescape(match.group(1)).strip()


def _reads(report: BirthReport, what: str) -> int:
    return len(
        [
            entry
            for entry in db.session.scalars(
                sa.select(JournalEntry).where(
                    JournalEntry.report_id == report.id,
                    JournalEntry.action == "staff:birth_report:read",
                )
            )
            if entry.data.get("what") == what
        ]
    )


def _text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pejabat_corrects_the_childs_name_and_the_family_downloads_the_new_akta(
    app: Flask, client: FlaskClient, family: str, staff: dict[str, User]
) -> None:
    report = find_report(family)
    old_name = report.child_name
    supporting = report.documents[0]
    office = _office(app, "ahmad")

    review = office.get(f"/kantor/laporan/{family}").get_data(as_text=True)
    assert 'id="correct-akta"' in review
    assert re.search(r'id="akta-version-1">Versi 1, .*<strong>berlaku</strong>', review)

    page = office.get(_url(family))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert input_value(html, "child_name") == old_name  # prefilled with what the akta says
    assert input_value(html, "mother_name") == report.mother_name
    assert input_value(html, "child_birth_order") == str(report.child_birth_order)
    # No supporting document unless one is picked; each uploaded one by what it is.
    assert re.search(r'<input checked[^>]*name="supporting_document_id"[^>]*value=""', html)
    for document in report.documents:
        assert f'name="supporting_document_id" type="radio" value="{document.id}"' in html
    assert "Kartu Keluarga (diunggah " in html
    assert _reads(report, "akta correction form") == 1

    data = _shown(html) | {
        "child_name": NEW_NAME,
        "reason": "Nama anak salah ketik; sesuai surat keterangan lahir",
        "supporting_document_id": str(supporting.id),
        "passphrase": SIGNING_OFFICERS["pj1"].passphrase,
        "code": next_code(app, "ahmad"),
    }
    sent = office.post(_url(family), data=data)
    assert sent.status_code == 302
    assert sent.headers["Location"] == f"/kantor/laporan/{family}"
    after = office.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Akta diperbaiki: versi 2 terbit" in after
    assert re.search(
        r'id="akta-version-1">Versi 1, .*<strong>tidak berlaku</strong> sejak .*, diganti versi 2 '
        r"karena “Nama anak salah ketik; sesuai surat keterangan lahir”",
        after,
    )
    assert re.search(r'id="akta-version-2">Versi 2, .*<strong>berlaku</strong>', after)

    report = find_report(family)
    first, second = akta_versions(report)
    assert first.superseded_at is not None
    assert second.superseded_at is None
    assert second.registration_number == first.registration_number
    assert report.child_name == NEW_NAME
    # Only the field the pejabat changed is a correction, with the document picked.
    assert second.correction_changes == {
        "before": {"child_name": old_name},
        "after": {"child_name": NEW_NAME},
    }
    assert second.correction_document_id == supporting.id
    journal = db.session.scalars(
        sa.select(JournalEntry).where(
            JournalEntry.report_id == report.id, JournalEntry.action == "akta:birth_report:correct"
        )
    ).all()
    assert len(journal) == 1
    assert journal[0].actor_name == "Ahmad Pejabat"
    assert journal[0].reason == "Nama anak salah ketik; sesuai surat keterangan lahir"
    assert journal[0].data["new_version"] == 2
    assert journal[0].data["supporting_document_id"] == supporting.id

    download = client.get("/status/akta.pdf")  # the family, with the status page open
    assert download.status_code == 200
    assert hashlib.sha256(download.data).hexdigest() == second.sha256  # the new signed one
    text = _text(download.data)
    assert NEW_NAME.upper() in text
    assert "Perbaikan ke-1" in text


def test_only_a_pejabat_of_the_reports_region_sees_the_form(
    app: Flask, family: str, staff: dict[str, User]
) -> None:
    operator = _office(app, "siti")
    review = operator.get(f"/kantor/laporan/{family}").get_data(as_text=True)
    assert 'id="akta-version-1"' in review  # the versions are shown to every reader
    assert 'id="correct-akta"' not in review
    form = {"csrf_token": csrf_token(review), "child_name": NEW_NAME, "reason": "coba"}
    for answer in (operator.get(_url(family)), operator.post(_url(family), data=form)):
        assert answer.status_code == 403
        assert 'id="akta-correction"' not in answer.get_data(as_text=True)

    elsewhere = _office(app, "joko")
    page = elsewhere.get(_url(family))
    assert page.status_code == 404
    assert 'id="akta-correction"' not in page.get_data(as_text=True)
    form["csrf_token"] = csrf_token(elsewhere.get("/kantor/").get_data(as_text=True))
    refused = elsewhere.post(_url(family), data=form)
    assert refused.status_code == 404
    report = find_report(family)
    assert len(akta_versions(report)) == 1
    assert report.child_name != NEW_NAME


def test_a_report_without_an_issued_akta_has_nothing_to_correct(
    app: Flask, staff: dict[str, User]
) -> None:
    report = BirthReportFactory(status="in_review")
    db.session.commit()
    pejabat = _office(app, "ahmad")
    assert 'id="correct-akta"' not in pejabat.get(f"/kantor/laporan/{report.tracking_code}").text
    page = pejabat.get(_url(report.tracking_code))
    assert page.status_code == 409
    assert "Hanya akta yang sudah terbit yang dapat diperbaiki." in page.get_data(as_text=True)


def test_a_missing_reason_is_refused_with_what_was_typed_kept_and_nothing_changed(
    app: Flask, family: str, staff: dict[str, User]
) -> None:
    office = _office(app, "ahmad")
    html = office.get(_url(family)).get_data(as_text=True)
    data = _shown(html) | {"child_name": NEW_NAME, "mother_name": "Ibu Yang Diketik", "reason": ""}
    refused = office.post(_url(family), data=data)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert re.search(r'id="reason-error">Alasan wajib diisi<', page)
    assert input_value(page, "child_name") == NEW_NAME  # what was typed is still there
    assert input_value(page, "mother_name") == "Ibu Yang Diketik"

    report = find_report(family)
    assert report.child_name != NEW_NAME
    assert len(akta_versions(report)) == 1
    assert akta_versions(report)[0].superseded_at is None
    # The page that shows the refusal was a read of personal data: it stays journalled.
    assert _reads(report, "akta correction form") == 2


def test_sending_the_form_unchanged_issues_nothing(
    app: Flask, family: str, staff: dict[str, User]
) -> None:
    office = _office(app, "ahmad")
    html = office.get(_url(family)).get_data(as_text=True)
    refused = office.post(_url(family), data=_shown(html) | {"reason": "periksa ulang"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Tidak ada data yang diubah" in page
    assert _textarea(page, "reason") == "periksa ulang"
    assert len(akta_versions(find_report(family))) == 1


def test_a_wrong_passphrase_issues_nothing_and_says_so_keeping_what_was_typed(
    app: Flask, family: str, staff: dict[str, User], signing_server: SigningServer
) -> None:
    office = _office(app, "ahmad")
    html = office.get(_url(family)).get_data(as_text=True)
    data = _shown(html) | {
        "child_name": NEW_NAME,
        "reason": "Nama anak salah ketik",
        "passphrase": "bukan-passphrase-ahmad",
        "code": next_code(app, "ahmad"),
    }

    refused = office.post(_url(family), data=data)

    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "Passphrase tanda tangan elektronik salah. Sisa percobaan: 4." in page
    assert input_value(page, "child_name") == NEW_NAME
    assert "bukan-passphrase-ahmad" not in page  # never shown back
    report = find_report(family)
    assert report.child_name != NEW_NAME
    assert len(akta_versions(report)) == 1
    clear_wrong_passphrases(signing_server)


def test_the_passphrase_without_a_current_code_corrects_nothing_and_the_guess_counts(
    app: Flask, family: str, staff: dict[str, User]
) -> None:
    office = _office(app, "ahmad")
    html = office.get(_url(family)).get_data(as_text=True)
    assert 'name="code"' in html  # asked beside the passphrase
    data = _shown(html) | {
        "child_name": NEW_NAME,
        "reason": "Nama anak salah ketik",
        "passphrase": SIGNING_OFFICERS["pj1"].passphrase,
        "code": "000000",
    }

    refused = office.post(_url(family), data=data)

    assert refused.status_code == 401
    page = refused.get_data(as_text=True)
    assert "Kode salah atau sudah dipakai" in page
    assert input_value(page, "child_name") == NEW_NAME
    report = find_report(family)
    assert report.child_name != NEW_NAME
    assert len(akta_versions(report)) == 1
    user = db.session.scalar(sa.select(User).where(User.username == "ahmad"))
    assert user is not None
    db.session.refresh(user)
    assert user.totp_failures == 1  # counted towards the lockout, as on the sign forms
