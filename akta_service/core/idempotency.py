"""Idempotency-Key: a retried POST/PUT gets the first answer again, never a second report.

The key is claimed by inserting a row in the request's own transaction. A second
request with the same key waits on the unique index until the first commits (or
rolls back: then it proceeds as the first), and then replays the stored answer.
The stored answer commits together with what the request did, or not at all.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from flask import Response, g, make_response, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.db import Base, BigIntKey, JsonData, UTCDateTime, db, utcnow
from akta_service.core.errors import DomainError
from akta_service.core.sweep import SweepTimes, sweeper

F = TypeVar("F")

#: Visible ASCII, as a UUID is: what a header carries unchanged (HTTP trims its spaces).
MAX_KEY_LENGTH = 200
KEY_PATTERN = rf"^[!-~]{{1,{MAX_KEY_LENGTH}}}$"
_KEY = re.compile(KEY_PATTERN)

#: OpenAPI description of the header, for every POST and PUT.
IDEMPOTENCY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "pattern": KEY_PATTERN},
    "description": (
        "Any unique string (a UUID) per report: a retry with the same key and body returns "
        "the first answer again; the same key with another body is refused (422)."
    ),
}

#: Keys are honoured at least this long.
RETENTION = timedelta(hours=24)


class IdempotencyKey(Base):
    """One claimed key of one facility, with the answer it got."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("owner", "key", name="uq_idempotency_owner_key"),)

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    #: Whose key: "facility:<code>".
    owner: Mapped[str] = mapped_column(sa.String(80))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH))
    #: SHA-256 of method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    response_status: Mapped[int | None] = mapped_column(sa.Integer)
    response_body: Mapped[Any] = mapped_column(JsonData, nullable=True)
    response_headers: Mapped[dict[str, str]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<IdempotencyKey {self.owner} {self.key!r} -> {self.response_status}>"


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"


class InvalidIdempotencyKey(DomainError):
    status = 400
    code = "invalid_idempotency_key"


def _request_hash() -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _replay(row: IdempotencyKey) -> Response:
    response = make_response(json.dumps(row.response_body), row.response_status or 200)
    response.mimetype = "application/json"
    for name, value in (row.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: F) -> F:
    """Honour an Idempotency-Key header on a view of a facility (g.credential set)."""

    @wraps(cast(Any, view))
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method not in ("POST", "PUT", "PATCH"):
            return cast(Any, view)(*args, **kwargs)
        if not _KEY.match(key):
            raise InvalidIdempotencyKey("idempotency_key_length", max_length=MAX_KEY_LENGTH)
        owner = f"facility:{g.credential.facility_code}"
        fingerprint = _request_hash()
        claim = IdempotencyKey(owner=owner, key=key, request_hash=fingerprint)
        try:
            with db.session.begin_nested():
                db.session.add(claim)
        except IntegrityError:
            # Another request holds (or held) this key: it committed before we got here.
            existing = db.session.scalar(
                sa.select(IdempotencyKey).where(
                    IdempotencyKey.owner == owner, IdempotencyKey.key == key
                )
            )
            if existing is None:  # pragma: no cover - the row just blocked our insert
                raise
            if existing.created_at < utcnow() - RETENTION:
                db.session.delete(existing)
                db.session.flush()
                return wrapper(*args, **kwargs)
            if existing.request_hash != fingerprint:
                raise IdempotencyKeyReused("idempotency_key_other_request") from None
            return _replay(existing)
        response = make_response(cast(Any, view)(*args, **kwargs))
        if response.status_code < 400 and response.is_json:
            claim.response_status = response.status_code
            claim.response_body = response.get_json()
            claim.response_headers = {
                name: value for name, value in response.headers.items() if name == "Location"
            }
            db.session.flush()
        elif response.status_code >= 400:
            # A refusal answered without raising is committed, but is no answer to replay.
            db.session.delete(claim)
        return response

    return cast(F, wrapper)


def purge_expired_keys() -> int:
    """Forget keys older than the retention period (run by the sweep)."""
    result = db.session.execute(
        sa.delete(IdempotencyKey).where(
            IdempotencyKey.created_at < utcnow() - RETENTION - RETENTION
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@sweeper
def forget_expired_keys(_times: SweepTimes) -> int:
    """Forget expired idempotency keys; no job is queued for that."""
    purge_expired_keys()
    return 0
