"""A NIK's structure: what it says, however it was typed, and why it is refused."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.exceptions import ValidationError
from stdnum.id import nik as stdnum_nik

from akta_service.core.nik import InvalidNik, parse_nik


@pytest.mark.parametrize(
    "typed",
    ["3274014101000001", "3274 0141 0100 0001", "3274-014101-000001", " 3274.0141.0100.0001 "],
)
def test_a_nik_reads_the_same_however_it_was_typed(typed: str) -> None:
    facts = parse_nik(typed)
    assert facts.number == "3274014101000001"
    assert facts.region_code == "3274"
    assert (facts.day, facts.month, facts.two_digit_year) == (1, 1, 0)
    assert facts.female


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("32740141010000x1", "nik_not_digits"),
        ("327401410100001", "nik_length"),
        ("3274017301000001", "nik_birth_date"),
        ("3274014101000000", "nik_serial"),
        ("", "nik_not_digits"),
    ],
)
def test_a_wrong_nik_is_refused_with_the_reason(typed: str, code: str) -> None:
    with pytest.raises(InvalidNik) as refused:
        parse_nik(typed)
    assert refused.value.code == code


@given(st.from_regex(r"\A3274[0-9]{2}[0-9]{2}[0-9]{2}[0-9]{2}000[1-9]\Z"))
@settings(max_examples=300, deadline=None, derandomize=True, database=None)
def test_a_nik_s_date_is_judged_as_python_stdnum_judges_it(number: str) -> None:
    try:
        stdnum_nik.get_birth_date(number)
    except ValidationError:
        with pytest.raises(InvalidNik) as refused:
            parse_nik(number)
        assert refused.value.code == "nik_birth_date"
    else:
        assert parse_nik(number).number == number
