"""A birth notification as a facility sends it (load) and follows it (dump)."""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from akta_service.births.schemas import (
    ChildSchema,
    NikField,
    Text,
    _errors,
    _name,
    _Strict,
)


class NotifiedChild(ChildSchema):
    """What the facility knows of the child at the bedside (a report's child, with the same
    rules); the family adds the name."""

    class Meta:
        unknown = "raise"
        exclude = ("name",)

    provisional_name = _name(
        load_default=None,
        allow_none=True,
        metadata={"description": 'The facility\'s generic name, e.g. "Bayi Ny. Siti Aminah"'},
    )


class NotifiedMother(_Strict):
    nik = NikField(required=True, error_messages=_errors(invalid="type"))
    name = _name(required=True)


class FamilyContact(_Strict):
    """Where the family is told how to complete the report: a phone, an e-mail, or both."""

    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9]{8,15}$", error="phone"),
    )
    email = fields.Email(load_default=None, allow_none=True, error_messages={"invalid": "email"})

    @validates_schema(skip_on_field_errors=True)
    def _one_given(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("phone") and not data.get("email"):
            raise ValidationError("contact_required", field_name="phone")


class BirthNotificationInput(_Strict):
    """A birth as the facility knows it at the bedside."""

    OPENAPI: ClassVar[dict[str, Any]] = {
        "description": (
            "Beyond what each field says, a notification is refused (422) when the birth lies "
            "in the future (future_birth) or the family can be reached neither by phone nor "
            "by e-mail (contact_required)."
        )
    }

    child = fields.Nested(NotifiedChild, required=True, error_messages=_errors())
    mother = fields.Nested(NotifiedMother, required=True, error_messages=_errors())
    contact = fields.Nested(FamilyContact, required=True, error_messages=_errors())
    birth_letter_number = Text(load_default=None, allow_none=True, validate=validate.Length(max=60))


class NotificationOut(Schema):
    tracking_code = fields.String()
    status = fields.String()
    version = fields.Integer()
    notified_at = fields.DateTime()
    updated_at = fields.DateTime()
    completed_at = fields.DateTime(allow_none=True)
    expired_at = fields.DateTime(allow_none=True)
    has_birth_letter = fields.Boolean()
    reminders_sent = fields.List(fields.Integer(), metadata={"description": "days after birth"})
    #: Once the family completed it: the birth report's status (follow it at links.report).
    report_status = fields.String(allow_none=True)
    links = fields.Dict(keys=fields.String(), values=fields.String())


class BirthLetterOut(Schema):
    content_type = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
