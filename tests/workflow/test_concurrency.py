"""Two clerks, two signers at once: real transactions on a database of their own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import Flask

from akta_service.births.models import BirthReport, ReportStatus
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry
from akta_service.core.db import db
from akta_service.core.errors import ConflictError
from akta_service.workflow.engine import fire
from tests.factories import BirthReportFactory

S = ReportStatus


def _staff(app: Flask, role: str, username: str) -> Actor:
    from akta_service.accounts.models import User
    from akta_service.regions.models import Region

    with app.app_context():
        user = User(
            username=username,
            full_name=f"{role} {username}",
            role=role,
            password_hash="x",
            regions=[db.session.get(Region, "3274")],
        )
        db.session.add(user)
        db.session.commit()
        actor = user.as_actor()
        db.session.remove()
        return actor


def _reports(app: Flask, count: int, status: ReportStatus) -> list[int]:
    with app.app_context():
        ids = [BirthReportFactory(status=status).id for _ in range(count)]
        db.session.commit()
        db.session.remove()
        return ids


def _at_once(app: Flask, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run the jobs in threads released together; each returns a value or its exception."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int, job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = job()
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                results[index] = exc
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_clerks_acting_at_once_one_wins_the_other_is_told_who(committed_app: Flask) -> None:
    first, second = (
        _staff(committed_app, "operator", "op1"),
        _staff(committed_app, "operator", "op2"),
    )
    (report_id,) = _reports(committed_app, 1, S.IN_REVIEW)
    seen_version = 1  # both opened the review page before either acted

    def act(actor: Actor, trigger: str) -> Callable[[], str]:
        def job() -> str:
            report = db.session.get(BirthReport, report_id)
            assert report is not None
            fire(report, trigger, actor, reason="Foto KK buram", expected_version=seen_version)
            return trigger

        return job

    results = _at_once(committed_app, [act(first, "approve"), act(second, "request_correction")])
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if isinstance(r, ConflictError)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    winner_actor = first if winners[0] == "approve" else second
    assert winner_actor.name in losers[0].message

    with committed_app.app_context():
        report = db.session.get(BirthReport, report_id)
        assert report is not None
        expected = S.AWAITING_SIGNATURE if winners[0] == "approve" else S.NEEDS_CORRECTION
        assert report.status == expected
        assert report.version == 2
        triggers = db.session.scalars(
            sa.select(JournalEntry.trigger).where(JournalEntry.report_id == report_id)
        ).all()
        assert triggers == [winners[0]]


def test_concurrent_signing_numbers_are_unique_and_gap_free(committed_app: Flask) -> None:
    signers = [_staff(committed_app, "pejabat", f"pj{i}") for i in range(4)]
    report_ids = _reports(committed_app, 12, S.AWAITING_SIGNATURE)
    chunks = [report_ids[i::4] for i in range(4)]

    def sign_all(actor: Actor, ids: list[int]) -> Callable[[], list[str]]:
        def job() -> list[str]:
            numbers = []
            for report_id in ids:
                report = db.session.get(BirthReport, report_id)
                assert report is not None
                fire(report, "sign", actor)
                db.session.commit()
                numbers.append(report.registration_number or "")
            return numbers

        return job

    results = _at_once(
        committed_app, [sign_all(a, c) for a, c in zip(signers, chunks, strict=True)]
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(n for chunk in results for n in chunk)
    serials = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert serials == list(range(1, 13))
    assert len(set(numbers)) == 12


def test_a_signature_rolled_back_leaves_no_gap(committed_app: Flask) -> None:
    pejabat = _staff(committed_app, "pejabat", "pj1")
    first_id, second_id = _reports(committed_app, 2, S.AWAITING_SIGNATURE)
    with committed_app.app_context():
        report = db.session.get(BirthReport, first_id)
        assert report is not None
        fire(report, "sign", pejabat)
        assert report.registration_number is not None
        assert report.registration_number.endswith("-0001")
        db.session.rollback()  # e.g. the request failed after signing
        db.session.remove()
    with committed_app.app_context():
        report = db.session.get(BirthReport, second_id)
        assert report is not None
        fire(report, "sign", pejabat)
        db.session.commit()
        assert report.registration_number is not None
        assert report.registration_number.endswith("-0001")
        untouched = db.session.get(BirthReport, first_id)
        assert untouched is not None
        assert untouched.status == S.AWAITING_SIGNATURE
        assert untouched.registration_number is None
