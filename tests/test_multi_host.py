"""Two hosts and two workers, nothing shared on disk: each gunicorn and each Celery worker has
an instance folder of its own; they share one PostgreSQL database (files included), one
Redis and the sandbox servers, as a deployment of several machines does."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.accounts.second_factor import _secret_of, enrol_directly
from akta_service.akta.models import AktaDocument
from akta_service.births.models import BirthReport, DocumentPicture
from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.storage import storage
from akta_service.core.storage_crypto import MasterKey
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.regions.models import Region
from akta_service.verification.sandbox import SandboxPopulation
from tests.conftest import SIGNING_OFFICERS, app_config, make_migrated_app
from tests.databases import fresh_database
from tests.files import pdf_bytes, png_bytes
from tests.services import (
    REDIS_HOST,
    REDIS_PORT,
    SANDBOX_API_KEY,
    SandboxServer,
    SigningServer,
    own_redis_database,
    start_gunicorn,
    start_sandbox,
    start_worker,
    stop,
    stop_all,
    wait_until,
)
from tests.web import next_code

SEED = 2026
PASSWORD = "kata-sandi-yang-panjang"
_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
_PAGE = re.compile(r'<img src="(/kantor/laporan/[^"]+/dokumen/[^"]+)"')


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox("--seed", str(SEED), "--families", "60")
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture
def deployment(
    tmp_path: Path, sandbox: SandboxServer, signing_server: SigningServer
) -> Iterator[dict[str, Any]]:
    """PostgreSQL (files in it), a Redis database of its own, two hosts, two workers."""
    with own_redis_database() as (redis_db, _broker):
        yield from _deployment(redis_db, tmp_path, sandbox)


def _deployment(redis_db: int, tmp_path: Path, sandbox: SandboxServer) -> Iterator[dict[str, Any]]:
    shared = {
        "AKTA_JOBS": "celery",
        "AKTA_BROKER_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
        "AKTA_RATELIMIT_STORAGE_URI": f"redis://{REDIS_HOST}:{REDIS_PORT}/{redis_db}",
        "AKTA_RATELIMIT_KEY_PREFIX": f"akta-multi-host-{redis_db}",
        "AKTA_STORAGE_BACKEND": "database",
        # The one secret every host is given by its operator, never a file they share.
        "AKTA_STORAGE_MASTER_KEY": MasterKey.generate().encoded(),
        "AKTA_DUKCAPIL": "http",
        "AKTA_DUKCAPIL_URL": sandbox.url,
        "AKTA_DUKCAPIL_API_KEY": SANDBOX_API_KEY,
        "AKTA_SWEEP_INTERVAL_SECONDS": "0.5",
    }
    processes: list[Any] = []
    with fresh_database("postgresql", tmp_path) as url:
        app = make_migrated_app(url, tmp_path / "test-instance", **shared)

        def env(name: str) -> dict[str, str]:
            return {**app_config(url, tmp_path / name), **shared}

        try:
            for name, options in (("worker-1", ("--beat",)), ("worker-2", ())):
                processes.append(start_worker(env(name), "--concurrency=2", *options))
            hosts = []
            for name in ("host-a", "host-b"):
                host_url, process = start_gunicorn(env(name))
                processes.append(process)
                hosts.append(host_url)
            yield {"app": app, "hosts": hosts, "folder": tmp_path}
        finally:
            stop_all(processes)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _prepare_office(app: Flask) -> tuple[str, User]:
    """A hospital with an API token, an operator and the enrolled pejabat pj1."""
    officer = SIGNING_OFFICERS["pj1"]
    with app.app_context():
        system = Actor.system("test")
        create_facility("RSUD-GJ", "RSUD Gunung Jati", "hospital", "3274", system)
        token = issue_credential("RSUD-GJ", system).token
        create_user("op-a", "Operator A", "operator", PASSWORD, ["3274"], system)
        pejabat = create_user("pj1", officer.name, "pejabat", PASSWORD, ["3274"], system)
        enrol_directly(pejabat, system)
        pejabat.nik, pejabat.nip = officer.nik, officer.nip
        region = db.session.get(Region, "3274")
        assert region is not None
        region.signing_officer_name = officer.name
        region.signing_officer_nip = officer.nip
        db.session.commit()
        db.session.refresh(pejabat)
        db.session.expunge(pejabat)
        return token, pejabat


def _csrf(page: str) -> str:
    match = _CSRF.search(page)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def _sign_in(http: httpx.Client, app: Flask, username: str) -> None:
    page = http.get("/kantor/masuk").text
    response = http.post(
        "/kantor/masuk",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page)},
    )
    assert response.status_code == 302, response.text
    if response.headers["Location"].endswith("/kantor/masuk/kode"):
        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.username == username))
            assert user is not None
            code = pyotp.TOTP(_secret_of(user)).now()
        page = http.get("/kantor/masuk/kode").text
        response = http.post("/kantor/masuk/kode", data={"code": code, "csrf_token": _csrf(page)})
        assert response.status_code == 302, response.text


def _unused_code(app: Flask, username: str) -> str:
    """A TOTP code the service has not seen yet (signing asks one beside the passphrase)."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        assert user is not None
        secret = _secret_of(user)
        db.session.remove()
    return next_code(app, username, secret)


