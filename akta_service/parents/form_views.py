"""The parents' report form (/lapor): one step per page, then review and submit.

Plain HTML forms, one POST per step, every rule checked here; JavaScript only helps.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from akta_service.births.codes import format_tracking_code
from akta_service.births.documents import read_upload
from akta_service.core.config import current_settings
from akta_service.core.db import db
from akta_service.core.errors import FieldError, InvalidInput
from akta_service.core.limits import limiter
from akta_service.parents import operations as ops
from akta_service.parents.models import Draft
from akta_service.parents.pages import (
    DRAFT_KEY,
    _address_upload_limit,
    _by_field,
    _client_messages,
    _draft,
    _draft_key,
    _draft_limit,
    _not_an_upload,
    _submit_limit,
    _upload_limit,
    bp,
)
from akta_service.parents.steps import (
    ALL_STEPS,
    BY_SLUG,
    DOCUMENT_SPECS,
    FIELDS,
    STEPS,
    Field,
    offered_documents,
)
from akta_service.parents.uploads import UploadRefused

FIELD_STEPS = {step.slug for step in STEPS}


def _resume_url() -> str:
    path = url_for("parents.resume", token=session.get(DRAFT_KEY, ""))
    return current_settings().public_base_url + path


def _describe(field_name: str) -> dict[str, Any]:
    """How the error summary names a field and where its link goes."""
    if field_name in FIELDS:
        spec = FIELDS[field_name]
        return {"label": spec.label, "target": spec.target}
    if field_name.startswith("document."):
        kind = field_name.split(".", 1)[1]
        label = DOCUMENT_SPECS[kind].label if kind in DOCUMENT_SPECS else kind
        return {"label": label, "target": f"file-{kind}"}
    if field_name == "declaration":
        return {"label": _("Pernyataan"), "target": "f-declaration"}
    return {"label": "", "target": "main"}


def _blocked_at(draft: Draft, slug: str) -> str | None:
    """The first earlier step still to do, if the parent jumped ahead."""
    for step in ALL_STEPS:
        if step.slug == slug:
            return None
        if step.slug not in draft.completed_steps:
            return step.slug
    return None


def _render(template: str, draft: Draft, slug: str, **context: Any) -> str:
    index = [s.slug for s in ALL_STEPS].index(slug)
    return render_template(
        template,
        step=BY_SLUG[slug],
        steps=ALL_STEPS,
        number=index + 1,
        previous=ALL_STEPS[index - 1].slug if index else None,
        draft=draft,
        values=draft.answers,
        resume_url=_resume_url(),
        draft_days=current_settings().draft_days,
        fields=FIELDS,
        describe=_describe,
        client_messages=_client_messages(),
        **context,
    )


def _remember_draft(token: str) -> None:
    """This browser continues the draft, also after the tab or the browser was closed (the
    session cookie outlives them; the resume link works anywhere)."""
    session[DRAFT_KEY] = token
    session.permanent = True


@bp.get("/lapor")
def start() -> ResponseReturnValue:
    draft = _draft()
    return render_template(
        "public/lapor/intro.html",
        draft=draft,
        continue_at=ops.first_open_step(draft) if draft else None,
    )


@bp.post("/lapor/mulai")
@limiter.limit(_submit_limit)
def begin() -> ResponseReturnValue:
    _, token = ops.start_draft()
    _remember_draft(token)
    return redirect(url_for("parents.step", slug=STEPS[0].slug))


@bp.get("/lapor/lanjut/<token>")
def resume(token: str) -> ResponseReturnValue:
    draft = ops.find_draft(token)
    if draft is None:
        return render_template("public/lapor/resume_missing.html"), 404
    _remember_draft(token)
    return redirect(url_for("parents.step", slug=ops.first_open_step(draft)))


def _open_draft(slug: str) -> Draft | Response:
    draft = _draft()
    if draft is None:
        flash(_("Isian tidak ditemukan di perangkat ini. Mulai baru, atau buka tautan lanjutkan."))
        return redirect(url_for("parents.start"))
    blocked = _blocked_at(draft, slug)
    if blocked is not None:
        return redirect(url_for("parents.step", slug=blocked))
    return draft


@bp.route("/lapor/<slug>", methods=["GET", "POST"])
@limiter.limit(_draft_limit, key_func=_draft_key, methods=["POST"])
@limiter.limit(_upload_limit, key_func=_draft_key, methods=["POST"], exempt_when=_not_an_upload)
@limiter.limit(_address_upload_limit, methods=["POST"], exempt_when=_not_an_upload)
def step(slug: str) -> ResponseReturnValue:
    if slug == "dokumen":
        return documents()
    if slug == "periksa":
        return review()
    if slug not in FIELD_STEPS:
        abort(404)
    draft = _open_draft(slug)
    if isinstance(draft, Response):
        return draft
    if request.method == "POST":
        errors = ops.save_step(draft, slug, request.form)
        if not errors:
            return redirect(url_for("parents.step", slug=ops.first_open_step(draft)))
    else:
        errors = ops.current_step_errors(draft, slug)
    return _render("public/lapor/step.html", draft, slug, errors=errors, by_field=_by_field(errors))


def documents() -> ResponseReturnValue:
    draft = _open_draft("dokumen")
    if isinstance(draft, Response):
        return draft
    errors: list[FieldError] = []
    if request.method == "POST":
        action = request.form.get("action", "upload")
        kind = request.form.get("kind", "")
        if action == "next":
            errors = ops.documents_done(draft)
            if not errors:
                return redirect(url_for("parents.step", slug="periksa"))
        elif kind not in DOCUMENT_SPECS:
            abort(400)
        elif action == "remove":
            ops.remove_upload(draft, kind)
            return redirect(url_for("parents.step", slug="dokumen") + f"#doc-{kind}")
        else:
            data = read_upload(request.files.get("file"))
            try:
                ops.add_upload(draft, kind, data)
            except UploadRefused as refused:
                errors = [refused.at(f"document.{kind}")]
            else:
                flash(_("%(document)s tersimpan.", document=DOCUMENT_SPECS[kind].label))
                return redirect(url_for("parents.step", slug="dokumen") + f"#doc-{kind}")
    return _render(
        "public/lapor/documents.html",
        draft,
        "dokumen",
        errors=errors,
        by_field=_by_field(errors),
        offered=offered_documents(draft.answers),
    )


def _step_of(field_name: str) -> str:
    if field_name.startswith("document."):
        return "dokumen"
    return next((s.slug for s in STEPS if s.owns(field_name)), "periksa")


def _review_href(error: FieldError) -> str:
    """From the review's summary to the field, on its own step."""
    if error.field == "declaration":
        return "#f-declaration"
    target = _describe(error.field)["target"]
    return url_for("parents.step", slug=_step_of(error.field)) + f"#{target}"


