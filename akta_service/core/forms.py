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


def has_errors(form: FlaskForm) -> bool:
    return any(field.errors for field in form)
