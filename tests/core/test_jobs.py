"""A transaction's few jobs travel to Celery as one message; each still runs on its own."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from akta_service.jobs.queue import JOBS, run_batch


def test_one_failing_job_of_a_batch_does_not_stop_the_others(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    done: list[Any] = []

    def broken(report_id: int) -> None:
        raise RuntimeError(f"Dukcapil fell over for {report_id}")

    monkeypatch.setitem(JOBS, "test.broken", broken)
    monkeypatch.setitem(JOBS, "test.fine", done.append)
    run_batch(app, [("test.broken", (7,)), ("test.fine", (8,)), ("test.fine", (9,))])
    assert done == [8, 9]
    assert "job test.broken(7,) failed" in caplog.text
