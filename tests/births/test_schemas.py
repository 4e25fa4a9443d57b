"""The report schema's fields validate as marshmallow's do, only more cheaply."""

from __future__ import annotations

from typing import Any

import pytest
from marshmallow import Schema, ValidationError, fields, validate

from akta_service.births.operations import load_report_input
from akta_service.births.schemas import String
from akta_service.core.errors import InvalidInput
from tests.factories import report_payload


def test_marshmallow_still_validates_through_the_field_hook_the_schema_overrides() -> None:
    """births.schemas._Field skips `_validate` for a field without validators: if
    marshmallow stopped calling `_validate` (or validated elsewhere), this fails."""
    asked: list[Any] = []

    class Watched(fields.String):
        def _validate(self, value: Any) -> None:
            asked.append(value)
            super()._validate(value)

    class Shape(Schema):
        name = Watched(validate=validate.Length(max=3))

    assert Shape().load({"name": "abc"}) == {"name": "abc"}
    assert asked == ["abc"]
    with pytest.raises(ValidationError):
        Shape().load({"name": "abcd"})


def test_a_field_with_validators_still_refuses_and_one_without_takes_any_text() -> None:
    class Shape(Schema):
        code = String(validate=validate.Regexp(r"^[0-9]+$", error="digits"))
        note = String()

    assert Shape().load({"code": "123", "note": "apa saja"}) == {"code": "123", "note": "apa saja"}
    with pytest.raises(ValidationError) as refused:
        Shape().load({"code": "12a", "note": "x"})
    assert refused.value.messages == {"code": ["digits"]}


def test_every_kind_of_field_of_a_report_still_refuses_bad_values() -> None:
    payload = report_payload()
    payload["child"]["name"] = "x" * 201  # Length
    payload["child"]["birth_order"] = 0  # Range
    payload["informant"]["phone"] = "telepon"  # Regexp
    payload["informant"]["email"] = "bukan-surel"  # Email's own validator
    payload["witnesses"] = payload["witnesses"][:1]  # a List's Length
    payload["kk_number"] = "123"  # Regexp on a plain String

    with pytest.raises(InvalidInput) as refused:
        load_report_input(payload)

    codes = {e["field"]: e["code"] for e in refused.value.to_problem()["errors"]}
    assert codes == {
        "child.name": "name_length",
        "child.birth_order": "birth_order",
        "informant.phone": "phone",
        "informant.email": "email",
        "witnesses": "two_witnesses",
        "kk_number": "kk_number",
    }
