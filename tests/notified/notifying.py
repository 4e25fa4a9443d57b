"""A facility notifying a birth through the API, and the family's link as their mail has it."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient

from akta_service.core.clock import local_today
from tests.mail import Inbox

FAMILY_EMAIL = "keluarga@example.test"
FAMILY_PHONE = "081234567890"
LINK = re.compile(r"https?://\S+(/lapor/kelahiran/[A-Za-z0-9_-]+)")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def notification_of(report: dict[str, Any], born: date | None = None) -> dict[str, Any]:
    """What a hospital knows at the bedside of the birth an example report describes."""
    child, mother = report["child"], report["mother"]
    return {
        "child": {
            "provisional_name": f"Bayi Ny. {mother['name']}",
            "sex": child["sex"],
            "birth_date": (born or date.fromisoformat(child["birth_date"])).isoformat(),
            "birth_time": "03:10",
            "birth_place": "RSUD Gunung Jati",
            "birth_place_kind": "facility",
            "birth_order": child["birth_order"],
            "birth_type": "single",
            "weight_grams": 3100,
            "length_cm": 49,
            "attendant": "midwife",
        },
        "mother": {"nik": mother["nik"], "name": mother["name"]},
        "contact": {"phone": FAMILY_PHONE, "email": FAMILY_EMAIL},
        "birth_letter_number": "SKL/2026/0042",
    }


def days_ago(days: int) -> date:
    return local_today() - timedelta(days=days)


def notify(client: FlaskClient, token: str, payload: dict[str, Any]) -> dict[str, Any]:
    created = client.post("/api/v1/notifications", json=payload, headers=auth(token))
    assert created.status_code == 201, created.get_json()
    body: dict[str, Any] = created.get_json()
    return body


def links_in(inbox: Inbox) -> list[str]:
    """The completion links of the family's e-mails, oldest first (paths only)."""
    found = []
    for message in inbox.messages:
        text = message.get_payload(decode=True).decode()
        found.extend(LINK.findall(text))
    return found
