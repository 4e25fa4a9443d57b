"""Registration numbers (nomor akta): unique and gap-free per region and period.

The counter row is incremented inside the signing transaction: concurrent
signers queue on its row lock, and a rolled-back signature rolls the
increment back with it, so no number is skipped or handed out twice.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from akta_service.core.config import RegistrationPeriod, Settings
from akta_service.core.db import Base, db


class RegistrationCounter(Base):
    """The last serial handed out for one region in one period."""

    __tablename__ = "registration_counters"
    __table_args__ = (sa.CheckConstraint("last_serial >= 0", "serial_not_negative"),)

    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True)
    #: "2026-11-22" (daily), "2026-11" (monthly) or "2026" (yearly).
    period: Mapped[str] = mapped_column(sa.String(10), primary_key=True)
    last_serial: Mapped[int] = mapped_column(sa.Integer, default=0)

    def __repr__(self) -> str:
        return f"<RegistrationCounter {self.region_code} {self.period} {self.last_serial}>"


def period_key(day: date, period: RegistrationPeriod) -> str:
    """The counter period a registration date falls in."""
    if period == RegistrationPeriod.YEARLY:
        return str(day.year)
    if period == RegistrationPeriod.MONTHLY:
        return day.strftime("%Y-%m")
    return day.isoformat()


def _next_serial(region_code: str, period: str) -> int:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(RegistrationCounter)
        .values(region_code=region_code, period=period, last_serial=0)
        .on_conflict_do_nothing()
    )
    return int(
        db.session.execute(
            sa.update(RegistrationCounter)
            .where(
                RegistrationCounter.region_code == region_code,
                RegistrationCounter.period == period,
            )
            .values(last_serial=RegistrationCounter.last_serial + 1)
            .returning(RegistrationCounter.last_serial)
        ).scalar_one()
    )


def allocate_registration_number(
    region_code: str, late: bool, registered_at: datetime, settings: Settings
) -> str:
    """Take the next number, e.g. 3274-LU-22112026-0001, in the current transaction."""
    local_day = registered_at.astimezone(ZoneInfo(settings.timezone)).date()
    serial = _next_serial(region_code, period_key(local_day, settings.regno_period))
    letters = settings.regno_late_code if late else settings.regno_on_time_code
    return f"{region_code}-{letters}-{local_day.strftime('%d%m%Y')}-{serial:04d}"
