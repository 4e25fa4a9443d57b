"""Helpers of the office's WTForms pages."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from akta_service.core.errors import InvalidInput


def show_refusal(form: FlaskForm, refused: InvalidInput) -> None:
    """Put an operation's field errors next to the fields of the form they belong to."""
    for error in refused.detail.get("errors", []):
        if error.field in form:
            field = form[error.field]
            field.errors = [*field.errors, error.message]
        else:
            flash(error.message, "error")


def whole_number(text: str) -> int | None:
    """Typed text as a whole number: ASCII digits only (Python's int() also reads "٣" and
    fails on "²"), at most 18 of them, so that any integer column can hold it."""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        return int(text)
    return None


def has_errors(form: FlaskForm) -> bool:
    return any(field.errors for field in form)
