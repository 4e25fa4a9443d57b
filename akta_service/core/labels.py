"""The words staff read for the service's internal names: statuses, flags, checks, journal
actions, channels, roles and the report's coded values.

One place for every label: office pages use them through the Jinja filter `label`
(``{{ report.status|label('status') }}``), the code through :func:`label`. A value without a
label reads as "lainnya" on a page, never as its internal name (tests/review/test_labels.py
holds every enum and workflow name to having one).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext

from akta_service.core.messages import N_

#: Labels by kind, then by internal name.
LABELS: Mapping[str, Mapping[str, str]] = {
    # The workflow's states (workflows/birth_registration.yaml), as a word or two for a table.
    "status": {
        "submitted": N_("Diterima"),
        "verifying": N_("Diperiksa Dukcapil"),
        "needs_correction": N_("Perlu perbaikan pelapor"),
        "in_review": N_("Perlu diperiksa operator"),
        "awaiting_signature": N_("Menunggu tanda tangan"),
        "registered": N_("Tercatat, akta sedang diterbitkan"),
        "issued": N_("Akta terbit"),
        "rejected": N_("Ditolak"),
        "cancelled": N_("Dibatalkan pelapor"),
    },
    # A flag as a badge.
    "flag": {
        "late": N_("Terlambat"),
        "potential_duplicate": N_("Kemungkinan ganda"),
        "dukcapil_unavailable": N_("Dukcapil tidak menjawab"),
    },
    # The workflow's triggers, as the journal says what was done.
    "trigger": {
        "submit": N_("Laporan dikirim"),
        "start_verification": N_("Pemeriksaan Dukcapil dimulai"),
        "pass_verification": N_("Lolos pemeriksaan Dukcapil"),
        "fail_verification": N_("Tidak lolos pemeriksaan Dukcapil"),
        "refuse": N_("Ditolak: di luar wilayah kantor"),
        "resubmit": N_("Perbaikan dikirim pelapor"),
        "request_correction": N_("Perbaikan diminta"),
        "approve": N_("Disetujui"),
        "send_back": N_("Dikembalikan ke operator"),
        "sign": N_("Ditandatangani"),
        "issue": N_("Akta diterbitkan"),
        "reject": N_("Ditolak"),
        "cancel": N_("Dibatalkan pelapor"),
    },
    # Journal entries that are not workflow moves (their action's last part).
    "action": {
        "claim": N_("Mulai ditangani"),
        "release": N_("Dilepas"),
        "not_duplicate": N_("Diputuskan bukan laporan ganda"),
        "attach": N_("Dokumen diunggah"),
        "correct": N_("Akta diperbaiki"),
        "dukcapil_unavailable": N_("Dukcapil tidak menjawab"),
        "submit": N_("Laporan dikirim"),
        "new_pin": N_("PIN baru dibuat"),
        "akta_view": N_("Akta dibuka"),
        "request_correction": N_("Perbaikan akta diajukan"),
        "approve_correction": N_("Permohonan perbaikan akta disetujui"),
        "refuse_correction": N_("Permohonan perbaikan akta ditolak"),
        "sign_correction": N_("Perbaikan akta ditandatangani"),
        "print": N_("Akta dicetak atau diunduh petugas"),
    },
    # A request to correct an issued akta (akta.models.CorrectionStatus).
    "correction_status": {
        "requested": N_("Menunggu pemeriksaan operator"),
        "approved": N_("Disetujui, menunggu tanda tangan pejabat"),
        "refused": N_("Ditolak"),
        "issued": N_("Akta perbaikan terbit"),
    },
    # Verification checks (verification.checks), by their stored names.
    "check": {
        "mother_nik_structure": N_("Susunan NIK ibu"),
        "father_nik_structure": N_("Susunan NIK ayah"),
        "mother_registry": N_("Data ibu di Dukcapil"),
        "father_registry": N_("Data ayah di Dukcapil"),
        "kk": N_("Kartu Keluarga"),
        "marriage": N_("Perkawinan"),
        "timeliness": N_("Ketepatan waktu pelaporan"),
        "plausibility": N_("Kewajaran data"),
        "duplicate": N_("Laporan ganda"),
        "dukcapil": N_("Layanan Dukcapil"),
    },
    "outcome": {
        "pass": N_("sesuai"),
        "warning": N_("perlu diperhatikan"),
        "fail": N_("tidak sesuai"),
    },
    "channel": {
        "web": N_("Warga (web)"),
        "facility_api": N_("Fasilitas (API)"),
        "office": N_("Kantor"),
    },
    "role": {
        "system": N_("sistem"),
        "informant": N_("pelapor"),
        "facility": N_("fasilitas"),
        "operator": N_("operator"),
        "pejabat": N_("pejabat"),
        "admin": N_("admin"),
        "viewer": N_("pimpinan"),
    },
    "sex": {"male": N_("Laki-laki"), "female": N_("Perempuan")},
    "birth_type": {
        "single": N_("tunggal"),
        "twin": N_("kembar dua"),
        "triplet": N_("kembar tiga"),
        "quadruplet": N_("kembar empat"),
        "higher": N_("kembar lebih dari empat"),
    },
    "wording_model": {
        "recorded_marriage": N_("ayah dan ibu (perkawinan tercatat)"),
        "unrecorded_marriage": N_("ayah dan ibu (perkawinan belum tercatat)"),
        "mother_only": N_("anak seorang ibu"),
        "unknown_origin": N_("anak yang tidak diketahui asal-usulnya"),
    },
}

#: What a page says for a name that has no label (never the name itself).
UNLABELLED = N_("lainnya")


def label(value: object, kind: str) -> str:
    """The Indonesian label of an internal name of this kind; "lainnya" for an unknown one,
    "—" for none."""
    if value is None or value == "":
        return "—"
    text = LABELS[kind].get(str(value))
    return gettext(text if text is not None else UNLABELLED)


def journal_label(action: str, trigger: str | None = None) -> str:
    """What a journal entry did, in words: its trigger's label, else its action's."""
    if trigger and trigger in LABELS["trigger"]:
        return label(trigger, "trigger")
    return label(action.rsplit(":", 1)[-1], "action")
