"""The office work queue with a million reports in PostgreSQL.

Target (issue 19, "the office at a million reports"): every search and page p95 <= 30 ms
through the page: the queue page (page 1 and page 1,000 of each tab), the office home's tab
counts and search by NIK, tracking code, registration number and name, with no growth from
page 1 to page 1,000. (The earlier target was 50 ms.) Each case prints met / not met.

1. A fresh database, migrated to head, gets 1,000,000 birth reports through COPY: three
   kota over three years, most issued, the rest as an office has them (in review, awaiting
   signature, needs correction, verifying and stalled, submitted, registered, rejected,
   cancelled), potential duplicates and late registrations among them. Rows satisfy every
   CHECK constraint: structurally valid NIKs (PPKKCC DDMMYY SSSS, women's day + 40),
   16-digit KK numbers, tracking codes of the project's alphabet, gap-free registration
   numbers per kota and day.
2. VACUUM ANALYZE, as autovacuum would have done on a live table.
3. The queue's indexes come with the migrations; `--baseline` first measures without them.
4. Every case is timed twice:
   - page: GET /kantor/antrian through the Flask test client, signed in as an operator
     (session, user, tabs with counts, the page query, the journal row of the read, the
     template, the commit): what the clerk waits for, minus the network;
   - query: the function the view calls (queue_page, queue_counts) on its own, to see
     what the database costs within the page.
   The deep page is reached by following the keyset cursors from page 1 (each page of the
   walk is timed too), then checked against an OFFSET query.
5. Any case whose query is over target gets the EXPLAIN (ANALYZE, BUFFERS) of the report
   queries its page runs. A control case (/healthz, SELECT 1) shows the machine's own
   noise: the bench shares 2 cores with PostgreSQL and with other people's work.

The office is Kota Cirebon (3274); its in-review backlog is large on purpose
(`--in-review`, 55,000 by default, more than 1,000 pages of 50) so that page 1,000 of a
tab exists; the other kota have an ordinary backlog of a few thousand open reports.

Run: `.venv/bin/python -m bench.queue` (`--keep` keeps the database, `--database NAME`
measures a kept one again, `--baseline` also measures before the proposed indexes,
`--total` and `--samples` scale the run down for a quick look, `--only TEXT` measures
only the cases whose name contains TEXT).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import sqlalchemy as sa
from faker.providers.person.id_ID import Provider as IndonesianNames
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.dialects import postgresql

from akta_service import create_app
from akta_service.accounts.models import User
from akta_service.accounts.operations import create_user
from akta_service.births.codes import ALPHABET, LENGTH
from akta_service.births.models import (
    AWAITING_VERIFICATION,
    NUMBERED_STATUSES,
    OPEN_STATUSES,
    BirthReport,
    ReportStatus,
)
from akta_service.core.actors import Actor
from akta_service.core.config import Settings
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility
from akta_service.regions.data import REGIONS
from akta_service.regions.operations import ensure_regions
from akta_service.review.queries import (
    PAGE_SIZE,
    TAB_LABELS,
    queue_counts,
    queue_page,
    search_condition,
    tab_condition,
)
from bench.common import POSTGRES_ADMIN, machine_line, postgres_available

TARGET_P95_MS = 30.0
TOTAL = 1_000_000
DEEP_PAGE = 1_000
OFFICE = "3274"
PASSWORD = "bench-kata-sandi-panjang"  # noqa: S105 - a throw-away bench account
YEARS = 3
#: Share of the reports per kota.
REGION_SHARES = {"3274": 0.5, "3672": 0.25, "3673": 0.25}
#: Open reports per kota at 1,000,000 reports (scaled with --total). The office's
#: in-review backlog is set by --in-review.
BACKLOG_OFFICE = {
    ReportStatus.AWAITING_SIGNATURE: 3_000,
    ReportStatus.NEEDS_CORRECTION: 2_500,
    ReportStatus.VERIFYING: 400,
    ReportStatus.SUBMITTED: 100,
}
BACKLOG_OTHER = {
    ReportStatus.IN_REVIEW: 1_500,
    ReportStatus.AWAITING_SIGNATURE: 400,
    ReportStatus.NEEDS_CORRECTION: 500,
    ReportStatus.VERIFYING: 60,
    ReportStatus.SUBMITTED: 20,
}
#: Of the reports verifying, those for which Dukcapil has stopped answering.
STALLED_SHARE = 0.6
#: Open reports, other than just submitted ones, flagged as a potential duplicate.
DUPLICATE_SHARE = 0.02
#: Reports reported later than the on-time limit (AKTA_ON_TIME_DAYS) after the birth.
LATE_SHARE = 0.09
#: Mothers who had another child reported within the three years.
SIBLING_SHARE = 0.06
REJECTED_SHARE, CANCELLED_SHARE = 0.016, 0.006


# --- the database ------------------------------------------------------------------------


@contextmanager
def queue_database(name: str | None, keep: bool) -> Iterator[tuple[Flask, bool]]:
    """A migrated app on a new bench database, or on the kept database `name`.

    Yields the app and whether the database is new (and so needs its reports).
    """
    folder = Path(tempfile.mkdtemp(prefix="akta-bench-"))
    fresh = name is None
    name = name or f"akta_bench_queue_{uuid.uuid4().hex[:8]}"
    if fresh:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    app: Flask | None = None
    try:
        app = create_app(
            {
                "AKTA_ENV": "test",
                "AKTA_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                "AKTA_INSTANCE_PATH": str(folder / "instance"),
                "AKTA_SECRET_KEY": "bench-secret-key-bench-secret-key-0123",
                "AKTA_JOBS": "manual",
            }
        )
        app.config["AKTA_BENCH_DATABASE"] = name
        with app.app_context():
            flask_migrate.upgrade()
            ensure_regions()
            db.session.commit()
            table = {c["name"] for c in sa.inspect(db.engine).get_columns("birth_reports")}
        unmigrated = sorted(set(BirthReport.__table__.columns.keys()) - table)
        if unmigrated:
            raise SystemExit(f"queue: the model has columns no migration creates: {unmigrated}")
        yield app, fresh
    finally:
        if app is not None:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if keep or not fresh:
            print(f"queue: database {name} kept (measure it again with --database {name})")
        else:
            with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_database_url(app: Flask) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{app.config['AKTA_BENCH_DATABASE']}"


# --- generating the reports --------------------------------------------------------------

COLUMNS = [
    "id",
    "tracking_code",
    "channel",
    "region_code",
    "facility_code",
    "status",
    "version",
    "child_name",
    "child_sex",
    "child_birth_date",
    "child_birth_time",
    "child_birth_place",
    "child_birth_place_kind",
    "child_birth_order",
    "child_birth_type",
    "child_weight_grams",
    "child_length_cm",
    "child_attendant",
    "child_nik",
    "mother_nik",
    "mother_name",
    "mother_birth_date",
    "father_nik",
    "father_name",
    "father_birth_date",
    "kk_number",
    "marriage_recorded",
    "marriage_certificate_number",
    "marriage_date",
    "informant_relation",
    "informant_nik",
    "informant_name",
    "informant_phone",
    "informant_email",
    "witness1_nik",
    "witness1_name",
    "witness2_nik",
    "witness2_name",
    "birth_letter_number",
    "is_late",
    "potential_duplicate",
    "duplicate_of_id",
    "dukcapil_unavailable",
    "dukcapil_unavailable_since",
    "next_verification_at",
    "verification_attempts",
    "wording_model",
    "assigned_to_id",
    "assigned_at",
    "registration_number",
    "registered_at",
    "status_since",
    "submitted_at",
    "created_at",
    "updated_at",
]
NULL = "\\N"
#: Districts outside the three kota where parents' NIKs were first issued.
ELSEWHERE = ("320901", "320915", "327301", "327305", "360401", "360422", "317101", "330101")
STATUS_VERSION = {
    ReportStatus.SUBMITTED: 1,
    ReportStatus.VERIFYING: 2,
    ReportStatus.NEEDS_CORRECTION: 3,
    ReportStatus.IN_REVIEW: 3,
    ReportStatus.AWAITING_SIGNATURE: 4,
    ReportStatus.REGISTERED: 5,
    ReportStatus.ISSUED: 6,
    ReportStatus.REJECTED: 4,
    ReportStatus.CANCELLED: 2,
}
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass
class Family:
    district: str
    mother_nik: str
    mother_name: str
    mother_born: date
    father: tuple[str, str, date] | None
    kk_number: str
    marriage: tuple[str, date] | None


@dataclass
class Earlier:
    """A report already written, for siblings and suspected duplicates."""

    id: int
    family: Family
    child_name: str
    child_born: date
    child_female: bool


@dataclass
class Samples:
    """Values of generated office reports that the searches look for."""

    niks: list[tuple[str, str]] = field(default_factory=list)  # (nik, tracking code)
    codes: list[str] = field(default_factory=list)
    regnos: list[tuple[str, str]] = field(default_factory=list)
    mothers: list[tuple[str, str]] = field(default_factory=list)  # (full name, code)


@dataclass
class Staff:
    operator_id: int
    pejabat_id: int
    facilities: dict[str, list[tuple[str, str]]]  # region -> [(code, name)]


#: What an argon2 PIN hash looks like in the row (its width matters, not its value).
PIN_HASH = "$argon2id$v=19$m=65536,t=3,p=4$" + "c2FsdHNhbHRzYWx0c2FsdA" + "$" + "h" * 43


class Generator:
    """Writes the reports as COPY text rows, oldest submission (and lowest id) first.

    Hot loop: `random()` and list indexing instead of randint/choice, dates as ordinals,
    witnesses drawn from a pool per kota (the same neighbours witness many births).
    """

    def __init__(
        self, total: int, in_review: int, now: datetime, staff: Staff, seed: int, pin: bool
    ) -> None:
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.total = total
        self.now = now
        self.start = now - timedelta(days=365 * YEARS)
        self.staff = staff
        #: The table has the status-page PIN columns: web reports carry a PIN hash.
        self.pin = pin
        self.samples = Samples()
        self.used_codes: set[str] = set()
        self.child_serials: dict[str, int] = {}
        self.regno_serials: dict[tuple[str, str], int] = {}
        self.earlier: dict[str, list[Earlier]] = {code: [] for code in REGION_SHARES}
        self.districts = {r["code"]: [r["code"] + d for d in r["districts"]] for r in REGIONS}
        self.female_first = list(IndonesianNames.first_names_female)
        self.female_last = list(IndonesianNames.last_names_female)
        self.male_first = list(IndonesianNames.first_names_male)
        self.male_last = list(IndonesianNames.last_names_male)
        self.witnesses = {
            region: [
                (
                    self.nik(self.pick(districts), self.born(1960, 2000), female),
                    self.woman() if female else self.man(),
                )
                for female in (False, True)
                for _ in range(2_000)
            ]
            for region, districts in self.districts.items()
        }
        self._plan(in_review)

    # The plan: when each report came in, where, and where it stands now.

    def _plan(self, in_review: int) -> None:
        rng, n = self.rng, self.total
        span = (self.now - self.start).total_seconds() - 3600
        # More reports every year (u ** 0.8 is denser towards now).
        self.offsets = sorted(span * rng.random() ** 0.8 for _ in range(n))
        self.regions = rng.choices(list(REGION_SHARES), list(REGION_SHARES.values()), k=n)
        self.statuses: list[ReportStatus | None] = [None] * n
        scale = n / TOTAL
        for region in REGION_SHARES:
            backlog = dict(BACKLOG_OFFICE if region == OFFICE else BACKLOG_OTHER)
            backlog = {status: round(count * scale) for status, count in backlog.items()}
            if region == OFFICE:
                backlog[ReportStatus.IN_REVIEW] = in_review
            wanted = sum(backlog.values())
            rows = [i for i in range(n) if self.regions[i] == region]
            window = rows[-min(len(rows), int(wanted * 1.6)) :]
            if wanted > len(window):
                raise SystemExit(f"{region}: {wanted} open reports do not fit in {len(rows)}")
            chosen = rng.sample(window, wanted)
            position = 0
            for status, count in backlog.items():
                for i in chosen[position : position + count]:
                    self.statuses[i] = status
                position += count

    # Small pieces.

    def pick(self, items: Sequence[Any]) -> Any:
        return items[int(self.r() * len(items))]

    def between(self, low: int, high: int) -> int:
        """A whole number from low to high, both included."""
        return low + int(self.r() * (high - low + 1))

    def born(self, first_year: int, last_year: int) -> date:
        low = date(first_year, 1, 1).toordinal()
        return date.fromordinal(self.between(low, date(last_year, 12, 31).toordinal()))

    def code(self) -> str:
        while True:
            code = "".join(self.rng.choices(ALPHABET, k=LENGTH))
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code

    def nik(self, district: str, born: date, female: bool) -> str:
        day = born.day + (40 if female else 0)
        serial = 1 + int(self.r() * 9999)
        return f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"

    def child_nik(self, district: str, born: date, female: bool) -> str:
        day = born.day + (40 if female else 0)
        prefix = f"{district}{day:02d}{born.month:02d}{born.year % 100:02d}"
        serial = self.child_serials.get(prefix, 0) + 1
        self.child_serials[prefix] = serial
        return f"{prefix}{serial:04d}"

    def parent_district(self, region: str) -> str:
        return self.pick(ELSEWHERE if self.r() < 0.12 else self.districts[region])

    def woman(self) -> str:
        return f"{self.pick(self.female_first)} {self.pick(self.female_last)}"

    def man(self) -> str:
        return f"{self.pick(self.male_first)} {self.pick(self.male_last)}"

    def child_name(self, female: bool) -> str:
        r = self.r
        if female:
            name = self.pick(self.female_first)
            if r() < 0.18:
                name += " Putri"
            if r() < 0.6:
                name += " " + self.pick(self.female_last)
            return name
        name = ("Muhammad " if r() < 0.22 else "") + self.pick(self.male_first)
        if r() < 0.7:
            name += " " + self.pick(self.male_last)
        return name

    def family(self, region: str, child_born: date) -> Family:
        r, between = self.r, self.between
        district = self.pick(self.districts[region])
        born = child_born.toordinal()
        mother_born = date.fromordinal(born - between(18 * 365, 42 * 365))
        mother_nik = self.nik(self.parent_district(region), mother_born, True)
        father = None
        marriage = None
        if r() < 0.92:
            father_born = date.fromordinal(mother_born.toordinal() - between(-3 * 365, 3650))
            father_nik = self.nik(self.parent_district(region), father_born, False)
            father = (father_nik, self.man(), father_born)
            if r() < 0.85:
                married = date.fromordinal(born - between(300, 12 * 365))
                number = f"{between(1, 999):04d}/{between(1, 99):03d}/"
                number += f"{ROMAN[married.month - 1]}/{married.year}"
                marriage = (number, married)
        issued = date.fromordinal(born - between(30, 15 * 365))
        kk = f"{district}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}"
        kk += f"{between(1, 9999):04d}"
        return Family(district, mother_nik, self.woman(), mother_born, father, kk, marriage)

    # One row.

    def status_of(self, i: int, submitted: datetime) -> ReportStatus:
        planned = self.statuses[i]
        if planned is not None:
            return planned
        draw = self.r()
        if draw < REJECTED_SHARE:
            return ReportStatus.REJECTED
        if draw < REJECTED_SHARE + CANCELLED_SHARE:
            return ReportStatus.CANCELLED
        if self.now - submitted < timedelta(hours=20):
            return ReportStatus.REGISTERED
        return ReportStatus.ISSUED

    def row(self, i: int) -> str:
        r, between, pick = self.r, self.between, self.pick
        report_id = i + 1
        region = self.regions[i]
        submitted = self.start + timedelta(seconds=self.offsets[i])
        status = self.status_of(i, submitted)
        is_open = status in OPEN_STATUSES
        # How long after the birth the report came: mostly days, some more than 60.
        if r() < LATE_SHARE:
            delay = between(61, 5 * 365)
        else:
            delay = min(60, int(self.rng.expovariate(1 / 7)) + 1)
        child_born = (submitted - timedelta(days=delay)).date()
        female = r() < 0.49

        duplicate_of: int | None = None
        potential_duplicate = False
        earlier = self.earlier[region]
        suspect = (is_open and status != ReportStatus.SUBMITTED and r() < DUPLICATE_SHARE) or (
            status == ReportStatus.REJECTED and r() < 0.25
        )
        if suspect and earlier:
            original = pick(earlier)
            family = original.family
            child_name = original.child_name
            child_born = min(
                date.fromordinal(original.child_born.toordinal() + between(0, 3)),
                submitted.date(),
            )
            female = original.child_female
            duplicate_of = original.id
            # Rejecting a report as a duplicate keeps the flag and the link (as the
            # review does); only "not a duplicate" clears them.
            potential_duplicate = True
        elif earlier and r() < SIBLING_SHARE:
            family = pick(earlier).family
            child_name = self.child_name(female)
        else:
            family = self.family(region, child_born)
            child_name = self.child_name(female)
        is_late = (submitted.date() - child_born).days > 60
        remembered = Earlier(report_id, family, child_name, child_born, female)
        if len(earlier) < 20_000:
            earlier.append(remembered)
        else:
            earlier[report_id % 20_000] = remembered

        kind_draw = r()
        facility_code = NULL
        if kind_draw < 0.85:
            place_kind = "facility"
            facility, place = pick(self.staff.facilities[region])
            letter = f"SKL/{child_born.year}/{between(1, 99999):05d}"
            channel_draw = r()
            if channel_draw < 0.55:
                channel, facility_code = "facility_api", facility
            else:
                channel = "web" if channel_draw < 0.9 else "office"
            attendant = pick(("doctor", "midwife", "midwife", "nurse"))
        else:
            place_kind = "home" if kind_draw < 0.95 else "other"
            place = f"Rumah, Kel. {pick(self.male_last)}"
            letter = f"474.1/{between(1, 999)}/Kel" if r() < 0.5 else NULL
            channel = "web" if r() < 0.8 else "office"
            attendant = pick(("midwife", "midwife", "other", "none"))
        birth_type = "single" if r() < 0.97 else ("twin" if r() < 0.95 else "triplet")

        if family.father is not None:
            father_nik, father_name, father_born = family.father
            father = (father_nik, father_name, father_born.isoformat())
        else:
            father = (NULL, NULL, NULL)
        if family.father is not None and r() < 0.6:
            relation, informant_nik, informant_name = "father", father[0], father[1]
        else:
            relation, informant_nik = "mother", family.mother_nik
            informant_name = family.mother_name
        if family.marriage:
            marriage = ("t", family.marriage[0], family.marriage[1].isoformat())
            wording = "recorded_marriage"
        else:
            marriage = ("f", NULL, NULL)
            wording = "mother_only" if family.father is None else "unrecorded_marriage"
        if status in AWAITING_VERIFICATION:
            wording = NULL

        tracking_code = self.code()
        version = STATUS_VERSION[status] + (r() < 0.1)
        updated = min(submitted + timedelta(minutes=between(1, 600)), self.now)
        unavailable, unavailable_since, next_verification = "f", NULL, NULL
        attempts = 0 if status == ReportStatus.SUBMITTED else 1
        if status == ReportStatus.VERIFYING:
            next_verification = (self.now + timedelta(minutes=between(1, 10))).isoformat()
            if r() < STALLED_SHARE:
                unavailable = "t"
                since = self.now - timedelta(minutes=between(35, 600))
                unavailable_since = max(since, submitted).isoformat()
                attempts = between(3, 12)
        assigned_to, assigned_at = NULL, NULL
        if region == OFFICE and status == ReportStatus.IN_REVIEW and r() < 0.1:
            assigned_to, assigned_at = str(self.staff.operator_id), updated.isoformat()
        if region == OFFICE and status == ReportStatus.AWAITING_SIGNATURE and r() < 0.2:
            assigned_to, assigned_at = str(self.staff.pejabat_id), updated.isoformat()

        child_nik, regno, registered_at = NULL, NULL, NULL
        if status in NUMBERED_STATUSES:
            registered = min(submitted + timedelta(minutes=between(10, 4000)), self.now)
            local_day = (registered + timedelta(hours=7)).strftime("%d%m%Y")
            key = (region, local_day)
            serial = self.regno_serials.get(key, 0) + 1
            self.regno_serials[key] = serial
            regno = f"{region}-{'LT' if is_late else 'LU'}-{local_day}-{serial:04d}"
            registered_at = registered.isoformat()
            updated = registered + timedelta(minutes=between(1, 30))
            if status == ReportStatus.ISSUED:
                child_nik = self.child_nik(family.district, child_born, female)

        if region == OFFICE and r() < 0.002:
            self._sample(tracking_code, family, child_nik, regno)

        witnesses = self.witnesses[region]
        witness1 = witnesses[int(r() * 2_000)]
        witness2 = witnesses[2_000 + int(r() * 2_000)]
        submitted_text = submitted.isoformat()
        fields = [
            str(report_id),
            tracking_code,
            channel,
            region,
            facility_code,
            status.value,
            str(version),
            child_name,
            "female" if female else "male",
            child_born.isoformat(),
            f"{between(0, 23):02d}:{between(0, 59):02d}:00" if r() < 0.8 else NULL,
            place,
            place_kind,
            pick(("1", "1", "1", "2", "2", "3", "4")),
            birth_type,
            str(between(2200, 4300)) if r() < 0.95 else NULL,
            str(between(45, 53)) if r() < 0.95 else NULL,
            attendant,
            child_nik,
            family.mother_nik,
            family.mother_name,
            family.mother_born.isoformat(),
            *father,
            family.kk_number,
            *marriage,
            relation,
            informant_nik,
            informant_name,
            f"08{between(1_000_000_000, 9_999_999_999)}",
            NULL if r() < 0.7 else f"pelapor{report_id}@example.com",
            *witness1,
            *witness2,
            letter,
            "t" if is_late else "f",
            "t" if potential_duplicate else "f",
            str(duplicate_of) if duplicate_of is not None else NULL,
            unavailable,
            unavailable_since,
            next_verification,
            str(attempts),
            wording,
            assigned_to,
            assigned_at,
            regno,
            registered_at,
            # The last change moved the report into its status (none for a new report).
            submitted_text if status == ReportStatus.SUBMITTED else updated.isoformat(),
            submitted_text,
            submitted_text,
            updated.isoformat(),
        ]
        if self.pin:
            fields.append(PIN_HASH if channel == "web" else NULL)
        return "\t".join(fields) + "\n"

    def _sample(self, code: str, family: Family, child_nik: str, regno: str) -> None:
        samples = self.samples
        samples.codes.append(code)
        samples.niks.append((family.mother_nik, code))
        if family.father is not None:
            samples.niks.append((family.father[0], code))
        if child_nik != NULL:
            samples.niks.append((child_nik, code))
        if regno != NULL:
            samples.regnos.append((regno, code))
        samples.mothers.append((family.mother_name, code))


def make_staff(app: Flask) -> Staff:
    """The signed-in operators and the facilities that report through the API."""
    with app.app_context():
        system = Actor.system("bench")
        operator = create_user(
            "bench-operator", "Operator Bench", "operator", PASSWORD, [OFFICE], system
        )
        create_user(
            "bench-operator-all",
            "Operator Tiga Kota",
            "operator",
            PASSWORD,
            list(REGION_SHARES),
            system,
        )
        pejabat = create_user(
            "bench-pejabat", "Pejabat Bench", "pejabat", PASSWORD, [OFFICE], system
        )
        facilities: dict[str, list[tuple[str, str]]] = {}
        kinds = (
            ("RS", "hospital", "RSUD"),
            ("PKM", "puskesmas", "Puskesmas"),
            ("KL", "clinic", "Klinik"),
            ("BD", "midwife", "Bidan"),
        )
        for region in REGION_SHARES:
            places = []
            for n in range(12):
                prefix, kind, label = kinds[n % len(kinds)]
                code = f"{prefix}-{region}-{n:02d}"
                name = f"{label} {IndonesianNames.last_names_male[n * 7 + int(region[-1])]}"
                create_facility(code, name, kind, region, system)
                places.append((code, name))
            facilities[region] = places
        db.session.commit()
        return Staff(operator.id, pejabat.id, facilities)


def generate(app: Flask, total: int, in_review: int, seed: int) -> Samples:
    """COPY `total` reports into the bench database; prints time and rows per second."""
    staff = make_staff(app)
    now = datetime.now(UTC).replace(microsecond=0)
    with psycopg.connect(bench_database_url(app)) as conn:
        columns = {
            name: nullable == "YES" or default is not None
            for name, nullable, default in conn.execute(
                "SELECT column_name, is_nullable, column_default FROM information_schema.columns "
                "WHERE table_name = 'birth_reports'"
            )
        }
    unfilled = [name for name, optional in columns.items() if not optional and name not in COLUMNS]
    assert not unfilled, f"the generator does not fill these required columns: {unfilled}"
    pin = "pin_hash" in columns
    names = [*COLUMNS, "pin_hash"] if pin else COLUMNS
    started = time.perf_counter()
    generator = Generator(total, in_review, now, staff, seed, pin)
    planned = time.perf_counter() - started
    python = 0.0
    chunk = 5_000
    with psycopg.connect(bench_database_url(app)) as conn:
        with conn.cursor().copy(f"COPY birth_reports ({', '.join(names)}) FROM STDIN") as copy:
            for first in range(0, total, chunk):
                made = time.perf_counter()
                text = "".join(generator.row(i) for i in range(first, min(total, first + chunk)))
                python += time.perf_counter() - made
                copy.write(text)
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('birth_reports', 'id'), "
            "(SELECT max(id) FROM birth_reports))"
        )
        conn.commit()
    took = time.perf_counter() - started
    print(
        f"queue: generated {total:,} reports in {took:.1f} s = {total / took:,.0f} rows/s "
        f"(plan {planned:.1f} s, rows in Python {python:.1f} s; one COPY into the migrated "
        f"table with its indexes, constraints and foreign keys, PostgreSQL working meanwhile)"
    )
    started = time.perf_counter()
    with psycopg.connect(bench_database_url(app), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) birth_reports")
    print(f"queue: VACUUM ANALYZE in {time.perf_counter() - started:.1f} s")
    return generator.samples


def load_samples(app: Flask, seed: int) -> Samples:
    """Search values from a kept database (reports of the office, drawn at random)."""
    samples = Samples()
    with psycopg.connect(bench_database_url(app)) as conn:
        rows = conn.execute(
            "SELECT tracking_code, mother_nik, father_nik, child_nik, registration_number, "
            "mother_name FROM birth_reports TABLESAMPLE BERNOULLI (1) REPEATABLE (%s) "
            "WHERE region_code = %s LIMIT 2000",
            (seed, OFFICE),
        ).fetchall()
    for code, mother, father, child, regno, mother_name in rows:
        samples.codes.append(code)
        samples.niks.extend((nik, code) for nik in (mother, father, child) if nik)
        if regno:
            samples.regnos.append((regno, code))
        samples.mothers.append((mother_name, code))
    return samples


# --- indexes -----------------------------------------------------------------------------


#: Statistics target of the lowered names a name search reads (search_names), as the
#: migration sets it (PostgreSQL's default is 100). With 100, a surname borne by 1 mother in
#: 70 is often missing from the sample: the planner expects a hundred matches instead of
#: thousands, fetches and sorts them all (0.3 to 1.2 s); with 1,000 it walks the
#: waiting-order index and stops after a page.
TRIGRAM_STATISTICS = 1000


#: The queue's indexes (migrations 9c3d4e5f6a7b, 1c6df309d8a3, a3e9c4d27b16, d7f3a1c85e20),
#: as the model declares them.
QUEUE_INDEXES = (
    "ix_birth_reports_submitted",
    "ix_birth_reports_open",
    "ix_birth_reports_duplicate_queue",
    "ix_birth_reports_late_queue",
    "ix_birth_reports_search_names_trgm",
)


def proposed_indexes() -> list[sa.Index]:
    """The queue's indexes, from the model: `--baseline` drops them to show what they are
    worth, and they are built again (timed: as long as the migration takes on such a table).

    - submitted: search results are listed oldest first across all statuses; a common
      name ("putri") walks this index and stops after a page instead of sorting every match;
    - open: the tab counts and who holds a tab's reports read only open reports, and only
      from this index (index-only);
    - duplicate and late queues: those tabs span five statuses, so the status index cannot
      give their order; these small partial indexes do, page 1 and page 1,000 alike;
    - the trigrams of the lowered names (PostgreSQL, pg_trgm) for the search's LIKE '%...%'.
    """
    table = BirthReport.metadata.tables["birth_reports"]
    return sorted(
        (index for index in table.indexes if index.name in QUEUE_INDEXES),
        key=lambda index: QUEUE_INDEXES.index(str(index.name)),
    )


def create_proposed_indexes(app: Flask) -> None:
    """Build `proposed_indexes()` in the bench database (timed: a migration costs as much)."""
    with psycopg.connect(bench_database_url(app), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        present = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes")}
        for index in proposed_indexes():
            statement = str(sa.schema.CreateIndex(index).compile(dialect=postgresql.dialect()))
            if index.name in present:
                print(f"queue: index {index.name} already there")
            else:
                started = time.perf_counter()
                conn.execute(statement)
                print(f"queue: {statement}  -- {time.perf_counter() - started:.1f} s")
            if index.dialect_options["postgresql"]["using"] == "gin":
                (column,) = index.columns
                statement = (
                    f"ALTER TABLE birth_reports ALTER COLUMN {column.name} "
                    f"SET STATISTICS {TRIGRAM_STATISTICS}"
                )
                conn.execute(statement)
                print(f"queue: {statement}")
        started = time.perf_counter()
        conn.execute("ANALYZE birth_reports")
        print(f"queue: ANALYZE in {time.perf_counter() - started:.1f} s")


def drop_proposed_indexes(app: Flask) -> None:
    with psycopg.connect(bench_database_url(app), autocommit=True) as conn:
        for index in proposed_indexes():
            conn.execute(f'DROP INDEX IF EXISTS "{index.name}"')
            if index.dialect_options["postgresql"]["using"] == "gin":
                (column,) = index.columns
                conn.execute(
                    f"ALTER TABLE birth_reports ALTER COLUMN {column.name} SET STATISTICS -1"
                )
        conn.execute("ANALYZE birth_reports")


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Case:
    """One thing a clerk does; `variant(i)` gives the i-th sample's request."""

    name: str
    user: str
    variant: Callable[[int], Variant]


