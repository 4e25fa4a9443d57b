"""Every log record of the test run, checked for personal data and secrets.

A handler on the root logger at DEBUG keeps each record as a log file would show it (its
traceback included). At the end of the run, a record that carries a NIK, a phone number, an
e-mail address, a bearer or facility token, a PIN, or a name, NIK or phone number the test
data used fails the run, and the summary says which record and which test wrote it.

Loggers of test tooling (factory-boy describing what it builds, the test SMTP server
printing the mail it receives) are not the service's logs and are left out.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from akta_service.core.log_redaction import DATABASE_KINDS

#: Test tooling, not the service: what they log never reaches a production log.
TOOLING_LOGGERS = ("factory", "faker", "mail.log", "asyncio")

#: (what, pattern) of data that no log line may carry.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a NIK or KK number (16 digits)", re.compile(r"(?<![\w])\d{16}(?![\w])")),
    (
        "a phone number",
        re.compile(r"(?<![\w+])(?:\+62|62|0)[\s-]?8\d{2}[\s-]?\d{3,4}[\s-]?\d{3,5}(?!\w)"),
    ),
    ("an e-mail address", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("a bearer token", re.compile(r"Bearer\s+(?!realm)[\w.~+/=-]{8,}", re.IGNORECASE)),
    ("a facility token", re.compile(r"akta_[0-9a-f]{12}_[\w-]{20,}")),
    # Six digits standing alone: a rate limiter's key such as "new-pin:601745d394…" is a
    # digest (core.limits.hashed_key), which begins with six digits and a letter about one
    # time in 45.
    ("a PIN", re.compile(r"\bPIN\b\D{0,24}(?<!\w)\d{6}(?!\w)", re.IGNORECASE)),
)

#: How a record is written out: as a log file would hold it.
FORMAT = "%(name)s %(levelname)s %(message)s"


@dataclass
class Leak:
    test: str
    what: str
    line: str


class LogCheck(logging.Handler):
    """Collects every record; `leaks` says which of them carry what must not be logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter(FORMAT))
        self.current_test = "(outside a test)"
        self.records: list[tuple[str, str]] = []
        self._guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in TOOLING_LOGGERS or record.name in TOOLING_LOGGERS:
            return
        try:
            text = self.format(record)
        except Exception as exc:  # a record that cannot be formatted is reported as such
            text = f"{record.name} {record.levelname} (unformattable: {exc!r}) {record.msg!r}"
        # What the redaction caught was still written by the code (bar a database's own
        # explanation of a refused row): it is reported as the leak it is.
        caught = [k for k in getattr(record, "redacted", ()) if k not in DATABASE_KINDS]
        if caught:
            text = f"[redacted, but logged: {', '.join(caught)}] {text}"
        with self._guard:
            self.records.append((self.current_test, text))

    def leaks(self, values: Iterable[str]) -> list[Leak]:
        known = sorted({v for v in values if v and len(v) >= 6}, key=len, reverse=True)
        found: list[Leak] = []
        for test, text in self.records:
            if text.startswith("[redacted, but logged: "):
                found.append(Leak(test, "what the redaction had to remove", text))
                continue
            for what, pattern in PATTERNS:
                if pattern.search(text):
                    found.append(Leak(test, what, text))
                    break
            else:
                lowered = text.lower()
                for value in known:
                    if value.lower() in lowered:
                        found.append(Leak(test, f"a value of the test data ({value!r})", text))
                        break
        return found


def describe(leaks: list[Leak], limit: int = 40) -> str:
    """The leaking records, one paragraph each, for the end-of-run summary."""
    parts = [f"{len(leaks)} log record(s) carry personal data or a secret; the run fails."]
    for leak in leaks[:limit]:
        line = leak.line if len(leak.line) <= 2000 else leak.line[:2000] + " […]"
        parts.append(f"{leak.test}: {leak.what} in the log record:\n    {line}")
    if len(leaks) > limit:
        parts.append(f"… and {len(leaks) - limit} more")
    return "\n".join(parts)
