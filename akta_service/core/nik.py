"""The structure of a NIK (Nomor Induk Kependudukan): PPKKCC DDMMYY SSSS, no checksum.

python-stdnum parses the date; this adds what the service needs on top: the
sex encoded in the day, the century chosen from a claimed birth date, and a
message code for each way a NIK can be wrong (its words are in core.messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from stdnum.exceptions import ValidationError
from stdnum.id import nik as stdnum_nik

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
    try:
        stdnum_nik.get_birth_date(number)
    except ValidationError as exc:
        raise InvalidNik("nik_birth_date") from exc
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
