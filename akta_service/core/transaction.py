"""The one commit point of a request, a job and a command.

Operations flush, never commit. Whatever runs a piece of work (a request, a job, a CLI
command) commits it here unless an exception escaped that work, and rolls back only
then. An answer that refuses something (409, 422, 401) is not an escaped exception: the
journal entries and counters written for it (a staff read, a wrong PIN) are kept. An
operation that may be refused runs inside a savepoint (`db.session.begin_nested()`), so
that a refusal undoes its own writes and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import CodeType
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response
from sqlalchemy.orm import scoped_session, sessionmaker

from akta_service.core.db import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once at the end of a command or job; roll back everything on error."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


class TransactionalFlask(Flask):
    """Flask that rolls a request's work back the moment an exception escapes its view.

    Every exception a view (or a before-request hook) raises passes through
    `handle_user_exception`, handled by an error handler or not; one raised after the
    view (by the commit itself) passes through `handle_exception`. Rolling back there,
    before the error handler runs, leaves it a clean session to read from (a conflict
    page says who changed the report); what the handler itself writes is kept.
    """

    #: Code of the functions ensure_sync found plain (not coroutines): they stay plain.
    _plain_code: set[CodeType]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_code = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's, with the answer remembered per function's code: Flask asks `inspect`
        for every hook and view of every request, about twenty times a request, and
        whether a function is a coroutine is fixed by its code."""
        code = getattr(getattr(func, "__func__", func), "__code__", None)
        plain = self._plain_code
        if code in plain:
            return func
        synced = super().ensure_sync(func)
        if synced is func and code is not None:
            plain.add(code)
        return synced

    def handle_user_exception(self, e: Exception) -> Any:
        db.session.rollback()
        return super().handle_user_exception(e)

    def handle_exception(self, e: Exception) -> Response:
        db.session.rollback()
        return super().handle_exception(e)


def _finish_request(response: Response) -> Response:
    """The one place a request's work is committed (an escaped exception rolled it back)."""
    db.session.commit()
    return response


def init_transactions(app: Flask) -> None:
    """Make the request's end its one commit point (registered after every other hook)."""
    app.after_request(_finish_request)


@contextmanager
def undone() -> Iterator[None]:
    """Work that is tried and then always undone (a readiness probe's write)."""
    savepoint = db.session.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


@contextmanager
def session_joined(connection: sa.Connection) -> Iterator[None]:
    """`db.session` joined to the transaction under way on `connection` (in savepoints of
    its own), so that what it writes commits or rolls back with that transaction's work.

    For a command that runs alone in its process (`akta restore`): the session is swapped
    for everyone until the block ends.
    """
    joined = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=db.session.registry.scopefunc,
    )
    original = db.session
    db.session = joined  # type: ignore[assignment]  # a plain session, bound to `connection`
    try:
        yield
        joined.commit()  # releases its savepoint: the connection's commit is the real one
    except BaseException:
        joined.rollback()
        raise
    finally:
        joined.remove()
        db.session = original
