"""Drafts of the web form: start, save a step, keep uploads, submit, purge when expired; and
what the parent does afterwards on the status page: correct, cancel, download the akta."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa

from akta_service.akta.models import AktaDocument, KiaCard, KkPrint
from akta_service.akta.operations import akta_pdf, current_akta, current_kia, current_kk_print
from akta_service.births.documents import (
    PICTURE_EXTENSIONS,
    attach_document,
    document_quota_mb,
    over_quota,
    stored_document_bytes,
)
from akta_service.births.models import (
    PARENT_INFORMANTS,
    BirthReport,
    Channel,
    Document,
    ReportStatus,
)
from akta_service.births.operations import (
    issue_status_pin,
    load_report_input,
    report_fields,
    resubmit_corrected,
    submit_birth_report,
)
from akta_service.births.schemas import text_problem, without_unsafe_characters
from akta_service.core.actors import Actor, Role
from akta_service.core.audit import record
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import FieldError, InvalidInput, NotFound
from akta_service.core.jobs import enqueue, job
from akta_service.core.storage import storage
from akta_service.core.sweep import SweepTimes, sweeper
from akta_service.core.untrusted_files import PDF, Inspection, Picture
from akta_service.notifications.operations import include_status_pin
from akta_service.notified.workflow import complete_notice, notice_of_draft
from akta_service.parents.correction import CorrectionRequest, report_answers
from akta_service.parents.models import Draft
from akta_service.parents.steps import (
    BY_SLUG,
    DOCUMENT_SPECS,
    FIELDS,
    STEPS,
    all_errors,
    drop_father_when_not_married,
    fill_informant,
    missing_documents,
    report_payload,
    required_documents,
    step_errors,
)
from akta_service.parents.uploads import PreparedUpload, UploadRefused, prepare_upload
from akta_service.workflow.engine import allowed_triggers, conflict_for, fire

#: A document issued with the akta (the KIA card, the KK print).
_Issued = TypeVar("_Issued", KiaCard, KkPrint)

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
    unfit: list[FieldError] = []
    for spec in step.fields:
        typed = (form.get(spec.name) or "")[:500]
        problem = text_problem(typed)
        if problem:
            # Kept without what cannot be stored (PostgreSQL refuses NUL), and said so.
            unfit.append(FieldError(spec.name, problem))
            typed = without_unsafe_characters(typed)
        answers[spec.name] = typed
    if slug == "keluarga":
        fill_informant(answers)
    if slug == "ayah":
        drop_father_when_not_married(answers)
    errors = [*unfit, *step_errors(step, answers, draft.completed_steps)]
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
    """Store a document for the draft (photos cleaned, PDFs checked and kept); replaces the kind's
    previous file. Raises UploadRefused, also when the draft's documents together would go
    over the quota (AKTA_DOCUMENT_QUOTA_MB); what was stored before stays."""
    prepared = prepare_upload(data)
    documents = dict(draft.documents)
    others = sum(int(upload["size_bytes"]) for k, upload in documents.items() if k != kind)
    if over_quota(others, len(prepared.data)):
        raise UploadRefused("document_quota", quota_mb=document_quota_mb())
    stem = f"drafts/{secrets.token_hex(16)}"
    key = f"{stem}.{prepared.extension}"
    storage().put(key, prepared.data)
    previous = documents.get(kind)
    documents[kind] = {
        "storage_key": key,
        "content_type": prepared.content_type,
        "size_bytes": len(prepared.data),
        "original_size_bytes": len(data),
        "sha256": hashlib.sha256(prepared.data).hexdigest(),
        "uploaded_at": utcnow().isoformat(),
        "pictures": _keep_pictures(stem, key, prepared),
    }
    draft.documents = documents
    _touch(draft)
    if previous:
        enqueue(DELETE_FILES_JOB, _upload_keys(previous))
    return documents[kind]


def _keep_pictures(stem: str, key: str, prepared: PreparedUpload) -> list[dict[str, Any]]:
    """Store the pictures made of the upload with the draft, so that submitting does not open
    the file again: a photo is its own picture, a PDF's pages are stored beside it."""
    kept = []
    for page, picture in enumerate(prepared.inspection.pictures, start=1):
        picture_key = key
        if prepared.content_type == PDF:
            picture_key = f"{stem}-{page}.{PICTURE_EXTENSIONS[picture.content_type]}"
            storage().put(picture_key, picture.data)
        kept.append(
            {
                "storage_key": picture_key,
                "content_type": picture.content_type,
                "width": picture.width,
                "height": picture.height,
            }
        )
    return kept


