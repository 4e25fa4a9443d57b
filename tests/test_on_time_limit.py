"""The on-time limit is a setting: every page that names it says the configured number."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from akta_service.accounts.operations import create_user
from akta_service.core.actors import Actor
from akta_service.core.config import load_settings
from akta_service.core.db import db
from akta_service.core.resources import resource_dir
from tests.factories import BirthReportFactory
from tests.web import STAFF_PASSWORD, sign_in


@pytest.fixture
def limit_45(app: Flask, tmp_path: Path) -> Iterator[None]:
    """The app's settings as AKTA_ON_TIME_DAYS=45 makes them, for this test only."""
    configured = load_settings(
        {"AKTA_ON_TIME_DAYS": "45", "AKTA_INSTANCE_PATH": str(tmp_path), "AKTA_ENV": "test"}
    )
    assert configured.on_time_days == 45
    before = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(before, on_time_days=45)
    yield
    app.config["AKTA_SETTINGS"] = before


def _staff(client: FlaskClient, username: str, role: str) -> FlaskClient:
    create_user(username, username.title(), role, STAFF_PASSWORD, ["3274"], Actor.system("t"))
    db.session.commit()
    assert sign_in(client, username) == 302
    return client


@pytest.mark.usefixtures("limit_45")
def test_the_parents_intro_page_says_the_configured_limit(client: FlaskClient) -> None:
    page = client.get("/lapor").get_data(as_text=True)
    assert "Laporkan dalam 45 hari setelah kelahiran" in page
    english = client.get("/lapor?lang=en").get_data(as_text=True)
    assert "Report within 45 days of the birth" in english


@pytest.mark.usefixtures("limit_45")
def test_the_dashboard_says_the_configured_limit(session: Any, client: FlaskClient) -> None:
    page = _staff(client, "kepala", "viewer").get("/kantor/dasbor").get_data(as_text=True)
    assert "Dilaporkan tepat waktu (≤ 45 hari)" in page


@pytest.mark.usefixtures("limit_45")
def test_the_late_tab_and_flag_say_the_configured_limit(session: Any, client: FlaskClient) -> None:
    report = BirthReportFactory(status="in_review", is_late=True)
    db.session.commit()
    clerk = _staff(client, "petugas", "operator")
    queue = clerk.get("/kantor/antrian?tab=late").get_data(as_text=True)
    assert "Terlambat (&gt; 45 hari)" in queue
    home = clerk.get("/kantor/").get_data(as_text=True)
    assert "Terlambat (&gt; 45 hari)" in home
    page = clerk.get(f"/kantor/laporan/{report.tracking_code}").get_data(as_text=True)
    assert "Dilaporkan lebih dari 45 hari setelah kelahiran" in page


def test_no_page_text_or_translation_names_a_number_of_days_of_its_own() -> None:
    literal = re.compile(r"\b60\s+(hari|days)\b", re.IGNORECASE)
    roots = [resource_dir("templates"), resource_dir("workflows"), resource_dir("akta_service")]
    offenders = [
        f"{path}:{number}"
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and path.suffix in {".py", ".html", ".yaml", ".yml", ".po", ".txt"}
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if literal.search(line)
    ]
    assert offenders == []
