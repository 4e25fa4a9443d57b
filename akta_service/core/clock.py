"""Local dates: a birth "today" is today in the office's time zone, not in UTC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import has_app_context

from akta_service.core.config import current_settings
from akta_service.core.db import utcnow

DEFAULT_TIMEZONE = "Asia/Jakarta"


def local_timezone() -> ZoneInfo:
    """The office's time zone (AKTA_TIMEZONE)."""
    if has_app_context():
        return ZoneInfo(current_settings().timezone)
    return ZoneInfo(DEFAULT_TIMEZONE)


def local_now() -> datetime:
    return utcnow().astimezone(local_timezone())


def local_today() -> date:
    return local_now().date()


def local_time(moment: datetime | None) -> str:
    """A moment as the office reads it: "22-11-2026 14:05 WIB" (the zone's own abbreviation)."""
    if moment is None:
        return "—"
    return moment.astimezone(local_timezone()).strftime("%d-%m-%Y %H:%M %Z")
