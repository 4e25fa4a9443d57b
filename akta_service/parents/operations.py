"""Drafts of the web form: start, save a step, keep uploads, submit, purge when expired."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from akta_service.births.documents import attach_document
from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import issue_status_pin, load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import InvalidInput
from akta_service.core.storage import storage
from akta_service.jobs.queue import enqueue, job
from akta_service.parents.models import Draft
from akta_service.parents.steps import (
    BY_SLUG,
    STEPS,
    FieldError,
    all_errors,
    fill_informant,
    missing_documents,
    report_payload,
    step_errors,
)
from akta_service.parents.uploads import prepare_upload

DELETE_FILES_JOB = "parents.delete_files"

#: Someone on the web form, before the report (and its tracking code) exists.
WEB_INFORMANT = Actor(id="informant:web", name="Pelapor (formulir web)", role=Role.INFORMANT)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _expiry(now: datetime) -> datetime:
    return now + timedelta(days=current_settings().draft_days)


def start_draft() -> tuple[Draft, str]:
    """A new, empty draft and the secret token of its resume link (not stored)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    draft = Draft(
        token_hash=_token_hash(token),
        answers={},
        completed_steps=[],
        documents={},
        created_at=now,
        expires_at=_expiry(now),
    )
    db.session.add(draft)
    db.session.flush()
    return draft, token


def find_draft(token: str | None) -> Draft | None:
    """The draft behind a resume token, unless it expired."""
    if not token:
        return None
    return db.session.scalar(
        sa.select(Draft).where(Draft.token_hash == _token_hash(token), Draft.expires_at > utcnow())
    )


def first_open_step(draft: Draft) -> str:
    """Where the parent continues: the first step not yet done, else the documents or review."""
    for step in STEPS:
        if step.slug not in draft.completed_steps:
            return step.slug
    return "dokumen" if "dokumen" not in draft.completed_steps else "periksa"


def _touch(draft: Draft) -> None:
    draft.expires_at = _expiry(utcnow())


def save_step(draft: Draft, slug: str, form: Mapping[str, str]) -> list[FieldError]:
    """Keep what was typed on a step (even when wrong) and say what is wrong with it."""
    step = BY_SLUG[slug]
    answers = dict(draft.answers)
    for spec in step.fields:
        answers[spec.name] = (form.get(spec.name) or "")[:500]
    if slug == "keluarga":
        fill_informant(answers)
    errors = step_errors(step, answers, draft.completed_steps)
    done = [s for s in draft.completed_steps if s != slug]
    if not errors:
        done.append(slug)
    draft.answers = answers
    draft.completed_steps = done
    _touch(draft)
    return errors


def step_was_posted(draft: Draft, slug: str) -> bool:
    return any(spec.name in draft.answers for spec in BY_SLUG[slug].fields)


def current_step_errors(draft: Draft, slug: str) -> list[FieldError]:
    """The step's messages as of now (shown when the parent comes back to it)."""
    if not step_was_posted(draft, slug):
        return []
    return step_errors(BY_SLUG[slug], draft.answers, draft.completed_steps)


def add_upload(draft: Draft, kind: str, data: bytes) -> dict[str, Any]:
    """Store a document for the draft (photos cleaned, PDFs as they are); replaces the kind's
    previous file. Raises UploadRefused."""
    prepared = prepare_upload(data)
    key = f"drafts/{secrets.token_hex(16)}.{prepared.extension}"
    storage().put(key, prepared.data)
    documents = dict(draft.documents)
    previous = documents.get(kind)
    documents[kind] = {
        "storage_key": key,
        "content_type": prepared.content_type,
        "size_bytes": len(prepared.data),
        "original_size_bytes": len(data),
        "sha256": hashlib.sha256(prepared.data).hexdigest(),
        "uploaded_at": utcnow().isoformat(),
    }
    draft.documents = documents
    _touch(draft)
    if previous:
        enqueue(DELETE_FILES_JOB, [previous["storage_key"]])
    return documents[kind]


def remove_upload(draft: Draft, kind: str) -> None:
    documents = dict(draft.documents)
    removed = documents.pop(kind, None)
    draft.documents = documents
    if removed:
        enqueue(DELETE_FILES_JOB, [removed["storage_key"]])


def documents_done(draft: Draft) -> list[FieldError]:
    """Mark the documents step done when every required document is there."""
    errors = missing_documents(draft.answers, draft.documents)
    done = [s for s in draft.completed_steps if s != "dokumen"]
    if not errors:
        done.append("dokumen")
    draft.completed_steps = done
    _touch(draft)
    return errors


def review_errors(draft: Draft) -> list[FieldError]:
    """Everything still wrong with the draft as a whole report."""
    return all_errors(draft.answers) + missing_documents(draft.answers, draft.documents)


@dataclass(frozen=True)
class Receipt:
    """What the parent is shown once after submitting."""

    report: BirthReport
    pin: str


def submit_draft(draft: Draft) -> Receipt:
    """Submit the draft as a web report through the same operations as every channel; its
    documents move onto the report and the draft is gone. Raises InvalidInput."""
    problems = review_errors(draft)
    if problems:
        raise InvalidInput(
            "Laporan belum lengkap. Perbaiki bagian yang ditandai.",
            errors=[
                {"field": e.field, "code": e.code, "message": str(e.message)} for e in problems
            ],
        )
    data = load_report_input(report_payload(draft.answers))
    report = submit_birth_report(data, Channel.WEB, WEB_INFORMANT)
    informant = Actor.informant(report.tracking_code, report.informant_name)
    for kind, upload in draft.documents.items():
        attach_document(report, kind, storage().get(upload["storage_key"]), informant)
    pin = issue_status_pin(report)
    discard_draft(draft)
    return Receipt(report, pin)


def discard_draft(draft: Draft) -> None:
    """Delete the draft now and its uploads once that is committed."""
    keys = [upload["storage_key"] for upload in draft.documents.values()]
    db.session.delete(draft)
    db.session.flush()
    if keys:
        enqueue(DELETE_FILES_JOB, keys)


def purge_expired_drafts(now: datetime | None = None) -> int:
    """Forget drafts nobody touched for the configured days, uploads included."""
    expired = db.session.scalars(
        sa.select(Draft).where(Draft.expires_at <= (now or utcnow())).limit(500)
    ).all()
    for draft in expired:
        discard_draft(draft)
    return len(expired)


@job(DELETE_FILES_JOB)
def delete_files(keys: list[str]) -> int:
    """Remove stored files nothing refers to any more (run after the commit that let go)."""
    for key in keys:
        storage().delete(key)
    return len(keys)
