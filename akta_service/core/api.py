"""The JSON API for facilities: flask-smorest, OpenAPI 3 at /api/v1/openapi.json."""

from __future__ import annotations

import copy
import http
import json
from typing import Any

from apispec import BasePlugin
from flask import Flask, Request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from marshmallow import INCLUDE, Schema
from marshmallow import fields as f
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request

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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_strictly(text: str | bytes, **kwargs: Any) -> Any:
    """JSON as RFC 8259 has it: UTF-8 (Python's json would take UTF-16 and UTF-8 encoded
    surrogates too), no NaN or Infinity, and a document nested deeper than Python's stack is
    malformed like any other (a RecursionError is no ValueError). Every problem is a
    ValueError, as an integer of more digits than Python converts is."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")  # strict: a UnicodeDecodeError is a ValueError
    try:
        return json.loads(text, parse_constant=_no_constant, **kwargs)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


class ShallowJSONProvider(DefaultJSONProvider):
    """Flask's JSON, read strictly (:func:`loads_strictly`): a bad body is a 400."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return loads_strictly(s, **kwargs)


class _ShallowParser(FlaskParser):
    """webargs' parser, reading strictly and answering every malformed body as it answers
    malformed JSON (a 400)."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return missing
        try:
            return loads_strictly(req.get_data(cache=True))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise
        except ValueError as exc:
            raise json.JSONDecodeError(str(exc), doc="(malformed)", pos=0) from exc


class ApiBlueprint(Blueprint):
    """A blueprint of the API (flask-smorest), parsing with the shallow parser."""

    ARGUMENTS_PARSER = _ShallowParser()


def init_json(app: Flask) -> None:
    """Every JSON body the app reads goes through :class:`ShallowJSONProvider`."""
    app.json = ShallowJSONProvider(app)


class SchemaRules(BasePlugin):
    """A marshmallow schema's `OPENAPI` class attribute is merged into the JSON schema apispec
    writes for it: rules across its fields (a oneOf), a description, and `properties` that
    replace apispec's own (a nullable nested schema is "any object or null" in apispec's
    OpenAPI 3.0, not "this schema or null")."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> Any:
        schema = kwargs.get("schema")
        cls = schema if isinstance(schema, type) else type(schema)
        extra = copy.deepcopy(getattr(cls, "OPENAPI", None))
        if not extra:
            return None
        if "properties" in extra:
            extra["properties"] = {**definition.get("properties", {}), **extra["properties"]}
        return extra


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


api = AktaApi(spec_kwargs={"extra_plugins": [SchemaRules()]})

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
