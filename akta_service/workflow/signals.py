"""What the workflow announces. Features that react to a report's move subscribe here,
at app start-up; the workflow knows none of them.

``status_changed`` is sent once a report's status has changed in the current
transaction (a new report, or a fired trigger that was not refused), with the report
as sender and keyword arguments ``from_state`` (None for a new report), ``to_state``,
``trigger``, ``reason`` and ``actor``. A receiver writes in the same transaction; what it
queues goes out only once that transaction commits.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

status_changed = _signals.signal("status-changed")
