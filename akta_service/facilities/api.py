"""Facility API for the facility itself: its webhook and the delivery log."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from marshmallow import Schema
from marshmallow import fields as f
from marshmallow.validate import Length, OneOf, Regexp

from akta_service.core.api import ApiBlueprint
from akta_service.core.db import db
from akta_service.core.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from akta_service.core.limits import per_credential
from akta_service.facilities.auth import require_facility
from akta_service.facilities.operations import facility_actor, set_webhook
from akta_service.notifications.models import DELIVERY_RESULTS, Delivery

blp = ApiBlueprint("webhook_api", __name__, url_prefix="/api/v1/webhook", description="Webhook")


_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PCHAR = "(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
#: An absolute http(s) URL of ASCII characters, as RFC 3986 has it: a host name, an IPv4
#: address or a bracketed IPv6 address, a port, then path segments, a query and a fragment
#: of unreserved, sub-delimiter and percent-encoded characters. The OpenAPI description
#: carries the same pattern.
_H16 = "[0-9A-Fa-f]{1,4}"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_LS32 = rf"(?:{_H16}:{_H16}|{_OCTET}(?:\.{_OCTET}){{3}})"
#: RFC 3986's IPv6address, every way of writing `::` spelled out.
_IPV6 = "|".join(
    [
        rf"(?:{_H16}:){{6}}{_LS32}",
        rf"::(?:{_H16}:){{5}}{_LS32}",
        rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
        rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
        rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
        rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
        rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
    ]
)
_HOST = rf"(?:{_LABEL}(?:\.{_LABEL})*|\[(?:{_IPV6})\])"
WEBHOOK_URL_PATTERN = (
    rf"^https?://{_HOST}(?::[0-9]{{1,5}})?(?:/{_PCHAR}*)*"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?$"
)


class WebhookIn(Schema):
    url = f.String(
        required=True,
        allow_none=True,
        validate=[Length(min=1, max=500), Regexp(WEBHOOK_URL_PATTERN, error="url")],
        metadata={
            "format": "uri",
            "description": "https in production; every address the host resolves to must be "
            "public (no loopback, private, CGNAT, link-local or metadata address), else 422",
        },
    )


class WebhookOut(Schema):
    url = f.String(allow_none=True)
    #: Only in the answer to PUT: the HMAC secret, shown once.
    secret = f.String(allow_none=True)


class DeliveryOut(Schema):
    event_id = f.String()
    event = f.String()
    status = f.String()
    attempts = f.Integer()
    #: The class of the last attempt's outcome, never the receiver's answer or an error text.
    last_result = f.String(
        allow_none=True,
        validate=OneOf(DELIVERY_RESULTS),
        metadata={
            "description": "2xx/3xx/4xx/5xx: the class of the receiver's HTTP status; timeout; "
            "unreachable (no connection); refused (the address is not a public one)"
        },
    )
    created_at = f.DateTime()
    sent_at = f.DateTime(allow_none=True)
    next_attempt_at = f.DateTime(allow_none=True)


@blp.route("")
class WebhookItem(MethodView):
    decorators = [idempotent, per_credential, require_facility]  # noqa: RUF012

    @blp.arguments(WebhookIn, as_kwargs=True)
    @blp.doc(parameters=[IDEMPOTENCY_PARAMETER])
    @blp.response(200, WebhookOut)
    def put(self, url: str | None) -> dict[str, Any]:
        """Set (or with null remove) the callback URL; the answer carries a new secret."""
        secret = set_webhook(g.credential.facility_code, url, facility_actor(g.credential))
        return {"url": url, "secret": secret}


@blp.route("/deliveries")
class WebhookDeliveries(MethodView):
    decorators = [per_credential, require_facility]  # noqa: RUF012

    @blp.response(200, DeliveryOut(many=True))
    def get(self) -> list[Delivery]:
        """The last 100 webhook deliveries, newest first, with each one's attempts."""
        return list(
            db.session.scalars(
                sa.select(Delivery)
                .where(Delivery.facility_code == g.credential.facility_code)
                .order_by(Delivery.id.desc())
                .limit(100)
            )
        )
