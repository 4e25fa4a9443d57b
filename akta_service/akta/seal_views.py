"""What the offline verifier needs from us: the published seal keys, the signed status
list, and the verifier page itself with its service worker."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, Response, jsonify, render_template
from flask.typing import ResponseReturnValue

from akta_service.akta.models import AktaDocument
from akta_service.akta.seal_keys import key_set
from akta_service.core.clock import local_timezone
from akta_service.core.config import current_settings
from akta_service.core.db import db
from akta_service.core.limits import limiter
from akta_service.core.resources import resource_dir

bp = Blueprint("akta_seal", __name__)

#: Browsers and proxies may keep the keys and the status list this long (seconds).
PUBLIC_CACHE = "public, max-age=300"


def status_entries() -> list[tuple[str, int, str, date]]:
    """Every akta version no longer valid: annulled (first) or superseded, with the date."""
    rows = db.session.execute(
        sa.select(
            AktaDocument.registration_number,
            AktaDocument.version,
            AktaDocument.annulled_at,
            AktaDocument.superseded_at,
        )
        .where(sa.or_(AktaDocument.annulled_at.isnot(None), AktaDocument.superseded_at.isnot(None)))
        .order_by(AktaDocument.id)
    )
    from akta_service.akta.seal import ANNULLED, SUPERSEDED  # the seal loads ReportLab's text

    zone = local_timezone()
    entries = []
    for number, version, annulled, superseded in rows:
        status, moment = (ANNULLED, annulled) if annulled is not None else (SUPERSEDED, superseded)
        assert moment is not None  # noqa: S101 - the query selects only such rows
        entries.append((number, version, status, moment.astimezone(zone).date()))
    return entries


@bp.get("/.well-known/akta-keys.json")
def keys() -> ResponseReturnValue:
    """The office's seal keys, every one ever used (a key id names each seal's key)."""
    response = jsonify(key_set())
    response.headers["Cache-Control"] = PUBLIC_CACHE
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _address_limit() -> str:
    return current_settings().verify_rate_limit


@bp.get("/periksa-akta/status")
@limiter.limit(_address_limit)
def status() -> ResponseReturnValue:
    """The signed status list (COSE_Sign1, see akta.seal)."""
    from akta_service.akta.seal import status_list

    body = status_list(status_entries(), current_settings().public_base_url)
    return Response(
        body,
        mimetype="application/cose",
        headers={"Cache-Control": PUBLIC_CACHE, "Access-Control-Allow-Origin": "*"},
    )


@bp.get("/periksa-akta/")
def verifier() -> ResponseReturnValue:
    """The verifier: checks a scanned or pasted code in the browser, offline once opened."""
    return render_template("public/verifier.html")


@bp.get("/periksa-akta/sw.js")
def service_worker() -> ResponseReturnValue:
    """The service worker that keeps the verifier, the keys and the status list offline
    (served here so that its scope is /periksa-akta/)."""
    script = (resource_dir("static") / "verifier" / "sw.js").read_bytes()
    return Response(script, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})
