"""Limits that hold behind a proxy and across processes: a whole carrier's parents behind one
public address can all report, while guessing one report's PIN from many addresses is still
stopped; uploads are limited per draft and each draft's documents have a quota."""

from __future__ import annotations

import dataclasses
import io
import math
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import RedisStorage
from werkzeug.middleware.proxy_fix import ProxyFix

from akta_service import create_app
from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import (
    issue_status_pin,
    load_report_input,
    submit_birth_report,
)
from akta_service.core.db import db
from akta_service.core.limits import limiter
from akta_service.parents.operations import WEB_INFORMANT
from akta_service.parents.steps import required_documents
from akta_service.verification.gateway import dukcapil
from tests.conftest import IsolatedClient, app_config, changed_settings, make_migrated_app
from tests.databases import fresh_database
from tests.parents.conftest import sandbox_report
from tests.parents.form import (
    PDF,
    STEP_SLUGS,
    errors_of,
    fill_steps,
    form_answers,
    start,
    text_of,
    upload,
)
from tests.services import REDIS_HOST, REDIS_PORT, own_redis_database, start_gunicorn, stop
from tests.web import csrf_token

#: The proxy in front of the service, and the public address of a carrier's NAT.
PROXY = "10.0.0.2"
CARRIER = "114.125.10.20"
PARENTS = 200
GIVEN_NAMES = ("Adi", "Bayu", "Citra", "Dewi", "Eka", "Fajar", "Gita", "Hadi", "Indah", "Joko")
NEUTRAL = "Kode pelacakan atau PIN salah. Periksa kembali keduanya."


@dataclasses.dataclass
class ProxiedService:
    """The service behind one trusted proxy, counting its limits in Redis."""

    app: Flask
    counters: RedisStorage
    store: redis.Redis

    def client(self, address: str = CARRIER) -> FlaskClient:
        """A browser at `address`, as the proxy forwards it."""
        self.app.test_client_class = IsolatedClient
        browser = self.app.test_client()
        browser.environ_base.update(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address)
        return browser


@pytest.fixture
def proxied(app: Flask, session: Any, tmp_path: Path) -> Iterator[ProxiedService]:
    """The service as deployed: AKTA_TRUSTED_PROXY_HOPS=1 and a Redis store shared by every
    process, on the test's database (its transaction, rolled back afterwards)."""
    with own_redis_database() as (number, store):
        yield from _proxied(app, tmp_path, number, store)


def _proxied(
    app: Flask, tmp_path: Path, number: int, store: redis.Redis
) -> Iterator[ProxiedService]:
    prefix = f"akta-test-{uuid.uuid4().hex}"
    uri = f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
    # The limiter is one object for the process: what a second app sets up on it (its
    # store) is put back for the other tests afterwards.
    saved = limiter._storage, limiter._limiter, dict(limiter._storage_options)
    service = create_app(
        app_config(
            app.config["SQLALCHEMY_DATABASE_URI"],
            tmp_path / "instance",
            AKTA_TRUSTED_PROXY_HOPS="1",
            AKTA_RATELIMIT_STORAGE_URI=uri,
            RATELIMIT_STORAGE_OPTIONS={"key_prefix": prefix},
        )
    )
    counters = limiter._storage
    assert isinstance(counters, RedisStorage)
    try:
        yield ProxiedService(service, counters, store)
    finally:
        counters.reset()
        limiter._storage, limiter._limiter = saved[0], saved[1]
        limiter._storage_options.clear()
        limiter._storage_options.update(saved[2])
        with service.app_context():
            db.engine.dispose()


def _child_named(index: int) -> dict[str, Any]:
    """A family of the sandbox with a newborn of its own name, one per parent."""
    families = dukcapil().population.sample_families(20, "recorded", region="3274")  # type: ignore[attr-defined]
    report = families[index % len(families)]["example_report"]
    report["child"]["name"] = f"{GIVEN_NAMES[index // len(families) % 10]} Putra Ramadhan"
    return dict(report)


