"""The workflow announces every move of a report; the features that react listen."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from akta_service.births.models import BirthReport, Channel, ReportStatus
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.db import db
from akta_service.core.errors import GuardRefused, IllegalTransition
from akta_service.notifications.models import Delivery
from akta_service.workflow.engine import fire
from akta_service.workflow.signals import status_changed
from tests.factories import BirthReportFactory, report_payload

S = ReportStatus


@contextmanager
def _heard() -> Iterator[list[dict[str, Any]]]:
    """Every status_changed sent meanwhile, as its sender and keyword arguments."""
    heard: list[dict[str, Any]] = []

    def listen(sender: Any, **kwargs: Any) -> None:
        heard.append({"report": sender, **kwargs})

    with status_changed.connected_to(listen):
        yield heard


def test_a_move_is_announced_once_with_where_it_came_from_and_went(
    actors: dict[str, Actor],
) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW)
    operator = actors["operator"]
    with _heard() as heard:
        fire(report, "request_correction", operator, reason="Foto KK buram")
    assert heard == [
        {
            "report": report,
            "from_state": "in_review",
            "to_state": "needs_correction",
            "trigger": "request_correction",
            "reason": "Foto KK buram",
            "actor": operator,
        }
    ]


def test_a_refused_move_is_not_announced(actors: dict[str, Actor]) -> None:
    report = BirthReportFactory(status=S.IN_REVIEW)
    with _heard() as heard:
        with pytest.raises(GuardRefused):
            fire(report, "request_correction", actors["operator"], reason="")
        with pytest.raises(IllegalTransition):
            fire(report, "sign", actors["pejabat"])
    assert heard == []
    assert report.status == S.IN_REVIEW


def test_a_new_report_is_announced_as_its_first_status(session: Any) -> None:
    payload = report_payload()
    informant = Actor(id="informant:web", name=payload["informant"]["name"], role=Role.INFORMANT)
    with _heard() as heard:
        report = submit_birth_report(load_report_input(payload), Channel.WEB, informant)
    assert [(h["report"], h["from_state"], h["to_state"], h["trigger"]) for h in heard] == [
        (report, None, "submitted", "submit")
    ]


def test_notifications_listen_to_the_workflow(actors: dict[str, Actor]) -> None:
    """The informant hears of a move through the signal: no listener, no message."""
    report = BirthReportFactory(status=S.IN_REVIEW, informant_email="ibu@example.org")
    fire(report, "request_correction", actors["operator"], reason="Foto KK buram")
    told = _deliveries(report)
    assert told > 0
    with status_changed.muted():
        fire(report, "resubmit", Actor.informant(report.tracking_code, report.informant_name))
    assert report.status == S.SUBMITTED
    assert _deliveries(report) == told


def _deliveries(report: BirthReport) -> int:
    return len(db.session.scalars(sa.select(Delivery).filter_by(report_id=report.id)).all())
