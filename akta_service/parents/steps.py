"""The steps of the form: the fields each asks, how the answers become the report that
BirthReportInput validates, and which of its messages belong to which step.

Every rule on the data lives in births.schemas; this module only decides where a message is
shown. The form adds what the API does not know: the three marriage situations, and a NIK
whose digits contradict the birth date or sex typed beside it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import LazyString, format_date
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from akta_service.births.models import PARENT_INFORMANTS, InformantRelation
from akta_service.births.schemas import BirthReportInput
from akta_service.core.errors import FieldError, field_errors
from akta_service.core.forms import whole_number
from akta_service.core.nik import InvalidNik, NikFacts, parse_nik


@dataclass(frozen=True)
class Choice:
    value: str
    label: LazyString
    hint: LazyString | None = None


@dataclass(frozen=True)
class Field:
    """One input; `name` is its path in the report ("mother.nik", "witnesses.0.name")."""

    name: str
    label: LazyString
    #: text, nik, digits, date, time, number, radio, select, email, tel
    kind: str = "text"
    #: True: always needed; False: optional; None: needed in some situations (the group says).
    required: bool | None = True
    hint: LazyString | None = None
    choices: tuple[Choice, ...] = ()
    autocomplete: str | None = None
    #: For a NIK: the birth-date field its digits must agree with, and the sex they encode.
    nik_date: str | None = None
    nik_sex: str | None = None

    @property
    def id(self) -> str:
        return "f-" + self.name.replace(".", "-")

    @property
    def target(self) -> str:
        """The element a link to this field focuses: the input, or a group's first option."""
        return f"{self.id}-{self.choices[0].value}" if self.kind == "radio" else self.id


@dataclass(frozen=True)
class Group:
    """A fieldset: fields that belong together under one legend."""

    legend: LazyString | None
    fields: tuple[Field, ...]
    note: LazyString | None = None
    #: Names the group for form.js (the father's, hidden when the parents are not married).
    key: str | None = None


@dataclass(frozen=True)
class Step:
    slug: str
    title: LazyString
    groups: tuple[Group, ...] = ()
    intro: LazyString | None = None

    @property
    def fields(self) -> tuple[Field, ...]:
        return tuple(f for g in self.groups for f in g.fields)

    def owns(self, path: str) -> bool:
        """The message at `path` (a field, or a whole part such as "father") is this step's."""
        return any(f.name == path or f.name.startswith(path + ".") for f in self.fields)


SEXES = (Choice("female", _l("Perempuan")), Choice("male", _l("Laki-laki")))
SITUATIONS = (
    Choice(
        "recorded",
        _l("Menikah, perkawinan tercatat"),
        _l(
            "Ada buku nikah (KUA) atau kutipan akta perkawinan. Unggah buku nikah; akta "
            "mencantumkan nama ayah dan ibu."
        ),
    ),
    Choice(
        "unrecorded",
        _l("Menikah, perkawinan belum tercatat (nikah siri)"),
        _l(
            "Tidak ada buku nikah, tetapi KK menunjukkan ayah dan ibu sebagai suami istri. "
            "Unggah SPTJM kebenaran sebagai pasangan suami istri (formulir F-2.04) yang "
            "ditandatangani orang tua dan 2 saksi. Akta mencantumkan ayah dan ibu dengan "
            "keterangan perkawinan belum tercatat."
        ),
    ),
    Choice(
        "not_married",
        _l("Tidak menikah"),
        _l(
            "Akta hanya mencantumkan nama ibu. Data ayah dikosongkan; tidak perlu dokumen "
            "perkawinan."
        ),
    ),
)
RELATIONS = (
    Choice(InformantRelation.MOTHER, _l("Ibu bayi")),
    Choice(InformantRelation.FATHER, _l("Ayah bayi")),
    Choice(InformantRelation.HEAD_OF_FAMILY, _l("Kepala keluarga")),
    Choice(InformantRelation.GRANDPARENT, _l("Kakek atau nenek")),
    Choice(InformantRelation.FAMILY_MEMBER, _l("Anggota keluarga lain di KK")),
)


def _person(prefix: str, sex: str, legend: LazyString, required: bool | None = True) -> Group:
    return Group(
        legend,
        (
            Field(
                f"{prefix}.nik",
                _l("NIK"),
                "nik",
                required=required,
                hint=_l("16 angka, seperti di KTP-el atau KK"),
                nik_date=f"{prefix}.birth_date",
                nik_sex=sex,
            ),
            Field(
                f"{prefix}.name",
                _l("Nama lengkap"),
                required=required,
                hint=_l("Seperti tertulis di KTP-el"),
            ),
            Field(f"{prefix}.birth_date", _l("Tanggal lahir"), "date", required=required),
        ),
    )


