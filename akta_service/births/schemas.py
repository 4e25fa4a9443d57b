"""The shape of a birth report as people and facilities send it (load) and see it (dump)."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

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
#: The same, as the OpenAPI description says it (JSON has no lone surrogate but an escape).
TEXT_PATTERN = r"^[^\u0000-\u001f\u007f-\u009f]*$"
MULTILINE_PATTERN = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]*$"


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """The message code of what makes typed text unfit to keep, or None when it is fine."""
    if _SURROGATE.search(text):
        return "invalid_characters"
    if (_CONTROL_BUT_LINES if multiline else _CONTROL).search(text):
        return "control_characters"
    return None


def without_unsafe_characters(text: str, *, multiline: bool = False) -> str:
    """The text with its control characters (but line breaks and tabs, when `multiline`) and
    lone surrogates taken out."""
    return (_CONTROL_BUT_LINES if multiline else _CONTROL).sub("", _SURROGATE.sub("", text))


class _Field(fields.Field):
    """A field that asks its validators only when it has some.

    marshmallow's Field._validate combines the field's validators into a new validate.And
    on every value, none or not: about a tenth of loading a report, whose fields mostly have
    no validator. tests/births/test_schemas.py fails if marshmallow stops validating through
    `_validate`.
    """

    def _validate(self, value: Any) -> None:
        if self.validators:
            super()._validate(value)


class String(_Field, fields.String):
    pass


class Integer(_Field, fields.Integer):
    pass


class Boolean(_Field, fields.Boolean):
    pass


class Email(_Field, fields.Email):
    pass


class Enum(_Field, fields.Enum):
    pass


class Nested(_Field, fields.Nested):
    pass


class List(_Field, fields.List):
    pass


class Text(String):
    """Text a person typed; control characters and lone surrogates are refused, naming the
    field.

    :param multiline: line breaks and tabs are allowed (a reason), not in a name.
    """

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        pattern = MULTILINE_PATTERN if multiline else TEXT_PATTERN
        kwargs["metadata"] = {"pattern": pattern, **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text, multiline=self.multiline)
        if problem:
            raise ValidationError(problem)
        return text


def _digits(*classes: str) -> str:
    """Digits of these character classes, each followed by any separators."""
    return "".join(f"{c}[ .-]*" for c in classes)


def _two_digits(*numbers: str) -> str:
    """Two-digit numbers written as pairs of classes ("0[1-9]"), separators allowed."""
    pairs = [re.fullmatch(r"(\[[^]]+\]|\d)(\[[^]]+\]|\d)", n) for n in numbers]
    return "(?:" + "|".join(_digits(p.group(1), p.group(2)) for p in pairs if p) + ")"


def nik_pattern() -> str:
    """The NIKs parse_nik takes, as one regular expression for the OpenAPI description: 16
    digits (spaces, dots and dashes anywhere around them), a day of birth that exists in its
    month (plus 40 for a woman; python-stdnum takes the day modulo 40) and a serial that is
    not 0000."""
    any_day = _two_digits(
        "0[1-9]", "1[0-9]", "2[0-8]", "4[1-9]", "5[0-9]", "6[0-8]", "8[1-9]", "9[0-9]"
    )
    month, not_february = _two_digits("0[1-9]", "1[0-2]"), _two_digits("0[13-9]", "1[0-2]")
    long_month = _two_digits("0[13578]", "1[02]")
    year = _digits("[0-9]", "[0-9]")
    leap_year = _two_digits("[02468][048]", "[13579][26]")
    date = "|".join(
        (
            any_day + month + year,
            _two_digits("29", "69") + not_february + year,
            _two_digits("29", "69") + _digits("0", "2") + leap_year,
            _two_digits("30", "70") + not_february + year,
            _two_digits("31", "71") + long_month + year,
        )
    )
    serial = "|".join(
        (
            _digits("[1-9]", "[0-9]", "[0-9]", "[0-9]"),
            _digits("0", "[1-9]", "[0-9]", "[0-9]"),
            _digits("0", "0", "[1-9]", "[0-9]"),
            _digits("0", "0", "0", "[1-9]"),
        )
    )
    return f"^[ .-]*{_digits(*['[0-9]'] * 6)}(?:{date})(?:{serial})$"


NIK_PATTERN = nik_pattern()


class NikField(String):
    """A NIK as people type it (spaces, dots, dashes), loaded as its 16 digits."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, metadata={"pattern": NIK_PATTERN}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_nik(text).number
        except InvalidNik as exc:
            raise ValidationError(exc.code) from exc


