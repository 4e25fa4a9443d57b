"""A synthetic Dukcapil registry: families on their KK, NIKs, and Dukcapil's answers about them.

`SandboxPopulation.build(seed)` makes the same people for the same seed, byte for byte, so a
sandbox server and an in-process sandbox built with one seed agree, and the example reports
that `akta sandbox families` prints pass verification against either.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import random
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from faker import Faker

from akta_service.core.clock import local_today
from akta_service.regions.data import REGIONS, RegionData
from akta_service.verification.dukcapil import (
    BirthRegistered,
    BirthRegistration,
    DukcapilRefused,
    FamilyAnswer,
    FamilyCard,
    FamilyClaim,
    FamilyMember,
    Match,
    PersonAnswer,
    PersonClaim,
    Relation,
)
from akta_service.verification.names import name_similarity

#: Ages and dates count from this day, not from today: the same seed gives the same people
#: next month too. Only the example newborns are dated from the day they are printed.
REFERENCE_DATE = date(2026, 1, 1)
SEXES = ("male", "female")
_ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_HOSPITALS = {"3274": "RSUD Gunung Jati", "3672": "RSUD Kota Cilegon", "3673": "RSUD Kota Serang"}
#: Days between two children of one mother, at least.
_CHILD_SPACING_DAYS = 450
_PROVINCES = {"32": "Jawa Barat", "36": "Banten"}
#: Desa / kelurahan of the kecamatan the sandbox knows; elsewhere the kecamatan's own name.
_VILLAGES = {
    "Kejaksan": ("Kebonbaru", "Kejaksan", "Kesenden", "Sukapura"),
    "Lemahwungkuk": ("Kesepuhan", "Lemahwungkuk", "Panjunan", "Pegambiran"),
    "Harjamukti": ("Argasunya", "Harjamukti", "Kalijaga", "Kecapi", "Larangan"),
    "Pekalipan": ("Jagasatru", "Pekalangan", "Pekalipan", "Pulasaren"),
    "Kesambi": ("Drajat", "Karyamulya", "Kesambi", "Pekiringan", "Sunyaragi"),
}
#: Where the sandbox's adults were born: their own town most often, else one of these.
_BIRTH_TOWNS = ("Kuningan", "Indramayu", "Majalengka", "Bandung", "Tegal", "Jakarta", "Lebak")
#: The KK lists the head of family first, then the spouse, then the children.
_KK_ORDER = {Relation.HEAD: 0, Relation.WIFE: 1, Relation.CHILD: 2}


class FamilyKind(enum.StrEnum):
    """How the KK shows the parents; picks the akta wording model."""

    #: Husband and wife with a recorded marriage (buku nikah / akta perkawinan).
    RECORDED = "recorded"
    #: The KK shows husband and wife, but the marriage is not recorded (SPTJM F-2.04).
    UNRECORDED = "unrecorded"
    #: No father on the KK.
    SINGLE_MOTHER = "single_mother"


#: Share of each kind among a region's families (rounded; each kind at least once).
KIND_SHARES = {
    FamilyKind.RECORDED: 0.7,
    FamilyKind.UNRECORDED: 0.2,
    FamilyKind.SINGLE_MOTHER: 0.1,
}
#: Share of a region's families with a parent recorded as deceased, and again as moved out.
STATUS_SHARE = 0.03


class PersonStatus(enum.StrEnum):
    """Where the registry says a person is."""

    ACTIVE = "active"
    DECEASED = "deceased"
    #: Moved out of the kab/kota (pindah); the sandbox keeps them listed on their old KK.
    MOVED_OUT = "moved_out"


@dataclass(frozen=True)
class Person:
    """One registered person."""

    nik: str
    name: str
    sex: str
    birth_date: date
    kk_number: str
    relation: Relation
    status: PersonStatus = PersonStatus.ACTIVE
    #: Anak ke-: children only.
    birth_order: int | None = None


@dataclass(frozen=True)
class Marriage:
    """A recorded marriage."""

    certificate_number: str
    date: date


@dataclass(frozen=True)
class Family:
    """One family card (KK)."""

    kind: FamilyKind
    region_code: str
    kk_number: str
    issued_on: date
    mother_nik: str
    father_nik: str | None
    #: Only for FamilyKind.RECORDED.
    marriage: Marriage | None


@dataclass(frozen=True)
class ExampleBirth:
    """The made-up newborn of a family's example report; not registry data."""

    name: str
    sex: str
    days_ago: int
    birth_time: str
    place_kind: str
    place: str
    attendant: str
    weight_grams: int
    length_cm: int
    informant_is_father: bool
    phone: str
    letter_serial: int


