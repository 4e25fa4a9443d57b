"""The journal is tamper-evident: hash chains name the entry that was changed or removed,
and the signed daily seal catches a chain rewritten with the database's own rights."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor
from akta_service.core.audit import JournalEntry, entry_digest, record, record_read
from akta_service.core.config import ConfigError, Environment
from akta_service.core.db import db, utcnow
from akta_service.core.journal_seal import (
    SEAL_MARGIN,
    JournalSeal,
    last_midnight,
    load_seal_key,
    seal_journal,
    seal_the_day,
)
from akta_service.core.journal_verify import Problem, Verification, verify_journal
from akta_service.core.sweep import SweepTimes
from akta_service.workflow.engine import fire
from tests.factories import BirthReportFactory, report_payload

ENTRIES = JournalEntry.__table__
SEALS = JournalSeal.__table__


def _verify(app: Flask, session: Any) -> Verification:
    return verify_journal(session(), app.config["AKTA_SETTINGS"])


def _history(actors: dict[str, Actor]) -> BirthReport:
    """A report with a few changes and staff reads, as the office leaves it."""
    payload = report_payload()
    report = submit_birth_report(
        load_report_input(payload), Channel.WEB, Actor.informant("web", "Siti")
    )
    record_read(report, actors["operator"])
    fire(report, "start_verification", actors["system"])
    record_read(report, actors["pejabat"], what="documents")
    record("review:birth_report:claim", actors["operator"], report=report)
    return report


def _entries(session: Any, report: BirthReport) -> list[dict[str, Any]]:
    rows = session.execute(
        sa.select(ENTRIES).where(ENTRIES.c.report_id == report.id).order_by(ENTRIES.c.id)
    )
    return [dict(row._mapping) for row in rows]


def _without_guard(session: Any, table: str = "journal_entries") -> None:
    """What someone with the owner's or a superuser's rights can do: switch the guard off."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
    else:
        for operation in ("update", "delete"):
            session.execute(sa.text(f"DROP TRIGGER {table}_no_{operation}"))


def _rewrite(session: Any, entry_id: int, **values: Any) -> None:
    session.execute(sa.update(ENTRIES).where(ENTRIES.c.id == entry_id).values(**values))


def _rechain(session: Any, entries: list[dict[str, Any]], start: int) -> None:
    """Recompute the hashes of the chain from entries[start] on, as a forger would."""
    previous = entries[start - 1]["entry_hash"] if start else None
    for entry in entries[start:]:
        stored = dict(
            session.execute(sa.select(ENTRIES).where(ENTRIES.c.id == entry["id"])).one()._mapping
        )
        stored["prev_hash"] = previous
        stored["entry_hash"] = previous = entry_digest(stored)
        _rewrite(session, entry["id"], prev_hash=stored["prev_hash"], entry_hash=previous)


def test_a_journal_as_the_office_leaves_it_verifies(
    app: Flask, session: Any, actors: dict[str, Actor], caplog: pytest.LogCaptureFixture
) -> None:
    report = _history(actors)
    record("office:user:login", actors["operator"])
    record("office:user:login", actors["pejabat"])
    with caplog.at_level("INFO", logger="akta_service.core.journal_seal"):
        seal = seal_journal(utcnow())

    result = _verify(app, session)

    assert result.intact, result.breaks
    entries = _entries(session, report)
    assert len(entries) == 5
    assert entries[0]["prev_hash"] is None
    assert [e["prev_hash"] for e in entries[1:]] == [e["entry_hash"] for e in entries[:-1]]
    assert result.chains >= 2  # the report's and the office's logins
    assert result.seals == 1
    # A copy of what was sealed leaves the database, in the log.
    assert any(seal.digest in r.getMessage() for r in caplog.records)


