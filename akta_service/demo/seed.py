"""Seeding: regions always; demo staff and reports outside production. Safe to run again."""

from __future__ import annotations

from dataclasses import dataclass, field

import click
import sqlalchemy as sa
from flask import current_app

from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.accounts.second_factor import enrol_directly
from akta_service.akta.operations import authorise_issue
from akta_service.births.models import BirthReport, Channel
from akta_service.births.operations import load_report_input, submit_birth_report
from akta_service.core.actors import Actor, Role
from akta_service.core.config import Settings, SigningServiceMode
from akta_service.core.db import db
from akta_service.core.transaction import unit_of_work
from akta_service.regions.operations import ensure_regions
from akta_service.signing.gateway import enrol_embedded
from akta_service.verification.gateway import dukcapil
from akta_service.verification.operations import verify_report
from akta_service.verification.sandbox import SandboxDukcapil
from akta_service.workflow.engine import fire

#: (username, full name, role, password): demo logins, printed by `make run`.
DEMO_USERS = (
    ("admin", "Admin Demo", "admin", "admin-demo-2026"),
    ("operator", "Siti Operator", "operator", "operator-demo-2026"),
    ("operator2", "Budi Operator", "operator", "operator2-demo-2026"),
    ("pejabat", "Drs. Ahmad Pejabat", "pejabat", "pejabat-demo-2026"),
    ("viewer", "Kepala Dinas (dasbor)", "viewer", "viewer-demo-2026"),
)

#: The demo pejabat's signing identity and the passphrase of their key, printed too.
DEMO_PEJABAT_NIK = "3274015503700002"
DEMO_PEJABAT_NIP = "197003151995031002"
DEMO_SIGNING_PASSPHRASE = "ttd-pejabat-2026"  # noqa: S105 - demo data, printed

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
        if user.needs_second_factor and user.totp_secret is None:
            # Enrolled at once: the demo reads its codes from `akta users totp-code`.
            enrol_directly(user, Actor.system("seed"))
        if role == "pejabat" and user.nik is None:
            user.nik, user.nip = DEMO_PEJABAT_NIK, DEMO_PEJABAT_NIP
        users[username] = user
    return users


def _seed_reports(settings: Settings, users: dict[str, User], result: SeedResult) -> None:
    """Reports of sandbox families at each stage a clerk meets, verified for real."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(BirthReport)):
        return
    registry = dukcapil()
    if not isinstance(registry, SandboxDukcapil):
        return  # a real Dukcapil: no made-up births
    families = registry.population.sample_families(4, region=settings.region_codes[0])
    operator, pejabat = users["operator"].as_actor(), users["pejabat"].as_actor()
    # 0: left for the background job to verify live; 1: in review;
    # 2: approved, awaiting signature; 3: signed (registered).
    for stage, family in enumerate(families):
        payload = family["example_report"]
        informant = Actor(
            id="informant:web", name=payload["informant"]["name"], role=Role.INFORMANT
        )
        report = submit_birth_report(load_report_input(payload), Channel.WEB, informant)
        result.reports_created += 1
        if stage == 0:
            continue
        if verify_report(report.id, registry) != "pass_verification":
            continue
        if stage >= 2:
            fire(report, "approve", operator)
        if stage >= 3 and settings.signing_service == SigningServiceMode.EMBEDDED:
            authorise_issue(report, users["pejabat"], DEMO_SIGNING_PASSPHRASE)
            fire(report, "sign", pejabat)


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
            if settings.signing_service == SigningServiceMode.EMBEDDED:
                # The demo pejabat's key in the sandbox signing service, made once.
                pejabat = users["pejabat"]
                enrol_embedded(
                    settings,
                    pejabat.nik or "",
                    pejabat.nip or "",
                    pejabat.full_name,
                    DEMO_SIGNING_PASSPHRASE,
                )
            _seed_reports(settings, users, result)
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
    lines += [
        "pejabat dan admin memakai verifikasi dua langkah: kode saat ini dengan",
        "  .venv/bin/akta users totp-code pejabat   (atau: admin)",
    ]
    if "pejabat" in present:
        lines.append(f"Passphrase tanda tangan elektronik pejabat: {DEMO_SIGNING_PASSPHRASE}")
    return "\n".join(lines)


def print_logins(result: SeedResult) -> None:
    click.echo(
        f"Wilayah: {result.regions}; "
        f"pengguna baru: {', '.join(result.users_created) or 'tidak ada'}; "
        f"laporan demo baru: {result.reports_created}"
    )