class RegistrationRefused(DukcapilRefused):
    """The sandbox cannot register a birth as asked; `code` is machine-readable."""


def nik_prefix(district: str, born: date, female: bool) -> str:
    """The first twelve digits of a NIK: PPKKCC and DDMMYY, women's day plus 40."""
    return f"{district}{born.day + (40 if female else 0):02d}{born:%m%y}"


class SandboxPopulation:
    """The sandbox registry: families, people, registered births. Safe to share between threads."""

    def __init__(
        self,
        seed: int,
        as_of: date,
        families: Iterable[Family],
        persons: Iterable[Person],
        examples: dict[str, ExampleBirth],
    ) -> None:
        self.seed = seed
        self.as_of = as_of
        self._lock = threading.RLock()
        self._families = {family.kk_number: family for family in families}
        self._persons = {person.nik: person for person in persons}
        self._members: dict[str, list[str]] = {kk: [] for kk in self._families}
        for person in self._persons.values():
            self._members[person.kk_number].append(person.nik)
        self._examples = dict(examples)
        #: registration number -> the child's NIK, so a retried registration is not a second child.
        self._registrations: dict[str, str] = {}
        #: Draws the details `family_card` prints; made on first use.
        self._details: Faker | None = None

    @classmethod
    def build(
        cls,
        seed: int = 2026,
        region_codes: Sequence[str] = ("3274", "3672", "3673"),
        families_per_region: int = 60,
        *,
        as_of: date = REFERENCE_DATE,
    ) -> SandboxPopulation:
        """The population for `seed`: `families_per_region` families in each kab/kota."""
        builder = _Builder(seed, as_of)
        for code in region_codes:
            builder.add_region(_region(code), families_per_region)
        return cls(seed, as_of, builder.families, builder.persons.values(), builder.examples)

    # Lookups. Each returns immutable values, so callers need no lock.

    def person(self, nik: str) -> Person | None:
        """The person with this NIK, if registered."""
        with self._lock:
            return self._persons.get(nik)

    def family(self, kk_number: str) -> Family | None:
        """The family card with this number, if registered."""
        with self._lock:
            return self._families.get(kk_number)

    def members(self, kk_number: str) -> tuple[Person, ...]:
        """Everyone listed on the KK, in the order they were added."""
        with self._lock:
            return tuple(self._persons[nik] for nik in self._members.get(kk_number, ()))

    def children(self, kk_number: str) -> tuple[Person, ...]:
        """The children listed on the KK, eldest first."""
        return tuple(p for p in self.members(kk_number) if p.relation == Relation.CHILD)

    def family_card(self, kk_number: str) -> FamilyCard | None:
        """The KK as Dukcapil holds it now (after any 3-in-1): its address and its members.

        What the population does not draw (addresses, places of birth, the adults' own
        parents) comes from generators seeded by the KK or the person: the same every time.
        """
        with self._lock:
            family = self._families.get(kk_number)
            if family is None:
                return None
            people = sorted(
                self.members(kk_number), key=lambda p: (_KK_ORDER[p.relation], p.birth_date)
            )
            members = tuple(self._listed(person, family) for person in people)
            address = self._address(family)
        head = next(member for member in members if member.relation == Relation.HEAD)
        return FamilyCard(kk_number, head.name, head.nik, *address, members=members)

    def _faker(self, key: str) -> Faker:
        # One generator, seeded afresh for each use (callers hold the lock).
        if self._details is None:
            self._details = Faker("id_ID")
        self._details.seed_instance(f"{self.seed}:{key}")
        return self._details

    def _address(self, family: Family) -> tuple[str, str, str, str, str, str, str]:
        """Alamat, RT, RW, desa/kelurahan, kecamatan, kab/kota, provinsi of the KK."""
        region = _region(family.region_code)
        district = region["districts"][family.kk_number[4:6]]
        street = self._faker(f"kk:{family.kk_number}").street_name()
        rng = random.Random(f"{self.seed}:kk:{family.kk_number}")  # noqa: S311 - synthetic data
        return (
            f"{street} No. {rng.randint(1, 120)}",
            f"{rng.randint(1, 12):03d}",
            f"{rng.randint(1, 9):03d}",
            rng.choice(_VILLAGES.get(district, (district,))),
            district,
            region["name"],
            _PROVINCES[family.region_code[:2]],
        )

    def _listed(self, person: Person, family: Family) -> FamilyMember:
        """How the KK lists one person: a child with the family's parents' names, an adult
        with their own parents' (drawn) and their place of birth (drawn)."""
        town = _region(family.region_code)["issue_place"]
        if person.relation == Relation.CHILD:
            father = self._persons[family.father_nik].name if family.father_nik else None
            mother: str | None = self._persons[family.mother_nik].name
        else:
            fake = self._faker(f"parents:{person.nik}")
            father = f"{fake.first_name_male()} {fake.last_name_male()}"
            mother = f"{fake.first_name_female()} {fake.last_name_female()}"
            rng = random.Random(f"{self.seed}:born:{person.nik}")  # noqa: S311 - synthetic data
            town = town if rng.random() < 0.6 else rng.choice(_BIRTH_TOWNS)
        return FamilyMember(
            nik=person.nik,
            name=person.name,
            sex=person.sex,
            birth_place=town,
            birth_date=person.birth_date,
            relation=person.relation,
            father_name=father,
            mother_name=mother,
        )

    def families(
        self, kind: FamilyKind | None = None, region: str | None = None
    ) -> tuple[Family, ...]:
        """Family cards, optionally of one kind and one kab/kota, in a stable order."""
        with self._lock:
            return tuple(
                f
                for f in self._families.values()
                if (kind is None or f.kind == kind) and (region is None or f.region_code == region)
            )

    def persons(self, status: PersonStatus | None = None) -> tuple[Person, ...]:
        """Registered people, optionally only those with one status."""
        with self._lock:
            return tuple(p for p in self._persons.values() if status is None or p.status == status)

    def registered_child(self, registration_number: str) -> str | None:
        """The NIK given to the child of this registration, if it was registered."""
        with self._lock:
            return self._registrations.get(registration_number)

    def snapshot(self) -> bytes:
        """The whole registry as canonical JSON: equal bytes, equal populations."""
        with self._lock:
            state = {
                "seed": self.seed,
                "as_of": self.as_of,
                "families": [dataclasses.asdict(f) for f in self._families.values()],
                "persons": [dataclasses.asdict(p) for p in self._persons.values()],
                "members": self._members,
                "examples": {kk: dataclasses.asdict(e) for kk, e in self._examples.items()},
                "registrations": self._registrations,
            }
        return json.dumps(state, default=str, ensure_ascii=False, sort_keys=True).encode()

    # The one change Dukcapil makes for us: the 3-in-1 after signing.

    def register_newborn(self, registration: BirthRegistration) -> str:
        """Give the child a NIK and add it to the KK; a repeated registration number returns
        the NIK given the first time."""
        with self._lock:
            known = self._registrations.get(registration.registration_number)
            if known is not None:
                return known
            family = self._families.get(registration.kk_number)
            if family is None:
                raise RegistrationRefused("kk_not_found", "no KK with this number")
            if registration.mother_nik not in self._members[family.kk_number]:
                raise RegistrationRefused("mother_not_listed", "the mother is not on this KK")
            if registration.child_sex not in SEXES:
                raise RegistrationRefused("child_sex", "child_sex must be male or female")
            female = registration.child_sex == "female"
            nik = self._next_free_nik(family.kk_number[:6], registration.child_birth_date, female)
            self._persons[nik] = Person(
                nik=nik,
                name=registration.child_name.strip(),
                sex=registration.child_sex,
                birth_date=registration.child_birth_date,
                kk_number=family.kk_number,
                relation=Relation.CHILD,
                birth_order=len(self.children(family.kk_number)) + 1,
            )
            self._members[family.kk_number].append(nik)
            self._registrations[registration.registration_number] = nik
            return nik

    def _next_free_nik(self, district: str, born: date, female: bool) -> str:
        prefix = nik_prefix(district, born, female)
        for serial in range(1, 10_000):
            if f"{prefix}{serial:04d}" not in self._persons:
                return f"{prefix}{serial:04d}"
        raise RegistrationRefused("nik_exhausted", "no free NIK serial for this district and day")

    # Example data for people trying the service.

    def sample_families(
        self,
        count: int,
        kind: FamilyKind | str | None = None,
        *,
        region: str | None = None,
        today: date | None = None,
    ) -> list[dict[str, Any]]:
        """Families whose parents are alive and resident, each with a report ready to submit.

        Without `kind` the kinds take turns, so a short list shows each of them.
        :param today: the day the example newborns are dated from (default: today, local).
        """
        if today is None:
            today = local_today()
        kinds = [FamilyKind(kind)] if kind else list(FamilyKind)
        queues = [[f for f in self.families(k, region) if self._usable(f)] for k in kinds]
        chosen: list[Family] = []
        while len(chosen) < count and any(queues):
            for queue in queues:
                if queue and len(chosen) < count:
                    chosen.append(queue.pop(0))
        return [self._sample(family, today) for family in chosen]

    def _usable(self, family: Family) -> bool:
        parents = [family.mother_nik, family.father_nik]
        return all(
            self._persons[nik].status == PersonStatus.ACTIVE for nik in parents if nik is not None
        )

    def _sample(self, family: Family, today: date) -> dict[str, Any]:
        mother = self._persons[family.mother_nik]
        father = self._persons[family.father_nik] if family.father_nik else None
        marriage = {
            "recorded": family.marriage is not None,
            "certificate_number": family.marriage.certificate_number if family.marriage else None,
            "date": family.marriage.date.isoformat() if family.marriage else None,
        }
        return {
            "kind": str(family.kind),
            "region": family.region_code,
            "region_name": _region(family.region_code)["name"],
            "kk_number": family.kk_number,
            "mother": _parent(mother),
            "father": _parent(father) if father else None,
            "marriage": marriage,
            "existing_children": len(self.children(family.kk_number)),
            "example_report": self._example_report(family, mother, father, marriage, today),
        }

    def _example_report(
        self,
        family: Family,
        mother: Person,
        father: Person | None,
        marriage: dict[str, Any],
        today: date,
    ) -> dict[str, Any]:
        """A report in the shape of births.schemas.BirthReportInput."""
        newborn = self._examples[family.kk_number]
        informant = father if father and newborn.informant_is_father else mother
        born = today - timedelta(days=newborn.days_ago)
        return {
            "child": {
                "name": newborn.name,
                "sex": newborn.sex,
                "birth_date": born.isoformat(),
                "birth_time": newborn.birth_time,
                "birth_place": newborn.place,
                "birth_place_kind": newborn.place_kind,
                "birth_order": len(self.children(family.kk_number)) + 1,
                "birth_type": "single",
                "weight_grams": newborn.weight_grams,
                "length_cm": newborn.length_cm,
                "attendant": newborn.attendant,
            },
            "mother": _parent(mother),
            "father": _parent(father) if father else None,
            "kk_number": family.kk_number,
            "marriage": marriage,
            "informant": {
                "relation": "father" if informant is father else "mother",
                "nik": informant.nik,
                "name": informant.name,
                "phone": newborn.phone,
                "email": None,
            },
            "witnesses": [{"nik": w.nik, "name": w.name} for w in self._witnesses(family)],
            "birth_letter_number": f"SKL/{born.year}/{newborn.letter_serial:04d}",
        }

    def _witnesses(self, family: Family) -> list[Person]:
        """Two adults from the next families of the same kab/kota (then of the others)."""
        local = list(self.families(region=family.region_code))
        start = local.index(family)
        others = [f for f in self.families() if f.region_code != family.region_code]
        witnesses: list[Person] = []
        for other in local[start + 1 :] + local[:start] + others:
            head = self._persons[other.father_nik or other.mother_nik]
            if head.status == PersonStatus.ACTIVE:
                witnesses.append(head)
            if len(witnesses) == 2:
                break
        return witnesses


