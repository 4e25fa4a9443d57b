"""A PostgreSQL app whose transactions commit, for what only concurrency shows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from akta_service.core.db import db
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
