"""Domain errors and how the web layer answers them (RFC 9457 problem details)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A rule of the service refused an action; `code` is stable, `message` is for people."""

    status = 400
    code = "domain_error"
    title = "Permintaan tidak dapat diproses"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    #: English title, for clients that ask with Accept-Language: en.
    title_en = "The request cannot be processed"

    def to_problem(self, language: str = "id") -> dict[str, Any]:
        """The body of an application/problem+json answer, in Indonesian or English."""
        detail = dict(self.detail)
        message_en = detail.pop("message_en", None)
        english = language == "en"
        body = {
            "type": f"https://akta.invalid/problems/{self.code}",
            "title": self.title_en if english else self.title,
            "status": self.status,
            "detail": (message_en or self.message) if english else self.message,
            "code": self.code,
            **_jsonable(detail),
        }
        if english and isinstance(body.get("errors"), list):
            from akta_service.births.schemas import english_message

            body["errors"] = [
                {**e, "message": english_message(e.get("code", ""), e.get("message", ""))}
                for e in body["errors"]
            ]
        return body


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = "Tidak ditemukan"
    title_en = "Not found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
    title = "Tidak berwenang"
    title_en = "Not allowed"


class IllegalTransition(DomainError):
    """The trigger does not apply to the report's current state."""

    status = 409
    code = "illegal_transition"
    title = "Tindakan tidak berlaku pada status ini"
    title_en = "The action does not apply in this status"


class GuardRefused(DomainError):
    """The trigger applies, but a named guard says not now."""

    status = 409
    code = "guard_refused"
    title = "Tindakan belum dapat dilakukan"
    title_en = "The action cannot be taken yet"


class ConflictError(DomainError):
    """Someone else changed the record since it was read."""

    status = 409
    code = "conflict"
    title = "Data telah diubah oleh orang lain"
    title_en = "Someone else changed this record"


class TryAgain(DomainError):
    """Nothing was stored, for a reason that sending the same request again clears."""

    status = 503
    code = "try_again"
    title = "Coba kirim lagi"
    title_en = "Send it again"


class InvalidInput(DomainError):
    """Input failed validation; `errors` lists every field at once."""

    status = 422
    code = "invalid_input"
    title = "Data belum benar"
    title_en = "Some fields are not valid"


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
    from flask import has_request_context, request

    if not has_request_context():
        return "id"
    return request.accept_languages.best_match(["id", "en"], default="id") or "id"


def problem_response(body: dict[str, Any]) -> Response:
    response = jsonify(body)
    response.status_code = int(body["status"])
    response.mimetype = "application/problem+json"
    return response


#: What a person is told, in Indonesian, for the HTTP errors a page can run into.
PAGE_MESSAGES = {
    400: ("Permintaan tidak dapat diproses", "Muat ulang halaman lalu coba lagi."),
    403: (
        "Anda tidak berhak membuka halaman ini",
        "Peran akun Anda tidak mencakup halaman ini. Hubungi admin kantor bila Anda memerlukannya.",
    ),
    404: ("Halaman tidak ditemukan", "Periksa kembali alamatnya, atau kembali ke beranda."),
    405: ("Cara membuka halaman ini tidak didukung", "Kembali lalu gunakan tombol di halaman."),
    429: ("Terlalu banyak percobaan", "Tunggu sebentar, lalu coba lagi."),
}


def wants_a_page() -> bool:
    """A person's browser on a page (not the API) gets HTML, not problem+json."""
    from flask import request

    return not request.path.startswith("/api/") and request.accept_mimetypes.accept_html


def _page(status: int, title: str, advice: str) -> Response:
    from flask import render_template

    html = render_template("error.html", status=status, title=title, advice=advice)
    return Response(html, status=status, mimetype="text/html")


def error_page(error: HTTPException) -> Response:
    status = error.code or 500
    title, advice = PAGE_MESSAGES.get(status, (error.name, "Silakan coba lagi nanti."))
    return _page(status, title, advice)


def register_error_handlers(app: Flask) -> None:
    """Answer domain and HTTP errors as problem+json."""

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
        return _domain(
            TryAgain(
                "Layanan sesaat tidak dapat menyimpan. Tidak ada yang tersimpan; kirim sekali "
                "lagi.",
                message_en="The service could not store this for a moment. Nothing was "
                "stored; send it again.",
            )
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        messages = (getattr(error, "data", None) or {}).get("messages")
        if error.code == 422 and messages:
            # webargs (flask-smorest) refused the input: answer as our own validation does.
            from akta_service.births.schemas import flatten_errors

            location_free = {k: v for loc in messages.values() for k, v in loc.items()}
            return problem_response(
                InvalidInput(
                    "Data belum benar. Perbaiki kolom yang ditandai.",
                    errors=flatten_errors(location_free),
                    message_en="Some fields are not valid. Fix the fields listed.",
                ).to_problem(requested_language())
            )
        if wants_a_page():
            return error_page(error)
        return problem_response(
            {
                "type": "about:blank",
                "title": error.name,
                "status": error.code or 500,
                "detail": error.description,
                "code": (error.name or "error").lower().replace(" ", "_"),
            }
        )
