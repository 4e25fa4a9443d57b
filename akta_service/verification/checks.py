"""The checks a report goes through, each with a verdict a person can act on.

Pure logic over the report and Dukcapil's answers; the operation in
``operations.py`` asks Dukcapil, runs these and moves the workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.id import nik as stdnum_nik

from akta_service.births.models import (
    ENDED_WITHOUT_AKTA,
    BirthReport,
    BirthType,
    CheckOutcome,
    WordingModel,
)
from akta_service.core.db import db
from akta_service.core.nik import InvalidNik, parse_nik
from akta_service.regions.models import Region
from akta_service.verification.dukcapil import FamilyAnswer, Match, PersonAnswer
from akta_service.verification.names import similar_child_names

PASS, FAIL, WARNING = CheckOutcome.PASS, CheckOutcome.FAIL, CheckOutcome.WARNING

#: Birth dates this many days apart still count as the same birth for duplicates.
DUPLICATE_DAYS = 3
MOTHER_AGE_RANGE = (10, 60)

_PARENT_WORD = {"mother": "ibu", "father": "ayah"}


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict."""

    name: str
    outcome: CheckOutcome
    #: In Indonesian, for clerks: Dukcapil's whole answer; for a failure, what to fix.
    message: str
    detail: dict[str, Any] = field(default_factory=dict)
    #: For failures: the report fields the informant should correct.
    fields: tuple[str, ...] = ()
    #: What the reporter (the parent on the web, a facility through the API) reads: which
    #: field does not match and what to check, never what Dukcapil holds about anyone (a
    #: death, a move, a KK's children, another report). Empty: the message holds none of it.
    reporter_message: str = ""

    @property
    def for_reporter(self) -> str:
        """The message as the reporter reads it."""
        return self.reporter_message or self.message


@dataclass
class Verdict:
    """Everything verification decided about a report."""

    checks: list[CheckResult] = field(default_factory=list)
    wording_model: WordingModel | None = None
    late: bool = False
    duplicate_of_id: int | None = None
    #: Set when the report belongs to another office: the reason names that office.
    refusal: str | None = None

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == FAIL]

    def add(self, check: CheckResult) -> None:
        self.checks.append(check)


def check_nik_structure(role: str, nik: str, birth_date: date, female: bool) -> CheckResult:
    """The NIK's digits agree with the claimed birth date and sex (region only warns)."""
    word = _PARENT_WORD[role]
    name = f"{role}_nik_structure"
    try:
        facts = parse_nik(nik)
    except InvalidNik as exc:
        return CheckResult(name, FAIL, f"NIK {word}: {exc}.", {"code": exc.code}, (f"{role}.nik",))
    problems = []
    date_ok, sex_ok = facts.matches_birth_date(birth_date), facts.female == female
    if not date_ok:
        problems.append(
            f"angka tanggal lahir di NIK {word} ({nik[6:12]}) tidak cocok dengan tanggal lahir "
            f"yang diisi ({birth_date:%d-%m-%Y}); untuk perempuan tanggal ditambah 40"
        )
    if not sex_ok:
        expected = "perempuan (tanggal lahir + 40)" if female else "laki-laki"
        problems.append(f"NIK {word} seharusnya NIK {expected}")
    if problems:
        return CheckResult(
            name,
            FAIL,
            "Periksa NIK dan tanggal lahir " + word + ": " + "; ".join(problems) + ".",
            {"birth_date_matches": date_ok, "sex_matches": sex_ok},
            (f"{role}.nik", f"{role}.birth_date"),
        )
    try:
        stdnum_nik.validate(nik)
    except StdnumError:
        return CheckResult(
            name,
            WARNING,
            f"Kode wilayah NIK {word} ({nik[:6]}) tidak ada dalam daftar wilayah saat ini; "
            "NIK lama bisa memakai kode yang sudah berubah.",
            {"region": nik[:6]},
        )
    return CheckResult(name, PASS, f"Susunan NIK {word} benar.")


