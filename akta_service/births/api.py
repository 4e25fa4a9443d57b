"""Facility API for birth reports: submit, follow."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, g, request, url_for
from flask.views import MethodView
from marshmallow import Schema, ValidationError
from marshmallow import fields as f
from marshmallow.validate import Length, OneOf, Range, Regexp

from akta_service.akta.corrections import (
    correction_requests,
    request_akta_correction,
    requested_changes,
)
from akta_service.akta.models import CorrectionStatus
from akta_service.akta.operations import akta_pdf, current_akta
from akta_service.births.documents import attach_document, read_upload, upload_request_body
from akta_service.births.models import (
    BirthReport,
    Channel,
    Document,
    DocumentKind,
    ReportStatus,
)
from akta_service.births.operations import (
    get_report_by_tracking_code,
    load_report_input,
    resubmit_corrected,
    submit_birth_report,
)
from akta_service.births.queries import latest_checks
from akta_service.births.schemas import AktaCorrectionInput, BirthReportInput, Text
from akta_service.core.api import ApiBlueprint
from akta_service.core.audit import changes, changes_of_new_report
from akta_service.core.db import UTCDateTime, db
from akta_service.core.errors import IllegalTransition, NotFound
from akta_service.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from akta_service.core.limits import per_credential
from akta_service.facilities.auth import require_facility
from akta_service.facilities.operations import facility_actor
from akta_service.workflow.engine import fire

blp = ApiBlueprint(
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


def _item_link(path: str, method: str) -> dict[str, Any]:
    """An OpenAPI link from a report's answer to an operation on that report."""
    pointer = "/api/v1/births/{tracking_code}" + path
    return {
        "operationRef": "#/paths/" + pointer.replace("~", "~0").replace("/", "~1") + f"/{method}",
        "parameters": {"tracking_code": "$response.body#/tracking_code"},
    }


#: What a client can do next with the report an answer describes (OpenAPI links).
REPORT_LINKS = {
    "follow": _item_link("", "get"),
    "correct": _item_link("", "put"),
    "cancel": _item_link("/cancel", "post"),
    "attach_document": _item_link("/documents", "post"),
    "akta": _item_link("/akta.pdf", "get"),
    "request_akta_correction": _item_link("/akta-corrections", "post"),
    "akta_corrections": _item_link("/akta-corrections", "get"),
}


def _links(status: int) -> dict[str, Any]:
    return {"responses": {str(status): {"links": REPORT_LINKS}}}


def _own_report(tracking_code: str) -> BirthReport:
    """The facility's report; another facility's report is answered as not found."""
    report = get_report_by_tracking_code(tracking_code)
    if report.facility_code != g.credential.facility_code:
        raise NotFound("tracking_code_unknown")
    return report


def _checks(report: BirthReport) -> list[dict[str, Any]]:
    return [
        {
            "name": row.name,
            "outcome": str(row.outcome),
            "message": row.for_reporter,
            "field_names": row.detail.get("fields", []),
            "checked_at": row.checked_at,
        }
        for row in latest_checks(report.id)
    ]


def report_body(report: BirthReport, *, just_submitted: bool = False) -> dict[str, Any]:
    """What a facility may see of its report.

    :param just_submitted: the report was created by this request: it has no checks yet,
        and its journal is all in the session, so neither is looked up.
    """
    return {
        "tracking_code": report.tracking_code,
        "status": str(report.status),
        "version": report.version,
        "flags": report.flags,
        "registration_number": report.registration_number,
        "child_nik": report.child_nik,
        "submitted_at": report.submitted_at,
        "updated_at": report.updated_at,
        "checks": [] if just_submitted else _checks(report),
        "journal": changes_of_new_report(report) if just_submitted else changes(report.id),
        "links": {
            "self": url_for("births_api.BirthReportItem", tracking_code=report.tracking_code)
        },
    }


#: RFC 3339 with its offset, as the OpenAPI description says it (format date-time with this
#: pattern): Python would also take a time without a zone, or a week date.
DATE_TIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,9})?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
_DATE_TIME = re.compile(DATE_TIME_PATTERN)


