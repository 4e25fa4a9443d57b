"""The original a suspected duplicate resembles: a clerk sees another region's original only
while deciding, masked (NIK and KK partly, names as initials), and the read is journalled;
an original of the clerk's own region is shown whole, its read journalled too."""

from __future__ import annotations

import re
from typing import Any

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.births.models import BirthReport
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.review.operations import initials
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, sign_in


@pytest.fixture
def siti(session: Any) -> User:
    user = create_user(
        "siti", "Siti Operator", "operator", STAFF_PASSWORD, ["3274"], Actor.system("t")
    )
    db.session.commit()
    return user


def _pair(original_region: str, *, deciding: bool = True) -> tuple[BirthReport, BirthReport]:
    original = BirthReportFactory(
        status="in_review",
        region_code=original_region,
        child_name="Aisyah Putri Ramadhani",
        mother_name="Dewi Lestari Handayani",
        kk_number="3673011501180301",
    )
    flagged = BirthReportFactory(
        status="in_review",
        child_name="Aisyah Putry Ramadani",
        mother_nik=original.mother_nik,
        potential_duplicate=deciding,
        duplicate_of_id=original.id,
    )
    db.session.commit()
    return original, flagged


def _original_column(page: str, label: str) -> str:
    row = re.search(rf'<th scope="row">{re.escape(label)}</th><td>.*?</td><td>(.*?)</td>', page)
    assert row, f"no row {label!r} in the comparison"
    return row.group(1)


def _reads_of(report: BirthReport) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry.data["what"].as_string()).where(
                JournalEntry.report_id == report.id,
                JournalEntry.action == "staff:birth_report:read",
            )
        )
    )


def test_another_regions_original_is_shown_masked_while_deciding_and_the_read_journalled(
    client: FlaskClient, siti: User
) -> None:
    original, flagged = _pair("3673")
    sign_in(client, "siti")

    page = client.get(f"/kantor/laporan/{flagged.tracking_code}").get_data(as_text=True)

    assert "wilayah lain: disamarkan" in page
    nik = original.mother_nik
    assert _original_column(page, "NIK ibu") == f"{nik[:4]}********{nik[-4:]}"
    assert _original_column(page, "KK") == "3673********0301"
    assert _original_column(page, "Nama anak") == "A. P. R."
    assert _original_column(page, "Ibu") == "D. L. H."
    assert "Dewi Lestari Handayani" not in page
    assert "3673011501180301" not in page
    assert f'href="/kantor/laporan/{original.tracking_code}"' not in page  # not the clerk's
    assert _reads_of(original) == [f"duplicate comparison with {flagged.tracking_code} (masked)"]


def test_another_regions_original_is_not_shown_once_nothing_is_to_decide(
    client: FlaskClient, siti: User
) -> None:
    original, flagged = _pair("3673", deciding=False)
    sign_in(client, "siti")

    page = client.get(f"/kantor/laporan/{flagged.tracking_code}").get_data(as_text=True)

    assert 'id="original-elsewhere"' in page
    assert "A. P. R." not in page
    assert original.tracking_code not in page
    assert _reads_of(original) == []


def test_an_original_of_the_clerks_own_region_is_shown_whole(
    client: FlaskClient, siti: User
) -> None:
    original, flagged = _pair("3274")
    sign_in(client, "siti")

    page = client.get(f"/kantor/laporan/{flagged.tracking_code}").get_data(as_text=True)

    assert _original_column(page, "Ibu") == "Dewi Lestari Handayani"
    assert _original_column(page, "NIK ibu") == original.mother_nik
    assert f'href="/kantor/laporan/{original.tracking_code}"' in page
    assert _reads_of(original) == [f"duplicate comparison with {flagged.tracking_code}"]


def test_initials_keep_one_letter_a_word() -> None:
    assert initials("siti nur  aminah") == "S. N. A."
    assert initials(None) is None
