"""The API docs page at /api/v1/docs works offline: everything it loads comes from us."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient

import akta_service

DOCS = "/api/v1/docs"
VENDOR = Path(akta_service.__file__).parent / "static" / "vendor" / "swagger-ui"
#: Anything that looks like a URL with a host: http://x, https://x or //x.
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)
CONTENT_TYPES = {
    ".css": {"text/css"},
    ".js": {"text/javascript", "application/javascript"},
}


class _Assets(HTMLParser):
    """The URLs a page makes the browser fetch: script src and link href."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def _page_assets(client: FlaskClient) -> tuple[str, list[str]]:
    response = client.get(DOCS)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    parser = _Assets()
    parser.feed(html)
    return html, parser.urls


def test_the_docs_page_is_html_that_loads_only_from_our_origin(client: FlaskClient) -> None:
    response = client.get(DOCS)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html, urls = _page_assets(client)
    assert "/static/api/docs.js" in urls, "the script that starts Swagger UI"
    assert '"/api/v1/openapi.json"' in html, "the page must load our own spec"
    assert len(urls) == 4, urls  # the stylesheet, the preset, the bundle and our start-up
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme, f"{url} is loaded from another host"
        assert not parts.netloc, f"{url} is loaded from another host"
        assert parts.path.startswith(("/static/vendor/swagger-ui/", "/static/api/")), url
    assert ABSOLUTE_URL.findall(html) == [], "no URL to another host anywhere in the page"
    # Swagger UI sends the spec to validator.swagger.io unless told not to.
    assert '"validatorUrl": null' in html


def test_every_asset_the_docs_page_loads_is_served(client: FlaskClient) -> None:
    _, urls = _page_assets(client)
    for url in urls:
        with client.get(url) as asset:  # a static file response holds the file open
            assert asset.status_code == 200, url
            expected = CONTENT_TYPES[Path(urlsplit(url).path).suffix]
            assert asset.mimetype in expected, f"{url} served as {asset.mimetype}"
            body = asset.get_data(as_text=True)
        if "/vendor/" in url:
            assert len(body) > 10_000, f"{url} looks truncated ({len(body)} characters)"
        if url.endswith(".css"):
            # A stylesheet may fetch fonts and images: none of them from another host.
            assert not re.findall(r"url\(\s*['\"]?(?:https?:)?//", body), url
            assert "@import" not in body, url


def test_the_spec_the_docs_page_reads_is_served(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.mimetype == "application/json"
    assert "/api/v1/births" in spec.get_json()["paths"]


@pytest.mark.parametrize("name", ["LICENSE", "NOTICE", "README.md"])
def test_the_vendored_swagger_ui_keeps_its_licence_and_provenance(name: str) -> None:
    assert (VENDOR / name).is_file(), f"static/vendor/swagger-ui/{name} is missing"


def test_the_provenance_note_names_the_version_actually_vendored() -> None:
    bundle = (VENDOR / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    vendored = re.search(r'PACKAGE_VERSION:"([0-9.]+)"', bundle)
    assert vendored is not None, "swagger-ui-bundle.js carries no PACKAGE_VERSION"
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert f"swagger-ui-dist {vendored.group(1)} " in readme
