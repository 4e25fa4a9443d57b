"""The status page's timeline: where a report stands, in words a parent understands; and
the documents of the 3-in-1, each with its own status."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from babel.dates import format_date
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l

from akta_service.akta.operations import (
    current_akta,
    current_issue_failure,
    current_kia,
    current_kk_print,
)
from akta_service.births.models import AWAITING_VERIFICATION, BirthReport, ReportStatus
from akta_service.core.audit import JournalEntry, changes
from akta_service.core.clock import local_today
from akta_service.core.config import current_settings
from akta_service.parents.correction import correction_request

S = ReportStatus

STAGES: tuple[tuple[str, LazyString], ...] = (
    ("received", _l("Laporan diterima")),
    ("checked", _l("Diperiksa dengan data Dukcapil")),
    ("officer", _l("Diperiksa petugas")),
    ("signed", _l("Ditandatangani Pejabat Pencatatan Sipil")),
    ("ready", _l("Akta kelahiran siap")),
)

#: How far each status got: stages before this index are done, this one is in progress.
_REACHED = {
    S.SUBMITTED: 1,
    S.VERIFYING: 1,
    S.NEEDS_CORRECTION: 1,
    S.IN_REVIEW: 2,
    S.AWAITING_SIGNATURE: 3,
    S.REGISTERED: 4,
    S.ISSUED: 5,
}


@dataclass
class Stage:
    key: str
    label: LazyString
    #: done, current, attention (the parent must act), todo
    state: str
    when: datetime | None = None
    note: LazyString | None = None


@dataclass
class Timeline:
    stages: list[Stage]
    #: Set when the report ended without an akta (rejected, cancelled).
    ended: LazyString | None = None
    #: Why the report came back, when it needs correction or was rejected.
    reasons: list[str] = field(default_factory=list)


def _entered(journal: list[JournalEntry], *states: str) -> datetime | None:
    """When the report last entered one of `states`."""
    times = [entry.occurred_at for entry in journal if entry.to_state in states]
    return times[-1] if times else None


def _checked_at(journal: list[JournalEntry]) -> datetime | None:
    times = [
        entry.occurred_at
        for entry in journal
        if entry.from_state == S.VERIFYING and entry.to_state != S.VERIFYING
    ]
    return times[-1] if times else None


def _current_note(report: BirthReport) -> LazyString | None:
    if report.status in AWAITING_VERIFICATION:
        if report.dukcapil_unavailable:
            return _l("Sistem Dukcapil belum menjawab. Pemeriksaan diulang otomatis.")
        return _l("Sedang diperiksa. Biasanya selesai dalam beberapa menit.")
    if report.status == S.NEEDS_CORRECTION:
        return _l("Ada data yang perlu diperbaiki. Lihat penjelasan di bawah.")
    if report.status == S.IN_REVIEW:
        if report.is_late:
            return _l(
                "Petugas memeriksa laporan Anda. Karena dilaporkan lebih dari %(days)s hari "
                "setelah kelahiran, pejabat perlu memutuskan lebih dahulu.",
                days=current_settings().on_time_days,
            )
        return _l("Menunggu petugas memeriksa laporan Anda.")
    if report.status == S.AWAITING_SIGNATURE:
        return _l("Sudah disetujui petugas, menunggu tanda tangan Pejabat Pencatatan Sipil.")
    if report.status == S.REGISTERED:
        return _l("Akta sedang dibuat.")
    return None


def _reasons(report: BirthReport, journal: list[JournalEntry]) -> list[str]:
    if report.status == S.NEEDS_CORRECTION:
        # The clerk's words and each failed check; verification's own journal reason only
        # repeats the checks.
        return list(dict.fromkeys(r.message for r in correction_request(report).reasons))
    if report.status == S.REJECTED:
        last = journal[-1] if journal else None
        return [last.reason] if last is not None and last.reason else []
    return []


def timeline(report: BirthReport) -> Timeline:
    """The five steps from report to akta, each done, in progress or still to come."""
    journal = changes(report.id)
    times = {
        "received": report.submitted_at,
        "checked": _checked_at(journal),
        "officer": _entered(journal, S.AWAITING_SIGNATURE),
        "signed": _entered(journal, S.REGISTERED),
        "ready": _entered(journal, S.ISSUED),
    }
    ended = {
        S.REJECTED: _l("Laporan ditolak."),
        S.CANCELLED: _l("Laporan dibatalkan."),
        S.ANNULLED: _l("Akta kelahiran dibatalkan oleh Pejabat Pencatatan Sipil."),
    }
    if report.status in ended:
        reached = 1 + sum(1 for key, _ in STAGES[1:] if times[key] is not None)
    else:
        reached = _REACHED[report.status]
    stages = []
    for index, (key, label) in enumerate(STAGES):
        if index < reached:
            stages.append(Stage(key, label, "done", times[key]))
        elif index == reached and report.status not in ended:
            state = "attention" if report.status == S.NEEDS_CORRECTION else "current"
            stages.append(Stage(key, label, state, note=_current_note(report)))
        else:
            stages.append(Stage(key, label, "todo"))
    return Timeline(stages, ended.get(report.status), _reasons(report, journal))


@dataclass(frozen=True)
class IssuedDocument:
    """One document of the 3-in-1 on the status page: where it stands, and its download."""

    key: str
    label: LazyString
    #: done (terbit), current (diproses), failed (gagal: `note` says why), none (not issued
    #: for this child)
    state: str
    note: LazyString | str
    #: The parents' endpoint that downloads it, once there is something to download.
    download: str | None = None


_AKTA = _l("Kutipan Akta Kelahiran")
_KK = _l("Kartu Keluarga diperbarui")
_KIA = _l("Kartu Identitas Anak (KIA)")
#: Why the issue step failed, in a parent's words, by failure code: for the KK's line, and
#: for the documents that wait for it.
_DUKCAPIL_FAILURES = {
    "issue_dukcapil_unavailable": _l(
        "Sistem Dukcapil belum menjawab saat anak akan dicatat di KK. Kami mencoba lagi "
        "otomatis; Anda tidak perlu melakukan apa pun."
    ),
    "issue_dukcapil_refused": _l(
        "Dukcapil menolak mencatat anak di KK: data KK atau ibu tidak cocok dengan data "
        "Dukcapil. Petugas kami memeriksanya bersama Dukcapil dan menghubungi Anda."
    ),
}
_WAITS_FOR_DUKCAPIL = _l("Belum dapat dibuat: menunggu Dukcapil memberi NIK anak.")
_SIGNING_FAILED = _l(
    "Tanda tangan elektronik belum berhasil. Pejabat menandatangani ulang; nomor akta tetap."
)


def _failed(report: BirthReport, key: str) -> IssuedDocument | None:
    """The document's line while the issue step last failed, else None."""
    failure = current_issue_failure(report) if report.status == S.REGISTERED else None
    if failure is None:
        return None
    label = {"akta": _AKTA, "kk": _KK, "kia": _KIA}[key]
    if failure.code in _DUKCAPIL_FAILURES:
        note = _DUKCAPIL_FAILURES[failure.code] if key == "kk" else _WAITS_FOR_DUKCAPIL
        return IssuedDocument(key, label, "failed", note)
    return IssuedDocument(key, label, "failed", _SIGNING_FAILED)


