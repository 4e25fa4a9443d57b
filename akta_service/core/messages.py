"""Every message a person reads about a wrong field or a refused action, by its stable code.

The Indonesian text is the source: it is the message id of the Flask-Babel catalogue, and the
English lives in akta_service/translations/en/LC_MESSAGES/messages.po with the texts of the
pages. `%(name)s` parameters are filled in after translation. A code names one text; the API
answers with the code beside the text, so a client never has to read the words.

The titles of the problem types (a DomainError's `code`) are codes here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import LazyString, force_locale, gettext
from markupsafe import Markup


def N_(text: str) -> str:
    """Marks a source text for `pybabel extract`; it is translated when it is shown."""
    return text


MESSAGES: dict[str, str] = {
    # Pages: what a person is told for the HTTP errors a page can run into (core.errors).
    "page_400_title": N_("Permintaan tidak dapat diproses"),
    "page_400_advice": N_("Muat ulang halaman lalu coba lagi."),
    "page_403_title": N_("Anda tidak berhak membuka halaman ini"),
    "page_403_advice": N_(
        "Peran akun Anda tidak mencakup halaman ini. Hubungi admin kantor bila Anda memerlukannya."
    ),
    "page_404_title": N_("Halaman tidak ditemukan"),
    "page_404_advice": N_("Periksa kembali alamatnya, atau kembali ke beranda."),
    "page_405_title": N_("Cara membuka halaman ini tidak didukung"),
    "page_405_advice": N_("Kembali lalu gunakan tombol di halaman."),
    "page_429_title": N_("Terlalu banyak percobaan"),
    "page_429_advice": N_("Tunggu sebentar, lalu coba lagi."),
    "page_413_title": N_("Kiriman terlalu besar"),
    "page_413_advice": N_(
        "Berkas paling besar 10 MB, isian lain paling besar 500 KB. Perkecil berkasnya, "
        "lalu kirim lagi."
    ),
    "page_other_advice": N_("Silakan coba lagi nanti."),
    # Pages: a limit was reached (core.limits); the time is the office's, e.g. "14.05 WIB".
    "retry_in_seconds": N_(
        "Terlalu banyak percobaan dalam waktu singkat. Coba lagi dalam %(seconds)s detik."
    ),
    "retry_at": N_(
        "Terlalu banyak percobaan dalam waktu singkat. Coba lagi setelah pukul %(time)s "
        "(sekitar %(minutes)s menit lagi). Yang sudah tersimpan tidak hilang."
    ),
    # Office forms (WTForms validators); `%(max)d` is the validator's.
    "form_username_required": N_("Isi nama pengguna"),
    "form_password_required": N_("Isi kata sandi"),
    "form_regions_required": N_("Pilih wilayah"),
    "form_too_long": N_("Paling banyak %(max)d karakter"),
    # Fields: a report as people and facilities send it (births.schemas).
    "required": N_("Wajib diisi"),
    "null": N_("Wajib diisi"),
    "unknown": N_("Kolom ini tidak dikenal"),
    "type": N_("Jenis isian salah"),
    "invalid": N_("Isian tidak benar"),
    "control_characters": N_(
        "Isian ini memuat karakter kendali yang tak terlihat. Hapus lalu ketik ulang isiannya."
    ),
    "invalid_characters": N_(
        "Isian ini memuat karakter yang bukan teks yang sah. Hapus lalu ketik ulang isiannya."
    ),
    "date": N_("Tanggal harus berbentuk TTTT-BB-HH, misalnya 2026-11-22"),
    "time": N_("Jam harus berbentuk JJ:MM, misalnya 08:30"),
    "date_time": N_("Waktu harus lengkap dengan zonanya, misalnya 2026-11-22T08:30:00+07:00"),
    "integer": N_("Harus berupa bilangan bulat"),
    "boolean": N_("Harus ya atau tidak (true/false)"),
    "choice": N_("Pilihan tidak dikenal"),
    "email": N_("Alamat e-mail tidak benar"),
    "phone": N_("Nomor telepon harus 8-15 angka, boleh diawali +"),
    "kk_number": N_("Nomor KK harus 16 angka"),
    "name_length": N_("Nama harus 1-200 huruf"),
    "birth_order": N_("Anak ke- harus antara 1 dan 30"),
    "weight_grams": N_("Berat lahir harus antara 200 dan 8000 gram"),
    "length_cm": N_("Panjang lahir harus antara 15 dan 70 cm"),
    "future_birth": N_("Tanggal lahir bayi tidak boleh di masa depan"),
    "mother_younger": N_("Tanggal lahir ibu harus sebelum tanggal lahir bayi"),
    "father_required": N_("Perkawinan tercatat memerlukan data ayah"),
    "certificate_required": N_(
        "Nomor buku nikah / akta perkawinan wajib diisi bila perkawinan tercatat"
    ),
    "certificate_unexpected": N_(
        "Nomor dan tanggal perkawinan hanya diisi bila perkawinan tercatat"
    ),
    "marriage_in_future": N_("Tanggal perkawinan tidak boleh di masa depan"),
    "two_witnesses": N_("Saksi harus tepat dua orang"),
    "same_witness": N_("Dua saksi harus orang yang berbeda"),
    # Fields: a NIK's structure (core.nik).
    "nik_not_digits": N_("NIK hanya boleh berisi angka"),
    "nik_length": N_("NIK harus 16 angka"),
    "nik_birth_date": N_("Tanggal lahir di dalam NIK (angka ke-7 s.d. 12) tidak mungkin"),
    "nik_serial": N_("Empat angka terakhir NIK tidak boleh 0000"),
    # Fields: the parents' form (parents.steps), beyond what the API checks.
    "father_not_recorded": N_(
        "Orang tua tidak menikah: akta hanya mencantumkan ibu. Kosongkan data ayah."
    ),
    "father_required_unrecorded": N_(
        "Isi data ayah: pada perkawinan belum tercatat, ayah dicantumkan di akta."
    ),
    "nik_sex_male": N_(
        "NIK ini milik laki-laki: pada NIK perempuan, angka tanggal lahir ditambah 40. "
        "Periksa lagi NIK ibu."
    ),
    "nik_sex_female": N_(
        "NIK ini milik perempuan (angka tanggal lahir ditambah 40). Periksa lagi NIK ayah."
    ),
    "nik_birth_date_mismatch": N_(
        "Menurut NIK ini tanggal lahirnya %(nik_date)s, tetapi yang diisi %(date)s. "
        "Periksa lagi NIK atau tanggal lahir."
    ),
    "birth_date_nik_mismatch": N_(
        "Tanggal lahir %(date)s tidak cocok dengan NIK di atas (%(nik_date)s). Periksa lagi "
        "tanggal lahir atau NIK."
    ),
    "nik_mismatch": N_(
        "Angka tanggal lahir atau jenis kelamin di NIK tidak cocok dengan yang diisi."
    ),
    "document_required": N_("Unggah %(document)s"),
    "declaration_required": N_("Centang pernyataan ini untuk mengirim laporan"),
    "nothing_changed": N_(
        "Belum ada yang diubah. Ubah data yang diminta atau unggah dokumen, lalu kirim lagi."
    ),
    # Fields: a document uploaded from a phone (parents.uploads).
    "upload_missing": N_("Pilih berkas foto atau PDF dokumen"),
    "contact_required": N_("Isi nomor HP atau alamat e-mail, atau keduanya"),
    "upload_kind": N_("Pilih jenis dokumen"),
    "too_large": N_("Berkas terlalu besar: maksimal 10 MB"),
    "upload_unsupported_type": N_(
        "Berkas harus foto (JPEG atau PNG) atau PDF. Berkas ini bukan salah satunya."
    ),
    # Fields: a file that cannot be opened safely, on the form and through the API alike
    # (core.untrusted_files).
    "image_too_large": N_(
        "Berkas terlalu besar untuk dibuka: gambarnya memuat terlalu banyak piksel. "
        "Kecilkan resolusinya lalu coba lagi."
    ),
    "unreadable_file": N_(
        "Gambar tidak dapat dibaca: berkasnya rusak atau terpotong. "
        "Ambil foto lagi atau pilih berkas lain."
    ),
    "pdf_unreadable": N_(
        "PDF tidak dapat dibaca: berkasnya rusak atau terpotong. "
        "Simpan ulang atau pindai lagi dokumennya."
    ),
    "pdf_encrypted": N_(
        "PDF ini dilindungi kata sandi sehingga tidak dapat dibuka petugas. "
        "Kirim PDF tanpa kata sandi."
    ),
    "pdf_too_many_pages": N_("PDF terlalu banyak halamannya: paling banyak %(max)d halaman."),
    "pdf_page_too_large": N_(
        "Halaman PDF ini lebih besar dari kertas A0. "
        "Pindai atau simpan ulang dokumennya dengan ukuran kertas biasa."
    ),
    "file_too_complex": N_(
        "Berkas terlalu rumit untuk dibuka dengan aman. "
        "Simpan ulang dengan ukuran lebih kecil atau pilih berkas lain."
    ),
    "document_quota": N_(
        "Dokumen satu laporan paling banyak %(quota_mb)s MB seluruhnya. Dengan berkas ini batas "
        "itu terlampaui, jadi berkas ini tidak disimpan; dokumen yang sudah diunggah tetap ada. "
        "Kecilkan berkasnya (misalnya foto dengan resolusi lebih rendah), lalu unggah lagi."
    ),
    # Fields: a document sent through the API (births.documents).
    "file_missing": N_("Pilih berkas dokumen"),
    "document_kind": N_("Jenis dokumen harus salah satu dari: %(allowed)s"),
    "unsupported_type": N_("Berkas harus PDF, JPEG atau PNG (dilihat dari isinya, bukan namanya)"),
    # Titles of the problem types (DomainError.code).
    "domain_error": N_("Permintaan tidak dapat diproses"),
    "not_found": N_("Tidak ditemukan"),
    "forbidden": N_("Tidak berwenang"),
    "illegal_transition": N_("Tindakan tidak berlaku pada status ini"),
    "guard_refused": N_("Tindakan belum dapat dilakukan"),
    "conflict": N_("Data telah diubah oleh orang lain"),
    "try_again": N_("Coba kirim lagi"),
    "invalid_input": N_("Data belum benar"),
    "unauthorised": N_("Kredensial tidak sah"),
    "status_refused": N_("Kode atau PIN salah"),
    "login_refused": N_("Gagal masuk"),
    "signing_refused": N_("Tanda tangan elektronik ditolak"),
    "signing_identity_invalid": N_("Identitas tanda tangan elektronik tidak sah"),
    "idempotency_key_reused": N_("Idempotency-Key sudah dipakai untuk permintaan lain"),
    "invalid_idempotency_key": N_("Idempotency-Key tidak sah"),
    "document_quota_exceeded": N_("Batas ukuran dokumen laporan tercapai"),
    # Refusals: the workflow (workflow.engine, workflow.rules).
    "trigger_not_in_status": N_(
        "Tindakan '%(trigger)s' tidak berlaku untuk laporan berstatus '%(state)s'. "
        "Tindakan yang berlaku sekarang: %(allowed_triggers)s."
    ),
    "no_trigger_in_status": N_(
        "Tindakan '%(trigger)s' tidak berlaku untuk laporan berstatus '%(state)s'. "
        "Tidak ada tindakan yang berlaku sekarang."
    ),
    "role_may_not": N_(
        "Peran '%(role)s' tidak boleh melakukan '%(trigger)s'. Yang boleh: %(roles)s."
    ),
    "changed_by_someone": N_(
        "Laporan ini sudah diubah oleh orang lain. Muat ulang lalu coba lagi."
    ),
    "changed_by": N_(
        "Laporan ini sudah diubah oleh %(changed_by_who)s (%(changed_by_action)s). Muat ulang "
        "untuk melihat perubahan terbaru; isian Anda belum disimpan."
    ),
    "reason_required": N_(
        "Alasan wajib diisi untuk tindakan ini: pelapor atau petugas berikutnya membacanya."
    ),
    "not_your_report": N_("Laporan ini bukan milik Anda."),
    "outside_your_region": N_("Anda tidak bertugas di wilayah %(region)s."),
    "claimed_by": N_(
        "Laporan ini sedang ditangani %(assignee)s. Minta %(assignee)s melepasnya, atau admin."
    ),
    "claimed_by_another": N_(
        "Laporan ini sedang ditangani petugas lain. Minta petugas itu melepasnya, atau admin."
    ),
    "duplicate_undecided": N_(
        "Laporan ditandai kemungkinan ganda. Putuskan dahulu apakah laporan ini ganda atau bukan."
    ),
    "signer_is_approver": N_(
        "Anda yang menyetujui laporan ini, sehingga tidak boleh juga menandatanganinya. "
        "Tanda tangan harus oleh pejabat lain."
    ),
    # Refusals: reports and their documents (births).
    "report_invalid": N_("Data laporan kelahiran belum benar. Perbaiki kolom yang ditandai."),
    "report_not_stored": N_("Laporan belum tersimpan karena gangguan sesaat. Kirim sekali lagi."),
    "tracking_code_unknown": N_("Kode pelacakan tidak ditemukan. Periksa kembali kodenya."),
    "wrong_code_or_pin": N_("Kode pelacakan atau PIN salah. Periksa kembali keduanya."),
    "documents_closed": N_("Dokumen tidak dapat ditambahkan pada laporan berstatus '%(state)s'."),
    "akta_not_issued_in_status": N_("Akta belum terbit: laporan berstatus '%(state)s'."),
    # Refusals: facilities' birth notifications (notified).
    "notification_invalid": N_(
        "Data pemberitahuan kelahiran belum benar. Perbaiki kolom yang ditandai."
    ),
    "birth_letter_closed": N_(
        "Surat keterangan lahir tidak dapat dikirim lagi: pemberitahuan berstatus '%(state)s'."
    ),
    "document_refused": N_("Berkas tidak dapat diterima. Perbaiki sesuai keterangan kolomnya."),
    "cursor_unknown": N_("Cursor tidak dikenal; pakai next_cursor dari halaman sebelumnya."),
    # Refusals: the API and the service as a whole (core).
    "fields_invalid": N_("Data belum benar. Perbaiki kolom yang ditandai."),
    "database_unavailable": N_(
        "Layanan sesaat tidak dapat menyimpan. Tidak ada yang tersimpan; kirim sekali lagi."
    ),
    "credential_required": N_(
        "Sertakan header Authorization: Bearer <token> dengan kredensial fasilitas "
        "yang masih berlaku."
    ),
    "idempotency_key_length": N_(
        "Idempotency-Key harus 1-%(max_length)s huruf, angka atau tanda baca ASCII tanpa spasi, "
        "misalnya sebuah UUID."
    ),
    "idempotency_key_other_request": N_(
        "Idempotency-Key ini sudah dipakai untuk permintaan dengan isi lain. "
        "Pakai kunci baru untuk setiap laporan yang berbeda."
    ),
    # Refusals: the parents' pages (parents).
    "report_incomplete": N_("Laporan belum lengkap. Perbaiki bagian yang ditandai."),
    "akta_not_issued": N_("Akta kelahiran belum terbit."),
    "kia_not_issued": N_("Kartu Identitas Anak tidak diterbitkan untuk laporan ini."),
    "kk_not_issued": N_("Cetakan Kartu Keluarga belum terbit untuk laporan ini."),
    # Refusals: the office (review, akta).
    "nothing_to_do": N_(
        "Tidak ada tindakan %(role)s untuk laporan berstatus %(state)s; laporan ini tidak "
        "perlu ditangani."
    ),
    "claimed": N_("Laporan ini sudah ditangani %(assignee)s."),
    "claimed_by_other_clerk": N_("Laporan ini sudah ditangani petugas lain."),
    "release_not_yours": N_(
        "Hanya petugas yang menangani laporan ini atau admin yang dapat melepasnya."
    ),
    "not_flagged_duplicate": N_("Laporan ini tidak sedang ditandai kemungkinan ganda."),
    "duplicate_by_operator": N_("Keputusan laporan ganda diambil oleh operator."),
    "correction_fields_required": N_("Pilih data yang harus diperbaiki pelapor."),
    "confirmation_required": N_(
        "Centang kotak konfirmasi untuk “%(action)s”; tanpa itu laporan tidak diubah."
    ),
    "name_search_too_short": N_(
        "Ketik minimal %(min_letters)s huruf untuk mencari nama, atau kode pelacakan, NIK, "
        "atau nomor akta lengkap."
    ),
    # Fields and refusals: the office's own forms (accounts, facilities, regions, akta).
    "invalid_role": N_("Peran harus salah satu dari: %(allowed)s"),
    "too_short": N_("Kata sandi minimal %(min_length)s karakter"),
    "username_taken": N_("Nama pengguna sudah dipakai"),
    "unknown_regions": N_(
        "Wilayah tidak dikenal: %(regions)s (jalankan `akta seed` untuk memuat daftar wilayah)"
    ),
    "regions_required": N_(
        "Wilayah tidak dikenal: (kosong) (jalankan `akta seed` untuk memuat daftar wilayah)"
    ),
    "user_invalid": N_("Data pengguna belum benar"),
    "wrong_login": N_("Nama pengguna atau kata sandi salah."),
    "account_locked": N_(
        "Akun dikunci sementara karena terlalu banyak percobaan salah. Coba lagi dalam "
        "%(minutes)s menit atau hubungi admin."
    ),
    "account_not_managed": N_("Akun ini tidak ditemukan di wilayah yang Anda layani"),
    "regions_not_served": N_(
        "Anda hanya dapat memberi wilayah yang Anda layani; bukan wilayah Anda: %(regions)s"
    ),
    "current_password_wrong": N_("Kata sandi sekarang salah"),
    "passwords_differ": N_("Kedua kata sandi baru tidak sama"),
    "password_unchanged": N_("Kata sandi baru harus berbeda dari yang sekarang"),
    "password_change_refused": N_("Kata sandi belum diganti"),
    "second_factor_refused": N_("Kode verifikasi tidak diterima"),
    "wrong_second_factor": N_(
        "Kode salah atau sudah dipakai. Tunggu kode berikutnya di aplikasi lalu coba lagi."
    ),
    "second_factor_locked": N_(
        "Terlalu banyak kode salah. Coba lagi dalam %(minutes)s menit atau hubungi admin."
    ),
    "second_factor_missing": N_("Aktifkan verifikasi dua langkah terlebih dahulu"),
    "totp_already_enrolled": N_("Verifikasi dua langkah akun ini sudah aktif"),
    "self": N_("Akun sendiri"),
    "deactivate_self": N_("Anda tidak dapat menonaktifkan akun Anda sendiri"),
    "facility_code_taken": N_("Kode fasilitas sudah dipakai"),
    "facility_kind": N_("Jenis harus hospital, puskesmas, clinic atau midwife"),
    "name_required": N_("Nama wajib diisi"),
    "name_too_long": N_("Nama paling banyak 200 karakter"),
    "unknown_region": N_("Wilayah tidak dikenal"),
    "not_served": N_("Wilayah ini bukan wilayah yang Anda layani"),
    "facility_code_format": N_("Kode 2-20 huruf besar, angka atau tanda minus"),
    "facility_invalid": N_("Data fasilitas belum benar"),
    "facility_unknown": N_("Fasilitas %(facility)s tidak ditemukan"),
    "facility_outside_region": N_("Fasilitas %(facility)s bukan di wilayah Anda"),
    "credential_unknown": N_("Kredensial %(key_id)s tidak ditemukan"),
    "credential_outside_region": N_("Kredensial %(key_id)s bukan milik fasilitas di wilayah Anda"),
    "url": N_("Alamat harus diawali https://"),
    "webhook_invalid": N_("Alamat webhook belum benar"),
    "webhook_https_required": N_("Alamat webhook harus memakai https:// (sambungan terenkripsi)"),
    "webhook_host_unknown": N_("Nama host webhook tidak ditemukan; periksa alamatnya"),
    "webhook_host_internal": N_(
        "Alamat webhook menuju jaringan internal atau alamat khusus (loopback, privat, "
        "link-local, metadata); pakai alamat sistem fasilitas yang dapat dijangkau dari internet"
    ),
    "too_long": N_("Paling banyak %(max_length)s karakter"),
    "office_name_required": N_("Nama kantor wajib diisi"),
    "issue_place_required": N_("Tempat terbit wajib diisi"),
    "nip_length": N_("NIP harus 18 angka"),
    "nip_birth_date": N_("8 angka pertama NIP harus tanggal lahir (TTTTBBHH) yang benar"),
    "nip_appointed": N_("Angka ke-9 sampai ke-14 NIP harus tahun dan bulan pengangkatan (TTTTBB)"),
    "nip_sex": N_("Angka ke-15 NIP harus 1 (laki-laki) atau 2 (perempuan)"),
    "officer_nip_required": N_("Isi NIP pejabat: akta mencantumkan nama dan NIP-nya"),
    "officer_name_required": N_("Isi nama pejabat pemilik NIP ini"),
    "region_not_yours": N_("%(region)s bukan wilayah Anda"),
    "office_invalid": N_("Data kantor belum benar"),
    # Refusals: the officer's electronic signature through the signing service (akta, signing).
    "signing_passphrase_required": N_("Ketik passphrase tanda tangan elektronik Anda."),
    "signing_passphrase_wrong": N_(
        "Passphrase tanda tangan elektronik salah. Sisa percobaan: %(attempts_left)s."
    ),
    "signing_locked": N_(
        "Tanda tangan elektronik Anda dikunci setelah 5 kali passphrase salah. "
        "Minta admin membuka kuncinya."
    ),
    "signing_identity_missing": N_(
        "Akun Anda belum terhubung dengan identitas tanda tangan elektronik (NIK dan NIP). "
        "Minta admin melengkapinya."
    ),
    "signing_identity_unknown": N_(
        "Anda belum terdaftar di layanan tanda tangan elektronik. Minta admin mendaftarkan Anda."
    ),
    "signing_service_unavailable": N_(
        "Layanan tanda tangan elektronik tidak dapat dihubungi. Coba lagi sebentar lagi."
    ),
    "signing_unlock_refused": N_("Tanda tangan elektronik tidak dapat dibuka kuncinya"),
    "signing_unlock_no_identity": N_(
        "Hubungkan dulu akun ini dengan NIK dan NIP pejabat di layanan tanda tangan elektronik."
    ),
    "signing_unlock_not_enrolled": N_(
        "NIK ini belum terdaftar di layanan tanda tangan elektronik: tidak ada kunci yang dapat "
        "dibuka. Periksa NIK atau daftarkan pejabat terlebih dahulu."
    ),
    "signing_batch_empty": N_("Pilih minimal satu laporan untuk ditandatangani."),
    "signing_batch_too_large": N_(
        "Satu kali tanda tangan paling banyak %(maximum)s laporan; Anda memilih %(chosen)s."
    ),
    "signing_batch_refused": N_("Laporan ini tidak dapat ditandatangani sekarang."),
    "issue_dukcapil_unavailable": N_(
        "Dukcapil tidak dapat dihubungi untuk NIK anak. Nomor akta tetap; tanda tangani lagi."
    ),
    "seal_keys_unavailable": N_(
        "Kunci segel kantor tidak dapat dibuka (token atau PIN). Nomor akta tetap; akta terbit "
        "setelah petugas teknis memperbaikinya."
    ),
    "issue_dukcapil_refused": N_(
        "Dukcapil menolak mencatat anak di KK (KK atau ibu tidak cocok). Periksa KK dengan "
        "Dukcapil; nomor akta tetap."
    ),
    "signing_authorisation_missing": N_(
        "Otorisasi tanda tangan sudah tidak berlaku. Nomor akta tetap; tanda tangani lagi."
    ),
    "sign_again_needed": N_(
        "Akta belum terbit: otorisasi tanda tangan sudah tidak berlaku sebelum akta "
        "diterbitkan. Nomor akta %(number)s tetap; ketik passphrase dan kode verifikasi "
        "lagi untuk menerbitkannya."
    ),
    "akta_not_issued_yet": N_("Hanya akta yang sudah terbit yang dapat diperbaiki."),
    "correction_by_pejabat": N_("Perbaikan akta hanya oleh Pejabat Pencatatan Sipil wilayah ini."),
    "not_correctable": N_("Kolom ini tidak dapat diperbaiki"),
    "akta_nothing_changed": N_("Tidak ada data yang diubah"),
    "reason_missing": N_("Alasan wajib diisi"),
    "unknown_document": N_("Dokumen pendukung tidak ditemukan pada laporan ini"),
    "correction_invalid": N_("Perbaikan akta belum benar"),
    "annulment_invalid": N_("Pembatalan akta belum lengkap"),
    "akta_in_force_missing": N_("Akta yang berlaku tidak ditemukan"),
    "akta_correction_open": N_(
        "Sudah ada permohonan perbaikan akta yang sedang diproses. Tunggu keputusannya dulu."
    ),
    "akta_correction_decided": N_(
        "Permohonan ini sudah diputuskan lebih dulu oleh %(by)s: %(decision)s. Keputusan Anda "
        "tidak disimpan."
    ),
    "correction_document_required": N_(
        "Unggah dokumen pendukung perbaikan (misalnya KK, buku nikah atau surat keterangan lahir)"
    ),
    "correction_check_by_operator": N_(
        "Permohonan perbaikan akta diperiksa oleh operator wilayah laporan ini."
    ),
    "region_unknown": N_("Wilayah %(region)s tidak dikenal"),
}


def _formatted(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters as a sentence shows them: a list as its items joined by commas."""
    return {
        name: ", ".join(str(item) for item in value) if isinstance(value, list | tuple) else value
        for name, value in params.items()
    }


def message(code: str, /, **params: Any) -> str:
    """The text for `code` in the current language (Flask-Babel's locale of the request;
    the Indonesian source outside one)."""
    text = gettext(MESSAGES[code])
    return text % _formatted(params) if params else text


def markup(code: str, /, **params: Any) -> Markup:
    """The text for `code` in the current language, for a page: the text is ours and shown
    as it is written; the parameters are escaped."""
    text = Markup(gettext(MESSAGES[code]))  # noqa: S704 - the catalogue's own texts
    return text % _formatted(params) if params else text


def lazy_message(code: str, /) -> LazyString:
    """The text for `code`, looked up when it is shown: for messages given at import time,
    such as a form validator's. Its `%(name)s` parameters are the validator's to fill."""
    if code not in MESSAGES:
        raise KeyError(f"no message {code!r}")
    return LazyString(message, code)


def message_in(language: str, code: str, /, **params: Any) -> str:
    """The text for `code` in `language` ("id" or "en"), whatever the request's locale."""
    with force_locale(language):
        return message(code, **params)
