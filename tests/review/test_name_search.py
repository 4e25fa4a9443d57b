"""A name search finds exactly the reports whose child's or mother's name holds the typed
text, in any case, whether the clerk typed whole words or pieces of them."""

from __future__ import annotations

import random
from typing import Any

import sqlalchemy as sa

from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.config import current_settings
from akta_service.core.db import db
from akta_service.review.queries import queue_page, search_condition
from tests.factories import BirthReportFactory

#: Few syllables, so that many words share their beginnings and their ends.
SYLLABLES = ("an", "ni", "sa", "ri", "ta", "wi", "ja", "ya", "nti", "da", "pu", "tri", "win")


def _names(rng: random.Random) -> str:
    words = ("".join(rng.choices(SYLLABLES, k=rng.randint(1, 3))) for _ in range(rng.randint(1, 3)))
    return " ".join(word.capitalize() for word in words)


def _typed(rng: random.Random, names: list[str]) -> str:
    """A piece of one name that spans a space, whole words or cut anywhere inside its first
    and last word, as a clerk may type it; now and then in capitals, with two spaces, or two
    words never side by side."""
    if rng.random() < 0.2:
        return f"{rng.choice(names).split()[0]} {rng.choice(names).split()[-1]}"
    if rng.random() < 0.1:
        return rng.choice([n for n in names if " " in n]).replace(" ", "  ", 1)
    if rng.random() < 0.4:
        return rng.choice([n for n in names if " " in n])
    name = rng.choice([n for n in names if " " in n])
    spaces = [i for i, ch in enumerate(name) if ch == " "]
    first, last = sorted(rng.sample(spaces, 2)) if len(spaces) > 1 else (spaces[0], spaces[0])
    text = name[rng.randint(0, first - 1) : rng.randint(last + 2, len(name))]
    return text.upper() if rng.random() < 0.2 else text


def test_a_name_search_finds_exactly_the_names_that_hold_the_text(
    backend: str, session: Any
) -> None:
    rng = random.Random(20261204)
    reports = [
        BirthReportFactory(
            status=ReportStatus.IN_REVIEW, child_name=_names(rng), mother_name=_names(rng)
        )
        for _ in range(120)
    ]
    db.session.flush()
    names = [name for r in reports for name in (r.child_name, r.mother_name)]
    ids = [r.id for r in reports]
    matched = 0
    for _ in range(400):
        text = _typed(rng, names)
        wanted = {
            r.id
            for r in reports
            if text.lower() in r.child_name.lower() or text.lower() in r.mother_name.lower()
        }
        condition = search_condition(text)
        assert condition is not None
        found = set(
            db.session.scalars(sa.select(BirthReport.id).where(condition, BirthReport.id.in_(ids)))
        )
        assert found == wanted, text
        matched += bool(wanted)
    assert matched > 200  # most texts find a report, some several, some none


def test_a_name_of_ten_letters_that_could_be_a_tracking_code_is_searched_as_both(
    backend: str, session: Any
) -> None:
    """A mother's name such as "Sekar Ratna" has ten letters, all of them letters a tracking
    code may have: the clerk who types it sees the reports of that name, and the report of
    that code too."""
    sekar = BirthReportFactory(status=ReportStatus.IN_REVIEW, mother_name="Sekar Ratna")
    coded = BirthReportFactory(status=ReportStatus.IN_REVIEW, tracking_code="SEKARRATNA")
    # Shares "Ratna": listed for none of the texts below.
    BirthReportFactory(status=ReportStatus.IN_REVIEW, mother_name="Dewi Ratna")
    db.session.flush()
    for text in ("Sekar Ratna", "sekar ratna", "SEKAR-RATNA"):
        page, _ = queue_page(["3274"], current_settings(), None, text)
        wanted = {sekar.id, coded.id} if " " in text else {coded.id}
        assert {r.id for r in page} == wanted, text
