"""Facility API for birth notifications: notify at the bedside, send the birth letter, follow."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for
from flask.views import MethodView

from akta_service.births.documents import read_upload, upload_request_body
from akta_service.births.models import BirthReport
from akta_service.core.api import ApiBlueprint
from akta_service.core.db import db
from akta_service.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from akta_service.core.limits import per_credential
from akta_service.facilities.auth import require_facility
from akta_service.facilities.operations import facility_actor
from akta_service.notified.models import NotifiedBirth
from akta_service.notified.operations import (
    attach_birth_letter,
    facility_notice,
    load_notification_input,
    notify_birth,
)
from akta_service.notified.schemas import BirthLetterOut, BirthNotificationInput, NotificationOut

blp = ApiBlueprint(
    "notified_api",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Pemberitahuan kelahiran dari fasilitas kesehatan",
)


def notice_body(notice: NotifiedBirth) -> dict[str, Any]:
    """What a facility may see of its notification."""
    report = db.session.get(BirthReport, notice.report_id) if notice.report_id else None
    links = {"self": url_for("notified_api.NotificationItem", tracking_code=notice.tracking_code)}
    if report is not None:
        links["report"] = url_for("births_api.BirthReportItem", tracking_code=report.tracking_code)
    return {
        "tracking_code": notice.tracking_code,
        "status": str(notice.status),
        "version": notice.version,
        "notified_at": notice.notified_at,
        "updated_at": notice.updated_at,
        "completed_at": notice.completed_at,
        "expired_at": notice.expired_at,
        "has_birth_letter": notice.birth_letter is not None,
        "reminders_sent": list(notice.reminders_sent),
        "report_status": str(report.status) if report is not None else None,
        "links": links,
    }


@blp.route("")
class NotificationCollection(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": BirthNotificationInput}},
        },
        parameters=[IDEMPOTENCY_PARAMETER],
    )
    @blp.response(201, NotificationOut)
    def post(self) -> tuple[dict[str, Any], int, dict[str, str]]:
        """Notify a birth with what is known at the bedside; the family is sent a link (SMS,
        e-mail) to complete the report, and reminded on the configured days after the birth."""
        data = load_notification_input(request.get_json())
        notice = notify_birth(data, g.credential.facility, facility_actor(g.credential))
        body = notice_body(notice)
        return body, 201, {"Location": body["links"]["self"]}


@blp.route("/<tracking_code>")
class NotificationItem(MethodView):
    decorators = [per_credential, require_facility]  # noqa: RUF012

    @blp.response(200, NotificationOut)
    def get(self, tracking_code: str) -> dict[str, Any]:
        """Where the notification stands: notified, completed (with the report's status) or
        expired (never completed; it stays on record)."""
        return notice_body(facility_notice(tracking_code, g.credential.facility_code))


@blp.route("/<tracking_code>/birth-letter")
class NotificationBirthLetter(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER], requestBody=upload_request_body())
    @blp.response(201, BirthLetterOut)
    def post(self, tracking_code: str) -> tuple[dict[str, Any], int]:
        """The surat keterangan lahir (PDF, JPEG or PNG, 10 MB at most): the family's form
        starts with it as their document. A newer one replaces it until the family completes."""
        notice = facility_notice(tracking_code, g.credential.facility_code)
        data = read_upload(request.files.get("file"))
        return attach_birth_letter(notice, data, facility_actor(g.credential)), 201