class Moment(f.Field):
    """A moment with its offset, in UTC; the earliest and latest moments a zone can write
    (0001-01-01T00:00:00+01:00 is before any UTC datetime) are kept at the edge."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or not _DATE_TIME.match(value):
            raise ValidationError("date_time")
        # Python reads at most six digits of a fraction.
        text = re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as exc:
            raise ValidationError("date_time") from exc
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            edge = datetime.min if moment.year == 1 else datetime.max
            return edge.replace(tzinfo=UTC)


#: A position in the list: the last item's change as microseconds since 1970 and its id.
CURSOR_PATTERN = r"^[0-9]{1,16}_[0-9]{1,18}$"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ListQuery(Schema):
    status = f.String(validate=OneOf([str(st) for st in ReportStatus]))
    updated_since = Moment()
    cursor = f.String(
        validate=Regexp(CURSOR_PATTERN, error="cursor_unknown"),
        metadata={"description": "next_cursor of the page before"},
    )
    limit = f.Integer(load_default=50, validate=Range(min=1, max=200))


class BirthReportPage(Schema):
    items = f.List(f.Nested(BirthReportOut))
    next_cursor = f.String(allow_none=True)


class CancelIn(Schema):
    reason = Text(load_default=None, allow_none=True, validate=Length(max=500), multiline=True)


class DocumentOut(Schema):
    id = f.Integer()
    kind = f.String()
    content_type = f.String()
    size_bytes = f.Integer()
    sha256 = f.String()
    pages = f.Integer()
    uploaded_at = f.DateTime()


def _cursor(report: BirthReport) -> str:
    moment = report.updated_at - _EPOCH
    micros = (moment.days * 86_400 + moment.seconds) * 1_000_000 + moment.microseconds
    return f"{micros}_{report.id}"


def _after_cursor(cursor: str) -> tuple[datetime, int]:
    """The position a cursor names (its pattern is checked): any position, even one no
    report has, is a place in the list."""
    micros, report_id = cursor.split("_")
    return _EPOCH + timedelta(microseconds=int(micros)), int(report_id)


@blp.route("")
class BirthReportCollection(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.arguments(ListQuery, location="query", as_kwargs=True)
    @blp.response(200, BirthReportPage)
    def get(
        self,
        limit: int,
        status: str | None = None,
        updated_since: datetime | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """The facility's own reports, oldest change first; follow next_cursor for more."""
        query = sa.select(BirthReport).where(
            BirthReport.facility_code == g.credential.facility_code
        )
        if status:
            query = query.where(BirthReport.status == ReportStatus(status))
        if updated_since:
            query = query.where(BirthReport.updated_at >= updated_since)
        if cursor:
            moment, report_id = _after_cursor(cursor)
            query = query.where(
                sa.tuple_(BirthReport.updated_at, BirthReport.id)
                > sa.tuple_(sa.literal(moment, UTCDateTime()), sa.literal(report_id))
            )
        rows = db.session.scalars(
            query.order_by(BirthReport.updated_at, BirthReport.id).limit(limit + 1)
        ).all()
        page = rows[:limit]
        return {
            "items": [report_body(r) for r in page],
            "next_cursor": _cursor(page[-1]) if len(rows) > limit else None,
        }

    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": BirthReportInput}},
        },
        parameters=[IDEMPOTENCY_PARAMETER],
        **_links(201),
    )
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
        body = report_body(report, just_submitted=True)
        return body, 201, {"Location": body["links"]["self"]}


@blp.route("/<tracking_code>")
class BirthReportItem(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.response(200, BirthReportOut)
    def get(self, tracking_code: str) -> dict[str, Any]:
        """Status, flags, verification checks, registration number and journal of a report."""
        return report_body(_own_report(tracking_code))

    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": BirthReportInput}},
        },
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @blp.response(200, BirthReportOut)
    def put(self, tracking_code: str) -> dict[str, Any]:
        """Send corrected data while the report needs correction; it is verified again."""
        report = _own_report(tracking_code)
        data = load_report_input(request.get_json())
        resubmit_corrected(report, data, facility_actor(g.credential))
        return report_body(report)


