"""Every staff print or download of an akta is counted and journalled; the first is the
signed original, later ones are marked "Salinan ke-N"; the parent's download stays the
signed original and the original's signature is never touched."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.akta.operations import (
    akta_pdf,
    authorise_signature,
    correct_akta,
    current_akta,
    trust_root,
)
from akta_service.akta.signing import validate_pdf
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.parents.operations import akta_for_informant
from tests.akta.issuing import issued_report, office_staff, pdf_text
from tests.conftest import SIGNING_OFFICERS
from tests.web import sign_in


@pytest.fixture
def staff(session: Any) -> dict[str, User]:
    return office_staff()


def _prints(report_id: int) -> list[JournalEntry]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry)
            .where(
                JournalEntry.report_id == report_id,
                JournalEntry.action == "akta:birth_report:print",
            )
            .order_by(JournalEntry.id)
        )
    )


def test_the_first_staff_copy_is_the_signed_original_and_later_ones_are_marked(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    report = issued_report(staff)
    document = current_akta(report)
    assert document is not None
    original = akta_pdf(document)
    assert sign_in(client, "siti") == 302
    url = f"/kantor/laporan/{report.tracking_code}/akta/1"

    first = client.get(url)
    assert first.status_code == 200
    assert first.data == original  # byte for byte: its signature holds
    assert "SALINAN" not in pdf_text(first.data).upper()
    second, third = client.get(url), client.get(url)
    assert second.headers["Content-Disposition"].endswith('-salinan-2.pdf"')
    text = pdf_text(second.data)
    assert "SALINAN KE-2" in text
    assert "Salinan ke-2: tanda tangan elektronik" in text
    assert report.registration_number in text
    assert report.child_name.upper() in text
    assert "SALINAN KE-3" in pdf_text(third.data)

    # The copy is a rendering, signed by nobody; the original stays as issued and valid.
    root = trust_root("3274", app.config["AKTA_SETTINGS"])
    assert not validate_pdf(second.data, root).signed
    stored = akta_pdf(document)
    assert stored == original
    assert hashlib.sha256(stored).hexdigest() == document.sha256
    assert validate_pdf(stored, root).trusted
    db.session.refresh(document)
    assert document.staff_copies == 3
    prints = _prints(report.id)
    assert [entry.data["copy"] for entry in prints] == [1, 2, 3]
    assert {entry.actor_id for entry in prints} == {staff["siti"].as_actor().id}

    # The parent's own download is the original, and counts as no staff copy.
    _document, data = akta_for_informant(report)
    assert data == original
    db.session.refresh(document)
    assert document.staff_copies == 3


def test_a_copy_of_a_superseded_version_prints_what_that_version_said(
    app: Flask, client: FlaskClient, staff: dict[str, User], officer: Any
) -> None:
    report = issued_report(staff)
    old_name = report.child_name
    correct_akta(
        report,
        {"child_name": old_name + " Ramadhani"},
        "Salah ketik",
        None,
        staff["ahmad"],
        authorise_signature(staff["ahmad"], SIGNING_OFFICERS["pj1"].passphrase),
    )
    db.session.commit()
    assert sign_in(client, "siti") == 302
    url = f"/kantor/laporan/{report.tracking_code}/akta/1"
    client.get(url)
    text = pdf_text(client.get(url).data)
    assert "SALINAN KE-2" in text
    assert f"telah lahir {old_name.upper()}" in " ".join(text.split())
    assert "RAMADHANI" not in text
    assert "Perbaikan ke-" not in text  # version 1 as it was printed
    new = pdf_text(client.get(f"/kantor/laporan/{report.tracking_code}/akta/2").data)
    assert "RAMADHANI" in new
    assert "SALINAN" not in new.upper()  # the new version's first copy is its original
