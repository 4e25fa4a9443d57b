"""What the parents' pages share: their blueprint, its hooks and error pages, the session
keys, and the few helpers both the form (form_views.py) and the status page
(status_views.py) use. The helpers keep their leading underscore: they are the parents'
pages' own, for no other feature.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask import Blueprint, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import RequestEntityTooLarge, TooManyRequests

from akta_service.births.codes import normalise_tracking_code
from akta_service.core.config import current_settings
from akta_service.core.errors import FieldError
from akta_service.core.limits import hashed_key, retry_advice, retry_after_seconds
from akta_service.core.messages import message
from akta_service.parents import operations as ops
from akta_service.parents.i18n import current_language
from akta_service.parents.models import Draft
from akta_service.parents.sptjm import FORM_NUMBERS

bp = Blueprint("parents", __name__)

#: The session keys: the draft being filled, and the report opened with code + PIN.
DRAFT_KEY = "parents_draft"
STATUS_KEY = "parents_status"
#: An opened status page is forgotten after this long.
STATUS_SESSION = timedelta(minutes=30)


@bp.context_processor
def _language() -> dict[str, Any]:
    return {"lang": current_language(), "sptjm_numbers": FORM_NUMBERS}


# Limits: per report and per draft, with generous backstops per address (core.limits) ------


def _status_limit() -> str:
    return current_settings().status_rate_limit


def _submit_limit() -> str:
    return current_settings().submit_rate_limit


def _report_limit() -> str:
    return current_settings().report_rate_limit


def _draft_limit() -> str:
    return current_settings().draft_rate_limit


def _upload_limit() -> str:
    return current_settings().upload_rate_limit


def _address_upload_limit() -> str:
    return current_settings().address_upload_rate_limit


def _report_key() -> str:
    """Status-page attempts count per report, from whatever address they come."""
    return hashed_key("report", normalise_tracking_code(request.form.get("code", "")[:40]))


def _draft_key() -> str:
    """Saves and uploads count per draft (the draft of this browser's session)."""
    token = session.get(DRAFT_KEY)
    return hashed_key("draft", token) if isinstance(token, str) and token else get_remote_address()


def _not_an_upload() -> bool:
    """Only posts that store a document count against the upload limits."""
    if request.method != "POST" or (request.view_args or {}).get("slug") != "dokumen":
        return True
    action = request.form.get("action", "upload")
    if action == "upload" or action.startswith("upload:"):
        return False
    # "Lanjut" stores the files picked and not yet sent.
    return action != "next" or not any(upload.filename for upload in request.files.values())


def _opened_report_key() -> str:
    """Uploads of a correction count per report (the one opened with its code and PIN)."""
    opened = session.get(STATUS_KEY)
    report = opened.get("report") if isinstance(opened, dict) else None
    return hashed_key("report-upload", str(report)) if report else get_remote_address()


def _no_file_chosen() -> bool:
    upload = request.files.get("file") if request.method == "POST" else None
    return upload is None or not upload.filename


# Errors: shown as pages of the form, not as API problems -------------------------------------


def _error_page(status: int, title: str, message: str) -> tuple[str, int]:
    if request.path.startswith("/status"):
        page = "parents.status_page" if session.get(STATUS_KEY) else "parents.status_form"
        back = url_for(page), _("Kembali ke halaman status")
    elif (draft := _draft()) is not None:
        back = url_for("parents.step", slug=ops.first_open_step(draft)), _("Kembali ke formulir")
    else:
        back = url_for("parents.start"), _("Ke halaman awal")
    page = render_template("public/lapor/error.html", title=title, message=message, back=back)
    return page, status


@bp.errorhandler(CSRFError)
def _csrf_refused(error: CSRFError) -> ResponseReturnValue:
    return _error_page(
        400,
        _("Halaman sudah kedaluwarsa"),
        _(
            "Halaman ini terlalu lama terbuka atau dibuka dari tautan lama, jadi isian terakhir "
            "belum tersimpan. Data yang sudah tersimpan tidak hilang: buka lagi halamannya dan "
            "kirim sekali lagi."
        ),
    )


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    return _error_page(413, _("Berkas terlalu besar"), _("Berkas terlalu besar: maksimal 10 MB"))


@bp.errorhandler(TooManyRequests)
def _too_many(error: TooManyRequests) -> ResponseReturnValue:
    wait = retry_after_seconds()
    page, status = _error_page(429, message("page_429_title"), retry_advice(wait))
    return page, status, {"Retry-After": str(wait)}


def _draft() -> Draft | None:
    return ops.find_draft(session.get(DRAFT_KEY))


def _by_field(errors: Iterable[FieldError]) -> dict[str, list[FieldError]]:
    grouped: dict[str, list[FieldError]] = defaultdict(list)
    for error in errors:
        grouped[error.field].append(error)
    return dict(grouped)


def _client_messages() -> dict[str, str]:
    """The messages form.js shows as the parent types, in the page's language."""
    codes = ("nik_length", "future_birth", "marriage_in_future", "kk_number", "nik_mismatch")
    return {code: message(code) for code in codes}
