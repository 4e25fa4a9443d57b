"""The sandbox registry: a believable population, and Dukcapil's answers about it."""

from __future__ import annotations

import dataclasses
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from akta_service.core.nik import parse_nik
from akta_service.regions.data import REGIONS
from akta_service.verification.dukcapil import (
    BirthRegistration,
    FamilyClaim,
    Match,
    PersonAnswer,
    PersonClaim,
)
from akta_service.verification.sandbox import (
    FamilyKind,
    Person,
    PersonStatus,
    RegistrationRefused,
    Relation,
    SandboxDukcapil,
    SandboxPopulation,
)

DISTRICTS = {region["code"] + suffix for region in REGIONS for suffix in region["districts"]}
ALL_MATCH = PersonAnswer(*(Match.MATCH,) * 2, 100.0, *(Match.MATCH,) * 5)


@pytest.fixture(scope="module")
def population() -> SandboxPopulation:
    """The default population; tests that register births build their own."""
    return SandboxPopulation.build()


@pytest.fixture(scope="module")
def dukcapil(population: SandboxPopulation) -> SandboxDukcapil:
    return SandboxDukcapil(population)


def claim_for(person: Person, **changes: object) -> PersonClaim:
    claim = PersonClaim(person.nik, person.name, person.birth_date, person.sex, person.kk_number)
    return dataclasses.replace(claim, **changes)


def a_family(
    population: SandboxPopulation, kind: FamilyKind, region: str = "3274", children: int = 0
) -> tuple[Person, Person | None, str]:
    """Mother, father and KK of a family whose parents are alive and resident."""
    for family in population.families(kind, region):
        parents = [population.person(n) for n in (family.mother_nik, family.father_nik) if n]
        active = all(p is not None and p.status == PersonStatus.ACTIVE for p in parents)
        if active and len(population.children(family.kk_number)) >= children:
            father = population.person(family.father_nik) if family.father_nik else None
            mother = population.person(family.mother_nik)
            assert mother is not None
            return mother, father, family.kk_number
    raise AssertionError(f"no {kind} family in {region}")


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


# The population


def test_the_same_seed_gives_the_same_population_byte_for_byte(
    population: SandboxPopulation,
) -> None:
    again = SandboxPopulation.build(seed=2026)
    other = SandboxPopulation.build(seed=2027)

    assert again.snapshot() == population.snapshot()
    assert other.snapshot() != population.snapshot()


def test_a_regions_families_do_not_depend_on_the_other_regions_built(
    population: SandboxPopulation,
) -> None:
    reordered = SandboxPopulation.build(region_codes=("3673", "3274"))

    assert reordered.families(region="3274") == population.families(region="3274")
    assert reordered.members(population.families(region="3274")[0].kk_number) == (
        population.members(population.families(region="3274")[0].kk_number)
    )


def test_every_nik_is_structurally_valid_and_unique(population: SandboxPopulation) -> None:
    people = population.persons()
    assert len(people) > 400
    assert len({p.nik for p in people}) == len(people)
    for person in people:
        facts = parse_nik(person.nik)
        assert facts.district_code in DISTRICTS, person
        assert facts.region_code == person.kk_number[:4], person
        assert facts.matches_birth_date(person.birth_date), person
        assert facts.female == (person.sex == "female"), person
        assert facts.serial >= 1


def test_women_have_forty_added_to_the_day_of_birth(population: SandboxPopulation) -> None:
    for person in population.persons():
        encoded_day = int(person.nik[6:8])
        expected = person.birth_date.day + (40 if person.sex == "female" else 0)
        assert encoded_day == expected, person


def test_every_kk_number_is_district_issue_date_and_serial(population: SandboxPopulation) -> None:
    families = population.families()
    assert len({f.kk_number for f in families}) == len(families)
    for family in families:
        number = family.kk_number
        assert len(number) == 16
        assert number.isdigit()
        assert number[:6] in DISTRICTS
        assert number[:4] == family.region_code
        assert number[6:12] == family.issued_on.strftime("%d%m%y")
        assert family.issued_on <= population.as_of
        assert int(number[12:]) >= 1