def _act(http: httpx.Client, tracking: str, action: str, **form: str) -> None:
    page = http.get(f"/kantor/laporan/{tracking}").text
    response = http.post(
        f"/kantor/laporan/{tracking}/{action}", data={"csrf_token": _csrf(page), **form}
    )
    assert response.status_code == 302, response.text


def _status(app: Flask, code: str) -> str:
    with app.app_context():
        status = db.session.scalar(
            sa.select(BirthReport.status).where(BirthReport.tracking_code == code)
        )
        db.session.remove()
        return str(status)


def test_two_hosts_two_workers_share_every_file_through_the_database(
    deployment: dict[str, Any], signing_server: SigningServer
) -> None:
    app, (host_a, host_b) = deployment["app"], deployment["hosts"]
    token, _ = _prepare_office(app)
    payload = SandboxPopulation.build(seed=SEED, families_per_region=60).sample_families(1)[0][
        "example_report"
    ]
    api = {"Authorization": f"Bearer {token}"}

    # Through host A: the hospital reports the birth and uploads its documents.
    with httpx.Client(base_url=host_a, headers=api, timeout=60) as a:
        created = a.post("/api/v1/births", json=payload)
        assert created.status_code == 201, created.text
        code = created.json()["tracking_code"]
        for kind, name, content in (
            ("birth_letter", "surat.pdf", pdf_bytes(2)),
            ("kk", "kk.png", png_bytes()),
        ):
            uploaded = a.post(
                f"/api/v1/births/{code}/documents",
                data={"kind": kind},
                files={"file": (name, content)},
            )
            assert uploaded.status_code == 201, uploaded.text
    wait_until(lambda: _status(app, code) == "in_review", 90, "a worker to verify the report")

    # Through host B: the operator reviews it, every page of every document shown inline.
    with httpx.Client(base_url=host_b, timeout=60) as b:
        _sign_in(b, app, "op-a")
        page = b.get(f"/kantor/laporan/{code}")
        assert page.status_code == 200
        shown = [html.unescape(src) for src in _PAGE.findall(page.text)]
        assert len(shown) == 3  # two pages of the letter, the KK photo
        with app.app_context():
            stored = {
                p.storage_key: storage().get(p.storage_key)
                for p in db.session.scalars(sa.select(DocumentPicture))
            }
            db.session.remove()
        pictures = [b.get(src) for src in shown]
        assert all(p.status_code == 200 for p in pictures)
        assert all(p.headers["Content-Type"].startswith("image/") for p in pictures)
        assert sorted(p.content for p in pictures) == sorted(stored.values())
        _act(b, code, "klaim")
        _act(b, code, "approve")
    assert _status(app, code) == "awaiting_signature"

    # The pejabat signs through host A; a worker renders, signs and stores the akta.
    with httpx.Client(base_url=host_a, timeout=120) as a:
        _sign_in(a, app, "pj1")
        _act(a, code, "klaim")
        _act(
            a,
            code,
            "sign",
            passphrase=SIGNING_OFFICERS["pj1"].passphrase,
            code=_unused_code(app, "pj1"),
            confirm="yes",
        )
    wait_until(lambda: _status(app, code) == "issued", 120, "a worker to issue the akta")

    with app.app_context():
        akta = db.session.scalar(sa.select(AktaDocument))
        assert akta is not None
        db.session.expunge(akta)
    downloads = []
    for host in (host_a, host_b):
        with httpx.Client(base_url=host, headers=api, timeout=60) as http:
            response = http.get(f"/api/v1/births/{code}/akta.pdf")
            assert response.status_code == 200, response.text
            downloads.append(response.content)
    assert downloads[0] == downloads[1]
    assert hashlib.sha256(downloads[0]).hexdigest() == akta.sha256

    # The public page behind the QR code, on either host, recognises the downloaded file.
    for host in (host_a, host_b):
        with httpx.Client(base_url=host, timeout=60) as public:
            verify_url = f"/verifikasi/{akta.verification_token}"
            assert akta.registration_number in public.get(verify_url).text
            page = public.get(verify_url).text
            compared = public.post(
                verify_url,
                data={"csrf_token": _csrf(page)} if "csrf_token" in page else {},
                files={"pdf": ("akta.pdf", downloads[0])},
            )
            assert compared.status_code == 200
            assert "Berkas ini sama persis dengan akta yang diterbitkan." in compared.text
