"""The FHIR Bundles of tests/fhir/, filled in with a sandbox family."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from akta_service.core.clock import local_today

EXAMPLES = Path(__file__).resolve().parents[1] / "fhir"


def bundle(name: str, report: dict[str, Any], days_old: int = 1) -> dict[str, Any]:
    """The example Bundle `name`, for the child of `report`, born at 03:10 WIB `days_old` days
    ago (20:10 UTC the day before: SATUSEHAT's times are UTC)."""
    born = local_today() - timedelta(days=days_old)
    utc_day = born - timedelta(days=1)
    text = (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")
    for placeholder, value in {
        "{{MOTHER_NIK}}": report["mother"]["nik"],
        "{{MOTHER_NAME}}": report["mother"]["name"],
        "{{SEX}}": report["child"]["sex"],
        "{{BIRTH_DATE_UTC}}": utc_day.isoformat(),
        "{{BIRTH_MOMENT_UTC}}": f"{utc_day.isoformat()}T20:10:00+00:00",
    }.items():
        text = text.replace(placeholder, value)
    filled: dict[str, Any] = json.loads(text)
    return filled
