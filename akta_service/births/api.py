"""Facility API for birth reports: submit, follow."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema
from marshmallow import fields as f

from akta_service.births.models import BirthReport, Channel, VerificationCheck
from akta_service.births.operations import (
    get_report_by_tracking_code,
    load_report_input,
    submit_birth_report,
)
from akta_service.births.schemas import BirthReportInput
from akta_service.core.api import require_facility
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.errors import IllegalTransition, NotFound
from akta_service.facilities.operations import facility_actor

blp = Blueprint(
    "births_api", __name__, url_prefix="/api/v1/births", description="Laporan kelahiran"
)


class CheckOut(Schema):
    name = f.String()
    outcome = f.String()
    message = f.String()
    #: The report fields to correct ("mother.name", ...).
    field_names = f.List(f.String(), data_key="fields")
    checked_at = f.DateTime()


class JournalOut(Schema):
    action = f.String()
    from_state = f.String(allow_none=True)
    to_state = f.String(allow_none=True)
    reason = f.String(allow_none=True)
    actor_role = f.String()
    occurred_at = f.DateTime()


class BirthReportOut(Schema):
    tracking_code = f.String()
    status = f.String()
    version = f.Integer()
    flags = f.List(f.String())
    registration_number = f.String(allow_none=True)
    child_nik = f.String(allow_none=True)
    submitted_at = f.DateTime()
    updated_at = f.DateTime()
    checks = f.List(f.Nested(CheckOut))
    journal = f.List(f.Nested(JournalOut))
    links = f.Dict(keys=f.String(), values=f.String())


def _own_report(tracking_code: str) -> BirthReport:
    """The facility's report; another facility's report is answered as not found."""
    report = get_report_by_tracking_code(tracking_code)
    if report.facility_code != g.credential.facility_code:
        raise NotFound("Kode pelacakan tidak ditemukan. Periksa kembali kodenya.")
    return report


def _latest_checks(report: BirthReport) -> list[dict[str, Any]]:
    latest = db.session.scalar(
        sa.select(sa.func.max(VerificationCheck.report_version)).where(
            VerificationCheck.report_id == report.id
        )
    )
    rows = db.session.scalars(
        sa.select(VerificationCheck)
        .where(VerificationCheck.report_id == report.id, VerificationCheck.report_version == latest)
        .order_by(VerificationCheck.id)
    )
    return [
        {
            "name": row.name,
            "outcome": str(row.outcome),
            "message": row.message,
            "field_names": row.detail.get("fields", []),
            "checked_at": row.checked_at,
        }
        for row in rows
    ]


def _journal(report: BirthReport) -> list[JournalEntry]:
    return list(
        db.session.scalars(
            sa.select(JournalEntry)
            .where(JournalEntry.report_id == report.id, JournalEntry.report_version.is_not(None))
            .order_by(JournalEntry.id)
        )
    )


def report_body(report: BirthReport) -> dict[str, Any]:
    """What a facility may see of its report."""
    return {
        "tracking_code": report.tracking_code,
        "status": str(report.status),
        "version": report.version,
        "flags": report.flags,
        "registration_number": report.registration_number,
        "child_nik": report.child_nik,
        "submitted_at": report.submitted_at,
        "updated_at": report.updated_at,
        "checks": _latest_checks(report),
        "journal": _journal(report),
        "links": {
            "self": url_for("births_api.BirthReportItem", tracking_code=report.tracking_code)
        },
    }


@blp.route("")
class BirthReportCollection(MethodView):
    decorators = [require_facility]  # noqa: RUF012

    @blp.doc(requestBody={"content": {"application/json": {"schema": BirthReportInput}}})
    @blp.response(201, BirthReportOut)
    def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Report a birth; verification with Dukcapil starts at once."""
        data = load_report_input(request.get_json())
        report = submit_birth_report(
            data,
            Channel.FACILITY_API,
            facility_actor(g.credential),
            facility_code=g.credential.facility_code,
        )
        body = report_body(report)
        return body, 201, {"Location": body["links"]["self"]}


@blp.route("/<tracking_code>")
class BirthReportItem(MethodView):
    decorators = [require_facility]  # noqa: RUF012

    @blp.response(200, BirthReportOut)
    def get(self, tracking_code: str) -> dict[str, Any]:
        """Status, flags, verification checks, registration number and journal of a report."""
        return report_body(_own_report(tracking_code))


@blp.route("/<tracking_code>/akta.pdf")
class BirthReportAkta(MethodView):
    decorators = [require_facility]  # noqa: RUF012

    @blp.response(200, content_type="application/pdf")
    def get(self, tracking_code: str) -> Response:
        """The signed akta in force (after a correction: the newest version)."""
        from akta_service.akta.operations import akta_pdf, current_akta

        report = _own_report(tracking_code)
        document = current_akta(report)
        if document is None:
            raise IllegalTransition(
                f"Akta belum terbit: laporan berstatus '{report.status}'.",
                state=str(report.status),
            )
        response = Response(akta_pdf(document), mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="akta-{document.registration_number}.pdf"'
        )
        response.headers["X-Akta-Sha256"] = document.sha256
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
