"""Counting guesses (passwords, TOTP codes, PINs) in the database, one statement per guess.

A guess is counted *before* it is checked, by a single ``UPDATE … SET failures = failures + 1
… RETURNING failures`` that only matches a row that is not locked. Guesses that arrive
together queue on the row (PostgreSQL re-reads it after the one ahead commits; SQLite has one
writer at a time), so each sees the count the others left and none is lost. The guess that
reaches the limit sets the lock in that same statement: once the limit is reached no further
guess is even checked until the lock runs out. A right guess clears the count afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute

from akta_service.core.db import db


@dataclass(frozen=True)
class Counter:
    """Where a thing's wrong guesses are counted: its row, two columns, the limit."""

    model: type[Any]
    failures: InstrumentedAttribute[int]
    locked_until: InstrumentedAttribute[datetime | None]
    limit: int
    lockout: timedelta
    #: Columns to write back as they are (e.g. a row version that guesses must not bump).
    keep: tuple[InstrumentedAttribute[Any], ...] = ()

    def _update(self, row: Any) -> Any:
        return (
            sa.update(self.model)
            .where(self.model.id == row.id)
            .execution_options(synchronize_session=False)
        )

    def _forget(self, row: Any) -> None:
        """The row's counter columns are read again when next used."""
        db.session.expire(row, [self.failures.key, self.locked_until.key])

    def _kept(self) -> dict[str, Any]:
        return {column.key: column for column in self.keep}

    def take_guess(self, row: Any, now: datetime) -> int | None:
        """Count one guess; its number (1 … limit) when it may be checked, None when locked.

        A lock that has run out starts a fresh count.
        """
        expired = self.locked_until.is_not(None)  # the WHERE below leaves only expired ones
        count = sa.case((expired, 1), else_=self.failures + 1)
        statement = (
            self._update(row)
            .where(sa.or_(self.locked_until.is_(None), self.locked_until <= now))
            .values(
                {
                    self.failures.key: count,
                    self.locked_until.key: sa.case(
                        (count >= self.limit, now + self.lockout), else_=None
                    ),
                    **self._kept(),
                }
            )
            .returning(self.failures)
        )
        taken: int | None = db.session.execute(statement).scalar()
        self._forget(row)
        return taken

    def clear(self, row: Any) -> None:
        """A right guess: the count starts again and any lock is lifted."""
        db.session.execute(
            self._update(row).values(
                {self.failures.key: 0, self.locked_until.key: None, **self._kept()}
            )
        )
        self._forget(row)
