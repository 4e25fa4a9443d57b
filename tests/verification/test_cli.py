"""`akta sandbox families`: example families whose reports the service accepts as they are."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from akta_service.births.operations import load_report_input
from akta_service.verification.cli import sandbox_group
from akta_service.verification.sandbox import FamilyKind


def families(*options: str) -> str:
    result = CliRunner().invoke(sandbox_group, ["families", *options])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_families_as_json_are_reports_the_service_accepts(session: Any) -> None:
    samples = json.loads(families("--count", "3", "--format", "json"))

    assert len(samples) == 3
    assert [s["kind"] for s in samples] == ["recorded", "unrecorded", "single_mother"]
    for sample in samples:
        data = load_report_input(sample["example_report"])
        assert data["kk_number"] == sample["kk_number"]
        assert data["mother"]["nik"] == sample["mother"]["nik"]
        assert data["marriage"]["recorded"] == (sample["kind"] == "recorded")
        assert (data["father"] is None) == (sample["kind"] == "single_mother")
        assert data["child"]["birth_order"] == sample["existing_children"] + 1


@pytest.mark.parametrize("kind", [kind.value for kind in FamilyKind])
def test_every_kind_of_family_has_acceptable_reports(session: Any, kind: str) -> None:
    samples = json.loads(families("--count", "5", "--format", "json", "--kind", kind))

    assert [s["kind"] for s in samples] == [kind] * 5
    for sample in samples:
        load_report_input(sample["example_report"])


def test_families_as_a_table_show_the_same_families_readably() -> None:
    table = families("--count", "4", "--format", "table").splitlines()
    samples = json.loads(families("--count", "4", "--format", "json"))

    header, rule, *rows = table
    assert header.split()[:4] == ["jenis", "kab/kota", "nomor", "KK"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert len(rows) == 4
    for row, sample in zip(rows, samples, strict=True):
        assert row.startswith(sample["kind"])
        assert sample["kk_number"] in row
        assert sample["mother"]["nik"] in row
        assert sample["mother"]["name"] in row
    single_mother = rows[2].split()
    assert single_mother[0] == "single_mother"
    assert "belum tercatat" in rows[1]


def test_the_seed_and_the_region_choose_the_families() -> None:
    default = json.loads(families("--count", "2", "--format", "json"))
    same = json.loads(families("--count", "2", "--format", "json", "--seed", "2026"))
    other = json.loads(families("--count", "2", "--format", "json", "--seed", "7"))
    serang = json.loads(families("--count", "2", "--format", "json", "--region", "3673"))

    assert same == default
    assert [s["kk_number"] for s in other] != [s["kk_number"] for s in default]
    assert {s["region"] for s in serang} == {"3673"}


def test_an_unknown_kind_is_refused_with_the_choices() -> None:
    result = CliRunner().invoke(sandbox_group, ["families", "--kind", "married"])

    assert result.exit_code == 2
    assert "recorded" in result.output
    assert "single_mother" in result.output
