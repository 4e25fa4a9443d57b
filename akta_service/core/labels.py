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
        "annulled": N_("Akta dibatalkan"),
        "rejected": N_("Ditolak"),
        "cancelled": N_("Dibatalkan pelapor"),
    },
    # A facility's birth notification (workflows/birth_notification.yaml); "notified" is also
    # the office's queue tab of the notifications not yet completed.
    "notification_status": {
        "notified": N_("Diberitahukan fasilitas, belum dilengkapi keluarga"),
        "completed": N_("Dilengkapi keluarga"),
        "expired": N_("Tidak dilengkapi sampai batas waktu"),
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
        "annul": N_("Akta dibatalkan"),
        "reject": N_("Ditolak"),
        "cancel": N_("Dibatalkan pelapor"),
        "notify": N_("Kelahiran diberitahukan fasilitas"),
        "complete": N_("Dilengkapi keluarga"),
        "expire": N_("Batas waktu pemberitahuan lewat"),
    },
    # The workflow's triggers as something to do, for a refusal ("'setujui' tidak berlaku").
    "act": {
        "submit": N_("kirim laporan"),
        "start_verification": N_("mulai pemeriksaan Dukcapil"),
        "pass_verification": N_("nyatakan lolos pemeriksaan Dukcapil"),
        "fail_verification": N_("nyatakan tidak lolos pemeriksaan Dukcapil"),
        "refuse": N_("tolak karena di luar wilayah kantor"),
        "resubmit": N_("kirim perbaikan"),
        "request_correction": N_("minta perbaikan"),
        "approve": N_("setujui"),
        "send_back": N_("kembalikan ke operator"),
        "sign": N_("tanda tangani"),
        "issue": N_("terbitkan akta"),
        "reject": N_("tolak"),
        "cancel": N_("batalkan"),
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
        "signing_identity": N_("Identitas tanda tangan elektronik dihubungkan"),
        "signing_unlock": N_("Kunci tanda tangan elektronik dibuka"),
        "signing_identity_view": N_("Identitas tanda tangan elektronik dilihat"),
        "birth_letter": N_("Surat keterangan lahir dikirim fasilitas"),
        "remind": N_("Pengingat dikirim ke keluarga"),
    },
    # A request to correct an issued akta (akta.models.CorrectionStatus).
    "correction_status": {
        "requested": N_("Menunggu pemeriksaan operator"),
        "approved": N_("Disetujui, menunggu tanda tangan pejabat"),
        "refused": N_("Ditolak"),
        "issued": N_("Akta perbaikan terbit"),
    },
    # A pejabat's signing as the signing service sees it (accounts.operations.SigningState).
    "signing_state": {
        "no_identity": N_("belum dihubungkan (NIK dan NIP kosong)"),
        "not_enrolled": N_("NIK belum terdaftar di layanan tanda tangan elektronik"),
        "nip_mismatch": N_("NIP akun berbeda dengan NIP pada sertifikat pejabat"),
        "locked": N_("terkunci setelah 5 kali passphrase salah"),
        "active": N_("aktif, dapat menandatangani"),
        "unreachable": N_("layanan tanda tangan elektronik tidak dapat dihubungi"),
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


#: Parameters of a refusal (core.errors) that carry internal names, and the kind of their label.
LABELLED_PARAMETERS: Mapping[str, str] = {
    "state": "status",
    "trigger": "act",
    "allowed_triggers": "act",
    "role": "role",
    "roles": "role",
}


def labelled_parameters(params: Mapping[str, object]) -> dict[str, object]:
    """A refusal's parameters as a person reads them: each internal name by its label (a list
    item by item); the others as they are."""
    shown: dict[str, object] = {}
    for name, value in params.items():
        kind = LABELLED_PARAMETERS.get(name)
        if kind is None or not isinstance(value, str | list | tuple):
            shown[name] = value
        elif isinstance(value, str):
            shown[name] = label(value, kind)
        else:
            shown[name] = [label(item, kind) for item in value]
    return shown


def journal_label(action: str, trigger: str | None = None) -> str:
    """What a journal entry did, in words: its trigger's label, else its action's."""
    if trigger and trigger in LABELS["trigger"]:
        return label(trigger, "trigger")
    return label(action.rsplit(":", 1)[-1], "action")