def _akta_line(report: BirthReport) -> IssuedDocument:
    akta = current_akta(report) if report.status == S.ISSUED else None
    if akta is not None:
        number = report.registration_number or ""
        note = _l("Terbit, nomor %(number)s", number=number)
        return IssuedDocument("akta", _AKTA, "done", note, "parents.akta_download")
    return _failed(report, "akta") or IssuedDocument("akta", _AKTA, "current", _l("Sedang dibuat."))


def _kk_line(report: BirthReport) -> IssuedDocument:
    kept = current_kk_print(report) if report.status == S.ISSUED else None
    if kept is not None:
        note = _l(
            "Terbit: anak tercatat di KK nomor %(kk)s, dengan kepala keluarga %(head)s (data "
            "Dukcapil). Unduh cetakannya dari kantor ini.",
            kk=kept.kk_number,
            head=kept.head_name,
        )
        return IssuedDocument("kk", _KK, "done", note, "parents.kk_download")
    if report.status == S.ISSUED:  # issued before the 3-in-1 answered with the KK
        note = _l(
            "Anak sudah tercatat di KK nomor %(kk)s (data Dukcapil). KK yang baru dicetak di "
            "kantor Disdukcapil atau lewat aplikasi Dukcapil.",
            kk=report.kk_number,
        )
        return IssuedDocument("kk", _KK, "done", note)
    waiting = (
        _l("Anak sudah tercatat di KK; cetakannya sedang dibuat.")
        if report.child_nik
        else _l("Menunggu Dukcapil mencatat anak di KK.")
    )
    return _failed(report, "kk") or IssuedDocument("kk", _KK, "current", waiting)


def _kia_line(report: BirthReport) -> IssuedDocument:
    from akta_service.akta.kia import under_five  # the card's module loads ReportLab

    issued = report.status == S.ISSUED
    card = current_kia(report) if issued else None
    if card is not None:
        note = _l(
            "Terbit, berlaku hingga %(day)s", day=format_date(card.valid_until, locale=get_locale())
        )
        return IssuedDocument("kia", _KIA, "done", note, "parents.kia_download")
    if issued or not under_five(report.child_birth_date, local_today()):
        note = _l("Tidak diterbitkan di sini: anak sudah berusia lima tahun atau lebih.")
        return IssuedDocument("kia", _KIA, "none", note)
    return _failed(report, "kia") or IssuedDocument("kia", _KIA, "current", _l("Sedang dibuat."))


def three_in_one(report: BirthReport) -> list[IssuedDocument]:
    """The akta, the updated KK and the KIA, each with its own status, once signed."""
    if report.status not in (S.REGISTERED, S.ISSUED):
        return []
    return [_akta_line(report), _kk_line(report), _kia_line(report)]
