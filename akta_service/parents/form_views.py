"""The parents' report form (/lapor): one step per page, then review and submit.

Plain HTML forms, one POST per step, every rule checked here; JavaScript only helps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.wrappers import Response

from akta_service.births.codes import format_tracking_code
from akta_service.births.documents import read_upload
from akta_service.births.models import BirthReport
from akta_service.births.operations import StatusRefused, open_with_pin
from akta_service.core.config import current_settings
from akta_service.core.db import db
from akta_service.core.errors import FieldError, InvalidInput
from akta_service.core.limits import limiter
from akta_service.core.storage import storage
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
from akta_service.parents.receipt import (
    RECEIPT_KEY,
    Shown,
    add_contact,
    needs_contact,
    next_steps,
    receipt_for_pdf,
    receipt_pdf,
    remember_receipt,
    sent_at,
    view_receipt,
)
from akta_service.parents.sptjm import FORM_NUMBERS, facts_of_answers, sptjm_download
from akta_service.parents.steps import (
    ALL_STEPS,
    BY_SLUG,
    DOCUMENT_SPECS,
    FIELDS,
    STEPS,
    Field,
    offered_documents,
    required_documents,
)
from akta_service.parents.uploads import UploadRefused

FIELD_STEPS = {step.slug for step in STEPS}
#: The session key of a refused post's messages, for the page it redirects to.
POSTED_KEY = "parents_posted"


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
    if field_name == "pin":
        return {"label": _("PIN"), "target": "f-pin"}
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


@dataclass(frozen=True)
class _Carried:
    """What a refused post left for the page it redirects to (POST-redirect-GET)."""

    errors: list[FieldError]
    declared: bool = True


def _redirect_with(
    slug: str, errors: list[FieldError], fragment: str = "", declared: bool = True
) -> Response:
    """Refused: keep the messages for the next view of the step, and show it by a GET, so
    that a reload never posts again. What was typed is in the draft already."""
    session[POSTED_KEY] = {
        "slug": slug,
        "errors": [[e.field, e.code, {k: _plain(v) for k, v in e.params.items()}] for e in errors],
        "declared": declared,
    }
    return redirect(url_for("parents.step", slug=slug) + fragment)


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | float | bool) or value is None else str(value)


def _carried(slug: str) -> _Carried | None:
    """The messages of the post just refused on this step, once."""
    posted = session.get(POSTED_KEY)
    if not isinstance(posted, dict) or posted.get("slug") != slug:
        return None
    session.pop(POSTED_KEY, None)
    try:
        errors = [FieldError(str(f), str(c), dict(p)) for f, c, p in posted.get("errors", [])]
    except (TypeError, ValueError):
        return None
    return _Carried(errors, bool(posted.get("declared", True)))


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
    if draft is None and session.get(RECEIPT_KEY):
        # Back or reload after submitting: the report was sent, say so.
        return redirect(url_for("parents.receipt_page"))
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
        return _redirect_with(slug, errors)
    carried = _carried(slug)
    errors = carried.errors if carried else ops.current_step_errors(draft, slug)
    return _render("public/lapor/step.html", draft, slug, errors=errors, by_field=_by_field(errors))


def documents() -> ResponseReturnValue:
    draft = _open_draft("dokumen")
    if isinstance(draft, Response):
        return draft
    if request.method == "POST":
        return _post_documents(draft)
    carried = _carried("dokumen")
    errors = carried.errors if carried else []
    return _render(
        "public/lapor/documents.html",
        draft,
        "dokumen",
        errors=errors,
        by_field=_by_field(errors),
        offered=offered_documents(draft.answers),
    )


def _action() -> tuple[str, str]:
    """The button pressed on the documents page and the document it is for."""
    action = request.form.get("action", "upload")
    if ":" in action:
        name, kind = action.split(":", 1)
        return name, kind
    return action, request.form.get("kind", "")


def _picked(kind: str) -> FileStorage | None:
    """The file chosen for the document `kind`, if one was."""
    names = [f"file-{kind}"] + (["file"] if request.form.get("kind") == kind else [])
    for name in names:
        upload = request.files.get(name)
        if upload is not None and upload.filename:
            return upload
    return None


def _store(draft: Draft, kind: str, upload: FileStorage | None) -> FieldError | None:
    try:
        ops.add_upload(draft, kind, read_upload(upload))
    except UploadRefused as refused:
        return refused.at(f"document.{kind}")
    return None


def _post_documents(draft: Draft) -> Response:
    action, kind = _action()
    here = url_for("parents.step", slug="dokumen")
    if action not in ("next", "upload", "remove") or (
        action != "next" and kind not in DOCUMENT_SPECS
    ):
        abort(400)
    if action == "remove":
        if request.form.get("confirmed") != "yes":
            return redirect(url_for("parents.remove_document", kind=kind))
        ops.remove_upload(draft, kind)
        flash(_("%(document)s dihapus.", document=DOCUMENT_SPECS[kind].label))
        return redirect(here + f"#doc-{kind}")
    # Every file picked is stored, whichever button sent the page: nothing chosen is dropped.
    offered = [spec.kind for spec in offered_documents(draft.answers)]
    picked: dict[str, FileStorage | None] = {
        each: upload for each in offered if (upload := _picked(each)) is not None
    }
    if action == "upload" and kind not in picked:
        picked[kind] = _picked(kind)  # None: "choose a file" is said next to it
    stored, refused = [], []
    for each, upload in picked.items():
        problem = _store(draft, each, upload)
        if problem is None:
            stored.append(each)
        else:
            refused.append(problem)
    for each in stored:
        flash(_("%(document)s tersimpan.", document=DOCUMENT_SPECS[each].label))
    fragment = f"#doc-{kind}" if action == "upload" else ""
    if refused:
        return _redirect_with("dokumen", refused, fragment)
    if action == "upload":
        return redirect(here + fragment)
    errors = ops.documents_done(draft)
    if not errors:
        return redirect(url_for("parents.step", slug="periksa"))
    return _redirect_with("dokumen", errors)


@bp.get("/lapor/dokumen/lihat/<kind>")
def document_preview(kind: str) -> ResponseReturnValue:
    """The thumbnail of what this browser's draft holds for `kind`: the cleaned photo that was
    stored, or a PDF's first page as drawn in the limited process on upload."""
    draft = _draft()
    stored = draft.documents.get(kind) if draft is not None else None
    pictures = stored.get("pictures") if stored is not None else None
    if not pictures:
        abort(404)
    first = pictures[0]
    response = Response(storage().get(first["storage_key"]), mimetype=first["content_type"])
    # An upload from the public: shown, never run.
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/lapor/dokumen/sptjm/<kind>.pdf")
def draft_sptjm(kind: str) -> ResponseReturnValue:
    """The SPTJM the documents step asks for, filled in with this browser's draft."""
    draft = _draft()
    if draft is None or kind not in FORM_NUMBERS or kind not in required_documents(draft.answers):
        abort(404)
    return sptjm_download(kind, facts_of_answers(draft.answers))


