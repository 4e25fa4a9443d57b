"""The review page's sign form asks the pejabat's current TOTP code as well as the
passphrase, through the same check and the same lockout as batch signing."""

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
from akta_service.core.db import db
from tests.conftest import SIGNING_OFFICERS, with_signing_identity
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, csrf_token, next_code, sign_in

PASSPHRASE = SIGNING_OFFICERS["pj1"].passphrase


@pytest.fixture
def ahmad(session: Any) -> User:
    user = create_user(
        "ahmad", "Ahmad Pejabat", "pejabat", STAFF_PASSWORD, ["3274"], Actor.system("t")
    )
    with_signing_identity(user, "pj1")
    db.session.commit()
    return user


def _claimed(client: FlaskClient, report: BirthReport) -> str:
    page = client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    client.post(
        f"/kantor/laporan/{report.tracking_code}/klaim", data={"csrf_token": csrf_token(page)}
    )
    return client.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)


def _sign(client: FlaskClient, report: BirthReport, page: str, **typed: str) -> Any:
    version = re.search(r'id="action-sign".*?name="version" value="(\d+)"', page, re.S)
    assert version, "no sign form on the page"
    data = {"csrf_token": csrf_token(page), "version": version.group(1), **typed}
    return client.post(f"/kantor/laporan/{report.tracking_code}/sign", data=data)


def _nothing_moved(report: BirthReport) -> None:
    db.session.refresh(report)
    assert report.status == ReportStatus.AWAITING_SIGNATURE
    assert report.registration_number is None
    assert db.session.get(SigningAuthorisation, report.id) is None


@pytest.mark.parametrize(("code", "says"), [("", "Kode salah"), ("000000", "Kode salah")])
def test_the_passphrase_alone_does_not_sign(
    client: FlaskClient, ahmad: User, code: str, says: str
) -> None:
    report = BirthReportFactory(status="awaiting_signature")
    db.session.commit()
    sign_in(client, "ahmad")
    page = _claimed(client, report)
    assert 'id="code-sign" name="code"' in page  # asked beside the passphrase

    refused = _sign(client, report, page, passphrase=PASSPHRASE, code=code)

    assert refused.status_code == 401
    assert says in refused.get_data(as_text=True)
    assert PASSPHRASE not in refused.get_data(as_text=True)
    _nothing_moved(report)
    failed = db.session.scalars(
        sa.select(JournalEntry).where(JournalEntry.action == "office:user:second_factor_failed")
    ).all()
    assert len(failed) == 1


def test_wrong_codes_on_the_sign_form_lock_batch_signing_too(
    app: Flask, client: FlaskClient, ahmad: User
) -> None:
    report = BirthReportFactory(status="awaiting_signature")
    db.session.commit()
    sign_in(client, "ahmad")
    page = _claimed(client, report)
    for _ in range(5):
        _sign(client, report, page, passphrase=PASSPHRASE, code="000000")
    right = next_code(app, "ahmad")

    single = _sign(client, report, page, passphrase=PASSPHRASE, code=right)
    batch_page = client.get("/kantor/tanda-tangan").get_data(as_text=True)
    batch = client.post(
        "/kantor/tanda-tangan",
        data={
            "csrf_token": csrf_token(batch_page),
            "report": [str(report.id)],
            "passphrase": PASSPHRASE,
            "code": right,
        },
    )

    for refused in (single, batch):
        assert refused.status_code == 401
        assert "Terlalu banyak kode salah" in refused.get_data(as_text=True)
    _nothing_moved(report)


def test_the_right_code_and_passphrase_sign(app: Flask, client: FlaskClient, ahmad: User) -> None:
    report = BirthReportFactory(status="awaiting_signature")
    db.session.commit()
    sign_in(client, "ahmad")
    page = _claimed(client, report)
    code = next_code(app, "ahmad")

    signed = _sign(client, report, page, passphrase=PASSPHRASE, code=code)
    assert signed.status_code == 302
    db.session.refresh(report)
    assert report.status == ReportStatus.REGISTERED
    assert db.session.get(SigningAuthorisation, report.id) is not None
    # The code is good once: the same code cannot sign another report.
    other = BirthReportFactory(status="awaiting_signature")
    db.session.commit()
    again = _sign(client, other, _claimed(client, other), passphrase=PASSPHRASE, code=code)
    assert again.status_code == 401
    _nothing_moved(other)
