"""The report's fields as people name them, keyed by the paths verification and clerks use
to point at what must be corrected ("mother.name", "kk_number", ...)."""

from __future__ import annotations

#: path -> label, in the order of the parents' form.
FIELD_LABELS = {
    "child.name": "Nama anak",
    "child.sex": "Jenis kelamin anak",
    "child.birth_date": "Tanggal lahir anak",
    "child.birth_time": "Jam lahir anak",
    "child.birth_place": "Tempat lahir anak",
    "child.birth_order": "Anak ke-",
    "child.birth_type": "Jenis kelahiran (tunggal/kembar)",
    "mother.nik": "NIK ibu",
    "mother.name": "Nama ibu",
    "mother.birth_date": "Tanggal lahir ibu",
    "father": "Data ayah",
    "father.nik": "NIK ayah",
    "father.name": "Nama ayah",
    "father.birth_date": "Tanggal lahir ayah",
    "marriage.recorded": "Status pencatatan perkawinan",
    "marriage.certificate_number": "Nomor akta/buku nikah",
    "marriage.date": "Tanggal perkawinan",
    "kk_number": "Nomor KK",
    "informant.name": "Nama pelapor",
    "informant.nik": "NIK pelapor",
    "witnesses": "Saksi",
    "documents": "Dokumen (unggah yang kurang atau lebih jelas)",
}
