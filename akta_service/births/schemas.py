"""The shape of a birth report as people and facilities send it (load) and see it (dump)."""

from __future__ import annotations

from collections.abc import Mapping
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

#: Every message we show, with the machine-readable code the API returns beside it.
MESSAGES: dict[str, str] = {
    "required": "Wajib diisi",
    "null": "Wajib diisi",
    "unknown": "Kolom ini tidak dikenal",
    "type": "Jenis isian salah",
    "date": "Tanggal harus berbentuk TTTT-BB-HH, misalnya 2026-11-22",
    "time": "Jam harus berbentuk JJ:MM, misalnya 08:30",
    "integer": "Harus berupa bilangan bulat",
    "boolean": "Harus ya atau tidak (true/false)",
    "choice": "Pilihan tidak dikenal",
    "email": "Alamat e-mail tidak benar",
    "phone": "Nomor telepon harus 8-15 angka, boleh diawali +",
    "kk_number": "Nomor KK harus 16 angka",
    "name_length": "Nama harus 1-200 huruf",
    "birth_order": "Anak ke- harus antara 1 dan 30",
    "weight_grams": "Berat lahir harus antara 200 dan 8000 gram",
    "length_cm": "Panjang lahir harus antara 15 dan 70 cm",
    "future_birth": "Tanggal lahir bayi tidak boleh di masa depan",
    "mother_younger": "Tanggal lahir ibu harus sebelum tanggal lahir bayi",
    "father_required": "Perkawinan tercatat memerlukan data ayah",
    "certificate_required": (
        "Nomor buku nikah / akta perkawinan wajib diisi bila perkawinan tercatat"
    ),
    "certificate_unexpected": "Nomor dan tanggal perkawinan hanya diisi bila perkawinan tercatat",
    "marriage_in_future": "Tanggal perkawinan tidak boleh di masa depan",
    "two_witnesses": "Saksi harus tepat dua orang",
    "same_witness": "Dua saksi harus orang yang berbeda",
}
#: The same messages in English, for API clients that send Accept-Language: en.
MESSAGES_EN: dict[str, str] = {
    "required": "Required",
    "null": "Required",
    "unknown": "Unknown field",
    "type": "Wrong type",
    "date": "Dates are YYYY-MM-DD, e.g. 2026-11-22",
    "time": "Times are HH:MM, e.g. 08:30",
    "integer": "Must be a whole number",
    "boolean": "Must be true or false",
    "choice": "Not one of the allowed values",
    "email": "Not a valid e-mail address",
    "phone": "Phone numbers are 8-15 digits, optionally starting with +",
    "kk_number": "The KK number is 16 digits",
    "name_length": "Names are 1-200 characters",
    "birth_order": "Birth order is between 1 and 30",
    "weight_grams": "Birth weight is between 200 and 8000 grams",
    "length_cm": "Birth length is between 15 and 70 cm",
    "future_birth": "The baby's birth date cannot be in the future",
    "mother_younger": "The mother's birth date must be before the baby's",
    "father_required": "A recorded marriage needs the father's data",
    "certificate_required": "The marriage certificate number is required for a recorded marriage",
    "certificate_unexpected": "Marriage number and date are only for a recorded marriage",
    "marriage_in_future": "The marriage date cannot be in the future",
    "two_witnesses": "Exactly two witnesses are required",
    "same_witness": "The two witnesses must be different people",
    "nik_not_digits": "A NIK has digits only",
    "nik_length": "A NIK is 16 digits",
    "nik_birth_date": "The birth date inside the NIK (digits 7-12) is impossible",
    "nik_serial": "The last four digits of a NIK cannot be 0000",
}


def english_message(code: str, indonesian: str) -> str:
    """The English text for a message code (the Indonesian one when there is none)."""
    return MESSAGES_EN.get(code, indonesian)


#: message -> code; where two codes share a text ("required", "null") the first wins.
CODES: dict[str, str] = {}
for _code, _text in MESSAGES.items():
    CODES.setdefault(_text, _code)


def _errors(**overrides: str) -> dict[str, Any]:
    base = {"required": MESSAGES["required"], "null": MESSAGES["null"]}
    return base | overrides


