"""Fixtures: the app on each database backend, one rolled-back transaction per test."""

from __future__ import annotations

import dataclasses
import logging
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import scoped_session, sessionmaker

from akta_service import create_app
from akta_service.accounts.models import User
from akta_service.app import connect_features
from akta_service.core.actors import Actor, Role
from akta_service.core.db import db
from akta_service.core.limits import limiter
from akta_service.regions.operations import ensure_regions
from akta_service.signing.gateway import close_signing_service
from tests.databases import fresh_database
from tests.factories import PERSONAL_VALUES, remember_personal_data
from tests.logcheck import LogCheck, describe
from tests.mail import Inbox, local_smtp
from tests.services import SigningOfficer, SigningServer, start_signing_service, stop

BACKENDS = ("sqlite", "postgresql")

# What the features register at import (jobs, sweepers, signal listeners, workflow effects)
# is there for every test, as the app factory makes it for the service, whichever test
# module loads the workflow first.
connect_features()


#: Every log record of the run; personal data or a secret in one fails the run at its end.
_log_check = LogCheck()
_LEAKS = pytest.StashKey[str]()


def pytest_sessionstart(session: pytest.Session) -> None:
    root = logging.getLogger()
    root.addHandler(_log_check)
    root.setLevel(logging.DEBUG)
    # Statement echo is a developer's tool, off in any deployment; at DEBUG it would log
    # every statement of the suite.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    _remember_sandbox_families()