@dataclass(frozen=True)
class Variant:
    url: str
    query: Callable[[], object]
    #: A tracking code the page must list (checks that the search finds the report).
    expect: str | None = None


@dataclass
class Figures:
    case: str
    level: str
    samples: list[float]
    sql_ms: list[float] = field(default_factory=list)

    def cut(self, percent: int) -> float:
        if len(self.samples) < 2:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=100, method="inclusive")[percent - 1]

    @property
    def meets(self) -> bool:
        return self.cut(95) <= TARGET_P95_MS

    def line(self) -> str:
        sql = "      -        -"
        if self.sql_ms:
            cuts = statistics.quantiles(self.sql_ms, n=100, method="inclusive")
            sql = f"{cuts[49]:7.2f} {cuts[94]:8.2f}"
        return (
            f"  {self.case:<44} {self.level:<5} {len(self.samples):>4} "
            f"{self.cut(50):8.2f} {self.cut(95):8.2f} {self.cut(99):8.2f} {sql}   "
            f"{'met' if self.meets else 'not met'}"
        )


HEADER = (
    f"  {'case':<44} {'level':<5} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
    f"{'sql p50':>7} {'sql p95':>8}   p95 <= {TARGET_P95_MS:.0f} ms"
)


class SqlClock:
    """Time spent in the database driver, summed per request."""

    def __init__(self, engine: sa.Engine) -> None:
        self.spent = 0.0
        self.capture: list[tuple[str, Any]] | None = None
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        conn.info.setdefault("bench_started", []).append(time.perf_counter())
        if self.capture is not None and "FROM birth_reports" in statement:
            self.capture.append((statement, parameters))

    def _after(self, conn: Any, *_: Any) -> None:
        self.spent += time.perf_counter() - conn.info["bench_started"].pop()