STEPS: tuple[Step, ...] = (
    Step(
        "bayi",
        _l("Bayi"),
        (
            Group(
                None,
                (
                    Field(
                        "child.name",
                        _l("Nama bayi"),
                        hint=_l("Nama lengkap yang akan tertulis di akta"),
                    ),
                    Field("child.sex", _l("Jenis kelamin"), "radio", choices=SEXES),
                    Field("child.birth_date", _l("Tanggal lahir"), "date"),
                    Field("child.birth_time", _l("Jam lahir"), "time", required=False),
                    Field(
                        "child.birth_place_kind",
                        _l("Tempat lahir"),
                        "radio",
                        choices=(
                            Choice("facility", _l("Rumah sakit, puskesmas, klinik atau bidan")),
                            Choice("home", _l("Di rumah")),
                            Choice("other", _l("Tempat lain")),
                        ),
                    ),
                    Field(
                        "child.birth_place",
                        _l("Nama tempat lahir"),
                        hint=_l("Nama rumah sakit atau puskesmas, atau alamat bila lahir di rumah"),
                    ),
                    Field(
                        "child.birth_order",
                        _l("Anak ke-"),
                        "number",
                        hint=_l("Anak keberapa dari ibu ini, bayi ini dihitung. Anak pertama: 1"),
                    ),
                    Field(
                        "child.birth_type",
                        _l("Kelahiran"),
                        "select",
                        required=False,
                        choices=(
                            Choice("single", _l("Tunggal")),
                            Choice("twin", _l("Kembar dua")),
                            Choice("triplet", _l("Kembar tiga")),
                            Choice("quadruplet", _l("Kembar empat")),
                            Choice("higher", _l("Kembar lebih dari empat")),
                        ),
                    ),
                    Field(
                        "child.attendant",
                        _l("Penolong kelahiran"),
                        "select",
                        choices=(
                            Choice("doctor", _l("Dokter")),
                            Choice("midwife", _l("Bidan")),
                            Choice("nurse", _l("Perawat")),
                            Choice("other", _l("Lainnya (dukun, keluarga)")),
                            Choice("none", _l("Tidak ada")),
                        ),
                    ),
                    Field("child.weight_grams", _l("Berat lahir (gram)"), "number", required=False),
                    Field("child.length_cm", _l("Panjang lahir (cm)"), "number", required=False),
                ),
            ),
            Group(
                _l("Surat keterangan lahir"),
                (
                    Field(
                        "birth_letter_number",
                        _l("Nomor surat keterangan lahir"),
                        required=False,
                        hint=_l(
                            "Dari rumah sakit, puskesmas, dokter atau bidan; dari lurah bila "
                            "lahir di rumah. Bila tidak ada, kosongkan: Anda akan diminta "
                            "SPTJM kebenaran data kelahiran (formulir F-2.03) dengan 2 saksi."
                        ),
                    ),
                ),
            ),
        ),
    ),
    Step("ibu", _l("Ibu"), (_person("mother", "female", _l("Data ibu kandung")),)),
    Step(
        "ayah",
        _l("Ayah dan perkawinan"),
        (
            Group(
                None,
                (
                    Field(
                        "marriage.situation",
                        _l("Status perkawinan orang tua"),
                        "radio",
                        choices=SITUATIONS,
                    ),
                ),
            ),
            Group(
                _l("Data ayah"),
                _person("father", "male", _l("Data ayah"), required=None).fields,
                note=_l("Kosongkan bila orang tua tidak menikah."),
                key="father",
            ),
            Group(
                _l("Buku nikah atau akta perkawinan"),
                (
                    Field(
                        "marriage.certificate_number",
                        _l("Nomor buku nikah / akta perkawinan"),
                        required=None,
                    ),
                    Field("marriage.date", _l("Tanggal perkawinan"), "date", required=False),
                ),
                note=_l("Hanya bila perkawinan tercatat."),
            ),
        ),
    ),
    Step(
        "keluarga",
        _l("KK dan pelapor"),
        (
            Group(
                _l("Kartu Keluarga (KK)"),
                (
                    Field(
                        "kk_number",
                        _l("Nomor KK"),
                        "digits",
                        hint=_l("16 angka di bagian atas KK tempat bayi akan dicatat"),
                    ),
                ),
            ),
            Group(
                _l("Pelapor"),
                (
                    Field(
                        "informant.relation",
                        _l("Hubungan pelapor dengan bayi"),
                        "radio",
                        choices=RELATIONS,
                    ),
                    Field(
                        "informant.nik",
                        _l("NIK pelapor"),
                        "nik",
                        required=False,
                        hint=_l(
                            "Boleh dikosongkan bila pelapor ibu atau ayah: diisi dari data di atas"
                        ),
                    ),
                    Field("informant.name", _l("Nama pelapor"), required=False),
                    Field(
                        "informant.phone",
                        _l("Nomor HP"),
                        "tel",
                        required=False,
                        autocomplete="tel",
                        hint=_l("Untuk kabar lewat SMS, misalnya 081234567890"),
                    ),
                    Field(
                        "informant.email",
                        _l("Alamat e-mail"),
                        "email",
                        required=False,
                        autocomplete="email",
                        hint=_l("Untuk kabar lewat e-mail"),
                    ),
                ),
                note=_l(
                    "Pelapor adalah orang tua atau anggota keluarga di KK yang memiliki KTP-el."
                ),
            ),
        ),
    ),
    Step(
        "saksi",
        _l("Dua saksi"),
        (
            Group(
                _l("Saksi pertama"),
                (
                    Field("witnesses.0.nik", _l("NIK saksi pertama"), "nik"),
                    Field("witnesses.0.name", _l("Nama saksi pertama")),
                ),
            ),
            Group(
                _l("Saksi kedua"),
                (
                    Field("witnesses.1.nik", _l("NIK saksi kedua"), "nik"),
                    Field("witnesses.1.name", _l("Nama saksi kedua")),
                ),
            ),
        ),
        intro=_l(
            "Dua orang dewasa yang mengetahui kelahiran ini, misalnya tetangga atau kerabat, "
            "dengan KTP-el. Saksi tidak perlu datang."
        ),
    ),
)
DOCUMENTS = Step("dokumen", _l("Dokumen"))
REVIEW = Step("periksa", _l("Periksa dan kirim"))
ALL_STEPS: tuple[Step, ...] = (*STEPS, DOCUMENTS, REVIEW)
BY_SLUG = {step.slug: step for step in ALL_STEPS}
FIELDS = {f.name: f for step in STEPS for f in step.fields}

