"""Jobs are enqueued inside a transaction and handed to the runner only once it commits.

A job is a plain function registered by name; it takes ids, loads what it needs and is
safe to run twice. What runs it (threads, Celery, a test) is the app's runner
(`akta_service.jobs.queue`), reached through `app.extensions["akta_jobs"]`: this module
knows only the `Runner` shape. A savepoint that rolls back forgets the jobs enqueued
inside it, and a rolled-back transaction forgets them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import InstanceState, Session, SessionTransaction

from akta_service.core.db import db
from akta_service.core.transaction import unit_of_work

#: name -> function; filled by the @job decorator at import.
JOBS: dict[str, Callable[..., Any]] = {}

_PENDING_KEY = "akta_jobs_pending"


class _Pending(NamedTuple):
    """A job waiting for its transaction to commit."""

    name: str
    args: tuple[Any, ...]
    #: The savepoint it was enqueued in: rolling that back forgets the job.
    savepoint: SessionTransaction | None


class Runner(Protocol):
    """Where the jobs of a committed transaction go."""

    def dispatch_all(self, jobs: list[tuple[str, tuple[Any, ...]]]) -> None: ...


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a background job under `name`."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        JOBS[name] = fn
        return fn

    return register


def enqueue(name: str, *args: Any) -> None:
    """Run job `name` after the current transaction commits (never if it rolls back).

    An argument may be a mapped object not yet flushed: the job gets its primary key,
    known once the commit has written it, so the caller need not flush to learn an id.
    """
    if name not in JOBS:
        raise KeyError(f"unknown job {name!r}")
    session = db.session()
    job = _Pending(name, args, session.get_nested_transaction())
    session.info.setdefault(_PENDING_KEY, []).append(job)


def run_job(app: Flask, name: str, args: tuple[Any, ...]) -> Any:
    """Run one job in its own app context and transaction (the one commit point of a job)."""
    with app.app_context():
        try:
            with unit_of_work():
                return JOBS[name](*args)
        finally:
            db.session.remove()


def _job_argument(value: Any) -> Any:
    state = sa.inspect(value, raiseerr=False)
    if state is None or not isinstance(state, InstanceState):
        return value
    identity = state.identity  # the key stays known after commit expires the object
    if identity is None or len(identity) != 1:
        raise ValueError(f"a job argument {value!r} has no single primary key")
    return identity[0]


@sa.event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    if not pending or not has_app_context():
        return
    jobs = [(p.name, tuple(_job_argument(arg) for arg in p.args)) for p in pending]
    target: Runner = current_app.extensions["akta_jobs"]
    target.dispatch_all(jobs)


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_PENDING_KEY, None)
        return
    # A refused operation's savepoint: forget the jobs enqueued inside it (or inside a
    # savepoint within it), keep the others.
    pending = session.info.get(_PENDING_KEY)
    if pending:
        pending[:] = [p for p in pending if not _inside(p.savepoint, previous)]


def _inside(savepoint: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while savepoint is not None:
        if savepoint is outer:
            return True
        savepoint = savepoint.parent
    return False