def test_each_region_has_the_kinds_of_family_in_fixed_proportions(
    population: SandboxPopulation,
) -> None:
    for code in ("3274", "3672", "3673"):
        kinds = Counter(family.kind for family in population.families(region=code))

        assert kinds == {
            FamilyKind.RECORDED: 42,
            FamilyKind.UNRECORDED: 12,
            FamilyKind.SINGLE_MOTHER: 6,
        }


def test_the_kk_shows_what_the_kind_of_family_says(population: SandboxPopulation) -> None:
    for family in population.families():
        relations = Counter(p.relation for p in population.members(family.kk_number))
        if family.kind == FamilyKind.SINGLE_MOTHER:
            assert family.father_nik is None
            assert family.marriage is None
            assert relations[Relation.HEAD] == 1
            assert relations[Relation.WIFE] == 0
        else:
            assert family.father_nik is not None
            assert relations[Relation.HEAD] == 1
            assert relations[Relation.WIFE] == 1
            assert (family.marriage is not None) == (family.kind == FamilyKind.RECORDED)


def test_parents_are_of_an_age_to_have_a_baby(population: SandboxPopulation) -> None:
    today = population.as_of
    for family in population.families():
        mother = population.person(family.mother_nik)
        assert mother is not None
        assert 18 <= age_on(mother.birth_date, today) <= 42
        if family.father_nik:
            father = population.person(family.father_nik)
            assert father is not None
            assert 19 <= age_on(father.birth_date, today) <= 51
        if family.marriage:
            assert age_on(mother.birth_date, family.marriage.date) >= 18
            assert family.marriage.date <= today


def test_existing_children_have_a_birth_order_and_were_born_to_an_adult_mother(
    population: SandboxPopulation,
) -> None:
    sizes = Counter(len(population.children(f.kk_number)) for f in population.families())
    assert set(sizes) == {0, 1, 2, 3}
    for family in population.families():
        children = population.children(family.kk_number)
        mother = population.person(family.mother_nik)
        assert mother is not None
        assert [child.birth_order for child in children] == list(range(1, len(children) + 1))
        births = [child.birth_date for child in children]
        assert births == sorted(births)
        for child in children:
            assert child.nik[:6] == family.kk_number[:6]  # issued where the family lives
            assert age_on(mother.birth_date, child.birth_date) >= 18


def test_a_few_parents_are_deceased_or_moved_out(population: SandboxPopulation) -> None:
    for status in (PersonStatus.DECEASED, PersonStatus.MOVED_OUT):
        people = population.persons(status)
        assert len(people) == 6
        assert {p.relation for p in people} <= {Relation.HEAD, Relation.WIFE}


# verify_person


def test_a_true_claim_matches_on_every_field(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, _, _ = a_family(population, FamilyKind.RECORDED)

    assert dukcapil.verify_person(claim_for(mother)) == ALL_MATCH


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "Bambang Pamungkas"}, "name"),
        ({"birth_date_shift": 1}, "birth_date"),
        ({"sex": "male"}, "sex"),
    ],
)
def test_a_wrong_fact_is_no_match_on_that_field_only(
    population: SandboxPopulation, dukcapil: SandboxDukcapil, change: dict[str, object], field: str
) -> None:
    mother, _, _ = a_family(population, FamilyKind.RECORDED)
    shift = change.pop("birth_date_shift", 0)
    assert isinstance(shift, int)
    claim = claim_for(mother, birth_date=mother.birth_date + timedelta(days=shift), **change)

    answer = dukcapil.verify_person(claim)

    assert getattr(answer, field) == Match.NO_MATCH
    expected = dataclasses.replace(
        ALL_MATCH, name_score=answer.name_score, **{field: Match.NO_MATCH}
    )
    assert answer == expected
    if field == "name":
        assert answer.name_score < 88


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda name: f"Hj. {name}, S.Pd.", id="titles"),
        pytest.param(lambda name: name.replace("u", "oe").replace("j", "dj"), id="old-spelling"),
        pytest.param(lambda name: f"  {name.upper()} ", id="case-and-spacing"),
    ],
)
def test_a_name_written_with_titles_or_old_spelling_is_accepted(
    population: SandboxPopulation, dukcapil: SandboxDukcapil, variant: object
) -> None:
    assert callable(variant)
    mother = next(
        p
        for p in population.persons(PersonStatus.ACTIVE)
        if p.relation == Relation.WIFE and "u" in p.name
    )
    claimed = variant(mother.name)
    assert claimed != mother.name

    answer = dukcapil.verify_person(claim_for(mother, name=claimed))

    assert answer.name == Match.MATCH
    assert answer.name_score >= 88


