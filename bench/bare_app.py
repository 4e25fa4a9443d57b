"""The floor for bench/api.py: a bare Flask endpoint taking the same JSON body.

It parses the body, reads a few fields and answers 201 with a small JSON document, as
the real endpoint does, but with no database, validation, auth or queue. Served by
gunicorn as `bench.bare_app:app` with the same settings as the service.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/v1/births")
def submit() -> tuple[dict[str, Any], int, dict[str, str]]:
    payload = request.get_json()
    code = secrets.token_hex(5).upper()
    body = {
        "tracking_code": code,
        "status": "submitted",
        "child_name": payload["child"]["name"],
        "birth_date": payload["child"]["birth_date"],
        "links": {"self": f"/api/v1/births/{code}"},
    }
    return body, 201, {"Location": body["links"]["self"]}


@app.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
