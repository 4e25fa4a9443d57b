"""The adapter to Dukcapil's verification access, shaped like the real service.

We send the facts a report claims and get back, per field, whether the
national registry agrees (match / no match / not found): never the person's
data itself. After signing we ask Dukcapil to register the child (the 3-in-1:
a NIK for the child, the child added to the family card); that answer carries the
updated family card, which the office prints and the KIA's head of family comes from.

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


class Relation(enum.StrEnum):
    """Status hubungan dalam keluarga, as the KK lists it."""

    HEAD = "head"  # kepala keluarga
    WIFE = "wife"  # istri
    CHILD = "child"  # anak


class DukcapilUnavailable(RuntimeError):
    """Dukcapil did not give a usable answer (down, timed out, errors, garbled, circuit open).

    Verification waits and retries; it never turns this into a verdict on the report.
    """


class DukcapilRefused(ValueError):
    """Dukcapil answered, and will not register the birth as asked (no such KK, the mother
    not on it): asking again the same way does not help. `code` is machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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


@dataclass(frozen=True)
class FamilyMember:
    """One person as the KK lists them."""

    nik: str
    name: str
    #: "male" or "female".
    sex: str
    birth_place: str
    birth_date: date
    relation: Relation
    #: The names of the person's parents as the KK prints them (None where it prints none).
    father_name: str | None
    mother_name: str | None


@dataclass(frozen=True)
class FamilyCard:
    """The Kartu Keluarga as Dukcapil holds it after the 3-in-1: the new child included."""

    kk_number: str
    head_name: str
    head_nik: str
    #: Alamat: street and number, as printed.
    address: str
    rt: str
    rw: str
    #: Desa / kelurahan.
    village: str
    #: Kecamatan.
    district: str
    #: Kabupaten / kota.
    regency: str
    province: str
    #: In the KK's order: the head of family, the spouse, then the children eldest first.
    members: tuple[FamilyMember, ...]


@dataclass(frozen=True)
class BirthRegistered:
    """Dukcapil's answer to a BirthRegistration: the child's NIK and the updated KK."""

    child_nik: str
    family_card: FamilyCard


class Dukcapil(Protocol):
    """Dukcapil's verification and registration access."""

    def verify_person(self, claim: PersonClaim) -> PersonAnswer:
        """Match one person's claimed facts; raise DukcapilUnavailable if no answer."""
        ...

    def verify_family(self, claim: FamilyClaim) -> FamilyAnswer:
        """Match the claimed family card; raise DukcapilUnavailable if no answer."""
        ...

    def register_birth(self, registration: BirthRegistration) -> BirthRegistered:
        """Assign the child's NIK and add the child to the KK, answering both; idempotent per
        registration number (a retry returns the same NIK, and the KK as it is then)."""
        ...
