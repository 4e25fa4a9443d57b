"""Identity numbers as they may appear in logs: enough to correlate, never the whole number."""

from __future__ import annotations

#: Digits kept at each end: the region (first four) and the serial (last four).
_KEPT = 4


def mask_nik(value: str | None) -> str:
    """A NIK or KK number as "3274********0001"; anything too short to mask is all stars."""
    text = value or ""
    if len(text) <= 2 * _KEPT:
        return "*" * len(text)
    return f"{text[:_KEPT]}{'*' * (len(text) - 2 * _KEPT)}{text[-_KEPT:]}"
