"""The parents' and the office's main pages in Chromium under their Content-Security-Policy:
nothing refused, and what runs on script and stylesheets still works.

The browser fixtures fail any test whose pages were refused something by their policy; here
the main pages are walked through on purpose, and a probe proves the watch sees a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from akta_service.core.security_headers import DOCS_POLICY, POLICY
from tests.browser.conftest import LiveServer, csp_violations
from tests.browser.office import (
    add_staff,
    claim,
    open_from_queue,
    sign_in,
    submit_report,
    wait_for_status,
)
from tests.browser.parents import begin, fill_fields, phone
from tests.files import jpeg_bytes
from tests.parents.form import form_answers

NewContext = Callable[..., BrowserContext]


def _goto(page: Page, url: str, policy: str = POLICY) -> None:
    response = page.goto(url)
    assert response is not None, url
    assert response.ok, url
    assert response.headers["content-security-policy"] == policy, url
    page.wait_for_load_state("load")


def _styled(page: Page) -> None:
    """The page's stylesheet from its file applies (base.css: the page's background)."""
    page.wait_for_load_state("load")  # stylesheets included
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(250, 250, 250)", f"{page.url}: base.css not applied"


def test_the_watch_sees_what_a_policy_refuses(
    request: pytest.FixtureRequest, new_context: NewContext, live_server: LiveServer
) -> None:
    context = new_context()

    def probe(route: Route) -> None:
        route.fulfill(
            status=200,
            headers={"Content-Type": "text/html", "Content-Security-Policy": POLICY},
            body=(
                '<!doctype html><p style="color: red">x</p><script>document.title = "ran"</script>'
            ),
        )

    context.route("**/csp-probe", probe)
    page = context.new_page()
    page.goto(f"{live_server.url}/csp-probe")
    page.wait_for_load_state("load")
    assert page.title() != "ran", "the inline script ran"
    found = csp_violations(request)
    expect(page.locator("p")).to_have_text("x")
    assert any("script-src" in v for v in found), found
    assert any("style-src" in v for v in found), found
    found.clear()  # seen on purpose: the fixture must not fail this test for them


def test_the_parents_pages_work_under_their_policy(
    request: pytest.FixtureRequest, live_server: LiveServer, new_context: NewContext
) -> None:
    answers = form_answers(live_server.family("recorded")["example_report"])
    page = phone(new_context)
    _goto(page, "/")
    _styled(page)
    begin(page)
    _styled(page)
    # The form's script (static/parents/form.js) checks the NIK as it is typed.
    page.get_by_role("button", name="Simpan dan lanjutkan").click()
    expect(page.locator("#error-summary")).to_be_focused()  # the script moved the focus
    fill_fields(page, answers["bayi"])
    page.get_by_role("button", name="Simpan dan lanjutkan").click()
    expect(page).to_have_url(re.compile(r"/lapor/ibu$"))
    page.wait_for_load_state("load")  # the form's script listens once the page has loaded
    nik = page.get_by_label("NIK", exact=True)
    nik.fill(answers["ibu"]["mother.nik"][:15])
    nik.blur()
    expect(page.locator("#live-f-mother-nik")).to_have_text("NIK harus 16 angka")
    _goto(page, "/status")
    _styled(page)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert csp_violations(request) == []


def test_the_office_pages_and_the_api_docs_work_under_their_policy(
    request: pytest.FixtureRequest, live_server: LiveServer, new_context: NewContext
) -> None:
    code = submit_report(live_server, documents=[("birth_letter", jpeg_bytes())])
    wait_for_status(live_server, code, "in_review")
    operator = sign_in(new_context, add_staff(live_server, "operator", "Tono Operator"))
    _styled(operator)
    open_from_queue(operator, code, "Perlu diperiksa")
    claim(operator)
    # The report page's own stylesheet (office/report.css) lays its data out as a grid.
    operator.wait_for_load_state("load")
    display = operator.evaluate("() => getComputedStyle(document.querySelector('dl.data')).display")
    assert display == "grid"
    picture = operator.locator("figure.document img").first
    expect(picture).to_be_visible()
    assert operator.evaluate("(img) => img.naturalWidth", picture.element_handle()) > 0

    _goto(operator, "/kantor/dasbor")
    bar = operator.locator("#queue-chart .bar").first
    expect(bar).to_be_visible()
    # The bars are drawn by office/dashboard.css: its colour, and a length by class (w-0 to
    # w-100) so that a shorter queue is a shorter bar.
    colour = operator.evaluate("(el) => getComputedStyle(el).backgroundColor", bar.element_handle())
    assert colour == "rgb(11, 83, 148)"
    widths = operator.evaluate(
        """() => Array.from(document.querySelectorAll("#queue-chart .bar")).map((bar) =>
             [Number(/w-(\\d+)/.exec(bar.className)[1]), bar.getBoundingClientRect().width])"""
    )
    longest = max(width for _, width in widths)
    for share, width in widths:
        if share <= 50:
            assert width < longest, widths

    _goto(operator, "/api/v1/docs", DOCS_POLICY)
    # Swagger UI, started from static/api/docs.js, has read the spec and lists the API.
    expect(operator.get_by_text("/api/v1/births/{tracking_code}", exact=True).first).to_be_visible()
    # An operation opens on a click, with its example body highlighted.
    operator.locator(".opblock-post .opblock-summary").first.click()
    expect(operator.locator(".opblock-post .opblock-body").first).to_be_visible()
    expect(operator.get_by_text("Request body").first).to_be_visible()
    assert csp_violations(request) == []