def sign_in(client: FlaskClient, username: str) -> None:
    page = client.get("/kantor/masuk").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert token, "the sign-in page has no CSRF token"
    answer = client.post(
        "/kantor/masuk",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 302, f"sign-in of {username} refused"


class Bench:
    def __init__(self, app: Flask, samples: int) -> None:
        self.app = app
        self.samples = samples
        self.settings: Settings = app.config["AKTA_SETTINGS"]
        with app.app_context():
            self.clock: SqlClock = app.extensions.setdefault("bench_sql_clock", SqlClock(db.engine))
            self.regions = {
                user.username: [r.code for r in user.regions]
                for user in db.session.scalars(sa.select(User))
            }
        self.clients: dict[str, FlaskClient] = {}
        for username in self.regions:
            client = app.test_client()
            sign_in(client, username)
            self.clients[username] = client

    def page_once(self, case: Case, i: int) -> tuple[float, float]:
        """One GET of the case's i-th page: (wall ms, ms spent in the database driver)."""
        variant = case.variant(i)
        self.clock.spent = 0.0
        started = time.perf_counter()
        answer = self.clients[case.user].get(variant.url)
        took = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, (variant.url, answer.status_code)
        if variant.expect is not None:
            assert f'id="row-{variant.expect}"' in answer.get_data(as_text=True), (
                f"{case.name}: {variant.url} does not list {variant.expect}"
            )
        return took, self.clock.spent * 1000

    def query_once(self, case: Case, i: int) -> float:
        """The case's query function alone, in its own app context (ms)."""
        variant = case.variant(i)
        with self.app.app_context():
            started = time.perf_counter()
            variant.query()
            took = (time.perf_counter() - started) * 1000
            db.session.remove()
        return took

    def run(self, cases: Sequence[Case]) -> list[Figures]:
        """Round robin over the cases, so that load from others spreads over all of them."""
        pages = {case.name: Figures(case.name, "page", [], []) for case in cases}
        queries = {case.name: Figures(case.name, "query", []) for case in cases}
        for i in range(-3, self.samples):  # three warm-up rounds
            for case in cases:
                took, sql = self.page_once(case, i)
                alone = self.query_once(case, i)
                if i >= 0:
                    pages[case.name].samples.append(took)
                    pages[case.name].sql_ms.append(sql)
                    queries[case.name].samples.append(alone)
        return [f for case in cases for f in (pages[case.name], queries[case.name])]

    def explain(self, case: Case, shown: set[str]) -> None:
        """EXPLAIN ANALYZE of the report queries one page of the case runs (each SQL once)."""
        variant = case.variant(0)
        self.clock.capture = []
        self.clients[case.user].get(variant.url)
        captured, self.clock.capture = self.clock.capture, None
        with self.app.app_context(), db.engine.connect() as conn:
            for statement, parameters in captured:
                if statement in shown:
                    continue
                shown.add(statement)
                plan = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                ).scalars()
                short = re.sub(
                    r"SELECT birth_reports\.id, .*?\nFROM",
                    "SELECT <every column>\nFROM",
                    statement,
                    flags=re.S,
                )
                print(f"\n  EXPLAIN for {case.name} ({variant.url}):")
                print("    " + short.strip().replace("\n", "\n    "))
                print(f"    parameters: {parameters}")
                for line in plan:
                    print(f"    | {line}")

    def walk(self, user: str, tab: str, pages: int) -> tuple[list[str], list[float]]:
        """Follow the cursors from page 1; returns each page's `after` and its time."""
        regions = self.regions[user]
        cursors: list[str] = []
        took: list[float] = []
        after: str | None = None
        for _page in range(pages):
            with self.app.app_context():
                started = time.perf_counter()
                _rows, following = queue_page(regions, self.settings, tab, after=after)
                took.append((time.perf_counter() - started) * 1000)
                db.session.remove()
            cursors.append(after or "")
            if following is None:
                break
            after = following
        # The cursor of the last page walked must land where OFFSET lands.
        with self.app.app_context():
            offset_first = db.session.scalar(
                sa.select(BirthReport.id)
                .where(BirthReport.region_code.in_(regions), tab_condition(tab, self.settings))
                .order_by(BirthReport.status_since, BirthReport.id)
                .offset((len(cursors) - 1) * PAGE_SIZE)
                .limit(1)
            )
            last_page, _ = queue_page(regions, self.settings, tab, after=cursors[-1] or None)
            assert last_page, "the last page walked is empty"
            assert last_page[0].id == offset_first, "keyset and OFFSET disagree"
            db.session.remove()
        return cursors, took

    def counts(self, user: str) -> dict[str, int]:
        with self.app.app_context():
            found = queue_counts(self.regions[user], self.settings)
            db.session.remove()
        return found