def _upload_keys(upload: Mapping[str, Any]) -> list[str]:
    """Every stored file of a draft's upload: the file and its pictures."""
    keys = [upload["storage_key"]]
    keys.extend(
        p["storage_key"] for p in upload.get("pictures", ()) if p["storage_key"] not in keys
    )
    return keys


def _kept_inspection(upload: Mapping[str, Any]) -> Inspection | None:
    """The pictures stored with a draft's upload; None for a draft from before they were."""
    if "pictures" not in upload:
        return None
    pictures = tuple(
        Picture(storage().get(p["storage_key"]), p["content_type"], p["width"], p["height"])
        for p in upload["pictures"]
    )
    return Inspection(upload["content_type"], len(pictures), pictures)


def remove_upload(draft: Draft, kind: str) -> None:
    documents = dict(draft.documents)
    removed = documents.pop(kind, None)
    draft.documents = documents
    if removed:
        enqueue(DELETE_FILES_JOB, _upload_keys(removed))


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
            "report_incomplete",
            errors=problems,
        )
    data = load_report_input(report_payload(draft.answers))
    notice = notice_of_draft(draft.notified_birth_id)
    report = submit_birth_report(
        data,
        Channel.WEB,
        WEB_INFORMANT,
        facility_code=notice.facility_code if notice else None,
        tracking_code=notice.tracking_code if notice else None,
    )
    informant = Actor.informant(report.tracking_code, report.informant_name)
    if notice is not None:
        draft.notified_birth_id = None
        complete_notice(notice, report, informant)
    for kind, upload in draft.documents.items():
        stored = storage().get(upload["storage_key"])
        attach_document(report, kind, stored, informant, inspection=_kept_inspection(upload))
    pin = issue_status_pin(report)
    include_status_pin(report, pin)  # the receipt by e-mail and SMS carries it
    discard_draft(draft)
    return Receipt(report, pin)


def discard_draft(draft: Draft) -> None:
    """Delete the draft now and its uploads once that is committed."""
    keys = [key for upload in draft.documents.values() for key in _upload_keys(upload)]
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


@sweeper
def forget_expired_drafts(times: SweepTimes) -> int:
    """Forget web-form drafts past their expiry; no job is queued for that."""
    purge_expired_drafts(times.now)
    return 0


@job(DELETE_FILES_JOB)
def delete_files(keys: list[str]) -> int:
    """Remove stored files nothing refers to any more (run after the commit that let go)."""
    for key in keys:
        storage().delete(key)
    return len(keys)


# After submitting: the status page ------------------------------------------------------------


def informant_of(report: BirthReport) -> Actor:
    """The person who opened the report's status page with its code and PIN."""
    return Actor.informant(report.tracking_code, report.informant_name)


def corrected_answers(before: Mapping[str, str], typed: Mapping[str, str]) -> dict[str, str]:
    """The report's answers with what the parent typed over them. A parent who reported keeps
    following their own corrected NIK and name, as on the form."""
    answers = dict(before)
    for name, value in typed.items():
        if name in FIELDS:
            answers[name] = (value or "")[:500]
    parent = answers.get("informant.relation")
    if parent in PARENT_INFORMANTS:
        for part in ("nik", "name"):
            own = f"informant.{part}"
            if own not in typed and before.get(own) == before.get(f"{parent}.{part}"):
                answers[own] = answers.get(f"{parent}.{part}", "")
    return answers


def _documents(report: BirthReport) -> list[Document]:
    return list(
        db.session.scalars(
            sa.select(Document).where(Document.report_id == report.id).order_by(Document.id)
        )
    )


def report_documents(report: BirthReport) -> dict[str, Document]:
    """The latest document of each kind on the report."""
    return {str(document.kind): document for document in _documents(report)}


def _newly_missing(
    before: Mapping[str, str], answers: Mapping[str, str], present: Mapping[str, Any]
) -> list[FieldError]:
    """Documents the corrected report needs that the report as sent did not (a marriage now
    "not recorded" needs the SPTJM F-2.04, for instance)."""
    needed_before = set(required_documents(before))
    return [
        error
        for error in missing_documents(answers, present)
        if error.field.removeprefix("document.") not in needed_before
    ]


def _changed(report: BirthReport, data: dict[str, Any]) -> list[str]:
    return [
        name
        for name, value in report_fields(data).items()
        if name != "is_late" and getattr(report, name) != value
    ]


@dataclass(frozen=True)
class CorrectionOutcome:
    """What became of one post of the correction form."""

    #: What is still wrong; nothing was sent when there is anything.
    errors: list[FieldError]
    #: The kind of the document stored with this post, if one was.
    stored: str | None = None
    sent: bool = False


