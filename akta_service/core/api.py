"""The JSON API for facilities: flask-smorest, OpenAPI 3 at /api/v1/openapi.json."""

from __future__ import annotations

import http
import json
from typing import Any

from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from marshmallow import INCLUDE, Schema
from marshmallow import fields as f
from webargs.flaskparser import FlaskParser

PROBLEM_JSON = "application/problem+json"


class FieldProblem(Schema):
    field = f.String(required=True)
    code = f.String(required=True)
    message = f.String(required=True)


class Problem(Schema):
    """RFC 9457 problem details, as every error of this API is answered."""

    class Meta:
        unknown = INCLUDE  # a problem may carry more members (state, allowed_triggers, ...)

    type = f.String(required=True)
    title = f.String(required=True)
    status = f.Integer(required=True)
    detail = f.String()
    code = f.String(required=True)
    errors = f.List(f.Nested(FieldProblem))


class ShallowJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with a body nested deeper than Python's stack is a bad request (400)
    like any other malformed body, not a crash (a RecursionError is no ValueError)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


class _ShallowParser(FlaskParser):
    """webargs' parser, answering a body nested too deeply as it answers malformed JSON."""

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            raise json.JSONDecodeError("JSON nested too deeply", doc="(nested)", pos=0) from exc


class ApiBlueprint(Blueprint):
    """A blueprint of the API (flask-smorest), parsing with the shallow parser."""

    ARGUMENTS_PARSER = _ShallowParser()


def init_json(app: Flask) -> None:
    """Every JSON body the app reads goes through :class:`ShallowJSONProvider`."""
    app.json = ShallowJSONProvider(app)


class AktaApi(Api):
    """flask-smorest, answering errors with the service's problem+json handlers."""

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self) -> None:
        """Errors are answered by core.errors for the whole app, not by flask-smorest."""

    def _register_responses(self) -> None:
        """Document every error response as the problem+json it is."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response(
            self.DEFAULT_ERROR_RESPONSE_NAME,
            {
                "description": "Problem details (RFC 9457)",
                "content": {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}},
            },
            lazy=True,
        )


api = AktaApi()

API_CONFIG = {
    "API_TITLE": "Brojol Aja Klalen: API pelaporan kelahiran",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    # The docs page loads Swagger UI from our own static folder (vendored from npm, see
    # static/vendor/swagger-ui/README.md): it works offline and talks to no other host.
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/static/vendor/swagger-ui/",
    # Swagger UI would otherwise send the spec to validator.swagger.io.
    "OPENAPI_SWAGGER_UI_CONFIG": {"validatorUrl": None},
    "API_SPEC_OPTIONS": {
        "info": {
            "description": (
                "Hospitals, puskesmas and midwives report births here. Authenticate with "
                "`Authorization: Bearer <token>` from `akta credentials create`."
            )
        },
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    },
}
