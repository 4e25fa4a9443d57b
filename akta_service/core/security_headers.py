"""The headers every answer carries: what the browser may load and run, framing, caching.

Pages load scripts and styles only from files of this service (no inline script, no
`style=` attribute, no `<style>` block), no page may be framed, and an answer with a
family's or the office's data is never stored by a browser or a proxy. A view that sets a
stricter header of its own (an uploaded document: `default-src 'none'`) keeps it.
"""

from __future__ import annotations

from flask import Flask, Response, request

from akta_service.core.config import current_settings

#: Every page: our own files only, nothing inline, never in a frame.
POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: The API docs (Swagger UI): as strict, but its stylesheet draws its icons as data: images.
DOCS_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
#: Endpoints with a policy of their own.
ROUTE_POLICIES = {"api-docs.openapi_swagger_ui": DOCS_POLICY}
#: Where answers show personal data (the office, the parents' form and status pages, the
#: public akta check, the facilities' API): never stored by a browser or a proxy.
PRIVATE_PREFIXES = (
    "/kantor",
    "/lapor",
    "/status",
    "/verifikasi",
    "/api/v1/births",
    "/api/v1/webhook",
)
#: A year, and every subdomain: once a browser has seen the service over HTTPS it never
#: talks to it over HTTP again.
HSTS = "max-age=31536000; includeSubDomains"


_PRIVATE_FOLDERS = tuple(prefix + "/" for prefix in PRIVATE_PREFIXES)


def _is_private(path: str) -> bool:
    return path in PRIVATE_PREFIXES or path.startswith(_PRIVATE_FOLDERS)


def add_security_headers(response: Response) -> Response:
    """The headers of :mod:`this module <akta_service.core.security_headers>` on `response`."""
    headers = response.headers
    # The names the answer has, read once: a lookup per header (werkzeug's Headers walks
    # its list for each) was most of this hook's cost on an API answer.
    present = {name.lower() for name, _ in headers}
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", ROUTE_POLICIES.get(request.endpoint or "", POLICY))
    if "x-content-type-options" not in present:
        headers.add("X-Content-Type-Options", "nosniff")
    if "x-frame-options" not in present:
        headers.add("X-Frame-Options", "DENY")  # frame-ancestors for older browsers
    # Same-origin: addresses with tracking codes and tokens stay inside the service, and
    # the CSRF check of a form sent over HTTPS still finds the Referer it requires.
    if "referrer-policy" in present:
        headers["Referrer-Policy"] = "same-origin"
    else:
        headers.add("Referrer-Policy", "same-origin")
    if _is_private(request.path) and (
        "cache-control" not in present or "no-store" not in headers["Cache-Control"]
    ):
        headers["Cache-Control"] = "no-store"
    if current_settings().is_production:
        headers["Strict-Transport-Security"] = HSTS
    return response


def init_security_headers(app: Flask) -> None:
    """Every answer of `app` carries the headers."""
    app.after_request(add_security_headers)