def check_person(role: str, answer: PersonAnswer, female: bool) -> CheckResult:
    """Dukcapil knows the parent: NIK exists, name and birth date match, right sex, alive."""
    word = _PARENT_WORD[role]
    name = f"{role}_registry"
    detail = {"name_score": round(answer.name_score, 1)}
    if answer.nik == Match.NOT_FOUND:
        return CheckResult(
            name,
            FAIL,
            f"NIK {word} tidak terdaftar di Dukcapil. "
            f"Periksa kembali 16 angka NIK pada KTP {word}.",
            detail,
            (f"{role}.nik",),
        )
    problems, fields = [], []
    if answer.name != Match.MATCH:
        problems.append(f"nama {word} tidak sesuai data Dukcapil; tulis nama sesuai KTP")
        fields.append(f"{role}.name")
    if answer.birth_date != Match.MATCH:
        problems.append(f"tanggal lahir {word} tidak sesuai data Dukcapil")
        fields.append(f"{role}.birth_date")
    if answer.sex != Match.MATCH:
        sex = "perempuan" if female else "laki-laki"
        problems.append(f"NIK {word} tidak tercatat sebagai {sex}; periksa apakah NIK tertukar")
        fields.append(f"{role}.nik")
    if problems:
        return CheckResult(name, FAIL, _sentence(problems), detail, tuple(fields))
    if answer.alive == Match.NO_MATCH:
        return CheckResult(
            name,
            WARNING,
            f"{word.title()} tercatat telah meninggal dunia di Dukcapil. Petugas akan memeriksa "
            "akta kematian.",
            detail | {"deceased": True},
            reporter_message=_officer_checks_parent(word),
        )
    if answer.resident == Match.NO_MATCH:
        return CheckResult(
            name,
            WARNING,
            f"{word.title()} tercatat sudah pindah domisili. Petugas akan memeriksa KK terbaru.",
            detail | {"moved_out": True},
            reporter_message=_officer_checks_parent(word),
        )
    return CheckResult(name, PASS, f"Data {word} sesuai dengan Dukcapil.", detail)


def check_family(
    report: BirthReport, answer: FamilyAnswer, served: tuple[str, ...]
) -> tuple[CheckResult, str | None]:
    """The KK exists, lists the parents and belongs to a region this office serves.

    Returns the check and, when the KK lies elsewhere, the refusal naming that office.
    """
    if answer.kk == Match.NOT_FOUND:
        return (
            CheckResult(
                "kk",
                FAIL,
                "Nomor KK tidak terdaftar di Dukcapil. Periksa kembali 16 angka nomor KK.",
                fields=("kk_number",),
            ),
            None,
        )
    if answer.region_code and answer.region_code not in served:
        other = db.session.get(Region, answer.region_code)
        office = other.office_name if other else f"Disdukcapil wilayah {answer.region_code}"
        message = (
            f"KK ini terdaftar di {other.name if other else answer.region_code}. Kelahiran "
            f"dicatat di tempat domisili orang tua: laporkan ke {office}."
        )
        return CheckResult("kk", FAIL, message, {"region_code": answer.region_code}), message
    problems, fields = [], []
    if answer.mother_listed != Match.MATCH:
        problems.append("ibu tidak tercantum dalam KK ini")
        fields.append("kk_number")
    if answer.father_listed is not None and answer.father_listed != Match.MATCH:
        problems.append("ayah tidak tercantum dalam KK ini")
        fields.append("kk_number")
    if problems:
        return (
            CheckResult(
                "kk",
                FAIL,
                _sentence(problems) + " Pakai KK tempat anak akan dicantumkan.",
                {"region_code": answer.region_code},
                tuple(dict.fromkeys(fields)),
            ),
            None,
        )
    return (
        CheckResult(
            "kk",
            PASS,
            "KK terdaftar dan mencantumkan orang tua.",
            {"region_code": answer.region_code},
        ),
        None,
    )


def check_marriage(
    report: BirthReport, answer: FamilyAnswer
) -> tuple[CheckResult, WordingModel | None]:
    """The marriage facts decide which of the four akta wordings applies."""
    if report.father_nik is None:
        return (
            CheckResult(
                "marriage",
                PASS,
                'Tanpa data ayah: akta mencantumkan "anak seorang ibu".',
                {"wording_model": WordingModel.MOTHER_ONLY.value},
            ),
            WordingModel.MOTHER_ONLY,
        )
    if report.marriage_recorded:
        if answer.marriage_recorded == Match.MATCH:
            return (
                CheckResult(
                    "marriage",
                    PASS,
                    "Perkawinan tercatat: akta mencantumkan nama ayah dan ibu.",
                    {"wording_model": WordingModel.RECORDED_MARRIAGE.value},
                ),
                WordingModel.RECORDED_MARRIAGE,
            )
        return (
            CheckResult(
                "marriage",
                FAIL,
                "Perkawinan orang tua belum tercatat di Dukcapil. Unggah buku nikah / kutipan akta "
                'perkawinan, atau pilih "perkawinan belum tercatat" dan lampirkan SPTJM '
                "kebenaran sebagai pasangan suami istri (F-2.04).",
                fields=("marriage.recorded", "marriage.certificate_number"),
            ),
            None,
        )
    if answer.spouses == Match.MATCH:
        return (
            CheckResult(
                "marriage",
                PASS,
                "Perkawinan belum tercatat, KK menunjukkan suami istri: akta mencantumkan ayah dan "
                "ibu dengan keterangan perkawinan belum tercatat. Diperlukan SPTJM F-2.04.",
                {"wording_model": WordingModel.UNRECORDED_MARRIAGE.value},
            ),
            WordingModel.UNRECORDED_MARRIAGE,
        )
    return (
        CheckResult(
            "marriage",
            FAIL,
            "KK tidak menunjukkan ayah dan ibu sebagai suami istri, dan perkawinan tidak "
            "tercatat. Akta hanya dapat mencantumkan nama ibu: hapus data ayah, atau perbaiki KK "
            "lebih dahulu.",
            fields=("father", "marriage.recorded"),
        ),
        None,
    )


