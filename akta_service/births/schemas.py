"""The shape of a birth report as people and facilities send it (load) and see it (dump)."""

from __future__ import annotations

import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from akta_service.births.models import (
    Attendant,
    BirthPlaceKind,
    BirthType,
    InformantRelation,
    Sex,
)
from akta_service.core.clock import local_today
from akta_service.core.nik import InvalidNik, parse_nik


def _errors(**overrides: str) -> dict[str, Any]:
    """marshmallow's messages here are codes of core.messages: the words come with the answer."""
    return {"required": "required", "null": "null"} | overrides


#: Control characters (NUL, bell, escape, the C1 set) and lone surrogates: nothing a person
#: types into a name, and the database cannot store some of them (PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """The message code of what makes typed text unfit to keep, or None when it is fine."""
    if _SURROGATE.search(text):
        return "invalid_characters"
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(text):
        return "control_characters"
    return None


def without_unsafe_characters(text: str) -> str:
    """The text with its control characters and lone surrogates taken out."""
    return _CONTROL.sub("", _SURROGATE.sub("", text))


class Text(fields.String):
    """Text a person typed; control characters and lone surrogates are refused, naming the
    field.

    :param multiline: line breaks and tabs are allowed (a reason), not in a name.
    """

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        return text


class NikField(fields.String):
    """A NIK as people type it (spaces, dots, dashes), loaded as its 16 digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_nik(text).number
        except InvalidNik as exc:
            raise ValidationError(exc.code) from exc


def _name(**kwargs: Any) -> Text:
    return Text(
        validate=validate.Length(min=1, max=200, error="name_length"),
        error_messages=_errors(invalid="type"),
        **kwargs,
    )


def _date(**kwargs: Any) -> fields.Date:
    return fields.Date(error_messages=_errors(invalid="date"), **kwargs)


def _enum(enum_cls: Any, **kwargs: Any) -> fields.Enum:
    return fields.Enum(enum_cls, by_value=True, error_messages=_errors(unknown="choice"), **kwargs)


def _nik_field(**kwargs: Any) -> NikField:
    return NikField(error_messages=_errors(invalid="type"), **kwargs)


def _int(low: int, high: int, code: str, **kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=low, max=high, error=code),
        error_messages=_errors(invalid="integer"),
        **kwargs,
    )


class _Strict(Schema):
    error_messages = {"unknown": "unknown", "type": "type"}  # noqa: RUF012

    class Meta:
        unknown = "raise"


class ChildSchema(_Strict):
    name = _name(required=True)
    sex = _enum(Sex, required=True)
    birth_date = _date(required=True)
    birth_time = fields.Time(
        load_default=None, allow_none=True, error_messages=_errors(invalid="time")
    )
    birth_place = _name(required=True)
    birth_place_kind = _enum(BirthPlaceKind, required=True)
    birth_order = _int(1, 30, "birth_order", required=True)
    birth_type = _enum(BirthType, load_default=BirthType.SINGLE)
    weight_grams = _int(200, 8000, "weight_grams", load_default=None, allow_none=True)
    length_cm = _int(15, 70, "length_cm", load_default=None, allow_none=True)
    attendant = _enum(Attendant, required=True)

    @validates_schema(skip_on_field_errors=False)
    def _not_in_future(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("birth_date") and data["birth_date"] > local_today():
            raise ValidationError("future_birth", field_name="birth_date")


class ParentSchema(_Strict):
    nik = _nik_field(required=True)
    name = _name(required=True)
    birth_date = _date(required=True)


class MarriageSchema(_Strict):
    recorded = fields.Boolean(required=True, error_messages=_errors(invalid="boolean"))
    certificate_number = Text(load_default=None, allow_none=True, validate=validate.Length(max=60))
    date = _date(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _facts_match_status(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("recorded") and not (data.get("certificate_number") or "").strip():
            raise ValidationError("certificate_required", field_name="certificate_number")
        if not data.get("recorded") and (data.get("certificate_number") or data.get("date")):
            raise ValidationError("certificate_unexpected", field_name="certificate_number")
        if data.get("date") and data["date"] > local_today():
            raise ValidationError("marriage_in_future", field_name="date")


class InformantSchema(_Strict):
    relation = fields.String(
        required=True,
        validate=validate.OneOf(tuple(InformantRelation), error="choice"),
        error_messages=_errors(),
    )
    nik = _nik_field(required=True)
    name = _name(required=True)
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9]{8,15}$", error="phone"),
    )
    email = fields.Email(load_default=None, allow_none=True, error_messages={"invalid": "email"})


class WitnessSchema(_Strict):
    nik = _nik_field(required=True)
    name = _name(required=True)


class BirthReportInput(_Strict):
    """A new birth report, as the web form and the facility API send it."""

    child = fields.Nested(ChildSchema, required=True, error_messages=_errors())
    mother = fields.Nested(ParentSchema, required=True, error_messages=_errors())
    father = fields.Nested(ParentSchema, load_default=None, allow_none=True)
    kk_number = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{16}$", error="kk_number"),
        error_messages=_errors(),
    )
    marriage = fields.Nested(MarriageSchema, required=True, error_messages=_errors())
    informant = fields.Nested(InformantSchema, required=True, error_messages=_errors())
    witnesses = fields.List(
        fields.Nested(WitnessSchema),
        required=True,
        validate=validate.Length(equal=2, error="two_witnesses"),
        error_messages=_errors(),
    )
    birth_letter_number = Text(load_default=None, allow_none=True, validate=validate.Length(max=60))

    @validates_schema(skip_on_field_errors=False)
    def _cross_field(self, data: dict[str, Any], **_: Any) -> None:
        """Rules across parts, checked on whatever parts are valid: every problem is reported
        in one pass, not the field errors first and these after they are fixed."""
        errors: dict[str, Any] = {}
        mother, child = data.get("mother") or {}, data.get("child") or {}
        born, mother_born = child.get("birth_date"), mother.get("birth_date")
        if born and mother_born and mother_born >= born:
            errors["mother"] = {"birth_date": ["mother_younger"]}
        if (data.get("marriage") or {}).get("recorded") and data.get("father", False) is None:
            errors["father"] = ["father_required"]
        witnesses = data.get("witnesses")
        if isinstance(witnesses, list) and len(witnesses) == 2:
            niks = [w.get("nik") if isinstance(w, dict) else None for w in witnesses]
            if niks[0] and niks[0] == niks[1]:
                errors["witnesses"] = ["same_witness"]
        if errors:
            raise ValidationError(errors)
