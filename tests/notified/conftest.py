"""The facilities that notify in these tests, and a PostgreSQL app whose transactions commit,
for what only concurrency shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from tests.conftest import make_migrated_app
from tests.databases import postgres_database


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[Flask]:
    """The service on a fresh PostgreSQL database whose transactions really commit."""
    with postgres_database() as url:
        app = make_migrated_app(url, tmp_path / "instance")
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def tokens(session: Any) -> dict[str, str]:
    """API tokens of a hospital and a midwife in Kota Cirebon."""
    admin = Actor.system("test admin")
    create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", admin)
    create_facility("BIDAN-SRI", "Bidan Sri Wahyuni", "midwife", "3274", admin)
    return {
        "hospital": issue_credential("RSUD-GJ", admin).token,
        "midwife": issue_credential("BIDAN-SRI", admin).token,
    }
