"""Fixtures for the parents' form: sandbox families, a real local SMTP server."""

from __future__ import annotations

import copy
from typing import Any

from akta_service.verification.gateway import dukcapil


def sandbox_report(kind: str = "recorded", index: int = 0) -> dict[str, Any]:
    """The example report of a real family in the sandbox registry (Kota Cirebon)."""
    population = dukcapil().population  # type: ignore[attr-defined]
    families = population.sample_families(index + 1, kind, region="3274")
    return copy.deepcopy(families[index]["example_report"])