def test_an_unknown_nik_is_not_found_on_every_field(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, _, _ = a_family(population, FamilyKind.RECORDED)
    unknown = mother.nik[:12] + "9999"  # the sandbox never draws serials this high
    assert population.person(unknown) is None

    answer = dukcapil.verify_person(claim_for(mother, nik=unknown))

    assert answer == PersonAnswer(*(Match.NOT_FOUND,) * 2, 0.0, *(Match.NOT_FOUND,) * 5)


def test_a_deceased_person_is_not_alive_but_otherwise_matches(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    person = population.persons(PersonStatus.DECEASED)[0]

    answer = dukcapil.verify_person(claim_for(person))

    assert answer == dataclasses.replace(ALL_MATCH, alive=Match.NO_MATCH)


def test_a_person_who_moved_out_is_not_resident_but_otherwise_matches(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    person = population.persons(PersonStatus.MOVED_OUT)[0]

    answer = dukcapil.verify_person(claim_for(person))

    assert answer == dataclasses.replace(ALL_MATCH, resident=Match.NO_MATCH)


def test_a_person_claimed_on_another_kk_is_not_in_it(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, _, kk_number = a_family(population, FamilyKind.RECORDED)
    other_kk = next(f.kk_number for f in population.families() if f.kk_number != kk_number)

    assert dukcapil.verify_person(claim_for(mother, kk_number=other_kk)).in_kk == Match.NO_MATCH
    unknown_kk = dukcapil.verify_person(claim_for(mother, kk_number="3274010101010001"))
    assert unknown_kk.in_kk == Match.NOT_FOUND
    assert dukcapil.verify_person(claim_for(mother, kk_number=None)).in_kk == Match.NOT_FOUND


# verify_family


def test_a_family_with_a_recorded_marriage_matches_throughout(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, father, kk_number = a_family(population, FamilyKind.RECORDED, children=1)
    assert father is not None

    answer = dukcapil.verify_family(FamilyClaim(kk_number, mother.nik, father.nik, True))

    assert answer.kk == answer.mother_listed == answer.father_listed == Match.MATCH
    assert answer.spouses == answer.marriage_recorded == Match.MATCH
    assert answer.region_code == "3274"
    assert answer.children_count == len(population.children(kk_number)) >= 1
    unrecorded_claim = FamilyClaim(kk_number, mother.nik, father.nik, False)
    assert dukcapil.verify_family(unrecorded_claim).marriage_recorded == Match.NO_MATCH


def test_an_unrecorded_marriage_shows_spouses_without_a_recorded_marriage(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, father, kk_number = a_family(population, FamilyKind.UNRECORDED)
    assert father is not None

    claimed_recorded = dukcapil.verify_family(FamilyClaim(kk_number, mother.nik, father.nik, True))
    claimed_unrecorded = dukcapil.verify_family(
        FamilyClaim(kk_number, mother.nik, father.nik, False)
    )

    assert claimed_recorded.spouses == Match.MATCH
    assert claimed_recorded.marriage_recorded == Match.NO_MATCH
    assert claimed_unrecorded.spouses == claimed_unrecorded.marriage_recorded == Match.MATCH


def test_a_single_mother_family_has_no_father_to_list(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, father, kk_number = a_family(population, FamilyKind.SINGLE_MOTHER)
    assert father is None
    someone, stranger, _ = a_family(population, FamilyKind.RECORDED)
    assert stranger is not None

    alone = dukcapil.verify_family(FamilyClaim(kk_number, mother.nik, None, False))
    with_a_father = dukcapil.verify_family(FamilyClaim(kk_number, mother.nik, stranger.nik, True))

    assert alone.mother_listed == alone.marriage_recorded == Match.MATCH
    assert alone.father_listed is None
    assert alone.spouses is None
    assert with_a_father.father_listed == with_a_father.spouses == Match.NO_MATCH
    assert with_a_father.marriage_recorded == Match.NO_MATCH
    someone_else = dukcapil.verify_family(FamilyClaim(kk_number, someone.nik, None, False))
    assert someone_else.mother_listed == Match.NO_MATCH


def test_a_kk_of_another_region_names_its_region(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, father, kk_number = a_family(population, FamilyKind.RECORDED, region="3673")
    assert father is not None

    answer = dukcapil.verify_family(FamilyClaim(kk_number, mother.nik, father.nik, True))

    assert answer.kk == Match.MATCH
    assert answer.region_code == "3673"


def test_an_unknown_kk_is_not_found(
    population: SandboxPopulation, dukcapil: SandboxDukcapil
) -> None:
    mother, father, _ = a_family(population, FamilyKind.RECORDED)
    assert father is not None

    answer = dukcapil.verify_family(FamilyClaim("3274010101010001", mother.nik, father.nik, True))

    assert answer.kk == answer.mother_listed == answer.father_listed == Match.NOT_FOUND
    assert answer.spouses == answer.marriage_recorded == Match.NOT_FOUND
    assert answer.region_code is None
    assert answer.children_count == 0


# register_birth


def registration_for(
    mother: Person, father: Person | None, kk_number: str, number: str, sex: str = "female"
) -> BirthRegistration:
    return BirthRegistration(
        registration_number=number,
        kk_number=kk_number,
        child_name="Aisyah Putri",
        child_sex=sex,
        child_birth_date=date(2026, 11, 18),
        mother_nik=mother.nik,
        father_nik=father.nik if father else None,
    )


def test_register_birth_gives_a_valid_nik_once_and_the_child_joins_the_kk() -> None:
    population = SandboxPopulation.build(families_per_region=10)
    dukcapil = SandboxDukcapil(population)
    mother, father, kk_number = a_family(population, FamilyKind.RECORDED)
    family_claim = FamilyClaim(kk_number, mother.nik, father.nik if father else None, True)
    before = dukcapil.verify_family(family_claim).children_count
    registration = registration_for(mother, father, kk_number, "3274-LU-18112026-0001")

    nik = dukcapil.register_birth(registration).child_nik
    again = dukcapil.register_birth(registration).child_nik

    assert again == nik
    facts = parse_nik(nik)
    assert facts.district_code == kk_number[:6]
    assert facts.matches_birth_date(date(2026, 11, 18))
    assert facts.female
    assert facts.serial >= 1
    assert dukcapil.verify_family(family_claim).children_count == before + 1
    child = population.person(nik)
    assert child is not None
    assert child.birth_order == before + 1
    child_claim = PersonClaim(nik, "Aisyah Putri", date(2026, 11, 18), "female", kk_number)
    assert dukcapil.verify_person(child_claim) == ALL_MATCH


def test_twins_get_the_next_free_serials() -> None:
    population = SandboxPopulation.build(families_per_region=10)
    dukcapil = SandboxDukcapil(population)
    mother, father, kk_number = a_family(population, FamilyKind.RECORDED)

    first = dukcapil.register_birth(registration_for(mother, father, kk_number, "A-1", "male"))
    second = dukcapil.register_birth(registration_for(mother, father, kk_number, "A-2", "male"))
    first, second = first.child_nik, second.child_nik

    assert first[:12] == second[:12]
    assert int(second[12:]) == int(first[12:]) + 1


def test_register_birth_refuses_an_unknown_kk_or_a_mother_not_on_it() -> None:
    population = SandboxPopulation.build(families_per_region=10)
    dukcapil = SandboxDukcapil(population)
    mother, father, kk_number = a_family(population, FamilyKind.RECORDED)
    other_mother, _, _ = a_family(population, FamilyKind.SINGLE_MOTHER)

    with pytest.raises(RegistrationRefused) as unknown:
        dukcapil.register_birth(registration_for(mother, father, "3274010101010001", "B-1"))
    with pytest.raises(RegistrationRefused) as stranger:
        dukcapil.register_birth(registration_for(other_mother, None, kk_number, "B-2"))

    assert unknown.value.code == "kk_not_found"
    assert stranger.value.code == "mother_not_listed"
    assert population.registered_child("B-1") is None


def test_concurrent_retries_register_each_birth_once() -> None:
    population = SandboxPopulation.build(families_per_region=10)
    dukcapil = SandboxDukcapil(population)
    mother, father, kk_number = a_family(population, FamilyKind.RECORDED)
    before = len(population.children(kk_number))
    registrations = [
        registration_for(mother, father, kk_number, f"C-{n}", "male") for n in range(10)
    ]

    with ThreadPoolExecutor(max_workers=8) as pool:
        niks = [r.child_nik for r in pool.map(dukcapil.register_birth, registrations * 8)]

    assert len(set(niks)) == 10
    assert niks[:10] == niks[10:20]
    assert len(population.children(kk_number)) == before + 10


# Example families


def test_sample_families_take_turns_by_kind_and_have_usable_parents(
    population: SandboxPopulation,
) -> None:
    samples = population.sample_families(6, today=date(2026, 11, 22))

    assert [s["kind"] for s in samples] == ["recorded", "unrecorded", "single_mother"] * 2
    for sample in samples:
        for role in ("mother", "father"):
            if sample[role]:
                person = population.person(sample[role]["nik"])
                assert person is not None
                assert person.status == PersonStatus.ACTIVE
                assert person.name == sample[role]["name"]
        assert (sample["father"] is None) == (sample["kind"] == "single_mother")
        assert sample["marriage"]["recorded"] == (sample["kind"] == "recorded")
        assert sample["existing_children"] == len(population.children(sample["kk_number"]))


def test_example_reports_name_real_people_and_a_recent_birth(
    population: SandboxPopulation,
) -> None:
    today = date(2026, 11, 22)
    for sample in population.sample_families(9, today=today):
        report = sample["example_report"]
        born = date.fromisoformat(report["child"]["birth_date"])
        assert today - timedelta(days=10) <= born < today
        assert report["child"]["birth_order"] == sample["existing_children"] + 1
        assert report["kk_number"] == sample["kk_number"]
        assert report["informant"]["nik"] in {
            (sample["father"] or {}).get("nik"),
            sample["mother"]["nik"],
        }
        parents = {sample["mother"]["nik"], (sample["father"] or {}).get("nik")}
        witnesses = [population.person(w["nik"]) for w in report["witnesses"]]
        assert len({w.nik for w in witnesses if w}) == 2
        for witness in witnesses:
            assert witness is not None
            assert witness.nik not in parents
            assert witness.status == PersonStatus.ACTIVE
            assert witness.relation != Relation.CHILD


def test_sample_families_filter_by_kind_and_region(population: SandboxPopulation) -> None:
    samples = population.sample_families(4, "single_mother", region="3672")

    assert len(samples) == 4
    assert {s["kind"] for s in samples} == {"single_mother"}
    assert {s["region"] for s in samples} == {"3672"}