#: Form fields the report has no column for.
FORM_ONLY = frozenset({"marriage.situation"})
FATHER_FIELDS = ("father.nik", "father.name", "father.birth_date")

#: Where a message about a whole part, or about a field the form asks differently, is shown.
_ANCHORS = {
    "marriage.recorded": "marriage.situation",
    "witnesses": "witnesses.1.nik",
    "father": "father.nik",
}

#: Stand-ins for steps the parent has not reached yet, so that BirthReportInput's rules across
#: parts (mother older than the baby, a recorded marriage names the father, two different
#: witnesses) run at the step where the parent can fix them. They are never shown or stored.
_NOBODY_A, _NOBODY_B = "3274010101010001", "3274010101010002"
_PLACEHOLDERS: dict[str, dict[str, Any]] = {
    "bayi": {
        "child": {
            "name": "-",
            "sex": "female",
            "birth_date": "1900-01-02",  # compared with a mother only when the baby is real
            "birth_place": "-",
            "birth_place_kind": "other",
            "birth_order": 1,
            "attendant": "none",
        },
    },
    "ibu": {"mother": {"nik": "3274014101000001", "name": "-", "birth_date": "1900-01-01"}},
    "ayah": {"marriage": {"recorded": False}, "father": None},
    "keluarga": {
        "kk_number": "3274010101010001",
        "informant": {"relation": InformantRelation.FAMILY_MEMBER, "nik": _NOBODY_A, "name": "-"},
    },
    "saksi": {"witnesses": [{"nik": _NOBODY_A, "name": "-"}, {"nik": _NOBODY_B, "name": "-"}]},
}

_MISSING = object()


