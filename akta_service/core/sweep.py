"""The periodic sweep: whatever the database says is due and no job is doing, re-queue.

Jobs can be lost (a broker restarted, a worker killed, a process ended); the
database cannot. Every job is safe to run twice, so queueing one too many is harmless.
Each feature registers its own sweeper (:func:`sweeper`) next to the job it re-queues;
the sweep runs them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from akta_service.core.config import current_settings
from akta_service.core.db import utcnow
from akta_service.core.jobs import job


@dataclass(frozen=True)
class SweepTimes:
    """The moments one sweep judges by."""

    now: datetime
    #: Work queued before this and still not done had its job lost.
    lost_before: datetime


#: A sweeper queues the due work of one feature (or forgets what expired) and returns how
#: many jobs it queued.
Sweeper = Callable[[SweepTimes], int]

#: Every registered sweeper, in the order the features registered them.
SWEEPERS: list[Sweeper] = []


def sweeper(fn: Sweeper) -> Sweeper:
    """Register `fn` to run on every sweep."""
    if fn not in SWEEPERS:
        SWEEPERS.append(fn)
    return fn


@job("jobs.sweep")
def sweep() -> int:
    """Run every registered sweeper; the number of jobs they queued."""
    now = utcnow()
    times = SweepTimes(now, now - timedelta(seconds=current_settings().sweep_grace_seconds))
    return sum(run(times) for run in SWEEPERS)
