"""The public verification page behind the QR code: no login, rate limited."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue

from akta_service.akta.models import AktaDocument
from akta_service.akta.operations import current_akta
from akta_service.births.models import BirthReport
from akta_service.core.config import current_settings
from akta_service.core.db import db
from akta_service.core.limits import hashed_key, limiter

bp = Blueprint("akta_public", __name__)

#: Largest upload accepted for comparison: an akta is well under 1 MB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def mask_name(name: str) -> str:
    """ "AISYAH PUTRI" -> "AIS*** PU***": enough to recognise, not enough to learn."""
    words = []
    for word in name.split():
        keep = max(1, min(3, len(word) // 2))
        words.append(word[:keep] + "*" * (len(word) - keep))
    return " ".join(words)


def _document(token: str) -> tuple[AktaDocument, BirthReport, AktaDocument | None]:
    document = db.session.scalar(
        sa.select(AktaDocument).where(AktaDocument.verification_token == token)
    )
    if document is None:
        abort(404)
    report = db.session.get(BirthReport, document.report_id)
    assert report is not None  # noqa: S101 - a foreign key guarantees it
    current = current_akta(report) if document.superseded_at is not None else None
    return document, report, current


def _akta_key() -> str:
    """Checks count per akta, from whatever address: one akta cannot be hammered."""
    return hashed_key("akta", str((request.view_args or {}).get("token", "")))


def _address_limit() -> str:
    return current_settings().verify_rate_limit


@bp.route("/verifikasi/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", key_func=_akta_key)
@limiter.limit(_address_limit)
def verify(token: str) -> ResponseReturnValue:
    """Confirm an akta exists; optionally compare an uploaded PDF with the issued one."""
    document, report, current = _document(token)
    comparison = None
    if request.method == "POST":
        upload = request.files.get("pdf")
        data = upload.read(MAX_UPLOAD_BYTES + 1) if upload else b""
        if not data:
            comparison = {"ok": False, "message": "Pilih berkas PDF akta yang ingin diperiksa."}
        elif len(data) > MAX_UPLOAD_BYTES:
            comparison = {"ok": False, "message": "Berkas terlalu besar (maksimal 5 MB)."}
        else:
            digest = hashlib.sha256(data).hexdigest()
            same = digest == document.sha256
            comparison = {
                "ok": same,
                "sha256": digest,
                "message": (
                    "Berkas ini sama persis dengan akta yang diterbitkan."
                    if same
                    else "Berkas ini TIDAK sama dengan akta yang diterbitkan: isinya telah "
                    "berubah atau berkas lain."
                ),
            }
    return render_template(
        "public/verify.html",
        document=document,
        child_name=mask_name(report.child_name),
        birth_date=report.child_birth_date,
        current=current,
        comparison=comparison,
    )
