"""The adapter to Dukcapil's verification access, shaped like the real service.

We send the facts a report claims and get back, per field, whether the
national registry agrees (match / no match / not found): never the person's
data itself. After signing we ask Dukcapil to register the child (the 3-in-1:
a NIK for the child, the child added to the family card).

Implementations: ``sandbox.SandboxDukcapil`` (a synthetic population, in
process) and ``client.HttpDukcapil`` (HTTP, for a real or sandbox server).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Protocol


class Match(enum.StrEnum):
    """Dukcapil's answer for one claimed field."""

    MATCH = "match"  # SESUAI
    NO_MATCH = "no_match"  # TIDAK SESUAI
    NOT_FOUND = "not_found"  # the NIK or KK is not in the registry


class DukcapilUnavailable(RuntimeError):
    """Dukcapil did not give a usable answer (down, timed out, errors, garbled, circuit open).

    Verification waits and retries; it never turns this into a verdict on the report.
    """


@dataclass(frozen=True)
class PersonClaim:
    """What a report says about one person."""

    nik: str
    name: str
    birth_date: date
    #: "male" or "female".
    sex: str
    #: The KK the report says the person belongs to.
    kk_number: str | None = None


@dataclass(frozen=True)
class PersonAnswer:
    """Dukcapil's verdict on a PersonClaim, field by field."""

    nik: Match
    name: Match
    #: 0-100 similarity of the claimed name to the registered one (after normalising).
    name_score: float
    birth_date: Match
    sex: Match
    #: MATCH when the person is alive, NO_MATCH when recorded as deceased.
    alive: Match
    #: MATCH when still registered as a resident, NO_MATCH when moved out (pindah).
    resident: Match
    #: Listed in the claimed KK.
    in_kk: Match


@dataclass(frozen=True)
class FamilyClaim:
    """What a report says about the family card the child will join."""

    kk_number: str
    mother_nik: str
    father_nik: str | None
    #: The parents say their marriage is recorded (buku nikah / akta perkawinan).
    marriage_recorded: bool


@dataclass(frozen=True)
class FamilyAnswer:
    """Dukcapil's verdict on a FamilyClaim."""

    kk: Match
    #: kab/kota code where the KK is registered now (not personal data; names the office).
    region_code: str | None
    mother_listed: Match
    #: None when no father was claimed.
    father_listed: Match | None
    #: The KK shows the claimed father and mother as husband and wife.
    spouses: Match | None
    #: The registry holds a recorded marriage for the couple, as claimed.
    marriage_recorded: Match
    #: How many children the KK lists already (for the birth-order plausibility check).
    children_count: int


@dataclass(frozen=True)
class BirthRegistration:
    """What Dukcapil needs to register a signed birth (3-in-1)."""

    registration_number: str
    kk_number: str
    child_name: str
    child_sex: str
    child_birth_date: date
    mother_nik: str
    father_nik: str | None


class Dukcapil(Protocol):
    """Dukcapil's verification and registration access."""

    def verify_person(self, claim: PersonClaim) -> PersonAnswer:
        """Match one person's claimed facts; raise DukcapilUnavailable if no answer."""
        ...

    def verify_family(self, claim: FamilyClaim) -> FamilyAnswer:
        """Match the claimed family card; raise DukcapilUnavailable if no answer."""
        ...

    def register_birth(self, registration: BirthRegistration) -> str:
        """Assign the child's NIK and add the child to the KK; idempotent per
        registration number (a retry returns the same NIK)."""
        ...
