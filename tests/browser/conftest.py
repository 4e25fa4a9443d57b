"""Browser tests: the real service behind a real HTTP server, driven by Chromium (Playwright).

Fixtures, for the office pages and any other pages (the parents' form too):

``live_server``
    The service on a migrated SQLite file database with the regions, in-process jobs and the
    in-process Dukcapil sandbox, served over HTTP on a free port, one server for all the tests
    in this folder (make each test's data its own, e.g. with :meth:`LiveServer.family` and
    unique user names). ``live_server.url`` is its base URL; ``live_server.run(fn, *args)`` calls
    ``fn`` in the app's context and commits, to create data through the operations layer
    (return plain values such as codes and ids, not ORM objects);
    ``live_server.wait_for(check, what)`` polls ``check`` the same way until it is truthy.
    A test during which the server answered 500 or a job raised fails with the traceback.
``browser``
    One headless Chromium for the session (the machine's: /usr/bin/chromium, or
    AKTA_TEST_CHROMIUM). Without it the browser tests skip, saying why; under CI=true they fail.
``new_context(**options)``
    A fresh browser profile (its own cookies: one person) whose relative URLs go to the live
    server; `options` go to ``browser.new_context``, e.g. ``viewport={"width": 360,
    "height": 740}`` or ``java_script_enabled=False``. Call it again for a second person.
``page``
    A page in a fresh default context, for tests with one person.

When a test fails, each open page's screenshot and HTML go to ``test-artifacts/browser/``.
A JavaScript error on any page fails the test, and so does anything the page's
Content-Security-Policy refused (a ``securitypolicyviolation`` event or Chromium's console
error about it): ``page.csp_violations`` (see :func:`csp_violations`) lists them as they come.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
import re
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask, got_request_exception
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.transaction import unit_of_work
from akta_service.regions.models import Region
from akta_service.regions.operations import OfficeDetails, update_office
from akta_service.signing.gateway import close_signing_service
from akta_service.verification.gateway import close_dukcapil, dukcapil
from tests.conftest import make_migrated_app
from tests.databases import in_ci
from tests.services import SigningServer, wait_until

T = TypeVar("T")

#: The machine's Chromium; Playwright's own browser download is not used.
CHROMIUM = os.environ.get("AKTA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: How long a click or a page load may take before the test fails (the machine is shared).
ACTION_TIMEOUT_MS = 15_000
ARTIFACTS = Path("test-artifacts") / "browser"
REGION = "3274"
OFFICER = {
    "signing_officer_name": "Drs. Bambang Sutrisno, M.Si.",
    "signing_officer_nip": "197001011990031001",
    "signing_officer_title": "Kepala Dinas Kependudukan dan Pencatatan Sipil",
}


class _ErrorLog(logging.Handler):
    """Keeps the service's logged errors (a failed job, a 500) for the test to see."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.errors = errors

    def emit(self, record: logging.LogRecord) -> None:
        self.errors.append(self.format(record))


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Not one line per request: failures reach the test through `errors`."""


@dataclass
class LiveServer:
    """The running service: its base URL, its app, and what went wrong inside it."""

    url: str
    app: Flask
    #: Tracebacks of requests that failed with 500 and errors the service logged.
    errors: list[str] = field(default_factory=list)
    _families: dict[str, itertools.count[int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `fn` in the app's context as one unit of work, committed when it returns."""
        with self.app.app_context():
            try:
                with unit_of_work():
                    return fn(*args, **kwargs)
            finally:
                db.session.remove()

    def wait_for(self, check: Callable[[], T], what: str, timeout: float = 60) -> T:
        """Poll `check` (run in the app's context) until it returns something truthy."""
        return wait_until(lambda: self.run(check), timeout, what, step=0.2)

    def family(self, kind: str = "recorded") -> dict[str, Any]:
        """A sandbox family this server has not handed out before, with its example report
        (births.schemas input) under "example_report"; see SandboxPopulation.sample_families."""
        with self._lock:
            index = next(self._families.setdefault(kind, itertools.count()))

        def sample() -> dict[str, Any]:
            population = dukcapil().population  # type: ignore[attr-defined]
            families = population.sample_families(index + 1, kind, region=REGION)
            if len(families) <= index:
                raise RuntimeError(f"the sandbox has only {len(families)} {kind} families")
            return copy.deepcopy(families[index])

        return self.run(sample)


def _set_officer() -> None:
    """The region's Pejabat Pencatatan Sipil, whom the akta names (set as an admin would)."""
    region = db.session.get(Region, REGION)
    assert region is not None
    details = OfficeDetails(
        office_name=region.office_name, issue_place=region.issue_place, **OFFICER
    )
    update_office(region, details, Actor.system("test setup"))


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


