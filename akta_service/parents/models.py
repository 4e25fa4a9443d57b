"""An unfinished web-form report, kept server-side so that a parent can resume it by link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.db import Base, BigIntKey, JsonData, UTCDateTime, utcnow


class Draft(Base):
    """What a parent has typed and uploaded so far, found by the secret token of its link."""

    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    #: SHA-256 of the resume token: the database alone does not open anyone's draft.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: Form field name ("child.name", "witnesses.0.nik") -> what was typed, valid or not.
    answers: Mapped[dict[str, str]] = mapped_column(JsonData, default=dict)
    #: Steps whose answers passed validation, by slug.
    completed_steps: Mapped[list[str]] = mapped_column(JsonData, default=list)
    #: Document kind -> stored upload (storage_key, content_type, size_bytes, sha256, the
    #: pictures made of it, ...).
    documents: Mapped[dict[str, dict[str, Any]]] = mapped_column(JsonData, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: The facility's notification this draft completes (opened by the family's link).
    notified_birth_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notified_births.id"), unique=True
    )
    #: Purged by the sweep after this moment, uploads included.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<Draft {self.id} steps={self.completed_steps} expires={self.expires_at:%Y-%m-%d}>"