def _iso_date(text: str) -> str:
    """Dates as people type them ("17-08-2026", "17/8/2026") in the form the schema reads."""
    match = re.fullmatch(r"(\d{1,2})[-/. ](\d{1,2})[-/. ](\d{4})", text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        return f"{year:04d}-{month:02d}-{day:02d}"
    return text


def _value(spec: Field, raw: str | None) -> Any:
    text = (raw or "").strip()
    if not text:
        return _MISSING
    if spec.kind == "number":
        number = whole_number(text)
        return text if number is None else number
    if spec.kind == "date":
        return _iso_date(text)
    if spec.kind in ("digits", "tel"):
        return re.sub(r"[\s().-]", "", text)
    return text


def _put(target: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value


def report_payload(
    answers: Mapping[str, str], stand_ins: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The answers in the shape of BirthReportInput; steps in `stand_ins` use placeholders."""
    payload: dict[str, Any] = {}
    for step in STEPS:
        if step.slug in stand_ins:
            payload.update(copy.deepcopy(_PLACEHOLDERS[step.slug]))
            continue
        for spec in step.fields:
            value = _value(spec, answers.get(spec.name))
            if spec.name not in FORM_ONLY and value is not _MISSING:
                _put(payload, spec.name, value)
        if step.slug == "ayah":
            _marriage(payload, answers)
    if isinstance(payload.get("witnesses"), dict):
        found = payload["witnesses"]
        payload["witnesses"] = [found.get("0", {}), found.get("1", {})]
    return payload


def _marriage(payload: dict[str, Any], answers: Mapping[str, str]) -> None:
    marriage = payload.setdefault("marriage", {})
    situation = answers.get("marriage.situation")
    if situation in {c.value for c in SITUATIONS}:
        marriage["recorded"] = situation == "recorded"
    if situation == "not_married" or not any(
        (answers.get(name) or "").strip() for name in FATHER_FIELDS
    ):
        payload["father"] = None


def anchor(path: str) -> str:
    """The form field a message at `path` is shown next to."""
    if path in FIELDS:
        return path
    if path in _ANCHORS:
        return _ANCHORS[path]
    return next((name for name in FIELDS if name.startswith(path + ".")), path)


_ORDER = {name: index for index, name in enumerate(FIELDS)}


def in_form_order(errors: list[FieldError]) -> list[FieldError]:
    """Messages in the order their fields appear, as a parent reads the page."""
    return sorted(errors, key=lambda e: _ORDER.get(e.field, len(_ORDER)))


def schema_errors(payload: dict[str, Any]) -> list[FieldError]:
    """Every message BirthReportInput has for the payload, placed at its form field."""
    try:
        BirthReportInput().load(payload)
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return [FieldError(anchor(e.field), e.code, e.params) for e in field_errors(messages)]
    return []


def step_errors(step: Step, answers: Mapping[str, str], completed: list[str]) -> list[FieldError]:
    """What is wrong with the step's answers, each message at its field."""
    stand_ins = frozenset(s.slug for s in STEPS if s.slug != step.slug and s.slug not in completed)
    errors = [e for e in schema_errors(report_payload(answers, stand_ins)) if step.owns(e.field)]
    errors.extend(form_errors(step, answers, {e.field for e in errors}))
    return in_form_order(errors)


def all_errors(answers: Mapping[str, str]) -> list[FieldError]:
    """What is wrong with the whole report, as it would be submitted."""
    errors = schema_errors(report_payload(answers))
    for step in STEPS:
        errors.extend(form_errors(step, answers, {e.field for e in errors}))
    return in_form_order(errors)


def form_errors(step: Step, answers: Mapping[str, str], already: set[str]) -> list[FieldError]:
    """The form's own rules: the marriage situations, and NIKs against birth dates."""
    errors: list[FieldError] = []
    if step.slug == "ayah":
        situation = answers.get("marriage.situation")
        father_given = any((answers.get(name) or "").strip() for name in FATHER_FIELDS)
        if situation == "unrecorded" and not father_given:
            errors.append(FieldError("father.nik", "father_required_unrecorded"))
    for spec in step.fields:
        if spec.nik_date and spec.name not in already and spec.nik_date not in already:
            problem = nik_contradiction(
                spec.name, answers.get(spec.name), answers.get(spec.nik_date), spec.nik_sex
            )
            if problem is not None:
                errors.append(problem)
            if problem is not None and problem.code == "nik_birth_date_mismatch":
                # Either may be the mistake: the birth date is pointed at too.
                errors.append(FieldError(spec.nik_date, "birth_date_nik_mismatch", problem.params))
    return errors


def nik_contradiction(
    name: str, nik: str | None, birth_date: str | None, sex: str | None
) -> FieldError | None:
    """A NIK (field `name`) whose encoded birth date or sex contradicts what was typed."""
    if not (nik or "").strip() or not (birth_date or "").strip():
        return None
    try:
        facts = parse_nik(nik or "")
        born = date.fromisoformat(_iso_date((birth_date or "").strip()))
    except (InvalidNik, ValueError):
        return None  # the schema's own messages say what is wrong
    if sex == "female" and not facts.female:
        return FieldError(name, "nik_sex_male")
    if sex == "male" and facts.female:
        return FieldError(name, "nik_sex_female")
    if not facts.matches_birth_date(born):
        encoded = nik_birth_date(facts, born)
        return FieldError(
            name,
            "nik_birth_date_mismatch",
            {"nik_date": _in_words(encoded), "date": _in_words(born)},
        )
    return None


def _in_words(day: date | str) -> str:
    """Both dates of the NIK message in one format: "17 Agustus 2026", as the review shows."""
    return day if isinstance(day, str) else str(format_date(day, "d MMMM y"))


def nik_birth_date(facts: NikFacts, near: date) -> date | str:
    """The birth date a NIK encodes, its century the one nearer the date typed (the NIK
    has two digits of the year); its digits as they are when they are no date."""
    years = sorted(
        (century + facts.two_digit_year for century in (1900, 2000)),
        key=lambda year: abs(year - near.year),
    )
    try:
        return date(years[0], facts.month, facts.day)
    except ValueError:
        return f"{facts.day:02d}-{facts.month:02d}-{facts.two_digit_year:02d}"


def drop_father_when_not_married(answers: dict[str, str]) -> None:
    """Parents who are not married: the akta names the mother only, so whatever is in the
    father's fields (typed before the situation was chosen) is not kept."""
    if answers.get("marriage.situation") == "not_married":
        for name in FATHER_FIELDS:
            answers[name] = ""


def fill_informant(answers: dict[str, str]) -> None:
    """A parent who reports need not type their NIK and name twice."""
    parent = answers.get("informant.relation", "")
    if parent not in PARENT_INFORMANTS:
        return
    for part in ("nik", "name"):
        if not (answers.get(f"informant.{part}") or "").strip():
            answers[f"informant.{part}"] = answers.get(f"{parent}.{part}", "")


# Documents -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentSpec:
    kind: str
    label: LazyString
    hint: LazyString
    required: bool = True


DOCUMENT_SPECS = {
    "kk": DocumentSpec(
        "kk", _l("Kartu Keluarga (KK)"), _l("Foto atau pindaian KK yang masih berlaku.")
    ),
    "birth_letter": DocumentSpec(
        "birth_letter",
        _l("Surat keterangan lahir"),
        _l("Dari rumah sakit, puskesmas, dokter, bidan, atau lurah bila lahir di rumah."),
    ),
    "sptjm_birth": DocumentSpec(
        "sptjm_birth",
        _l("SPTJM kebenaran data kelahiran (F-2.03)"),
        _l(
            "Karena tidak ada surat keterangan lahir: surat pernyataan yang ditandatangani "
            "pelapor dan 2 saksi."
        ),
    ),
    "marriage_certificate": DocumentSpec(
        "marriage_certificate",
        _l("Buku nikah / kutipan akta perkawinan"),
        _l("Halaman yang memuat nama suami, istri dan nomor buku nikah."),
    ),
    "sptjm_marriage": DocumentSpec(
        "sptjm_marriage",
        _l("SPTJM kebenaran sebagai pasangan suami istri (F-2.04)"),
        _l(
            "Karena perkawinan belum tercatat: surat pernyataan yang ditandatangani kedua orang "
            "tua dan 2 saksi."
        ),
    ),
    "other": DocumentSpec(
        "other",
        _l("Dokumen lain"),
        _l("Tidak wajib: misalnya KTP-el ibu bila ada yang ingin dijelaskan."),
        required=False,
    ),
}


def required_documents(answers: Mapping[str, str]) -> list[str]:
    """The document kinds the chosen situation needs (Permendagri 108/2019)."""
    kinds = [
        "birth_letter" if (answers.get("birth_letter_number") or "").strip() else "sptjm_birth"
    ]
    situation = answers.get("marriage.situation")
    if situation == "recorded":
        kinds.append("marriage_certificate")
    elif situation == "unrecorded":
        kinds.append("sptjm_marriage")
    kinds.append("kk")
    return kinds


def offered_documents(answers: Mapping[str, str]) -> list[DocumentSpec]:
    """What the documents step asks for: the required kinds, then the optional one."""
    return [DOCUMENT_SPECS[kind] for kind in required_documents(answers)] + [
        DOCUMENT_SPECS["other"]
    ]


def missing_documents(answers: Mapping[str, str], uploaded: Mapping[str, Any]) -> list[FieldError]:
    return [
        FieldError(
            f"document.{kind}", "document_required", {"document": DOCUMENT_SPECS[kind].label}
        )
        for kind in required_documents(answers)
        if kind not in uploaded
    ]