def check_timeliness(report: BirthReport, today: date, on_time_days: int) -> CheckResult:
    """Reported within the legal period, or late (the pejabat's signature decides)."""
    days = (today - report.child_birth_date).days
    if days > on_time_days:
        return CheckResult(
            "timeliness",
            WARNING,
            f"Dilaporkan {days} hari setelah kelahiran (lebih dari {on_time_days} hari): "
            "pencatatan terlambat, memerlukan keputusan Kepala Dinas.",
            {"days_after_birth": days, "late": True},
        )
    return CheckResult(
        "timeliness",
        PASS,
        f"Dilaporkan {days} hari setelah kelahiran, dalam batas {on_time_days} hari.",
        {"days_after_birth": days, "late": False},
    )


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def check_plausibility(report: BirthReport, today: date, children_on_kk: int | None) -> CheckResult:
    """Birth not in the future; mother aged 10-60 at the birth; birth order against the KK."""
    if report.child_birth_date > today:
        return CheckResult(
            "plausibility",
            FAIL,
            "Tanggal lahir bayi tidak boleh di masa depan.",
            fields=("child.birth_date",),
        )
    age = _age_on(report.mother_birth_date, report.child_birth_date)
    low, high = MOTHER_AGE_RANGE
    if not low <= age <= high:
        return CheckResult(
            "plausibility",
            FAIL,
            f"Usia ibu saat melahirkan menjadi {age} tahun; periksa tanggal lahir ibu dan bayi.",
            {"mother_age": age},
            ("mother.birth_date", "child.birth_date"),
        )
    if children_on_kk is not None:
        expected = children_on_kk + 1
        multiple = report.child_birth_type != BirthType.SINGLE
        plausible = expected <= report.child_birth_order <= expected + (4 if multiple else 0)
        if not plausible:
            return CheckResult(
                "plausibility",
                WARNING,
                f"Diisi anak ke-{report.child_birth_order}, sedangkan KK mencatat {children_on_kk} "
                f"anak (seharusnya anak ke-{expected}). Petugas akan memeriksa.",
                {"mother_age": age, "children_on_kk": children_on_kk},
                ("child.birth_order",),
                reporter_message=(
                    f"Anak ke-{report.child_birth_order} tidak sesuai dengan KK. Periksa isian "
                    "anak ke- (urutan kelahiran dari ibu ini); petugas akan memeriksa."
                ),
            )
    return CheckResult(
        "plausibility", PASS, "Tanggal dan urutan kelahiran wajar.", {"mother_age": age}
    )


def _twins(a: BirthReport, b: BirthReport) -> bool:
    both_multiple = BirthType.SINGLE not in (a.child_birth_type, b.child_birth_type)
    return both_multiple and a.child_birth_order != b.child_birth_order


def find_duplicate(report: BirthReport) -> BirthReport | None:
    """An earlier report of the same mother, a similar child name, birth within a few days."""
    window = timedelta(days=DUPLICATE_DAYS)
    candidates = db.session.scalars(
        sa.select(BirthReport)
        .where(
            BirthReport.mother_nik == report.mother_nik,
            BirthReport.id != report.id,
            BirthReport.status.not_in(ENDED_WITHOUT_AKTA),
            BirthReport.child_birth_date.between(
                report.child_birth_date - window, report.child_birth_date + window
            ),
        )
        .order_by(BirthReport.id)
    )
    for other in candidates:
        if _twins(report, other):
            continue
        if similar_child_names(report.child_name, other.child_name):
            return other
    return None


def check_duplicates(report: BirthReport) -> tuple[CheckResult, int | None]:
    """Flag (never reject) a birth that looks already reported or registered."""
    original = find_duplicate(report)
    if original is None:
        return CheckResult("duplicate", PASS, "Tidak ditemukan laporan kelahiran yang sama."), None
    number = original.registration_number or "belum ada nomor akta"
    return (
        CheckResult(
            "duplicate",
            WARNING,
            f"Mirip kelahiran yang sudah dilaporkan ({original.tracking_code}, {number}): nama "
            "anak, ibu dan tanggal lahir hampir sama. Petugas akan memutuskan.",
            {"duplicate_of": original.tracking_code, "duplicate_of_id": original.id},
            # Another report's code or number would open its status to whoever reads this.
            reporter_message=(
                "Nama anak, ibu dan tanggal lahir mirip kelahiran yang sudah dilaporkan. Petugas "
                "akan memeriksa apakah laporan ini ganda; Anda tidak perlu mengubah apa pun."
            ),
        ),
        original.id,
    )


def _officer_checks_parent(word: str) -> str:
    return (
        f"Data {word} perlu diperiksa petugas dengan catatan Dukcapil. Anda tidak perlu mengubah "
        "apa pun; petugas menghubungi Anda bila perlu."
    )


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."