def test_an_edited_reason_is_found_at_the_entry_edited(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    report = _history(actors)
    fire(report, "fail_verification", actors["system"], reason="KK tidak cocok")
    edited = _entries(session, report)[-1]
    _without_guard(session)

    _rewrite(session, edited["id"], reason="Semua data cocok")

    result = _verify(app, session)
    assert not result.intact
    (found,) = result.breaks
    assert found.problem == Problem.CHANGED
    assert (found.chain, found.entry_id) == (f"report:{report.id}", edited["id"])
    assert found.found == edited["entry_hash"]
    assert found.expected != edited["entry_hash"]


def test_a_rewritten_chain_verifies_but_the_seal_does_not(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    report = _history(actors)
    seal = seal_journal(utcnow())
    entries = _entries(session, report)
    _without_guard(session)

    _rewrite(session, entries[1]["id"], actor_name="Orang Lain")
    _rechain(session, entries, 1)

    result = _verify(app, session)
    (found,) = result.breaks
    assert found.problem == Problem.SEAL
    assert (found.chain, found.entry_id) == ("seal", seal.id)
    assert found.expected == seal.digest != found.found


def test_a_removed_entry_is_found_at_the_entry_after_it(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    report = _history(actors)
    entries = _entries(session, report)
    _without_guard(session)

    session.execute(sa.delete(ENTRIES).where(ENTRIES.c.id == entries[2]["id"]))

    (found,) = _verify(app, session).breaks
    assert found.problem == Problem.LINK
    assert found.entry_id == entries[3]["id"]
    assert found.expected == entries[1]["entry_hash"]
    assert found.found == entries[2]["entry_hash"]


def test_the_last_entry_removed_after_the_seal_is_found_by_the_seal(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    report = _history(actors)
    seal_journal(utcnow())
    _without_guard(session)

    session.execute(sa.delete(ENTRIES).where(ENTRIES.c.id == _entries(session, report)[-1]["id"]))

    (found,) = _verify(app, session).breaks
    assert found.problem == Problem.SEAL


def test_two_entries_chained_to_one_head_are_reported_as_a_fork(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    report = _history(actors)
    entries = _entries(session, report)
    # What two writers without the chain's lock would do: both append to the same head.
    forked = {k: v for k, v in entries[-1].items() if k != "id"}
    forked["prev_hash"] = entries[-2]["entry_hash"]
    forked["occurred_at"] = utcnow()
    forked["entry_hash"] = entry_digest(forked)
    session.execute(sa.insert(ENTRIES).values(**forked))

    (found,) = _verify(app, session).breaks
    assert found.problem == Problem.FORK
    assert found.expected == entries[-1]["entry_hash"]
    assert found.found == entries[-2]["entry_hash"]


def test_an_entry_undone_with_its_savepoint_leaves_the_chain_whole(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    report = _history(actors)

    def refused_after_a_read() -> None:
        with session.begin_nested():
            record_read(report, actors["viewer"])
            raise RuntimeError("refused")  # a refusal rolls its savepoint back

    with pytest.raises(RuntimeError):
        refused_after_a_read()

    record_read(report, actors["operator"])

    assert _verify(app, session).intact
    assert len(_entries(session, report)) == 6


def test_entries_without_a_report_chain_by_realm(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    logins = [record("office:user:login", actors[name]) for name in ("operator", "admin")]
    record("staff:dashboard:view", actors["viewer"], data={"aggregates_only": True})
    _without_guard(session)

    _rewrite(session, logins[0].id, actor_id="user:0")

    (found,) = _verify(app, session).breaks
    assert (found.problem, found.chain, found.entry_id) == (
        Problem.CHANGED,
        "office:user",
        logins[0].id,
    )
    assert logins[1].prev_hash == logins[0].entry_hash


def test_entries_from_before_the_chains_are_counted_and_an_unhashed_one_after_is_not_allowed(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    old = {
        "action": "office:region:update",
        "data": {"region": "3274"},
        "actor_id": "system",
        "actor_name": "Sistem",
        "actor_role": "system",
        "occurred_at": utcnow(),
    }
    session.execute(sa.insert(ENTRIES).values(**old))
    before = _verify(app, session)
    chained = record("office:region:update", actors["admin"], data={"region": "3274"})
    assert chained.prev_hash is None  # the chain starts at its first hashed entry
    session.execute(sa.insert(ENTRIES).values(**old))

    after = _verify(app, session)

    assert before.intact
    assert before.legacy >= 1
    (found,) = after.breaks
    assert (found.problem, found.chain) == (Problem.UNHASHED, "office:region")
    assert found.expected == chained.entry_hash


def test_a_seal_signed_by_another_key_is_refused(
    app: Flask, session: Any, actors: dict[str, Actor], tmp_path: Path
) -> None:
    _history(actors)
    settings = app.config["AKTA_SETTINGS"]
    other = dataclasses.replace(settings, journal_seal_key_path=tmp_path / "other.pem")
    seal = seal_journal(utcnow(), other)

    result = verify_journal(session(), settings)

    (found,) = result.breaks
    assert (found.problem, found.entry_id) == (Problem.SIGNATURE, seal.id)
    assert found.found == seal.key_id != found.expected


def test_a_seal_whose_digest_was_replaced_is_refused(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    _history(actors)
    seal = seal_journal(utcnow())
    _without_guard(session, "journal_seals")

    session.execute(sa.update(SEALS).where(SEALS.c.id == seal.id).values(digest="0" * 64))

    (found,) = _verify(app, session).breaks
    assert (found.problem, found.entry_id) == (Problem.SIGNATURE, seal.id)


def test_seals_are_append_only(app: Flask, session: Any, actors: dict[str, Actor]) -> None:
    seal = seal_journal(utcnow())

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.delete(SEALS).where(SEALS.c.id == seal.id))

    def change_it() -> None:
        with session.begin_nested():
            seal.digest = "0" * 64
            session.flush()

    with pytest.raises(PermissionError, match="append-only"):
        change_it()


def test_the_daily_seal_is_made_once_after_midnight(
    app: Flask, session: Any, actors: dict[str, Actor]
) -> None:
    _history(actors)
    midnight = last_midnight()
    app.extensions.pop("akta_journal_sealed_through", None)

    def sweep_at(moment: Any) -> None:
        seal_the_day(SweepTimes(now=moment, lost_before=moment))

    sweep_at(midnight + SEAL_MARGIN - timedelta(seconds=1))
    assert session.scalar(sa.select(sa.func.count()).select_from(SEALS)) == 0

    sweep_at(midnight + SEAL_MARGIN)
    sweep_at(midnight + SEAL_MARGIN + timedelta(minutes=1))

    seals = list(session.scalars(sa.select(JournalSeal)))
    assert [s.sealed_through for s in seals] == [midnight]
    assert seal_journal(midnight).id == seals[0].id  # sealing again changes nothing
    assert _verify(app, session).intact


def test_the_seal_key_is_made_once_outside_production_and_required_in_it(
    app: Flask, tmp_path: Path
) -> None:
    settings = dataclasses.replace(
        app.config["AKTA_SETTINGS"], journal_seal_key_path=tmp_path / "seal.pem"
    )
    first = load_seal_key(settings)
    assert (tmp_path / "seal.pem").stat().st_mode & 0o777 == 0o600
    assert load_seal_key(settings).public_key() == first.public_key()

    production = dataclasses.replace(
        settings, env=Environment.PRODUCTION, journal_seal_key_path=tmp_path / "none.pem"
    )
    with pytest.raises(ConfigError, match="AKTA_JOURNAL_SEAL_KEY"):
        load_seal_key(production)
    (tmp_path / "rsa.pem").write_bytes(_rsa_pem())
    with pytest.raises(ConfigError, match="not an Ed25519"):
        load_seal_key(dataclasses.replace(settings, journal_seal_key_path=tmp_path / "rsa.pem"))


def _rsa_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def test_writers_appending_to_one_chain_at_once_do_not_fork_it(committed_app: Flask) -> None:
    app = committed_app
    with app.app_context():
        report = BirthReportFactory()
        db.session.commit()
        report_id = report.id
        db.session.remove()
    writers = 6
    barrier = threading.Barrier(writers)
    failures: list[BaseException] = []

    def clerk(index: int) -> None:
        actor = Actor.system(f"clerk {index}")
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                for _ in range(3):
                    found = db.session.get(BirthReport, report_id)
                    record_read(found, actor)  # reads lock no report row
                    record("office:user:login", actor)
                    db.session.commit()
            except BaseException as exc:
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    with app.app_context():
        result = verify_journal(db.session(), app.config["AKTA_SETTINGS"])
        db.session.remove()
    assert result.intact, result.breaks
    assert result.entries == 2 * writers * 3
    assert result.chains == 2


def test_a_missing_seal_key_in_production_is_logged_once_and_the_sweep_goes_on(
    app: Flask,
    session: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = app.config["AKTA_SETTINGS"]
    monkeypatch.setitem(
        app.config,
        "AKTA_SETTINGS",
        dataclasses.replace(
            settings, env=Environment.PRODUCTION, journal_seal_key_path=tmp_path / "none.pem"
        ),
    )
    app.extensions.pop("akta_journal_sealed_through", None)
    moment = last_midnight() + SEAL_MARGIN

    for _ in range(2):
        assert seal_the_day(SweepTimes(now=moment, lost_before=moment)) == 0

    assert session.scalar(sa.select(sa.func.count()).select_from(SEALS)) == 0
    logged = [r for r in caplog.records if "journal was not sealed" in r.getMessage()]
    assert len(logged) == 1
    assert "AKTA_JOURNAL_SEAL_KEY" in logged[0].getMessage()
    app.extensions.pop("akta_journal_sealed_through", None)