def _remember_sandbox_families() -> None:
    """The sandbox families tests report are test data too: their people are checked for."""
    from akta_service.verification.sandbox import SandboxPopulation

    sample = SandboxPopulation.sample_families

    def remembered(self: SandboxPopulation, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        families = sample(self, *args, **kwargs)
        for family in families:
            remember_personal_data(family.get("example_report", {}))
        return families

    SandboxPopulation.sample_families = remembered  # type: ignore[method-assign]


def pytest_runtest_logstart(nodeid: str) -> None:
    _log_check.current_test = nodeid


def pytest_sessionfinish(session: pytest.Session) -> None:
    logging.getLogger().removeHandler(_log_check)
    leaks = _log_check.leaks(PERSONAL_VALUES)
    text = session.config.stash.get(_LEAKS, "") + (describe(leaks) if leaks else "")
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:
        # A worker of `pytest -n`: its records go to the controller, which fails the run.
        worker_output["akta_log_leaks"] = text
        return
    if text:
        session.config.stash[_LEAKS] = text
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The leaks a worker of `pytest -n` found, kept for the controller's end of the run."""
    text = getattr(node, "workeroutput", {}).get("akta_log_leaks", "")
    if text:
        stash = node.config.stash
        stash[_LEAKS] = stash.get(_LEAKS, "") + text


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    text = config.stash.get(_LEAKS, "")
    if text:
        terminalreporter.write_sep("=", "personal data or secrets in the log", red=True)
        terminalreporter.write_line(text)


def app_config(database_url: str, instance: Path, **extra: Any) -> dict[str, Any]:
    return {
        "AKTA_ENV": "test",
        "AKTA_DATABASE_URL": database_url,
        "AKTA_INSTANCE_PATH": str(instance),
        "AKTA_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "AKTA_REGIONS": "3274",
        "AKTA_JOBS": "manual",
        **extra,
    }


@contextmanager
def changed_settings(app: Flask, **changes: Any) -> Iterator[None]:
    """The app runs with these settings changed until the block ends."""
    original = app.config["AKTA_SETTINGS"]
    app.config["AKTA_SETTINGS"] = dataclasses.replace(original, **changes)
    try:
        yield
    finally:
        app.config["AKTA_SETTINGS"] = original


def make_migrated_app(database_url: str, instance: Path, **extra: Any) -> Flask:
    """An app on a database upgraded to head, with the regions in place."""
    app = create_app(app_config(database_url, instance, **extra))
    with app.app_context():
        flask_migrate.upgrade()
        ensure_regions()
        db.session.commit()
        db.session.remove()
    return app


#: The pejabat accounts of the `actors` fixture and the keys they sign with, enrolled once
#: per session in the sandbox signing service (SoftHSM2 where installed).
SIGNING_OFFICERS = {
    "pj1": SigningOfficer("3274010101700001", "197001011990031001", "Pejabat pj1", "ttd-pj1-2026"),
    "pj2": SigningOfficer("3274014202800002", "198002022005012002", "Pejabat pj2", "ttd-pj2-2026"),
}


@pytest.fixture(scope="session")
def signing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SigningServer]:
    """`akta signing serve` as a subprocess for the whole session; every app (and every
    process the tests start) signs through it."""
    server = start_signing_service(
        tmp_path_factory.mktemp("signing-service") / "state", tuple(SIGNING_OFFICERS.values())
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AKTA_SIGNING_SERVICE", "http")
        patch.setenv("AKTA_SIGNING_SERVICE_URL", server.url)
        yield server
    stop(server.process)


def with_signing_identity(user: User, officer: str = "pj1") -> User:
    """The account signs with that enrolled officer's key (their NIK and NIP)."""
    user.nik, user.nip = SIGNING_OFFICERS[officer].nik, SIGNING_OFFICERS[officer].nip
    db.session.flush()
    return user


def clear_wrong_passphrases(server: SigningServer, officer: str = "pj1") -> None:
    """The officer types the right passphrase once: their count of wrong ones starts again
    (the session's signing service is shared by every test)."""
    from akta_service.signing.client import SigningServiceClient

    with SigningServiceClient(server.url) as client:
        key = SIGNING_OFFICERS[officer]
        client.authorise(key.nik, key.passphrase)


def sign_as(report: Any, signer: User | str = "pj1", officer: str | None = None) -> None:
    """The pejabat types their passphrase and signs (as the review page's sign form does)."""
    from akta_service.akta.operations import authorise_issue
    from akta_service.workflow.engine import fire

    user = signer
    if isinstance(signer, str):
        user = db.session.scalar(sa.select(User).where(User.username == signer))
    assert isinstance(user, User)
    authorise_issue(report, user, SIGNING_OFFICERS[officer or user.username].passphrase)
    fire(report, "sign", user.as_actor())


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def app(
    backend: str, tmp_path_factory: pytest.TempPathFactory, signing_server: SigningServer
) -> Iterator[Flask]:
    """The service on a migrated database of the session's backend."""
    folder = tmp_path_factory.mktemp(f"app-{backend}")
    with fresh_database(backend, folder) as url:
        # Each database with the files where it keeps them in the field: the embedded
        # service in its folder, production in PostgreSQL itself.
        stored = {"AKTA_STORAGE_BACKEND": "database"} if backend == "postgresql" else {}
        application = make_migrated_app(url, folder / "instance", **stored)
        yield application
        close_signing_service(application)
        with application.app_context():
            db.engine.dispose()


@pytest.fixture
def smtp(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server on this machine; the app sends through it for this test."""
    with local_smtp(app) as inbox:
        yield inbox


@pytest.fixture(autouse=True)
def _no_real_mail(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that sends mail anywhere but this machine fails: use the local SMTP fixture."""
    real_connect = smtplib.SMTP.connect

    def local_only(self: smtplib.SMTP, host: str = "localhost", port: int = 0, *args: Any) -> Any:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"a test tried to send real mail through {host}")
        return real_connect(self, host, port, *args)

    monkeypatch.setattr(smtplib.SMTP, "connect", local_only)


@pytest.fixture
def session(app: Flask) -> Iterator[scoped_session[Any]]:
    """Every database change of the test happens in one transaction, rolled back after it.

    Code under test commits and rolls back savepoints inside it, so commit
    paths run for real while the test leaves nothing behind.
    """
    app.extensions["akta_jobs"].pending.clear()
    # The sandbox registry remembers registrations; the database forgets them after each
    # test, so each test starts from a fresh population too.
    app.extensions.pop("akta_dukcapil", None)
    with app.app_context():
        limiter.reset()  # every test starts with fresh rate-limit counters
        connection = db.engine.connect()
        outer = connection.begin()
        scoped = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=db.session.registry.scopefunc,  # type: ignore[attr-defined]
        )
        original = db.session
        db.session = scoped
        try:
            yield scoped
        finally:
            scoped.remove()
            db.session = original
            outer.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """Each request in an app context of its own, as in a real server: a fresh `g` (logins,
    CSRF tokens, credentials are not shared between requests) and its own session, on the
    test's connection so it sees what the test wrote."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask, session: Any) -> FlaskClient:
    app.test_client_class = IsolatedClient
    return app.test_client()


def _staff(username: str, role: str, regions: list[str]) -> User:
    from akta_service.regions.models import Region

    officer = SIGNING_OFFICERS.get(username)
    user = User(
        username=username,
        full_name=officer.name if officer else f"{role.title()} {username}",
        role=role,
        password_hash="not-a-real-hash",
        regions=[db.session.get(Region, code) for code in regions],
        nik=officer.nik if officer else None,
        nip=officer.nip if officer else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def actors(session: Any) -> dict[str, Actor]:
    """One actor per role, staff serving Kota Cirebon (3274), two facilities."""
    from akta_service.facilities.models import Facility, FacilityKind

    for code, name in (("RS001", "RSUD Gunung Jati"), ("RS999", "RS Lain")):
        db.session.add(
            Facility(code=code, name=name, kind=FacilityKind.HOSPITAL, region_code="3274")
        )
    db.session.flush()
    people = {
        "operator": _staff("op1", "operator", ["3274"]).as_actor(),
        "operator_b": _staff("op2", "operator", ["3274"]).as_actor(),
        "pejabat": _staff("pj1", "pejabat", ["3274"]).as_actor(),
        "pejabat_b": _staff("pj2", "pejabat", ["3274"]).as_actor(),
        "admin": _staff("ad1", "admin", ["3274"]).as_actor(),
        "viewer": _staff("vw1", "viewer", ["3274"]).as_actor(),
        "operator_elsewhere": _staff("op9", "operator", ["3673"]).as_actor(),
        "system": Actor.system(),
        "facility": Actor.facility("RS001", "RSUD Gunung Jati"),
        "other_facility": Actor.facility("RS999", "RS Lain"),
    }
    return people


@pytest.fixture
def officer(session: Any) -> Any:
    """Kota Cirebon's signing officer (the demo certificate is made for them)."""
    from akta_service.regions.models import Region

    region = db.session.get(Region, "3274")
    assert region is not None
    region.signing_officer_name = "Drs. Bambang Sutrisno, M.Si."
    region.signing_officer_nip = "197001011990031001"
    region.signing_officer_title = "Kepala Dinas Kependudukan dan Pencatatan Sipil"
    db.session.commit()
    return region


def count_journal(report_id: int) -> int:
    from akta_service.core.audit import JournalEntry

    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.report_id == report_id)
        )
    )


def informant_for(report: Any) -> Actor:
    return Actor.informant(report.tracking_code, report.informant_name)


__all__ = ["Role", "count_journal", "informant_for", "sign_as", "with_signing_identity"]


@pytest.fixture
def committed_app(backend: str, tmp_path: Path) -> Iterator[Flask]:
    """An app whose transactions really commit, on a fresh database dropped afterwards."""
    with fresh_database(backend, tmp_path) as url:
        app = make_migrated_app(url, tmp_path / "instance")
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
