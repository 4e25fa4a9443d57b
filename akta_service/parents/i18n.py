"""Languages of the public pages (Flask-Babel): Indonesian first, English on request.

The source texts are Indonesian, so Indonesian needs no catalogue; the messages of
core.messages (marked with N_, looked up by their codes) are in the same catalogue. The
English catalogue is kept as akta_service/translations/en/LC_MESSAGES/messages.po and
compiled into the instance
folder whenever the service starts (no build step, no compiled file in the repository).
After changing texts, refresh the catalogue with:

    pybabel extract -F akta_service/translations/babel.cfg -k _l -o messages.pot .
    pybabel update -i messages.pot -d akta_service/translations
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, Response, has_request_context, request
from flask_babel import Babel, get_locale

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
#: Remembers a parent's choice of language between pages.
COOKIE = "akta_lang"
SOURCE = Path(__file__).resolve().parent.parent / "translations"

babel = Babel()


def select_language() -> str:
    """`?lang=` when given, else the remembered choice, else Indonesian."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(COOKIE)
    return remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def _remember_language(response: Response) -> Response:
    if not request.query_string:  # most requests: no arguments to parse for `lang`
        return response
    asked = request.args.get("lang")
    if asked in LANGUAGES and request.cookies.get(COOKIE) != asked:
        response.set_cookie(
            COOKIE,
            asked,
            max_age=int(timedelta(days=365).total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    return response


def compile_catalogues(source: Path, target: Path) -> list[Path]:
    """Every messages.po under `source` as a messages.mo under `target`, written atomically
    (several workers may start at once)."""
    written = []
    for po_path in sorted(source.glob("*/LC_MESSAGES/messages.po")):
        language = po_path.parent.parent.name
        with po_path.open("rb") as handle:
            catalogue = read_po(handle, locale=language)
        mo_path = target / language / "LC_MESSAGES" / "messages.mo"
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = mo_path.with_name(f".messages.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        with temporary.open("wb") as handle:
            write_mo(handle, catalogue)
        os.replace(temporary, mo_path)
        written.append(mo_path)
    return written


def init_i18n(app: Flask) -> None:
    """Compile the catalogues and choose each request's language."""
    target = Path(app.instance_path) / "translations"
    compile_catalogues(SOURCE, target)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", app.config["AKTA_SETTINGS"].timezone)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(target)
    babel.init_app(app, locale_selector=select_language)
    app.after_request(_remember_language)
