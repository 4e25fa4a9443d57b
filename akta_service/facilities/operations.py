"""Registering facilities, issuing and revoking their credentials, checking a bearer token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.config import current_settings
from akta_service.core.db import add_loaded_row, db, held, utcnow
from akta_service.core.errors import FieldError, InvalidInput, NotFound, PermissionDenied
from akta_service.core.outbound import AddressRefused, check_url
from akta_service.facilities.models import ApiCredential, Facility, FacilityKind
from akta_service.regions.models import Region

TOKEN_PREFIX = "akta"  # noqa: S105 - a fixed prefix, not a secret
#: last_used_at is written at most this often per credential, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedCredential:
    """A new credential and its token: the only time the token exists in clear."""

    credential: ApiCredential
    token: str


def _serves(actor: Actor, region_code: str) -> bool:
    """Staff act only within their regions; the service itself and the CLI everywhere."""
    return not actor.is_staff or region_code in actor.region_codes


def create_facility(code: str, name: str, kind: str, region_code: str, actor: Actor) -> Facility:
    """Register a facility that may report births through the API."""
    code = code.strip().upper()
    errors = []
    if db.session.get(Facility, code) is not None:
        errors.append(FieldError("code", "facility_code_taken"))
    if kind not in {k.value for k in FacilityKind}:
        errors.append(FieldError("kind", "facility_kind"))
    if not name.strip():
        errors.append(FieldError("name", "name_required"))
    elif len(name.strip()) > 200:
        errors.append(FieldError("name", "name_too_long"))
    if db.session.get(Region, region_code) is None:
        errors.append(FieldError("region", "unknown_region"))
    elif not _serves(actor, region_code):
        errors.append(FieldError("region", "not_served"))
    if not 2 <= len(code) <= 20 or not all(
        ch.isascii() and (ch.isalnum() or ch == "-") for ch in code
    ):
        errors.append(FieldError("code", "facility_code_format"))
    if errors:
        raise InvalidInput("facility_invalid", errors=errors)
    facility = Facility(
        code=code, name=name.strip(), kind=FacilityKind(kind), region_code=region_code
    )
    db.session.add(facility)
    db.session.flush()
    record(
        "office:facility:create",
        actor,
        data={"facility": code, "kind": kind, "region": region_code},
    )
    return facility


def set_facility_active(facility: Facility, active: bool, actor: Actor) -> None:
    """Deactivate (or reactivate) a facility: while inactive none of its credentials work."""
    if not _serves(actor, facility.region_code):
        raise PermissionDenied("facility_outside_region", facility=facility.code)
    if facility.active == active:
        return
    facility.active = active
    db.session.flush()
    record(
        "office:facility:activate" if active else "office:facility:deactivate",
        actor,
        data={"facility": facility.code},
    )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_credential(facility_code: str, actor: Actor, label: str = "") -> IssuedCredential:
    """A new bearer token for the facility, shown once."""
    facility = db.session.get(Facility, facility_code.strip().upper())
    if facility is None:
        raise NotFound("facility_unknown", facility=facility_code)
    if not _serves(actor, facility.region_code):
        raise PermissionDenied("facility_outside_region", facility=facility.code)
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    credential = ApiCredential(
        facility_code=facility.code,
        key_id=key_id,
        secret_sha256=_digest(secret),
        label=label,
        created_by=actor.id,
    )
    db.session.add(credential)
    db.session.flush()
    record(
        "office:api_credential:create", actor, data={"facility": facility.code, "key_id": key_id}
    )
    return IssuedCredential(credential, f"{TOKEN_PREFIX}_{key_id}_{secret}")


def revoke_credential(key_id: str, actor: Actor) -> ApiCredential:
    """Stop a credential from working; it stays listed, marked revoked."""
    credential = db.session.scalar(sa.select(ApiCredential).where(ApiCredential.key_id == key_id))
    if credential is None:
        raise NotFound("credential_unknown", key_id=key_id)
    if not _serves(actor, credential.facility.region_code):
        raise PermissionDenied("credential_outside_region", key_id=key_id)
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        record(
            "office:api_credential:revoke",
            actor,
            data={"facility": credential.facility_code, "key_id": key_id},
        )
    return credential


@dataclass(frozen=True)
class ApiCaller:
    """Who an API request comes from: a live credential of an active facility.

    Holding the facility keeps it in the session's identity map (which holds objects
    weakly) for the rest of the request: the status change finds its webhook there.
    """

    key_id: str
    facility: Facility

    @property
    def facility_code(self) -> str:
        return self.facility.code


#: Built once (with its cache key): every API request asks it. Credential and facility in
#: one round trip, as plain columns on the session's connection: a Core statement needs none
#: of the ORM's execution, and the facility is put into the session as the row it is, with
#: the columns a request reads (the others load if asked for, as any expired attribute).
_CALLER_FACILITY = (
    Facility.code,
    Facility.name,
    Facility.kind,
    Facility.region_code,
    Facility.active,
    Facility.webhook_url,
)
_CALLER_FACILITY_KEYS = tuple(column.key for column in _CALLER_FACILITY)
_CALLER_BY_KEY = (
    sa.select(
        ApiCredential.id,
        ApiCredential.secret_sha256,
        ApiCredential.revoked_at,
        ApiCredential.last_used_at,
        *_CALLER_FACILITY,
    )
    .join(Facility, Facility.code == ApiCredential.facility_code)
    .where(ApiCredential.key_id == sa.bindparam("key_id"))
)
_MARK_USED = (
    sa.update(ApiCredential)
    .where(ApiCredential.id == sa.bindparam("credential_id"))
    .values(last_used_at=sa.bindparam("now"))
)


def _caller_facility(row: Any) -> Facility:
    """The caller's facility in the session: the one already there (a request that loaded
    it before), else the one in `row` (_CALLER_BY_KEY's), as loaded: no second query."""
    session = db.session()
    found = held(session, Facility, row.code) if session.identity_map else None
    if found is not None:
        return found
    return add_loaded_row(session, Facility, dict(zip(_CALLER_FACILITY_KEYS, row[4:], strict=True)))


def authenticate(token: str) -> ApiCaller | None:
    """Who this bearer token belongs to, or None unless it is live and its facility active."""
    parts = (token or "").split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    connection = db.session.connection()
    row = connection.execute(_CALLER_BY_KEY, {"key_id": parts[1]}).first()
    if row is None or row.revoked_at is not None or not row.active:
        return None
    if not hmac.compare_digest(row.secret_sha256, _digest(parts[2])):
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        connection.execute(_MARK_USED, {"credential_id": row.id, "now": now})
    return ApiCaller(key_id=parts[1], facility=_caller_facility(row))


def facility_actor(caller: ApiCaller) -> Actor:
    """The facility as the journal records it."""
    return Actor.facility(caller.facility.code, caller.facility.name)


def set_webhook(facility_code: str, url: str | None, actor: Actor) -> str | None:
    """Register (or with None remove) the facility's callback URL; returns the new secret,
    shown once. The URL must be https in production, and its host must resolve to public
    addresses only (core.outbound)."""
    facility = db.session.get(Facility, facility_code.strip().upper())
    if facility is None:
        raise NotFound("facility_unknown", facility=facility_code)
    if url is not None:
        settings = current_settings()
        try:
            check_url(
                url,
                require_https=settings.is_production,
                allow_private=settings.webhook_allow_private,
            )
        except AddressRefused as refused:
            raise InvalidInput(
                "webhook_invalid", errors=[FieldError("url", refused.code)]
            ) from None
    facility.webhook_url = url
    facility.webhook_secret = secrets.token_urlsafe(32) if url else None
    record("office:facility:webhook", actor, data={"facility": facility.code, "url": url})
    return facility.webhook_secret
