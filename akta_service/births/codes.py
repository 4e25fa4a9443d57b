"""Tracking codes: short, read aloud without confusion, and hard to guess."""

from __future__ import annotations

import secrets

#: No 0/O, 1/I/L or U: nothing a parent can misread from a screen or over the phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 10  # 30**10 ≈ 2**49: half of a parent's credentials, the PIN is the other half


_BASE = len(ALPHABET)
_CODES = _BASE**LENGTH


def new_tracking_code() -> str:
    """A fresh random code such as "K7QM4XW2PA": one uniform draw among all the codes,
    written in base 30 (a draw per letter cost ten times the calls)."""
    number = secrets.randbelow(_CODES)
    letters = []
    for _ in range(LENGTH):
        number, digit = divmod(number, _BASE)
        letters.append(ALPHABET[digit])
    return "".join(letters)


def normalise_tracking_code(value: str) -> str:
    """Accept what people type: lower case, spaces and dashes."""
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def is_tracking_code(code: str) -> bool:
    """Whether a normalised text has a tracking code's length and letters."""
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def format_tracking_code(code: str) -> str:
    """Grouped for reading: "K7Q-M4X-W2PA"."""
    return f"{code[:3]}-{code[3:6]}-{code[6:]}"