@bp.get("/lapor/dokumen/hapus/<kind>")
def remove_document(kind: str) -> ResponseReturnValue:
    """Without JavaScript, removing a document asks first on this page."""
    draft = _open_draft("dokumen")
    if isinstance(draft, Response):
        return draft
    if kind not in draft.documents or kind not in DOCUMENT_SPECS:
        return redirect(url_for("parents.step", slug="dokumen"))
    return render_template("public/lapor/remove.html", spec=DOCUMENT_SPECS[kind])


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


def review() -> ResponseReturnValue:
    draft = _open_draft("periksa")
    if isinstance(draft, Response):
        return draft
    carried = _carried("periksa")
    problems = ops.review_errors(draft) + (carried.errors if carried else [])
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
        declared=carried is None or carried.declared,
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
        return _redirect_with("periksa", [declaration], declared=False)
    try:
        with db.session.begin_nested():
            receipt = ops.submit_draft(draft)
    except InvalidInput:
        return redirect(url_for("parents.step", slug="periksa"))
    session.pop(DRAFT_KEY, None)
    remember_receipt(receipt.report, receipt.pin)
    return redirect(url_for("parents.receipt_page"))


@bp.get("/lapor/terkirim")
def receipt_page() -> ResponseReturnValue:
    """The receipt: reloadable from this browser; the PIN on the first view only."""
    shown = view_receipt()
    if shown is None:
        flash(_("Tanda terima tidak ditemukan di perangkat ini. Buka laporan di halaman status."))
        return redirect(url_for("parents.status_form"))
    return _receipt(shown)


def _receipt(shown: Shown, errors: list[FieldError] | None = None, status: int = 200) -> Any:
    report = shown.report
    errors = errors or []
    page = render_template(
        "public/lapor/receipt.html",
        code=format_tracking_code(report.tracking_code),
        pin=shown.pin,
        first=shown.first,
        report=report,
        sent_at=sent_at(report),
        next_steps=next_steps(),
        needs_contact=needs_contact(report),
        ask_pin=receipt_for_pdf() is not None and not _pin_still_here(),
        errors=errors,
        by_field=_by_field(errors),
        describe=_describe,
        values=request.form,
        fields=FIELDS,
    )
    return page, status


@bp.get("/lapor/terkirim.pdf")
def receipt_download() -> ResponseReturnValue:
    shown = receipt_for_pdf()
    if shown is None:
        return redirect(url_for("parents.status_form"))
    response = Response(receipt_pdf(shown), mimetype="application/pdf")
    filename = f"tanda-terima-{format_tracking_code(shown.report.tracking_code)}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _pin_still_here() -> bool:
    shown = receipt_for_pdf()
    return shown is not None and shown.pin is not None


def _pin_confirms(report: BirthReport) -> bool:
    """The PIN typed with the contact is the report's (wrong PINs count and lock as on the
    status page; the count is committed with the refusal)."""
    try:
        open_with_pin(report.tracking_code, request.form.get("pin", "")[:40])
    except StatusRefused:
        return False
    return True


@bp.post("/lapor/terkirim/kontak")
@limiter.limit(_submit_limit)
def receipt_contact() -> ResponseReturnValue:
    """A phone number or e-mail for a report sent without one (else a lost PIN is lost)."""
    shown = receipt_for_pdf()
    if shown is None:
        return redirect(url_for("parents.status_form"))
    if needs_contact(shown.report):
        if shown.pin is None and not _pin_confirms(shown.report):
            # Once the PIN is gone from this browser, whoever uses it next (a shared phone)
            # could otherwise add their own number and ask for a new PIN.
            wrong = [FieldError("pin", "wrong_code_or_pin")]
            return _receipt(Shown(shown.report, None, first=False), wrong, 400)
        with db.session.begin_nested():
            errors = add_contact(
                shown.report,
                request.form.get("informant.phone", ""),
                request.form.get("informant.email", ""),
            )
        if errors:
            return _receipt(Shown(shown.report, None, first=False), errors, 400)
        flash(_("Terima kasih. Kabar laporan dan PIN baru bila diminta dikirim ke kontak ini."))
    return redirect(url_for("parents.receipt_page"))
