"""The periodic sweep inside the web process (embedded default, no Celery beat)."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from akta_service.core.jobs import run_job

log = logging.getLogger("akta_service.jobs")


def start_sweeper(app: Flask) -> threading.Event:
    """Run the sweep every AKTA_SWEEP_INTERVAL_SECONDS in a daemon thread; set the event to stop."""
    interval = app.config["AKTA_SETTINGS"].sweep_interval_seconds
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval):
            try:
                run_job(app, "jobs.sweep", ())
            except Exception:
                log.exception("sweep failed; trying again in %.0f s", interval)

    threading.Thread(target=loop, name="akta-sweep", daemon=True).start()
    return stop
