"""The structure of a NIK (Nomor Induk Kependudukan): PPKKCC DDMMYY SSSS, no checksum.

The date is read as python-stdnum reads it (the day modulo 40, the year in either
century); the place of issue is checked against stdnum's table in verification.checks.
This adds what the service needs on top: the sex encoded in the day, the century chosen
from a claimed birth date, and a message code for each way a NIK can be wrong (its words
are in core.messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from akta_service.core.messages import message_in


class InvalidNik(ValueError):
    """Not a structurally valid NIK; `code` names the problem and its message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        """The Indonesian text, as a verification check records it."""
        return message_in("id", self.code)


@dataclass(frozen=True)
class NikFacts:
    """What a NIK's digits say."""

    number: str
    #: Province + kab/kota + kecamatan where the NIK was first issued.
    district_code: str
    day: int
    month: int
    two_digit_year: int
    female: bool
    serial: int

    @property
    def region_code(self) -> str:
        return self.district_code[:4]

    def matches_birth_date(self, claimed: date) -> bool:
        """The encoded day, month and two-digit year agree with the claimed birth date."""
        return (self.day, self.month, self.two_digit_year) == (
            claimed.day,
            claimed.month,
            claimed.year % 100,
        )


#: What people type between a NIK's digits; nothing else is taken out.
_SEPARATORS = str.maketrans("", "", " .-")


def _is_a_date(day: int, month: int, two_digit_year: int) -> bool:
    """A day of some year ending in those two digits, 19xx or 20xx (stdnum's
    `get_birth_date`, without cleaning a number that is already clean: it walked each
    character of five NIKs a report through three generators)."""
    for century in (1900, 2000):
        try:
            date(century + two_digit_year, month, day)
        except ValueError:
            continue
        return True
    return False


def parse_nik(value: str) -> NikFacts:
    """Check the structure strictly (ASCII digits, length, date, serial) and read its facts.

    Spaces, dots and dashes may stand anywhere; births.schemas.NIK_PATTERN says the same
    as a regular expression."""
    value = value or ""
    # Plain ASCII digits are already compact (most NIKs: five a report).
    number = value if value.isascii() and value.isdigit() else value.translate(_SEPARATORS)
    if not (number.isascii() and number.isdigit()):
        raise InvalidNik("nik_not_digits")
    if len(number) != 16:
        raise InvalidNik("nik_length")
    if not _is_a_date(int(number[6:8]) % 40, int(number[8:10]), int(number[10:12])):
        raise InvalidNik("nik_birth_date")
    if number[12:] == "0000":
        raise InvalidNik("nik_serial")
    encoded_day = int(number[6:8])
    return NikFacts(
        number=number,
        district_code=number[:6],
        day=encoded_day % 40,
        month=int(number[8:10]),
        two_digit_year=int(number[10:12]),
        female=encoded_day > 40,
        serial=int(number[12:]),
    )
