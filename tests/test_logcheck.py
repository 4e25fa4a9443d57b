"""The suite's own log check (tests/logcheck.py): it fails the run for a PIN in a log line,
and not for a rate limiter's key whose digest happens to begin with digits."""

from __future__ import annotations

import logging
import re

import pytest

from akta_service.core.limits import hashed_key
from tests.logcheck import LogCheck


def _leaks_of(message: str) -> list[str]:
    check = LogCheck()
    logger = logging.getLogger("akta_service.logcheck_probe")
    logger.addHandler(check)
    # Not on to the run's own check, which would fail the run for the PINs made up here.
    logger.propagate = False
    try:
        logger.warning(message)
    finally:
        logger.removeHandler(check)
        logger.propagate = True
    return [leak.what for leak in check.leaks([])]


@pytest.mark.parametrize(
    "line",
    ["PIN 123456 dikirim", "pin=123456&kode=K7QM4X", "PIN baru: 654321.", "the PIN is 000111"],
)
def test_a_pin_in_a_log_line_is_a_leak(line: str) -> None:
    assert _leaks_of(line) == ["a PIN"]


def test_a_rate_limiters_key_is_not_taken_for_a_pin() -> None:
    # flask-limiter logs the key of a limit it refuses; its digest is hex, and one tracking
    # code in about 45 gives a digest that begins with six digits and a letter.
    keys = (hashed_key("new-pin", f"K7QM4X{n:04d}") for n in range(10_000))
    key = next(k for k in keys if re.match(r"new-pin:\d{6}[a-f]", k))
    line = f"ratelimit 3 per 1 hour ({key}) exceeded at endpoint: parents.status_new_pin"
    assert _leaks_of(line) == []
    # The same line with a PIN in it is still caught.
    assert _leaks_of(line + " PIN 123456") == ["a PIN"]
