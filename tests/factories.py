"""factory-boy factories; they flush into the test's transaction, never commit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory

from akta_service.births.codes import new_tracking_code
from akta_service.births.models import (
    NUMBERED_STATUSES,
    Attendant,
    BirthPlaceKind,
    BirthReport,
    BirthType,
    Channel,
    ReportStatus,
    Sex,
)
from akta_service.core.db import db, utcnow

#: Every name, NIK, KK number and phone number the factories made: no log line may carry one
#: (tests/logcheck.py checks the whole run's log against them).
PERSONAL_VALUES: set[str] = set()

_PERSONAL_FIELDS = (
    "child_name",
    "mother_nik",
    "mother_name",
    "father_nik",
    "father_name",
    "kk_number",
    "informant_nik",
    "informant_name",
    "informant_phone",
    "informant_email",
    "witness1_nik",
    "witness1_name",
    "witness2_nik",
    "witness2_name",
)


def remember_personal_data(value: Any) -> None:
    """Add the names, NIKs, phones and addresses in a report's data to PERSONAL_VALUES."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("nik", "name", "phone", "email", "kk_number"):
                _remember_value(item)
            else:
                remember_personal_data(item)
    elif isinstance(value, list):
        for item in value:
            remember_personal_data(item)


def _remember_value(value: Any) -> None:
    if isinstance(value, str) and value:
        PERSONAL_VALUES.add(value)


def made_up_nik(district: str, born: date, female: bool, serial: int) -> str:
    """A structurally valid NIK of nobody in the sandbox (women: day + 40)."""
    day = born.day + (40 if female else 0)
    return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def made_up_payload(index: int, today: date) -> dict[str, Any]:
    """A complete, valid report of a made-up family (not in the sandbox registry)."""
    payload = _made_up_payload(index, today)
    remember_personal_data(payload)
    return payload


def _made_up_payload(index: int, today: date) -> dict[str, Any]:
    mother_born = date(1994, 3, 10 + index)
    father_born = date(1990, 7, 2 + index)
    child_born = today - timedelta(days=3 + 9 * index)
    district = f"32740{1 + index % 5}"
    return {
        "child": {
            "name": ["Aisyah Putri", "Muhammad Rizki", "Nadia Rahma", "Bagas Pratama"][index % 4],
            "sex": "female" if index % 2 == 0 else "male",
            "birth_date": child_born.isoformat(),
            "birth_time": "08:30",
            "birth_place": "RSUD Gunung Jati",
            "birth_place_kind": "facility",
            "birth_order": 1 + index % 3,
            "birth_type": "single",
            "weight_grams": 3100 + 50 * index,
            "length_cm": 49,
            "attendant": "doctor",
        },
        "mother": {
            "nik": made_up_nik(district, mother_born, True, 100 + index),
            "name": ["Dewi Lestari", "Rina Wati", "Siti Aminah", "Yuni Kartika"][index % 4],
            "birth_date": mother_born.isoformat(),
        },
        "father": {
            "nik": made_up_nik(district, father_born, False, 200 + index),
            "name": ["Agus Setiawan", "Dedi Kurniawan", "Hendra Gunawan", "Joko Susilo"][index % 4],
            "birth_date": father_born.isoformat(),
        },
        "kk_number": f"{district}1501{18 + index:02d}{300 + index:04d}",
        "marriage": {
            "recorded": True,
            "certificate_number": f"0{index + 1}/12/I/2015",
            "date": "2015-01-20",
        },
        "informant": {
            "relation": "father",
            "nik": made_up_nik(district, father_born, False, 200 + index),
            "name": ["Agus Setiawan", "Dedi Kurniawan", "Hendra Gunawan", "Joko Susilo"][index % 4],
            "phone": "081234567890",
            "email": None,
        },
        "witnesses": [
            {
                "nik": made_up_nik(district, date(1980, 1, 5), False, 300 + index),
                "name": "Slamet Riyadi",
            },
            {
                "nik": made_up_nik(district, date(1982, 2, 6), True, 400 + index),
                "name": "Sri Mulyani",
            },
        ],
        "birth_letter_number": f"SKL/{2026}/{1000 + index}",
    }


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class BirthReportFactory(BaseFactory):
    """A complete, consistent report of a recorded marriage in Kota Cirebon."""

    class Meta:
        model = BirthReport

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        for name in _PERSONAL_FIELDS:
            _remember_value(kwargs.get(name))
        return super()._create(model_class, *args, **kwargs)

    class Params:
        born_days_ago = 5

    tracking_code = factory.LazyFunction(new_tracking_code)
    channel = Channel.WEB
    region_code = "3274"
    facility_code = None
    status = ReportStatus.SUBMITTED
    submitted_at = factory.LazyFunction(utcnow)
    #: A report made in its status: it has been there since it was submitted.
    status_since = factory.SelfAttribute("submitted_at")
    child_name = "Aisyah Putri"
    child_sex = Sex.FEMALE
    child_birth_date = factory.LazyAttribute(
        lambda o: date.today() - timedelta(days=o.born_days_ago)
    )
    child_birth_time = None
    child_birth_place = "RSUD Gunung Jati"
    child_birth_place_kind = BirthPlaceKind.FACILITY
    child_birth_order = 1
    child_birth_type = BirthType.SINGLE
    child_weight_grams = 3200
    child_length_cm = 49
    child_attendant = Attendant.DOCTOR
    mother_nik = factory.Sequence(lambda n: made_up_nik("327401", date(1994, 3, 10), True, 1 + n))
    mother_name = "Dewi Lestari"
    mother_birth_date = date(1994, 3, 10)
    father_nik = factory.Sequence(lambda n: made_up_nik("327401", date(1990, 7, 2), False, 1 + n))
    father_name = "Agus Setiawan"
    father_birth_date = date(1990, 7, 2)
    kk_number = "3274011501180301"
    marriage_recorded = True
    marriage_certificate_number = "01/12/I/2015"
    marriage_date = date(2015, 1, 20)
    informant_relation = "father"
    informant_nik = factory.SelfAttribute("father_nik")
    informant_name = factory.SelfAttribute("father_name")
    informant_phone = "081234567890"
    informant_email = None
    witness1_nik = made_up_nik("327401", date(1980, 1, 5), False, 300)
    witness1_name = "Slamet Riyadi"
    witness2_nik = made_up_nik("327401", date(1982, 2, 6), True, 400)
    witness2_name = "Sri Mulyani"
    birth_letter_number = "SKL/2026/1000"
    registration_number = factory.LazyAttribute(
        lambda o: (
            f"3274-LU-01012026-{abs(hash(o.tracking_code)) % 9000 + 1000:04d}"
            if o.status in NUMBERED_STATUSES
            else None
        )
    )


def report_payload(**overrides: Any) -> dict[str, Any]:
    """A valid JSON body for a new report, with nested overrides ("child.name": ...)."""
    payload = made_up_payload(0, date.today())
    for dotted, value in overrides.items():
        target = payload
        *parents, leaf = dotted.split(".")
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(leaf)] = value
        else:
            target[leaf] = value
    remember_personal_data(payload)
    return payload
