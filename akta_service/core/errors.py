"""Domain errors and how the web layer answers them (RFC 9457 problem details).

Every word of an error comes from core.messages by its code: a DomainError carries the code
of its message (`reason`) and the message's parameters, which are also members of the
problem; a FieldError carries a field, a code and parameters. Both are put into words only
when they are shown, in the language of whoever reads them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import (
    Flask,
    Response,
    abort,
    has_request_context,
    jsonify,
    render_template,
    request,
)
from flask_babel import force_locale
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from akta_service.core.labels import labelled_parameters
from akta_service.core.messages import MESSAGES, markup, message, message_in


@dataclasses.dataclass(frozen=True)
class FieldError:
    """One field's problem: `code` is stable (core.messages names its text), `params` fill
    the text in."""

    field: str
    code: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def message(self) -> Markup:
        """The text in the current language (the page's, or Indonesian), ready for a page."""
        return markup(self.code, **self.params)

    def as_problem(self, language: str) -> dict[str, str]:
        """The member of a problem's `errors` list, in `language`."""
        return {
            "field": self.field,
            "code": self.code,
            "message": message_in(language, self.code, **self.params),
        }


def field_errors(messages: Mapping[Any, Any] | list[Any], prefix: str = "") -> list[FieldError]:
    """marshmallow's nested messages as FieldErrors, one per problem, at dotted paths.

    The service's schemas give a message code as marshmallow's message; any other text
    (marshmallow's own defaults, as webargs reports them) is the code "invalid".
    """
    if isinstance(messages, list):
        return [
            FieldError(prefix or "_schema", m if m in MESSAGES else "invalid")
            for m in messages
            if not isinstance(m, dict)
        ]
    found: list[FieldError] = []
    for key, value in messages.items():
        name = str(key) if key != "_schema" else ""
        path = ".".join(p for p in (prefix, name) if p)
        found.extend(field_errors([value] if isinstance(value, str) else value, path))
    return found


class DomainError(Exception):
    """A rule of the service refused an action.

    `code` names the kind of problem and its title; `reason` the message (the code itself
    when none is given); the keyword arguments are the message's parameters and the
    problem's further members.
    """

    status = 400
    code = "domain_error"

    def __init__(self, reason: str | None = None, /, **detail: Any) -> None:
        self.reason = reason or self.code
        self.detail = detail
        super().__init__(self.reason)

    @property
    def title(self) -> str:
        return message(self.code)

    @property
    def message(self) -> str:
        """What a person is told, in the current language (Indonesian outside a request):
        internal names (states, triggers, roles) by their labels."""
        return message(self.reason, **labelled_parameters(self.detail))

    def __str__(self) -> str:
        """The Indonesian text, for logs and the command line."""
        return message_in("id", self.reason, **self._shown_in("id"))

    def _shown_in(self, language: str) -> dict[str, Any]:
        """The parameters labelled in `language`; the problem's members keep the names."""
        with force_locale(language):
            return labelled_parameters(self.detail)

    def to_problem(self, language: str = "id") -> dict[str, Any]:
        """The body of an application/problem+json answer, in Indonesian or English."""
        detail = {
            name: (
                [e.as_problem(language) if isinstance(e, FieldError) else e for e in value]
                if name == "errors"
                else value
            )
            for name, value in self.detail.items()
        }
        return {
            "type": f"https://akta.invalid/problems/{self.code}",
            "title": message_in(language, self.code),
            "status": self.status,
            "detail": message_in(language, self.reason, **self._shown_in(language)),
            "code": self.code,
            **_jsonable(detail),
        }


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class IllegalTransition(DomainError):
    """The trigger does not apply to the report's current state."""

    status = 409
    code = "illegal_transition"


class GuardRefused(DomainError):
    """The trigger applies, but a named guard says not now."""

    status = 409
    code = "guard_refused"


class ConflictError(DomainError):
    """Someone else changed the record since it was read."""

    status = 409
    code = "conflict"


class TryAgain(DomainError):
    """Nothing was stored, for a reason that sending the same request again clears."""

    status = 503
    code = "try_again"


class InvalidInput(DomainError):
    """Input failed validation; `errors` lists every field at once (FieldErrors)."""

    status = 422
    code = "invalid_input"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def requested_language() -> str:
    """ "en" when the client prefers English (Accept-Language), else Indonesian."""
    if not has_request_context():
        return "id"
    return request.accept_languages.best_match(["id", "en"], default="id") or "id"


def problem_response(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = int(body["status"])
    response.mimetype = "application/problem+json"
    return response


#: What a person is told, in Indonesian, for the HTTP errors a page can run into.
#: HTTP statuses whose page has its own title and advice (`page_<status>_title`, `_advice`).
PAGE_STATUSES = (400, 403, 404, 405, 413, 429)


def wants_a_page() -> bool:
    """A person's browser on a page (not the API) gets HTML, not problem+json."""
    return not request.path.startswith("/api/") and request.accept_mimetypes.accept_html


def _page(status: int, title: str, advice: str) -> Response:
    html = render_template("error.html", status=status, title=title, advice=advice)
    return Response(html, status=status, mimetype="text/html")


def error_page(error: HTTPException, advice: str | None = None) -> Response:
    """The page for an HTTP error; `advice` replaces the status's own (a 429 says when)."""
    status = error.code or 500
    if status not in PAGE_STATUSES:
        return _page(status, error.name, advice or message("page_other_advice"))
    title = message(f"page_{status}_title")
    return _page(status, title, advice or message(f"page_{status}_advice"))


def _no_nul_in_the_address() -> None:
    """No address of the service has a NUL in it, and PostgreSQL cannot even compare text
    holding one: such a path is not found before a view looks anything up with it."""
    if "\x00" in request.path:
        abort(404)


def register_error_handlers(app: Flask) -> None:
    """Answer domain and HTTP errors as problem+json."""
    app.before_request(_no_nul_in_the_address)

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        if wants_a_page():
            response = _page(error.status, error.title, error.message)
        else:
            response = problem_response(error.to_problem(requested_language()))
        if error.status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="akta"'
        if error.status == 503:
            response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(sa.exc.DBAPIError)
    def _database(error: sa.exc.DBAPIError) -> Response:
        if not error.connection_invalidated:
            raise error  # a fault of ours: 500, logged with its traceback
        # The database connection broke under the request (a restart, a failover): the
        # transaction never committed, and the pool has already dropped its old connections.
        return _domain(TryAgain("database_unavailable"))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        messages = (getattr(error, "data", None) or {}).get("messages")
        if error.code == 422 and messages:
            # webargs (flask-smorest) refused the input: answer as our own validation does.
            location_free = {k: v for loc in messages.values() for k, v in loc.items()}
            return problem_response(
                InvalidInput("fields_invalid", errors=field_errors(location_free)).to_problem(
                    requested_language()
                )
            )
        if wants_a_page():
            response = error_page(error)
        elif error.code == 413:
            # Werkzeug's limits (MAX_CONTENT_LENGTH, a field's or the parts' count): what
            # they are, in the client's language.
            language = requested_language()
            response = problem_response(
                {
                    "type": "about:blank",
                    "title": message_in(language, "page_413_title"),
                    "status": 413,
                    "detail": message_in(language, "page_413_advice"),
                    "code": "payload_too_large",
                }
            )
        else:
            response = problem_response(
                {
                    "type": "about:blank",
                    "title": error.name,
                    "status": error.code or 500,
                    "detail": error.description,
                    "code": (error.name or "error").lower().replace(" ", "_"),
                }
            )
        # The headers the error itself carries: a 405's Allow (the methods that would
        # work), a 401's WWW-Authenticate, a 429's Retry-After. The body is ours.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response