@contextmanager
def serve(folder: Path, **config: Any) -> Iterator[LiveServer]:
    """Run the service on a new SQLite database in `folder`; `config` overrides AKTA_* settings.

    For a server of its own (other settings), use this in a fixture of the test module.
    """
    settings = {
        "AKTA_JOBS": "inprocess",
        "AKTA_DUKCAPIL": "sandbox",
        "AKTA_REGIONS": REGION,
        # Many sign-ins from one address in a minute are the test suite, not an attack.
        "AKTA_RATELIMIT_ENABLED": "0",
        # Every browser test reports families of its own from one shared server: room for all.
        "AKTA_SANDBOX_FAMILIES": "240",
        **config,
    }
    # The port first: links the service writes (resume links, e-mails) must point at it.
    server = make_server(
        "127.0.0.1", 0, _not_ready, threaded=True, request_handler=_QuietRequestHandler
    )
    url = f"http://127.0.0.1:{server.server_port}"
    settings.setdefault("AKTA_PUBLIC_BASE_URL", url)
    app = make_migrated_app(f"sqlite:///{folder / 'akta.sqlite3'}", folder / "instance", **settings)
    server.app = app
    errors: list[str] = []

    def failed_request(sender: Flask, exception: BaseException, **_: Any) -> None:
        errors.append("".join(traceback.format_exception(exception)))

    got_request_exception.connect(failed_request, app)
    handler = _ErrorLog(errors)
    service_log = logging.getLogger("akta_service")
    service_log.addHandler(handler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    live = LiveServer(url=url, app=app, errors=errors)
    try:
        live.run(_set_officer)
        live.run(dukcapil)  # the sandbox population, built once before the first test
        yield live
    finally:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["akta_jobs"].pool.shutdown(wait=True, cancel_futures=True)
        service_log.removeHandler(handler)
        got_request_exception.disconnect(failed_request, app)
        close_dukcapil(app)
        close_signing_service(app)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="package")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, signing_server: SigningServer
) -> Iterator[LiveServer]:
    # Stopped (its jobs finished) before the other test packages run: they swap the shared
    # db.session for their rolled-back one, which a late job of this server must not use.
    with serve(tmp_path_factory.mktemp("live-server")) as live:
        yield live


@pytest.fixture(autouse=True)
def _server_errors_fail_the_test(request: pytest.FixtureRequest) -> Iterator[None]:
    if "live_server" not in request.fixturenames:
        yield
        return
    live: LiveServer = request.getfixturevalue("live_server")
    before = len(live.errors)
    yield
    new = live.errors[before:]
    if new:
        pytest.fail("the service failed during the test:\n" + "\n\n".join(new), pytrace=False)


def _require_chromium() -> None:
    if Path(CHROMIUM).is_file():
        return
    problem = (
        f"Chromium not found at {CHROMIUM} "
        "(apt-get install chromium, or set AKTA_TEST_CHROMIUM to a Chromium binary)"
    )
    if in_ci():
        pytest.fail(f"CI=true runs the browser tests, but: {problem}", pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}")


# Package-scoped: Playwright's sync API keeps an event loop running in the main thread
# while it is open, and code run by later tests (pyHanko's signing) calls asyncio.run().
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    _require_chromium()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


_FAILED = pytest.StashKey[bool]()


#: In every page before its own scripts: each refusal of the page's policy reaches the
#: console, where the test sees it (an init script is not itself subject to the policy).
_REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) => {
  console.error("securitypolicyviolation: " + event.violatedDirective + " blocked "
    + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber);
});"""
_VIOLATIONS = pytest.StashKey[list[str]]()


def _is_csp_violation(text: str) -> bool:
    return text.startswith("securitypolicyviolation: ") or "Content Security Policy" in text


def _watch(page: Page, page_errors: list[str], violations: list[str]) -> None:
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    def console(message: Any) -> None:
        if message.type == "error" and _is_csp_violation(message.text):
            violations.append(f"{page.url}: {message.text}")

    page.on("console", console)


def csp_violations(request: pytest.FixtureRequest) -> list[str]:
    """What the pages of the running test were refused by their Content-Security-Policy."""
    return request.node.stash.setdefault(_VIOLATIONS, [])


def _save_artifacts(node: pytest.Item, contexts: list[BrowserContext]) -> None:
    folder = node.config.rootpath / ARTIFACTS / re.sub(r"[^\w.-]+", "_", node.nodeid)[-150:]
    folder.mkdir(parents=True, exist_ok=True)
    for number, context in enumerate(contexts, start=1):
        for tab, page in enumerate(context.pages, start=1):
            name = folder / f"person{number}-tab{tab}"
            try:
                page.screenshot(path=f"{name}.png", full_page=True)
                name.with_suffix(".html").write_text(page.content(), encoding="utf-8")
            except Exception as exc:  # a broken page must not hide the failure
                name.with_suffix(".txt").write_text(f"no screenshot: {exc}", encoding="utf-8")


@pytest.fixture
def new_context(
    request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer
) -> Iterator[Callable[..., BrowserContext]]:
    contexts: list[BrowserContext] = []
    page_errors: list[str] = []
    violations = csp_violations(request)
    server_errors_before = len(live_server.errors)

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(**{"base_url": live_server.url, "locale": "id-ID", **options})
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("page", lambda page: _watch(page, page_errors, violations))
        contexts.append(context)
        return context

    yield make
    failed = request.node.stash.get(_FAILED, False)
    if failed or page_errors or violations or len(live_server.errors) > server_errors_before:
        _save_artifacts(request.node, contexts)
    for context in contexts:
        context.close()
    if page_errors:
        pytest.fail("JavaScript errors on the page:\n" + "\n".join(page_errors), pytrace=False)
    if violations:
        pytest.fail("the Content-Security-Policy refused:\n" + "\n".join(violations), pytrace=False)


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context().new_page()


#: The two screens the pages are checked on: a parent's cheap phone, an office's monitor.
SCREENS: dict[str, dict[str, Any]] = {
    "phone": {
        "viewport": {"width": 360, "height": 740},
        "locale": "id-ID",
        "is_mobile": True,
        "has_touch": True,
    },
    "office": {"viewport": {"width": 1280, "height": 800}},
}


@pytest.fixture(params=sorted(SCREENS))
def screen(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Browser context options of each screen in turn (a test runs once per screen)."""
    return SCREENS[request.param]