def _parent(person: Person) -> dict[str, str]:
    return {"nik": person.nik, "name": person.name, "birth_date": person.birth_date.isoformat()}


def _region(code: str) -> RegionData:
    for region in REGIONS:
        if region["code"] == code:
            return region
    known = ", ".join(r["code"] for r in REGIONS)
    raise ValueError(f"unknown kab/kota code {code!r}; the sandbox knows {known}")


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year + years, day=28)


def _kinds(count: int) -> list[FamilyKind]:
    """Exactly the shares of KIND_SHARES (rounded), so proportions do not drift with the seed."""
    sizes = {kind: round(count * share) for kind, share in KIND_SHARES.items()}
    if count >= len(FamilyKind):
        sizes = {kind: max(1, size) for kind, size in sizes.items()}
    sizes[FamilyKind.RECORDED] = (
        count - sizes[FamilyKind.UNRECORDED] - sizes[FamilyKind.SINGLE_MOTHER]
    )
    return [kind for kind, size in sizes.items() for _ in range(max(0, size))][:count]


class _Builder:
    """Draws one population; every random choice comes from the seeded generators, in order."""

    def __init__(self, seed: int, as_of: date) -> None:
        self.seed = seed
        #: Both seeded afresh for each region by add_region.
        self.rng: random.Random
        self.fake = Faker("id_ID")
        self.as_of = as_of
        self.families: list[Family] = []
        self.persons: dict[str, Person] = {}
        self.examples: dict[str, ExampleBirth] = {}
        self._kk_numbers: set[str] = set()

    def add_region(self, region: RegionData, count: int) -> None:
        # Seeded per region: a region's families do not depend on which other regions are
        # built, nor in what order (the app lists its own regions first, the CLI does not).
        key = f"{self.seed}:{region['code']}"
        self.rng = random.Random(key)  # noqa: S311 - synthetic data, not secrets
        self.fake.seed_instance(key)
        kinds = _kinds(count)
        self.rng.shuffle(kinds)
        first = len(self.families)
        for kind in kinds:
            self._family(region, kind)
        self._mark_statuses(self.families[first:], count)

    def _family(self, region: RegionData, kind: FamilyKind) -> None:
        district = region["code"] + self.rng.choice(sorted(region["districts"]))
        mother_born = self.as_of - timedelta(days=self.rng.randint(18 * 366, 42 * 365))
        union = _years_after(mother_born, 18)
        father: Person | None = None
        father_born = None
        if kind != FamilyKind.SINGLE_MOTHER:
            father_born = mother_born - timedelta(days=self.rng.randint(-2 * 365, 8 * 365))
            father_born = min(father_born, _years_after(self.as_of, -20))
            union = max(union, _years_after(father_born, 19))
        # Most couples marry in their early twenties: a few years after 18, rarely a dozen.
        wait = round(self.rng.triangular(0, 12 * 365, 3 * 365))
        union += timedelta(days=min(wait, max(0, (self.as_of - union).days - 60)))
        births = self._child_birth_dates(union)
        # A KK is reprinted after each change of the family: within a year of the last one.
        issued_on = max([union, *births])
        issued_on += timedelta(days=self.rng.randint(0, min(365, (self.as_of - issued_on).days)))
        kk_number = self._kk_number(district, issued_on)
        mother = self._person(
            region,
            "female",
            mother_born,
            kk_number,
            Relation.HEAD if father_born is None else Relation.WIFE,
        )
        if father_born is not None:
            father = self._person(region, "male", father_born, kk_number, Relation.HEAD)
        for order, born in enumerate(births, start=1):
            sex = self.rng.choice(SEXES)
            self._person(region, sex, born, kk_number, Relation.CHILD, district, order)
        marriage = None
        if kind == FamilyKind.RECORDED:
            number = (
                f"{self.rng.randint(1, 999):04d}/{self.rng.randint(1, 150):03d}/"
                f"{_ROMAN_MONTHS[union.month - 1]}/{union.year}"
            )
            marriage = Marriage(certificate_number=number, date=union)
        family = Family(
            kind=kind,
            region_code=region["code"],
            kk_number=kk_number,
            issued_on=issued_on,
            mother_nik=mother.nik,
            father_nik=father.nik if father else None,
            marriage=marriage,
        )
        self.families.append(family)
        self.examples[kk_number] = self._example_birth(region, district, father is not None)

    def _child_birth_dates(self, union: date) -> list[date]:
        """Up to 3 birth dates: the first 10 months to 3 years after the union, then one every
        15 months to 5 years, none in the last month (those are the reports still to come)."""
        wanted = self.rng.choices((0, 1, 2, 3), weights=(30, 30, 25, 15))[0]
        latest = self.as_of - timedelta(days=30)
        births: list[date] = []
        born = union + timedelta(days=self.rng.randint(300, 3 * 365))
        while len(births) < wanted and born <= latest:
            births.append(born)
            born += timedelta(days=self.rng.randint(_CHILD_SPACING_DAYS, 5 * 365))
        return births

    def _person(
        self,
        region: RegionData,
        sex: str,
        born: date,
        kk_number: str,
        relation: Relation,
        district: str | None = None,
        birth_order: int | None = None,
    ) -> Person:
        female = sex == "female"
        first = self.fake.first_name_female() if female else self.fake.first_name_male()
        last = self.fake.last_name_female() if female else self.fake.last_name_male()
        # A NIK shows where it was first issued: adults anywhere in the kab/kota.
        district = district or region["code"] + self.rng.choice(sorted(region["districts"]))
        prefix = nik_prefix(district, born, female)
        nik = f"{prefix}{self.rng.randint(1, 1999):04d}"
        while nik in self.persons:
            nik = f"{prefix}{self.rng.randint(1, 1999):04d}"
        person = Person(
            nik, f"{first} {last}", sex, born, kk_number, relation, birth_order=birth_order
        )
        self.persons[nik] = person
        return person

    def _kk_number(self, district: str, issued_on: date) -> str:
        number = f"{district}{issued_on:%d%m%y}{self.rng.randint(1, 2999):04d}"
        while number in self._kk_numbers:
            number = f"{district}{issued_on:%d%m%y}{self.rng.randint(1, 2999):04d}"
        self._kk_numbers.add(number)
        return number

    def _mark_statuses(self, families: list[Family], count: int) -> None:
        """A few parents deceased, a few moved out, each in a different family."""
        size = max(1, round(count * STATUS_SHARE)) if count >= 4 else 0
        picked = self.rng.sample(families, 2 * size)
        for index, family in enumerate(picked):
            status = PersonStatus.DECEASED if index < size else PersonStatus.MOVED_OUT
            nik = family.mother_nik
            if family.father_nik and self.rng.random() < 0.5:
                nik = family.father_nik
            self.persons[nik] = dataclasses.replace(self.persons[nik], status=status)

    def _example_birth(self, region: RegionData, district: str, has_father: bool) -> ExampleBirth:
        sex = self.rng.choice(SEXES)
        first = self.fake.first_name_female() if sex == "female" else self.fake.first_name_male()
        last = self.fake.last_name_female() if sex == "female" else self.fake.last_name_male()
        kecamatan = region["districts"][district[4:]]
        place_kind, place, attendant = "facility", _HOSPITALS.get(region["code"], ""), "doctor"
        roll = self.rng.random()
        if roll < 0.35 or not place:
            place, attendant = f"Puskesmas {kecamatan}", "midwife"
        elif roll > 0.9:
            place_kind, place, attendant = "home", f"{kecamatan}, {region['name']}", "midwife"
        return ExampleBirth(
            name=f"{first} {last}",
            sex=sex,
            days_ago=self.rng.randint(1, 10),
            birth_time=f"{self.rng.randint(0, 23):02d}:{self.rng.randint(0, 59):02d}",
            place_kind=place_kind,
            place=place,
            attendant=attendant,
            weight_grams=self.rng.randint(2500, 4000),
            length_cm=self.rng.randint(46, 53),
            informant_is_father=has_father and self.rng.random() < 0.7,
            phone="08"
            + "".join(str(self.rng.randint(0, 9)) for _ in range(self.rng.choice((9, 10)))),
            letter_serial=self.rng.randint(1, 9999),
        )