def tab_case(bench: Bench, user: str, tab: str, after: Sequence[str], label: str) -> Case:
    regions = bench.regions[user]

    def variant(i: int) -> Variant:
        cursor = after[i % len(after)] or None
        url = f"/kantor/antrian?tab={tab}" + (f"&after={cursor}" if cursor else "")
        return Variant(url, lambda: queue_page(regions, bench.settings, tab, after=cursor))

    return Case(label, user, variant)


def search_case(
    bench: Bench, user: str, label: str, values: Sequence[tuple[str, str | None]]
) -> Case:
    regions = bench.regions[user]

    def variant(i: int) -> Variant:
        text, expect = values[i % len(values)]
        assert search_condition(text) is not None
        return Variant(
            f"/kantor/antrian?q={text.replace(' ', '+')}",
            lambda: queue_page(regions, bench.settings, None, text),
            expect,
        )

    return Case(label, user, variant)


def counts_case(bench: Bench, user: str, label: str) -> Case:
    regions = bench.regions[user]

    def variant(_i: int) -> Variant:
        return Variant("/kantor/", lambda: queue_counts(regions, bench.settings))

    return Case(label, user, variant)


def control_case() -> Case:
    def select_one() -> object:
        return db.session.execute(sa.text("SELECT 1")).scalar()

    def variant(_i: int) -> Variant:
        return Variant("/healthz", select_one)

    return Case("control: /healthz, SELECT 1 (no report)", "bench-operator", variant)