def add_correction_document(report: BirthReport, kind: str, data: bytes) -> Document:
    """Attach a missing or replacement document (photos cleaned as on the form); the earlier
    one of the kind stays in the record. Raises UploadRefused."""
    if kind not in DOCUMENT_SPECS:
        raise UploadRefused("upload_kind")
    prepared = prepare_upload(data)
    if over_quota(stored_document_bytes(report), len(prepared.data)):
        raise UploadRefused("document_quota", quota_mb=document_quota_mb())
    return attach_document(
        report, kind, prepared.data, informant_of(report), inspection=prepared.inspection
    )


def correct_report(
    report: BirthReport,
    request: CorrectionRequest,
    typed: Mapping[str, str],
    expected_version: int | None,
    upload: tuple[str, bytes] | None = None,
    send: bool = True,
) -> CorrectionOutcome:
    """Store the document the parent chose, check the corrected report as the form does, and
    (when `send`) send it back to verification as the informant.

    :param typed: the fields the parent posted, by form name; the rest stays as it was.
    :param expected_version: the report version the form was shown for; a newer one raises
        ConflictError (someone acted meanwhile) and nothing is stored.
    """
    if expected_version != report.version:
        raise conflict_for(report.id, report.version)
    errors: list[FieldError] = []
    stored = None
    if upload is not None:
        kind, content = upload
        try:
            add_correction_document(report, kind, content)
        except UploadRefused as refused:
            errors.append(refused.at("document"))
        else:
            stored = kind
    if not send or errors:
        return CorrectionOutcome(errors, stored)
    before = report_answers(report)
    answers = corrected_answers(before, typed)
    documents = _documents(report)
    errors = all_errors(answers) + _newly_missing(
        before, answers, {str(d.kind): d for d in documents}
    )
    if errors:
        return CorrectionOutcome(errors, stored)
    data = load_report_input(report_payload(answers))
    since = request.since
    added = since is not None and any(d.uploaded_at >= since for d in documents)
    if not _changed(report, data) and not added:
        return CorrectionOutcome([FieldError("correction", "nothing_changed")], stored)
    resubmit_corrected(report, data, informant_of(report), expected_version=expected_version)
    return CorrectionOutcome([], stored, sent=True)


def can_cancel(report: BirthReport) -> bool:
    """The informant may still withdraw the report (until an officer approves it)."""
    return "cancel" in allowed_triggers(report, informant_of(report))


def cancel_report(report: BirthReport, reason: str | None) -> None:
    """The informant withdraws the report; journalled, and the informant is told. Raises
    IllegalTransition once the report is approved (or over)."""
    kept = without_unsafe_characters(reason or "", multiline=True).strip()[:500]
    fire(report, "cancel", informant_of(report), reason=kept or None)


def akta_for_informant(report: BirthReport) -> tuple[AktaDocument, bytes]:
    """The signed akta in force, for the informant who opened the report with its PIN; the
    download is journalled. Raises NotFound until the akta is issued."""
    document = current_akta(report) if report.status == ReportStatus.ISSUED else None
    if document is None:
        raise NotFound("akta_not_issued")
    data = akta_pdf(document)
    record(
        "public:birth_report:akta_download",
        informant_of(report),
        report=report,
        data={"version": document.version, "sha256": document.sha256},
        read=True,
    )
    return document, data


def kia_for_informant(report: BirthReport) -> tuple[KiaCard, bytes]:
    """The signed KIA issued with the akta in force, for the informant who opened the report
    with its PIN; the download is journalled. Raises NotFound when there is none."""
    return _issued_for_informant(report, current_kia, "kia_not_issued", "kia_download")


def kk_for_informant(report: BirthReport) -> tuple[KkPrint, bytes]:
    """The office's signed print of the updated KK, for the informant who opened the report
    with its PIN; the download is journalled. Raises NotFound until it is issued."""
    return _issued_for_informant(report, current_kk_print, "kk_not_issued", "kk_download")


def _issued_for_informant(
    report: BirthReport,
    issued: Callable[[BirthReport], _Issued | None],
    missing: str,
    action: str,
) -> tuple[_Issued, bytes]:
    """A document the 3-in-1 issued with the akta (`issued` finds it) and its bytes, the
    informant's download journalled as `public:birth_report:<action>`."""
    kept = issued(report) if report.status == ReportStatus.ISSUED else None
    if kept is None:
        raise NotFound(missing)
    data = storage().get(kept.storage_key)
    record(
        f"public:birth_report:{action}",
        informant_of(report),
        report=report,
        data={"sha256": kept.sha256},
        read=True,
    )
    return kept, data