class SandboxDukcapil:
    """Dukcapil's verification and registration access, answered from a SandboxPopulation."""

    def __init__(self, population: SandboxPopulation, name_threshold: float = 88.0) -> None:
        self.population = population
        #: name_similarity at or above which a claimed name is the registered one.
        self.name_threshold = name_threshold

    def verify_person(self, claim: PersonClaim) -> PersonAnswer:
        """Match each claimed fact; an unknown NIK makes every field NOT_FOUND."""
        person = self.population.person(claim.nik)
        if person is None:
            missing = Match.NOT_FOUND
            return PersonAnswer(missing, missing, 0.0, missing, missing, missing, missing, missing)
        score = round(name_similarity(claim.name, person.name), 1)
        return PersonAnswer(
            nik=Match.MATCH,
            name=_match(score >= self.name_threshold),
            name_score=score,
            birth_date=_match(claim.birth_date == person.birth_date),
            sex=_match(claim.sex == person.sex),
            alive=_match(person.status != PersonStatus.DECEASED),
            resident=_match(person.status != PersonStatus.MOVED_OUT),
            in_kk=self._in_kk(person, claim.kk_number),
        )

    def _in_kk(self, person: Person, kk_number: str | None) -> Match:
        # No KK claimed, or an unknown one: there is no card to be listed in.
        if kk_number is None or self.population.family(kk_number) is None:
            return Match.NOT_FOUND
        return _match(person.kk_number == kk_number)

    def verify_family(self, claim: FamilyClaim) -> FamilyAnswer:
        """Match the claimed KK, its members and the parents' marriage."""
        family = self.population.family(claim.kk_number)
        fathered = claim.father_nik is not None
        if family is None:
            missing = Match.NOT_FOUND
            return FamilyAnswer(
                kk=missing,
                region_code=None,
                mother_listed=missing,
                father_listed=missing if fathered else None,
                spouses=missing if fathered else None,
                marriage_recorded=missing,
                children_count=0,
            )
        listed = {person.nik for person in self.population.members(family.kk_number)}
        spouses = (family.mother_nik, family.father_nik) == (claim.mother_nik, claim.father_nik)
        recorded = spouses and family.marriage is not None
        return FamilyAnswer(
            kk=Match.MATCH,
            region_code=family.region_code,
            mother_listed=_match(claim.mother_nik in listed),
            father_listed=_match(claim.father_nik in listed) if fathered else None,
            spouses=_match(spouses) if fathered else None,
            marriage_recorded=_match(recorded == claim.marriage_recorded),
            children_count=len(self.population.children(family.kk_number)),
        )

    def register_birth(self, registration: BirthRegistration) -> BirthRegistered:
        """Assign the child's NIK and add the child to the KK; idempotent per registration.
        The answer carries the KK as it is now, the child on it."""
        child_nik = self.population.register_newborn(registration)
        card = self.population.family_card(registration.kk_number)
        assert card is not None  # noqa: S101 - the registration found the KK
        return BirthRegistered(child_nik=child_nik, family_card=card)


def _match(agrees: bool) -> Match:
    return Match.MATCH if agrees else Match.NO_MATCH
