"""Actors are compared by what they are, never by their journal reference's text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import akta_service
from akta_service.accounts.models import User
from akta_service.core.actors import Actor, Role, user_id_of
from akta_service.core.audit import record
from akta_service.core.db import db
from akta_service.core.resources import resource_dir
from tests.factories import BirthReportFactory

PACKAGE = Path(akta_service.__file__).parent
TEMPLATES = resource_dir("templates")


def test_a_staff_actor_is_its_user_and_keeps_the_journal_reference(
    actors: dict[str, Actor],
) -> None:
    operator, other = actors["operator"], actors["operator_b"]
    assert operator.user_id is not None
    assert operator.is_user(operator.user_id)
    assert not operator.is_user(other.user_id)
    assert not operator.is_user(None)
    # Rows written before actors carried a user id read the same: "user:<id>".
    assert operator.id == f"user:{operator.user_id}"
    assert user_id_of(operator.id) == operator.user_id


@pytest.mark.parametrize(
    "reference", ["system", "facility:RS001", "informant:AB12CD34", "user:", "user:abc", "usr:1"]
)
def test_only_a_staff_reference_names_a_user(reference: str) -> None:
    assert user_id_of(reference) is None


def test_nobody_but_a_staff_user_is_any_user(actors: dict[str, Actor]) -> None:
    informant = Actor.informant("AB12CD34", "Pelapor")
    for actor in (actors["system"], actors["facility"], informant):
        assert actor.user_id is None
        assert not actor.is_user(actors["operator"].user_id)
    assert informant.tracking_code == "AB12CD34"


def test_a_user_role_is_read_back_as_a_role(session: Any, actors: dict[str, Actor]) -> None:
    user = db.session.get(User, actors["pejabat"].user_id)
    assert user is not None
    session.expire(user)
    assert user.role is Role.PEJABAT
    assert user.as_actor().role is Role.PEJABAT


def test_the_journal_tells_staff_entries_from_others(
    session: Any, actors: dict[str, Actor]
) -> None:
    report = BirthReportFactory()
    by_clerk = record("review:birth_report:claim", actors["operator"], report=report)
    by_parent = record(
        "workflow:birth_report:cancel", Actor.informant(report.tracking_code, "Ibu"), report=report
    )
    assert by_clerk.by_staff
    assert not by_parent.by_staff
    assert not record("jobs:sweep:run", actors["system"]).by_staff


def test_no_code_builds_or_parses_a_staff_reference_outside_core_actors() -> None:
    shape = re.compile(r"""["']user:""")
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path != PACKAGE / "core" / "actors.py" and shape.search(path.read_text("utf-8"))
    ]
    assert offenders == []


def test_pages_compare_roles_with_the_enum_not_with_its_spelling() -> None:
    spelled = re.compile(r"""\.role\s*(==|!=|in)\s*["'(\[]""")
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if spelled.search(path.read_text("utf-8"))
    ]
    assert offenders == []
    assert any("Role." in path.read_text("utf-8") for path in TEMPLATES.rglob("*.html"))
