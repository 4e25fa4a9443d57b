"""No log line carries personal data, whoever writes it and whichever handler prints it.

The service logs reports by tracking code or internal id only. What it does not write itself
can still hold personal data: PostgreSQL explains a refused row with a ``DETAIL:`` line that
holds the whole row (``Failing row contains (…, 3274014403940101, Dewi Lestari, …)``) or the
duplicate key, and a library's message may quote a phone number or an address. Every record
is scrubbed as it is made (a log record factory, so every logger and every handler,
gunicorn's and Celery's included, sees it scrubbed): DETAIL lines are dropped, and NIKs,
phone numbers, e-mail addresses and tokens are replaced by what they are. The record keeps
the kinds it lost in ``record.redacted``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: (what, pattern, replacement), applied in this order.
RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("database detail", re.compile(r"^(\s*)DETAIL:.*$", re.MULTILINE), r"\1DETAIL: [redacted]"),
    (
        "database row",
        re.compile(r"Failing row contains \([^\n]*"),
        "Failing row contains [redacted]",
    ),
    ("database key", re.compile(r"Key \(([^)\n]*)\)=\([^\n]*"), r"Key (\1)=[redacted]"),
    (
        "a bearer token",
        re.compile(r"(Bearer\s+)(?!realm)[\w.~+/=-]{8,}", re.IGNORECASE),
        r"\1[token]",
    ),
    ("a facility token", re.compile(r"akta_[0-9a-f]{12}_[\w-]{20,}"), "[token]"),
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[e-mail]"),
    ("a NIK or KK number", re.compile(r"(?<![\w])\d{16}(?![\w])"), "[NIK]"),
    (
        "a phone number",
        re.compile(r"(?<![\w+])(?:\+62|62|0)[\s-]?8\d{2}[\s-]?\d{3,4}[\s-]?\d{3,5}(?!\w)"),
        "[phone]",
    ),
)
#: Kinds a database error brings along by itself; every other kind is a line the code wrote.
DATABASE_KINDS = frozenset({"database detail", "database row", "database key"})


def redact(text: str, found: list[str] | None = None) -> str:
    """`text` without what :data:`RULES` finds; the kinds found are added to `found`."""
    for what, pattern, replacement in RULES:
        text, count = pattern.subn(replacement, text)
        if count and found is not None:
            found.append(what)
    return text


class Redactor(logging.Filter):
    """A filter that scrubs the record it sees and lets it through (for a handler of its
    own, e.g. in a gunicorn logging config); :func:`install` does it for every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return True


def scrub(record: logging.LogRecord) -> None:
    """Redact the record's message, traceback and stack in place (once)."""
    if hasattr(record, "redacted"):
        return
    found: list[str] = []
    try:
        message = record.getMessage()
    except Exception:  # a broken format: the handler reports it, we only scrub the parts
        message = None
    if message is not None:
        clean = redact(message, found)
        if clean != message:
            record.msg, record.args = clean, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text, found)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, found)
    record.redacted = tuple(dict.fromkeys(found))


_installed = False


def install() -> None:
    """Scrub every log record of this process as it is made (idempotent)."""
    global _installed
    if _installed:
        return
    make_record = logging.getLogRecordFactory()

    def scrubbed_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        scrub(record)
        return record

    logging.setLogRecordFactory(scrubbed_record)
    _installed = True
