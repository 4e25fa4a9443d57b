"""The words of each check: the whole answer for clerks, what to check for reporters."""

from __future__ import annotations

import dataclasses

import pytest

from akta_service.births.models import CheckOutcome
from akta_service.verification.checks import check_person
from akta_service.verification.dukcapil import Match, PersonAnswer

M = Match.MATCH
ALL_MATCH = PersonAnswer(M, M, 100.0, M, M, M, M, M)


@pytest.mark.parametrize(
    ("answer", "clerk_reads"),
    [
        (dataclasses.replace(ALL_MATCH, alive=Match.NO_MATCH), "tercatat telah meninggal dunia"),
        (dataclasses.replace(ALL_MATCH, resident=Match.NO_MATCH), "sudah pindah domisili"),
    ],
)
def test_a_parents_death_or_move_is_for_the_clerk_not_the_reporter(
    answer: PersonAnswer, clerk_reads: str
) -> None:
    check = check_person("father", answer, False)

    assert check.outcome == CheckOutcome.WARNING
    assert clerk_reads in check.message
    assert check.for_reporter == (
        "Data ayah perlu diperiksa petugas dengan catatan Dukcapil. Anda tidak perlu mengubah "
        "apa pun; petugas menghubungi Anda bila perlu."
    )


def test_a_mismatch_tells_the_reporter_which_field_as_it_tells_the_clerk() -> None:
    check = check_person("mother", dataclasses.replace(ALL_MATCH, name=Match.NO_MATCH), True)

    assert check.outcome == CheckOutcome.FAIL
    assert (
        check.for_reporter
        == check.message
        == ("Nama ibu tidak sesuai data Dukcapil; tulis nama sesuai KTP.")
    )
    assert check.fields == ("mother.name",)
