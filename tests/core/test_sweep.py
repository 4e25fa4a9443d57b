"""The sweep runs what every feature registered and counts the jobs they queued."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from akta_service.core.sweep import SWEEPERS, SweepTimes, sweep, sweeper


def test_a_registered_sweeper_runs_on_every_sweep(app: Any, session: Any) -> None:
    seen: list[SweepTimes] = []

    def three_due(times: SweepTimes) -> int:
        """A feature's sweeper: notes when it ran, says it queued three jobs."""
        seen.append(times)
        return 3

    without = sweep()
    sweeper(three_due)
    sweeper(three_due)  # registering twice runs it once
    try:
        assert sweep() == without + 3
        assert len(seen) == 1
    finally:
        SWEEPERS.remove(three_due)
    assert sweep() == without
    assert len(seen) == 1
    grace = timedelta(seconds=app.config["AKTA_SETTINGS"].sweep_grace_seconds)
    assert seen[0].now - seen[0].lost_before == grace


def test_every_feature_registers_its_sweeper(app: Any) -> None:
    assert {fn.__module__ for fn in SWEEPERS} >= {
        "akta_service.akta.operations",
        "akta_service.core.idempotency",
        "akta_service.notifications.operations",
        "akta_service.parents.operations",
        "akta_service.verification.operations",
    }
