"""Drafts live server-side for a limited time; the sweep forgets expired ones and their files."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from akta_service.core.db import db, utcnow
from akta_service.core.storage import storage
from akta_service.core.sweep import sweep
from akta_service.jobs.queue import run_pending
from akta_service.parents.models import Draft
from tests.parents.conftest import sandbox_report
from tests.parents.form import PDF, fill_steps, form_answers, start, upload


def test_the_sweep_forgets_expired_drafts_and_their_uploads(
    app: Flask, client: FlaskClient, session: Any
) -> None:
    page = start(client).get_data(as_text=True)
    link = urlsplit(re.search(r'class="resume-link" href="([^"]+)"', page).group(1)).path
    fill_steps(client, form_answers(sandbox_report("recorded")))
    upload(client, "kk", PDF)
    expired = db.session.scalar(sa.select(Draft))
    key = expired.documents["kk"]["storage_key"]
    assert expired.expires_at - utcnow() > timedelta(days=29)

    other = app.test_client()
    start(other)
    expired.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    sweep()
    db.session.commit()
    run_pending(app)
    assert db.session.scalars(sa.select(Draft)).all() != []
    assert db.session.get(Draft, expired.id) is None
    assert not storage().exists(key)
    assert app.test_client().get(link).status_code == 404
    assert client.get("/lapor/ayah").headers["Location"].endswith("/lapor")
    assert other.get("/lapor/bayi").status_code == 200