def _shown(spec: Field, value: str | None) -> str:
    """An answer as the review shows it: options by their label, dates in words."""
    text = (value or "").strip()
    if not text:
        return "—"
    for choice in spec.choices:
        if choice.value == text:
            return str(choice.label)
    if spec.kind == "date":
        try:
            return format_date(date.fromisoformat(text), "d MMMM y")
        except ValueError:
            return text
    return text


def review(errors: list[FieldError] | None = None, declared: bool = True) -> ResponseReturnValue:
    draft = _open_draft("periksa")
    if isinstance(draft, Response):
        return draft
    problems = ops.review_errors(draft) if errors is None else errors
    return _render(
        "public/lapor/review.html",
        draft,
        "periksa",
        errors=problems,
        by_field=_by_field(problems),
        step_of=_step_of,
        href_for=_review_href,
        shown=_shown,
        offered=offered_documents(draft.answers),
        declared=declared,
    )


@bp.post("/lapor/kirim")
@limiter.limit(_submit_limit)
@limiter.limit(_draft_limit, key_func=_draft_key)
def submit() -> ResponseReturnValue:
    draft = _open_draft("periksa")
    if isinstance(draft, Response):
        return draft
    if request.form.get("declaration") != "yes":
        declaration = FieldError("declaration", "declaration_required")
        return review([*ops.review_errors(draft), declaration], declared=False)
    try:
        with db.session.begin_nested():
            receipt = ops.submit_draft(draft)
    except InvalidInput:
        return review()
    session.pop(DRAFT_KEY, None)
    report = receipt.report
    return render_template(
        "public/lapor/receipt.html",
        code=format_tracking_code(report.tracking_code),
        pin=receipt.pin,
        report=report,
    )