def _report_quickly(client: FlaskClient, report: dict[str, Any]) -> str:
    """Start a draft, post every step and document, submit: the posts a parent's browser
    makes, with the one CSRF token of the session (the pages in between are left unread);
    returns the tracking code of the receipt."""
    token = csrf_token(client.get("/lapor").get_data(as_text=True))
    assert client.post("/lapor/mulai", data={"csrf_token": token}).status_code == 302
    answers = form_answers(report)
    for slug in STEP_SLUGS:
        saved = client.post(f"/lapor/{slug}", data={"csrf_token": token, **answers[slug]})
        assert saved.status_code == 302, errors_of(saved.get_data(as_text=True))
    typed = {name: value for step in answers.values() for name, value in step.items()}
    for kind in required_documents(typed):
        stored = client.post(
            "/lapor/dokumen",
            data={
                "csrf_token": token,
                "kind": kind,
                "action": "upload",
                "file": (io.BytesIO(PDF), "scan.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert stored.status_code == 302, errors_of(stored.get_data(as_text=True))
    done = client.post("/lapor/dokumen", data={"csrf_token": token, "action": "next"})
    assert done.status_code == 302, errors_of(done.get_data(as_text=True))
    sent = client.post("/lapor/kirim", data={"csrf_token": token, "declaration": "yes"})
    assert sent.status_code == 302, sent.status_code
    receipt = client.get(sent.headers["Location"])
    return text_of(receipt.get_data(as_text=True), "tracking-code")


def test_a_whole_carrier_behind_one_address_reports_within_the_hour(
    proxied: ProxiedService,
) -> None:
    codes = [_report_quickly(proxied.client(), _child_named(index)) for index in range(PARENTS)]

    assert len(set(codes)) == PARENTS
    web_reports = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(BirthReport)
        .where(BirthReport.channel == Channel.WEB)
    )
    assert web_reports == PARENTS
    # The counters are in the shared store, where every process of the service sees them.
    assert proxied.store.keys(f"{proxied.counters.key_prefix}:*")


def _submitted() -> tuple[BirthReport, str]:
    report = submit_birth_report(
        load_report_input(sandbox_report("recorded")), Channel.WEB, WEB_INFORMANT
    )
    pin = issue_status_pin(report)
    db.session.commit()
    return report, pin


def _open(client: FlaskClient, code: str, pin: str) -> Any:
    form = client.get("/status").get_data(as_text=True)
    return client.post("/status", data={"csrf_token": csrf_token(form), "code": code, "pin": pin})


def _wrong(pin: str, n: int) -> str:
    return f"{(int(pin) + 1 + n) % 1_000_000:06d}"


def test_guesses_at_one_report_from_twenty_addresses_still_lock_it(
    proxied: ProxiedService,
) -> None:
    report, pin = _submitted()
    code = report.tracking_code
    botnet = [f"36.{n}.7.{n + 1}" for n in range(20)]

    first = [
        _open(proxied.client(address), code, _wrong(pin, n)) for n, address in enumerate(botnet[:5])
    ]
    assert [answer.status_code for answer in first] == [401] * 5
    db.session.refresh(report)
    assert report.pin_locked_until is not None  # five wrong PINs lock it, whoever sent them
    # Locked: even the right PIN, from an address that never guessed, does not open it.
    locked = _open(proxied.client(botnet[5]), code, pin)
    assert locked.status_code == 401
    assert NEUTRAL in text_of(locked.get_data(as_text=True), "status-error")

    rest = [
        _open(proxied.client(address), code, _wrong(pin, n)) for n, address in enumerate(botnet[6:])
    ]
    statuses = [answer.status_code for answer in rest]
    # Ten attempts an hour per report, whatever the addresses: the rest never reach the PIN.
    assert statuses == [401] * 4 + [429] * 10
    refused = rest[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "Coba lagi setelah pukul" in refused.get_data(as_text=True)
    # Another family's report, from one of those addresses, is not held up.
    other, other_pin = _submitted()
    assert _open(proxied.client(botnet[0]), other.tracking_code, other_pin).status_code == 302


def _status_attempts(client_for: Callable[[int], FlaskClient], count: int) -> list[int]:
    """POSTs to the status form, each for another (unknown) code: only the address counts."""
    return [_open(client_for(n), f"ABC-DEF-{n:04d}", "123456").status_code for n in range(count)]


def test_without_trusted_proxies_a_forwarded_address_is_ignored(
    app: Flask, client: FlaskClient
) -> None:
    assert not isinstance(app.wsgi_app, ProxyFix)  # AKTA_TRUSTED_PROXY_HOPS defaults to 0

    def spoofing(n: int) -> FlaskClient:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.{n}"
        return client

    with changed_settings(app, status_rate_limit="3 per minute"):
        statuses = _status_attempts(spoofing, 4)
    # A new made-up address on every request does not escape the limit of the real one.
    assert statuses == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_forwarded_client_address_counts(
    proxied: ProxiedService,
) -> None:
    with changed_settings(proxied.app, status_rate_limit="3 per minute"):
        apart = _status_attempts(lambda n: proxied.client(f"198.51.100.{n}"), 4)
        together = _status_attempts(lambda n: proxied.client(CARRIER), 4)
    # Four people at four addresses behind the one proxy are four, not one ...
    assert apart == [401] * 4
    # ... and one address is one, however the requests reach the proxy.
    assert together == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_https_is_known_and_cookies_are_secure(
    app: Flask, client: FlaskClient, proxied: ProxiedService
) -> None:
    behind = proxied.client()
    behind.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    assert "Secure" in behind.get("/lapor?lang=en").headers["Set-Cookie"]
    # Without a trusted proxy the header is the client's word only.
    client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    assert "Secure" not in client.get("/lapor?lang=en").headers["Set-Cookie"]


# Uploads --------------------------------------------------------------------------------------


def at_documents(client: FlaskClient) -> FlaskClient:
    """A parent who has filled in every step and is at the documents."""
    start(client)
    fill_steps(client, form_answers(sandbox_report("recorded")))
    return client


def _uploaded(client: FlaskClient) -> dict[str, str]:
    """What the documents page says is stored, per kind."""
    page = client.get("/lapor/dokumen").get_data(as_text=True)
    kinds = re.findall(r'id="uploaded-(\w+)"', page)
    return {kind: text_of(page, f"uploaded-{kind}") for kind in kinds}


def test_the_upload_that_would_pass_the_draft_quota_is_refused_keeping_the_others(
    app: Flask, client: FlaskClient
) -> None:
    at_documents(client)
    scan = PDF + b"%" * (600 * 1024)
    with changed_settings(app, document_quota_bytes=1024 * 1024):
        first = upload(client, "birth_letter", scan)
        refused = upload(client, "kk", scan)
        # Replacing a document frees what it took: the new one counts, not both.
        replaced = upload(client, "birth_letter", scan)
        fits = upload(client, "kk", PDF)

    assert first.status_code == 302
    assert refused.status_code == 200
    assert errors_of(refused.get_data(as_text=True)) == [
        "Kartu Keluarga (KK): Dokumen satu laporan paling banyak 1 MB seluruhnya. Dengan berkas "
        "ini "
        "batas itu terlampaui, jadi berkas ini tidak disimpan; dokumen yang sudah diunggah "
        "tetap ada. Kecilkan berkasnya (misalnya foto dengan resolusi lebih rendah), lalu "
        "unggah lagi."
    ]
    assert replaced.status_code == 302
    assert fits.status_code == 302
    stored = _uploaded(client)
    assert sorted(stored) == ["birth_letter", "kk"]
    assert stored["birth_letter"].endswith(f"{math.ceil(len(scan) / 1024)} KB")


def test_uploads_to_one_draft_are_limited_saying_when_to_try_again(
    app: Flask, client: FlaskClient
) -> None:
    at_documents(client)
    with changed_settings(app, upload_rate_limit="2 per hour"):
        answers = [upload(client, "birth_letter", PDF) for _ in range(3)]
        # Other saves of the draft are not uploads: they go on.
        saved = client.post(
            "/lapor/dokumen",
            data={
                "csrf_token": csrf_token(client.get("/lapor/dokumen").get_data(True)),
                "action": "next",
            },
        )
        # Refused, not limited: back to the documents, asking for the others.
        assert saved.status_code == 302
        assert errors_of(client.get(saved.headers["Location"]).get_data(True))

    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert list(_uploaded(client)) == ["birth_letter"]  # the earlier upload is kept
    refused = answers[-1]
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= 3600
    page = refused.get_data(as_text=True)
    assert "Terlalu banyak percobaan" in page
    assert re.search(r"Coba lagi setelah pukul \d\d\.\d\d WIB \(sekitar \d+ menit lagi\)", page)
    # Another parent's draft, from the same address, uploads as usual.
    other = app.test_client()
    at_documents(other)
    assert upload(other, "birth_letter", PDF).status_code == 302


def test_saves_of_one_draft_are_limited_but_not_other_drafts(
    app: Flask, client: FlaskClient
) -> None:
    at_documents(client)
    other = at_documents(app.test_client())
    with changed_settings(app, draft_rate_limit="3 per hour"):
        statuses = [upload(client, "birth_letter", PDF).status_code for _ in range(4)]
        other_status = upload(other, "birth_letter", PDF).status_code
    assert statuses == [302, 302, 302, 429]
    assert other_status == 302


def test_the_address_backstop_for_uploads_still_holds(app: Flask, client: FlaskClient) -> None:
    with changed_settings(app, address_upload_rate_limit="2 per hour"):
        statuses = []
        for _ in range(3):
            browser = app.test_client()
            at_documents(browser)
            statuses.append(upload(browser, "birth_letter", PDF).status_code)
    assert statuses == [302, 302, 429]


# Across processes -----------------------------------------------------------------------------


@pytest.fixture
def served(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """gunicorn (2 workers) behind one trusted proxy, counting in Redis, on a fresh database,
    with one web report whose PIN is known."""
    prefix = f"akta-test-{uuid.uuid4().hex}"
    with own_redis_database() as (number, _store), fresh_database(backend, tmp_path) as url:
        env = app_config(
            url,
            tmp_path / "instance",
            AKTA_TRUSTED_PROXY_HOPS="1",
            AKTA_RATELIMIT_STORAGE_URI=f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}",
            AKTA_RATELIMIT_KEY_PREFIX=prefix,
        )
        saved = limiter._storage, limiter._limiter
        app = make_migrated_app(url, tmp_path / "instance")
        limiter._storage, limiter._limiter = saved  # this process's own tests keep theirs
        with app.app_context():
            report = submit_birth_report(
                load_report_input(sandbox_report("recorded")), Channel.WEB, WEB_INFORMANT
            )
            pin = issue_status_pin(report)
            code = report.tracking_code
            db.session.commit()
            db.session.remove()
        base, process = start_gunicorn(env)
        try:
            yield {"url": base, "code": code, "pin": pin}
        finally:
            stop(process)
            with app.app_context():
                db.engine.dispose()


def _guess_over_http(base: str, address: str, code: str, pin: str) -> httpx.Response:
    """A browser at `address` (as the proxy forwards it) types a code and a PIN."""
    forwarded = {"X-Forwarded-For": address}
    with httpx.Client(base_url=base, headers=forwarded, timeout=30) as browser:
        form = browser.get("/status")
        return browser.post(
            "/status", data={"csrf_token": csrf_token(form.text), "code": code, "pin": pin}
        )


def test_the_limit_per_report_is_one_count_for_every_process(served: dict[str, Any]) -> None:
    addresses = [f"182.{n}.30.{n + 2}" for n in range(20)]
    answers = [
        _guess_over_http(served["url"], address, served["code"], _wrong(served["pin"], n))
        for n, address in enumerate(addresses)
    ]

    # Two workers, each counting alone, would let more than ten through; the shared count
    # lets ten, then answers every other address 429, whichever worker it reaches.
    assert [answer.status_code for answer in answers] == [401] * 10 + [429] * 10
    assert "Coba lagi setelah pukul" in answers[-1].text
    right = _guess_over_http(served["url"], "182.99.30.1", served["code"], served["pin"])
    assert right.status_code == 429