class NikField(fields.String):
    """A NIK as people type it (spaces, dots, dashes), loaded as its 16 digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_nik(text).number
        except InvalidNik as exc:
            MESSAGES.setdefault(exc.code, str(exc))
            CODES.setdefault(str(exc), exc.code)
            raise ValidationError(str(exc)) from exc


def _name(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(min=1, max=200, error=MESSAGES["name_length"]),
        error_messages=_errors(invalid=MESSAGES["type"]),
        **kwargs,
    )


def _date(**kwargs: Any) -> fields.Date:
    return fields.Date(error_messages=_errors(invalid=MESSAGES["date"]), **kwargs)


def _enum(enum_cls: Any, **kwargs: Any) -> fields.Enum:
    return fields.Enum(
        enum_cls, by_value=True, error_messages=_errors(unknown=MESSAGES["choice"]), **kwargs
    )


def _nik_field(**kwargs: Any) -> NikField:
    return NikField(error_messages=_errors(invalid=MESSAGES["type"]), **kwargs)


def _int(low: int, high: int, message: str, **kwargs: Any) -> fields.Integer:
    return fields.Integer(
        strict=True,
        validate=validate.Range(min=low, max=high, error=MESSAGES[message]),
        error_messages=_errors(invalid=MESSAGES["integer"]),
        **kwargs,
    )


class _Strict(Schema):
    error_messages = {"unknown": MESSAGES["unknown"], "type": MESSAGES["type"]}  # noqa: RUF012

    class Meta:
        unknown = "raise"


class ChildSchema(_Strict):
    name = _name(required=True)
    sex = _enum(Sex, required=True)
    birth_date = _date(required=True)
    birth_time = fields.Time(
        load_default=None, allow_none=True, error_messages=_errors(invalid=MESSAGES["time"])
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
            raise ValidationError(MESSAGES["future_birth"], field_name="birth_date")


class ParentSchema(_Strict):
    nik = _nik_field(required=True)
    name = _name(required=True)
    birth_date = _date(required=True)


class MarriageSchema(_Strict):
    recorded = fields.Boolean(required=True, error_messages=_errors(invalid=MESSAGES["boolean"]))
    certificate_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=60)
    )
    date = _date(load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _facts_match_status(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("recorded") and not (data.get("certificate_number") or "").strip():
            raise ValidationError(MESSAGES["certificate_required"], field_name="certificate_number")
        if not data.get("recorded") and (data.get("certificate_number") or data.get("date")):
            raise ValidationError(
                MESSAGES["certificate_unexpected"], field_name="certificate_number"
            )
        if data.get("date") and data["date"] > local_today():
            raise ValidationError(MESSAGES["marriage_in_future"], field_name="date")


class InformantSchema(_Strict):
    relation = fields.String(
        required=True,
        validate=validate.OneOf(tuple(InformantRelation), error=MESSAGES["choice"]),
        error_messages=_errors(),
    )
    nik = _nik_field(required=True)
    name = _name(required=True)
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Regexp(r"^\+?[0-9]{8,15}$", error=MESSAGES["phone"]),
    )
    email = fields.Email(
        load_default=None, allow_none=True, error_messages={"invalid": MESSAGES["email"]}
    )


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
        validate=validate.Regexp(r"^[0-9]{16}$", error=MESSAGES["kk_number"]),
        error_messages=_errors(),
    )
    marriage = fields.Nested(MarriageSchema, required=True, error_messages=_errors())
    informant = fields.Nested(InformantSchema, required=True, error_messages=_errors())
    witnesses = fields.List(
        fields.Nested(WitnessSchema),
        required=True,
        validate=validate.Length(equal=2, error=MESSAGES["two_witnesses"]),
        error_messages=_errors(),
    )
    birth_letter_number = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=60)
    )

    @validates_schema(skip_on_field_errors=True)
    def _cross_field(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, Any] = {}
        if data["mother"]["birth_date"] >= data["child"]["birth_date"]:
            errors["mother"] = {"birth_date": [MESSAGES["mother_younger"]]}
        if data["marriage"]["recorded"] and data["father"] is None:
            errors["father"] = [MESSAGES["father_required"]]
        first, second = data["witnesses"]
        if first["nik"] == second["nik"]:
            errors["witnesses"] = [MESSAGES["same_witness"]]
        if errors:
            raise ValidationError(errors)


def flatten_errors(
    messages: Mapping[str, Any] | list[Any], prefix: str = ""
) -> list[dict[str, str]]:
    """marshmallow's nested messages as `[{field, code, message}]`, one per problem."""
    if isinstance(messages, list):
        return [
            {"field": prefix or "_schema", "code": CODES.get(str(m), "invalid"), "message": str(m)}
            for m in messages
            if not isinstance(m, dict)
        ]
    flat: list[dict[str, str]] = []
    for key, value in messages.items():
        field = str(key) if key != "_schema" else ""
        path = ".".join(p for p in (prefix, field) if p)
        if isinstance(value, str):
            value = [value]
        flat.extend(flatten_errors(value, path))
    return flat