class _Patterned(_Field):
    """A date or time whose text must match `PATTERN` before it is parsed: Python's
    fromisoformat takes more than the OpenAPI description says ("20260101", week dates)."""

    PATTERN: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["metadata"] = {"pattern": self.PATTERN, **kwargs.get("metadata", {})}
        super().__init__(*args, **kwargs)
        self._pattern = re.compile(self.PATTERN)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not self._pattern.match(value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class IsoDate(_Patterned, fields.Date):
    PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class ClockTime(_Patterned, fields.Time):
    """A time of day as a clock shows it: 08:30 or 08:30:15, no zone."""

    PATTERN = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?$"


def _name(**kwargs: Any) -> Text:
    return Text(
        validate=validate.Length(min=1, max=200, error="name_length"),
        error_messages=_errors(invalid="type"),
        **kwargs,
    )


def _date(**kwargs: Any) -> fields.Date:
    return IsoDate(error_messages=_errors(invalid="date"), **kwargs)


def _enum(enum_cls: Any, **kwargs: Any) -> fields.Enum:
    return Enum(enum_cls, by_value=True, error_messages=_errors(unknown="choice"), **kwargs)


def _nik_field(**kwargs: Any) -> NikField:
    return NikField(error_messages=_errors(invalid="type"), **kwargs)


def _int(low: int, high: int, code: str, **kwargs: Any) -> fields.Integer:
    return Integer(
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
    birth_time = ClockTime(
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
    #: A recorded marriage names its certificate; an unrecorded one has no number nor date.
    OPENAPI: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {
                "properties": {
                    "recorded": {"enum": [True]},
                    "certificate_number": {"type": "string", "pattern": r"\S"},
                },
                "required": ["certificate_number"],
            },
            {
                "properties": {
                    "recorded": {"enum": [False]},
                    "certificate_number": {"type": "string", "maxLength": 0, "nullable": True},
                    "date": {"type": "string", "nullable": True, "enum": [None]},
                },
            },
        ]
    }

    #: true or false, not marshmallow's "yes", 1 or "on".
    recorded = Boolean(
        required=True,
        truthy={True},
        falsy={False},
        error_messages=_errors(invalid="boolean"),
    )
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

    @post_load
    def _no_empty_number(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """An empty certificate number is none (the database keeps marriage facts only for
        a recorded marriage)."""
        if not data.get("certificate_number"):
            data["certificate_number"] = None
        return data


class InformantSchema(_Strict):
    relation = String(
        required=True,
        validate=validate.OneOf(tuple(InformantRelation), error="choice"),
        error_messages=_errors(),
    )
    nik = _nik_field(required=True)
    name = _name(required=True)
    phone = String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9]{8,15}$", error="phone"),
    )
    email = Email(load_default=None, allow_none=True, error_messages={"invalid": "email"})


class WitnessSchema(_Strict):
    nik = _nik_field(required=True)
    name = _name(required=True)


class BirthReportInput(_Strict):
    """A new birth report, as the web form and the facility API send it."""

    #: The rules across fields, in words (marriage's own are a oneOf of Marriage).
    OPENAPI: ClassVar[dict[str, Any]] = {
        "description": (
            "Beyond what each field says, a report is refused (422) when the mother is not "
            "older than the child (mother_younger), a recorded marriage names no father "
            "(father_required), both witnesses have the same NIK (same_witness), or the "
            "birth or the marriage lies in the future (future_birth, marriage_in_future)."
        ),
        "properties": {
            "father": {"nullable": True, "allOf": [{"$ref": "#/components/schemas/Parent"}]}
        },
    }

    child = Nested(ChildSchema, required=True, error_messages=_errors())
    mother = Nested(ParentSchema, required=True, error_messages=_errors())
    father = Nested(ParentSchema, load_default=None, allow_none=True)
    kk_number = String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{16}$", error="kk_number"),
        error_messages=_errors(),
    )
    marriage = Nested(MarriageSchema, required=True, error_messages=_errors())
    informant = Nested(InformantSchema, required=True, error_messages=_errors())
    witnesses = List(
        Nested(WitnessSchema),
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


class AktaCorrectionChanges(_Strict):
    """The correctable fields of an issued akta, by the report's attribute names."""

    child_name = _name()
    child_birth_place = _name()
    child_birth_order = _int(1, 30, "birth_order")
    mother_name = _name()
    father_name = _name()


class AktaCorrectionInput(_Strict):
    """A facility's request to correct an issued akta."""

    #: At least one field, with a value other than the akta's (else `akta_nothing_changed`).
    changes = Nested(AktaCorrectionChanges, required=True)
    reason = Text(required=True, validate=validate.Length(min=1, max=2000), multiline=True)
    #: A document attached to the report first (POST .../documents): the evidence.
    supporting_document_id = Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**53)
    )