def _walk_summary(label: str, took: list[float]) -> str:
    first = statistics.median(took[:50])
    last = statistics.median(took[-50:])
    return (
        f"  walk {label}: {len(took)} pages followed by cursor; median of pages 1-50 "
        f"{first:.2f} ms, of pages {len(took) - 49}-{len(took)} {last:.2f} ms"
    )


def measure(
    app: Flask, samples: Samples, per_case: int, title: str, only: Sequence[str] = ()
) -> list[Figures]:
    """Time every case (or those whose name contains one of `only`, and the control)."""

    def wanted(name: str) -> bool:
        return not only or any(term in name for term in only)

    bench = Bench(app, per_case)
    office, everyone = "bench-operator", "bench-operator-all"
    counts = bench.counts(office)
    print(f"\nqueue: {title}")
    print(f"  tab counts for {OFFICE}: {counts}")
    print(f"  tab counts for all three kota: {bench.counts(everyone)}")
    largest = max(counts, key=lambda tab: counts[tab])
    walks = []
    cases: list[Case] = [control_case()]
    for user, who in ((office, OFFICE), (everyone, "3 kota")):
        for tab in dict.fromkeys(("in_review", largest)):
            if not wanted(f"{tab} page"):
                continue
            cursors, took = bench.walk(user, tab, DEEP_PAGE)
            walks.append(_walk_summary(f"{tab} ({who})", took))
            deep = len(cursors)
            cases.append(tab_case(bench, user, tab, [""], f"{tab} page 1 ({who})"))
            cases.append(
                tab_case(bench, user, tab, cursors[-10:], f"{tab} page {deep - 9}-{deep} ({who})")
            )
    for tab in TAB_LABELS:
        if tab not in ("in_review", largest):
            cases.append(tab_case(bench, office, tab, [""], f"{tab} page 1 ({OFFICE})"))
    cases.append(counts_case(bench, office, f"tab counts, office home ({OFFICE})"))
    cases.append(counts_case(bench, everyone, "tab counts, office home (3 kota)"))
    rng = random.Random(7)
    niks = rng.sample(samples.niks, min(len(samples.niks), 400))
    cases.append(search_case(bench, office, "search NIK (mother/father/child)", niks))
    codes = [(code, code) for code in rng.sample(samples.codes, min(len(samples.codes), 400))]
    cases.append(search_case(bench, office, "search tracking code", codes))
    typed = [(f"{c[:3]}-{c[3:6]}-{c[6:]}".lower(), c) for c, _ in codes]
    cases.append(search_case(bench, office, "search tracking code as typed (k7q-m4x-..)", typed))
    regnos = rng.sample(samples.regnos, min(len(samples.regnos), 400))
    cases.append(search_case(bench, office, "search registration number", regnos))
    mothers = rng.sample(samples.mothers, min(len(samples.mothers), 400))
    # A full name may belong to more than a page of mothers: no row is expected.
    names = [(name, None) for name, _ in mothers]
    cases.append(search_case(bench, office, "search mother's full name", names))
    surnames = [(name.split()[-1].lower(), None) for name, _ in mothers]
    cases.append(search_case(bench, office, "search one surname (partial name)", surnames))
    firsts = [(name.split()[0].lower(), None) for name, _ in mothers]
    cases.append(search_case(bench, office, "search one first name (partial name)", firsts))
    common = [("putri", None), ("muhammad", None), ("siti", None), ("wati", None)]
    cases.append(search_case(bench, office, "search common word (putri, muhammad..)", common))
    cases.append(search_case(bench, office, "search no match (name)", [("zzqx", None)]))

    cases = [case for case in cases if case is cases[0] or wanted(case.name)]
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    results = bench.run(cases)
    print(
        f"  {len(cases)} cases x {per_case} rounds in {time.perf_counter() - started:.0f} s; "
        f"machine load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"(2 cores)"
    )
    print(HEADER)
    for figures in results:
        print(figures.line())
    for line in walks:
        print(line)
    control = results[0]
    print(
        f"  sql = time in the database driver during the page (every statement: user, tabs "
        f"with counts, the page, the journal row, the commit). The control case is the "
        f"machine's floor: its p95 of {control.cut(95):.1f} ms against its p50 of "
        f"{control.cut(50):.1f} ms is CPU contention, not the queue."
    )
    # Plans of the queries over target on their own; a page over target whose query is
    # within target spends its time elsewhere (compare its sql columns and the control).
    over = {f.case for f in results if f.level == "query" and not f.meets}
    shown: set[str] = set()
    for case in cases:
        if case.name in over:
            bench.explain(case, shown)
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.queue", description=__doc__)
    parser.add_argument("--total", type=int, default=TOTAL)
    parser.add_argument("--in-review", type=int, default=None, help="office backlog")
    parser.add_argument("--samples", type=int, default=200, help="timings per case")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--database", help="measure this kept database again")
    parser.add_argument(
        "--baseline", action="store_true", help="also measure without the proposed indexes"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="measure only the cases whose name contains this (repeatable), and the control",
    )
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    if not postgres_available():
        print("queue skipped: PostgreSQL not reachable at 127.0.0.1:5432")
        return
    in_review = args.in_review
    if in_review is None:
        in_review = round(55_000 * args.total / TOTAL)
    print(machine_line())
    print(
        "queue: figures are wall-clock on a shared 2-core machine (PostgreSQL, the app and "
        "the client on the same cores, others running tests): expect noise, compare p50s"
    )
    with queue_database(args.database, args.keep) as (app, fresh):
        samples = (
            generate(app, args.total, in_review, args.seed)
            if fresh
            else load_samples(app, args.seed)
        )
        if args.baseline:
            drop_proposed_indexes(app)
            measure(
                app,
                samples,
                max(20, args.samples // 4),
                "without the proposed indexes",
                args.only,
            )
        create_proposed_indexes(app)
        results = measure(app, samples, args.samples, "with the proposed indexes", args.only)
        missed = [f"{f.case} ({f.level})" for f in results if not f.meets]
        print(
            f"queue: target p95 <= {TARGET_P95_MS:.0f} ms met by every case"
            if not missed
            else f"queue: target p95 <= {TARGET_P95_MS:.0f} ms not met by: {', '.join(missed)}"
        )


if __name__ == "__main__":
    main()
