"""Seeding: regions always; demo staff and reports outside production. Safe to run again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import click
import sqlalchemy as sa
from flask import current_app

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.clock import local_today
from akta_service.core.config import Settings
from akta_service.core.db import db, unit_of_work
from akta_service.regions.operations import ensure_regions
from akta_service.workflow.engine import fire

#: (username, full name, role, password): demo logins, printed by `make run`.
DEMO_USERS = (
    ("admin", "Admin Demo", "admin", "admin-demo-2026"),
    ("operator", "Siti Operator", "operator", "operator-demo-2026"),
    ("operator2", "Budi Operator", "operator", "operator2-demo-2026"),
    ("pejabat", "Drs. Ahmad Pejabat", "pejabat", "pejabat-demo-2026"),
    ("viewer", "Kepala Dinas (dasbor)", "viewer", "viewer-demo-2026"),
)

DEMO_SIGNING_OFFICER = {
    "signing_officer_name": "Drs. Ahmad Pejabat, M.Si.",
    "signing_officer_nip": "197003151995031002",
    "signing_officer_title": "Kepala Dinas Kependudukan dan Pencatatan Sipil",
}


@dataclass
class SeedResult:
    regions: int = 0
    users_created: list[str] = field(default_factory=list)
    reports_created: int = 0
    demo: bool = False


def demo_nik(district: str, born: date, female: bool, serial: int) -> str:
    """A structurally valid NIK for demo people (women: day + 40)."""
    day = born.day + (40 if female else 0)
    return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


def demo_report_payload(index: int, today: date) -> dict[str, Any]:
    """A complete, valid report for the demo family number `index`."""
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
            "nik": demo_nik(district, mother_born, True, 100 + index),
            "name": ["Dewi Lestari", "Rina Wati", "Siti Aminah", "Yuni Kartika"][index % 4],
            "birth_date": mother_born.isoformat(),
        },
        "father": {
            "nik": demo_nik(district, father_born, False, 200 + index),
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
            "nik": demo_nik(district, father_born, False, 200 + index),
            "name": ["Agus Setiawan", "Dedi Kurniawan", "Hendra Gunawan", "Joko Susilo"][index % 4],
            "phone": "081234567890",
            "email": None,
        },
        "witnesses": [
            {
                "nik": demo_nik(district, date(1980, 1, 5), False, 300 + index),
                "name": "Slamet Riyadi",
            },
            {"nik": demo_nik(district, date(1982, 2, 6), True, 400 + index), "name": "Sri Mulyani"},
        ],
        "birth_letter_number": f"SKL/{2026}/{1000 + index}",
    }


def _seed_users(settings: Settings, result: SeedResult) -> dict[str, User]:
    users = {}
    for username, full_name, role, password in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            user = create_user(
                username,
                full_name,
                role,
                password,
                list(settings.region_codes),
                Actor.system("seed"),
            )
            result.users_created.append(username)
        users[username] = user
    return users


def _seed_reports(users: dict[str, User], result: SeedResult) -> None:
    if db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)):
        return
    today = local_today()
    system = Actor.system()
    operator = users["operator"].as_actor()
    pejabat = users["pejabat"].as_actor()
    steps = [
        ("start_verification", system),
        ("pass_verification", system),
        ("approve", operator),
        ("sign", pejabat),
    ]
    # One report per stage a clerk meets: new, in review, awaiting signature, registered.
    for index, step_count in enumerate((0, 2, 3, 4)):
        payload = demo_report_payload(index, today)
        informant = Actor(
            id="informant:web", name=payload["informant"]["name"], role=Role.INFORMANT
        )
        report = submit_birth_report(load_report_input(payload), Channel.WEB, informant)
        for trigger, actor in steps[:step_count]:
            fire(report, trigger, actor)
        result.reports_created += 1


def seed(settings: Settings) -> SeedResult:
    """Seed what is missing, in one transaction."""
    result = SeedResult(demo=not settings.is_production)
    with unit_of_work():
        regions = ensure_regions()
        result.regions = len(regions)
        if result.demo:
            for region in regions:
                if region.code in settings.region_codes and region.signing_officer_name is None:
                    for key, value in DEMO_SIGNING_OFFICER.items():
                        setattr(region, key, value)
            users = _seed_users(settings, result)
            _seed_reports(users, result)
    return result


def demo_logins_text() -> str:
    """The demo logins, when this is a development instance that has them."""
    settings: Settings = current_app.config["AKTA_SETTINGS"]
    if settings.is_production:
        return ""
    names = {u for u, *_ in DEMO_USERS}
    present = set(db.session.scalars(sa.select(User.username).where(User.username.in_(names))))
    if not present:
        return ""
    lines = ["Akun demo (nama pengguna / kata sandi / peran):"]
    lines += [f"  {u:<10} {p:<22} {r}" for u, _, r, p in DEMO_USERS if u in present]
    return "\n".join(lines)


def print_logins(result: SeedResult) -> None:
    click.echo(
        f"Wilayah: {result.regions}; "
        f"pengguna baru: {', '.join(result.users_created) or 'tidak ada'}; "
        f"laporan demo baru: {result.reports_created}"
    )