@blp.route("/<tracking_code>/cancel")
class BirthReportCancel(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.arguments(CancelIn, as_kwargs=True)
    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
    @blp.response(200, BirthReportOut)
    def post(self, tracking_code: str, reason: str | None = None) -> dict[str, Any]:
        """Withdraw a report before it is approved."""
        report = _own_report(tracking_code)
        fire(report, "cancel", facility_actor(g.credential), reason=reason)
        return report_body(report)


@blp.route("/<tracking_code>/documents")
class BirthReportDocuments(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.doc(
        parameters=[IDEMPOTENCY_PARAMETER],
        requestBody=upload_request_body(
            kind={"type": "string", "enum": [k.value for k in DocumentKind]}
        ),
    )
    @blp.response(201, DocumentOut)
    def post(self, tracking_code: str) -> tuple[Document, int]:
        """Attach the birth letter or another document: PDF, JPEG or PNG, 10 MB at most.

        The file is opened before it is stored; one that cannot be opened safely is refused
        (422) with the code in `errors`: `image_too_large` (more pixels than its size makes
        plausible), `unreadable_file`, `pdf_unreadable`, `pdf_encrypted`,
        `pdf_too_many_pages`, `pdf_page_too_large` or `file_too_complex`. `pages` counts
        the pages of a PDF (1 for an image).
        """
        report = _own_report(tracking_code)
        data = read_upload(request.files.get("file"))
        kind = request.form.get("kind", "")
        return attach_document(report, kind, data, facility_actor(g.credential)), 201


@blp.route("/<tracking_code>/akta.pdf")
class BirthReportAkta(MethodView):
    decorators = [per_credential, require_facility]  # noqa: RUF012

    @blp.response(200, content_type="application/pdf")
    def get(self, tracking_code: str) -> Response:
        """The signed akta in force (after a correction: the newest version)."""
        report = _own_report(tracking_code)
        document = current_akta(report)
        if document is None:
            raise IllegalTransition("akta_not_issued_in_status", state=str(report.status))
        response = Response(akta_pdf(document), mimetype="application/pdf")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="akta-{document.registration_number}.pdf"'
        )
        response.headers["X-Akta-Sha256"] = document.sha256
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class AktaCorrectionOut(Schema):
    id = f.Integer()
    #: requested -> approved (waits for the pejabat's signature) -> issued; or refused.
    status = f.String(validate=OneOf([str(status) for status in CorrectionStatus]))
    changes = f.Dict(keys=f.String(), values=f.Raw())
    reason = f.String()
    supporting_document_id = f.Integer()
    requested_at = f.DateTime()
    decided_at = f.DateTime(allow_none=True)
    #: The operator's reason (always given for a refusal).
    decision_reason = f.String(allow_none=True)


class AktaCorrectionPage(Schema):
    items = f.List(f.Nested(AktaCorrectionOut))


@blp.route("/<tracking_code>/akta-corrections")
class BirthReportAktaCorrections(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.response(200, AktaCorrectionPage)
    def get(self, tracking_code: str) -> dict[str, Any]:
        """The report's requests to correct its akta, the newest first, with each decision."""
        return {"items": correction_requests(_own_report(tracking_code))}

    @blp.arguments(AktaCorrectionInput)
    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
    @blp.response(201, AktaCorrectionOut)
    def post(self, data: dict[str, Any], tracking_code: str) -> tuple[Any, int]:
        """Ask for a correction of the issued akta: the new values of correctable fields, the
        reason, and a document attached first (POST .../documents) as the evidence.

        An operator checks it and approves or refuses it with a reason (GET this path); the
        pejabat signs the corrected version, which keeps the registration number. Refused
        with 409 `illegal_transition` before the akta is issued, 409 `akta_correction_open`
        while another request is under way, and 422 `correction_invalid` naming in `errors`
        `akta_nothing_changed` (no value differs from the akta's), `reason_missing` or
        `correction_document_required` (no such document on this report).
        """
        report = _own_report(tracking_code)
        asked = request_akta_correction(
            report,
            requested_changes(report, data["changes"]),
            data["reason"],
            facility_actor(g.credential),
            document_id=data["supporting_document_id"],
        )
        return asked, 201
