"""A FHIR R4 Bundle as Indonesian hospitals build it for SATUSEHAT, read into a notification.

Parsed and validated by fhir.resources (its R4B module, which reads R4's Patient,
RelatedPerson, Encounter, Location, Observation and Practitioner unchanged). What SATUSEHAT's
profiles say of a newborn (Master Patient Index, "Pasien Bayi Baru Lahir"): the mother's NIK
as the `nik-ibu` identifier until the child has a NIK of its own; the name the facility gives
("Bayi Ny. <mother>"); `birthDate`, with the moment in the `patient-birthTime` extension, in
UTC (WIB - 7 h); `gender`; `multipleBirthInteger` (0 for a single birth, 1, 2... for the order
of twins). Every problem is an OperationOutcome issue whose `expression` points at the
element (FHIRPath).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pydantic
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.resource import Resource

from akta_service.core.clock import local_timezone
from akta_service.core.errors import FieldError
from akta_service.core.messages import message_in
from akta_service.notified.fhir_refusals import BundleRefused, Issue

__all__ = ["BundleRefused", "Issue", "Mapped", "bundle_key", "map_bundle", "read_bundle"]

#: SATUSEHAT's identifier systems.
NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
NIK_IBU_SYSTEM = "https://fhir.kemkes.go.id/id/nik-ibu"
#: The birth letter's number, as a facility writes it on the Encounter.
BIRTH_LETTER_SYSTEM = "https://fhir.kemkes.go.id/id/surat-keterangan-lahir"
BIRTH_TIME_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
LOINC = "http://loinc.org"
#: Birth weight (measured), body weight; body length at birth, body height.
WEIGHT_CODES = frozenset({"8339-4", "29463-7"})
LENGTH_CODES = frozenset({"89269-5", "8302-2"})
#: [#] Births total (the mother's parity, this birth included): the child's "anak ke-".
BIRTHS_TOTAL_CODE = "11640-0"
#: v3 RoleCode of the mother; a Location or Encounter class at the patient's home.
MOTHER_CODES = frozenset({"MTH", "NMTH", "BMTH"})
HOME_CODES = frozenset({"PTRES", "HH"})
BUNDLE_TYPES = frozenset({"transaction", "message"})


def fhir_path(location: Iterable[Any], root: str = "Bundle") -> str:
    """("entry", 0, "resource", "birthDate") as "Bundle.entry[0].resource.birthDate"."""
    path = root
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(("function-", "json-or-python")):
            path += f".{part}"
    return path


def read_bundle(payload: Any) -> Bundle:
    """The Bundle, valid by FHIR R4, of type transaction or message, with an identifier."""
    if not isinstance(payload, dict) or payload.get("resourceType") != "Bundle":
        raise BundleRefused([Issue("structure", "expected a FHIR Bundle resource", "Bundle")])
    try:
        bundle = Bundle.model_validate(payload)
    except pydantic.ValidationError as exc:
        raise BundleRefused(
            Issue(
                "required" if error["type"] == "missing" else "value",
                str(error["msg"]),
                fhir_path(error["loc"]),
            )
            for error in exc.errors(include_url=False)
        ) from None
    except (ValueError, TypeError, KeyError) as exc:
        raise BundleRefused([Issue("structure", str(exc)[:300], "Bundle")]) from None
    issues = []
    if bundle.type not in BUNDLE_TYPES:
        issues.append(Issue("value", "Bundle.type must be transaction or message", "Bundle.type"))
    if bundle.identifier is None or not bundle.identifier.value:
        issues.append(
            Issue("required", "Bundle.identifier.value names the Bundle", "Bundle.identifier")
        )
    if issues:
        raise BundleRefused(issues)
    return bundle


def bundle_key(bundle: Bundle) -> str:
    """What makes a re-sent Bundle the same: its identifier's system and value."""
    identifier: Any = bundle.identifier
    return f"{identifier.system or ''}|{identifier.value}"[:300]


@dataclass
class Mapped:
    """A notification read off a Bundle, and where each of its fields came from."""

    payload: dict[str, Any]
    #: notification field ("child.sex") -> FHIRPath of the element it came from.
    expressions: dict[str, str] = field(default_factory=dict)

    def refused(self, errors: Iterable[FieldError], language: str = "en") -> BundleRefused:
        """The notification's field errors as issues at the Bundle's elements."""
        return BundleRefused(
            Issue(
                "value",
                message_in(language, error.code, **error.params),
                self.expressions.get(error.field, "Bundle"),
            )
            for error in errors
        )


def _entries(bundle: Bundle) -> Iterator[tuple[int, Resource]]:
    for index, entry in enumerate(bundle.entry or ()):
        if entry.resource is not None:
            yield index, entry.resource


def _of_type(bundle: Bundle, kind: str) -> list[tuple[int, Any]]:
    return [(i, r) for i, r in _entries(bundle) if r.get_resource_type() == kind]


def _identifier(resource: Any, system: str) -> str | None:
    for identifier in resource.identifier or ():
        if identifier.system == system and identifier.value:
            return str(identifier.value)
    return None


def _name(resource: Any) -> str | None:
    for name in getattr(resource, "name", None) or ():
        text = name.text or " ".join([*(name.given or ()), name.family or ""]).strip()
        if text:
            return str(text)
    return None


def _codes(concepts: Iterable[Any]) -> set[str]:
    return {
        str(coding.code) for concept in concepts for coding in (concept.coding or ()) if coding.code
    }


def _telecom(resources: Iterable[Any]) -> dict[str, str | None]:
    contact: dict[str, str | None] = {"phone": None, "email": None}
    for resource in resources:
        for point in getattr(resource, "telecom", None) or ():
            value = str(point.value or "").strip()
            if point.system in ("phone", "sms") and not contact["phone"]:
                contact["phone"] = "".join(ch for ch in value if ch.isdigit() or ch == "+")
            elif point.system == "email" and not contact["email"]:
                contact["email"] = value
    return contact


class _Reader:
    """Reads one Bundle; problems are collected, not raised one at a time."""

    def __init__(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.issues: list[Issue] = []
        self.mapped = Mapped(payload={"child": {}, "mother": {}, "contact": {}})

    def put(self, name: str, value: Any, expression: str) -> None:
        part, _, leaf = name.rpartition(".")
        target = self.mapped.payload[part] if part else self.mapped.payload
        target[leaf] = value
        self.mapped.expressions[name] = expression

    def missing(self, what: str, expression: str) -> None:
        self.issues.append(Issue("required", what, expression))

    def newborn(self) -> tuple[int, Any] | None:
        for index, patient in _of_type(self.bundle, "Patient"):
            if _identifier(patient, NIK_IBU_SYSTEM):
                return index, patient
        self.missing(
            "a newborn Patient with the mother's NIK as its nik-ibu identifier",
            f"Bundle.entry.resource.ofType(Patient).identifier.where(system='{NIK_IBU_SYSTEM}')",
        )
        return None

    def mother(self, nik: str) -> tuple[str, Any] | None:
        for index, person in _of_type(self.bundle, "RelatedPerson"):
            if _codes(person.relationship or ()) & MOTHER_CODES:
                return f"Bundle.entry[{index}].resource", person
        for index, patient in _of_type(self.bundle, "Patient"):
            if _identifier(patient, NIK_SYSTEM) == nik:
                return f"Bundle.entry[{index}].resource", patient
        return None

    def birth(self, at: str, patient: Any) -> None:
        moment = None
        detail = patient.birthDate__ext
        for extension in (detail.extension or ()) if detail is not None else ():
            if extension.url == BIRTH_TIME_URL and extension.valueDateTime is not None:
                moment = extension.valueDateTime
        if isinstance(moment, datetime):
            local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(
                local_timezone()
            )
            self.put("child.birth_date", local.date().isoformat(), f"{at}.birthDate")
            self.put("child.birth_time", local.strftime("%H:%M"), f"{at}.birthDate.extension")
        elif patient.birthDate is not None:
            self.put("child.birth_date", patient.birthDate.isoformat(), f"{at}.birthDate")
        else:
            self.missing("the newborn's birthDate", f"{at}.birthDate")

    def child(self, index: int, patient: Any) -> None:
        at = f"Bundle.entry[{index}].resource"
        self.put("child.provisional_name", _name(patient), f"{at}.name")
        self.put("child.sex", patient.gender, f"{at}.gender")
        self.birth(at, patient)
        order = patient.multipleBirthInteger
        if order is None and patient.multipleBirthBoolean is None:
            self.missing("multipleBirthInteger: 0 for a single birth", f"{at}.multipleBirth")
        twin = bool(order) or bool(patient.multipleBirthBoolean)
        self.put("child.birth_type", "twin" if twin else "single", f"{at}.multipleBirthInteger")

    def encounter(self) -> None:
        encounters = _of_type(self.bundle, "Encounter")
        if not encounters:
            self.missing("the Encounter of the birth", "Bundle.entry.resource.ofType(Encounter)")
            return
        index, encounter = encounters[0]
        at = f"Bundle.entry[{index}].resource"
        place = None
        home = encounter.class_fhir is not None and encounter.class_fhir.code in HOME_CODES
        by_url: dict[str, Any] = {
            entry.fullUrl: entry.resource for entry in self.bundle.entry or () if entry.fullUrl
        }
        for where in encounter.location or ():
            reference = where.location
            resource = by_url.get(reference.reference) if reference.reference else None
            if resource is not None and resource.get_resource_type() == "Location":
                place = resource.name or place
                home = home or bool(_codes(resource.type or ()) & HOME_CODES)
            place = place or reference.display
        if place is None and encounter.serviceProvider is not None:
            place = encounter.serviceProvider.display
        if place is None:
            self.missing("where the birth took place", f"{at}.location")
        self.put("child.birth_place", place, f"{at}.location")
        self.put("child.birth_place_kind", "home" if home else "facility", f"{at}.location")
        self.put(
            "birth_letter_number",
            _identifier(encounter, BIRTH_LETTER_SYSTEM),
            f"{at}.identifier",
        )

    def observations(self) -> None:
        self.put("child.birth_order", 1, "Bundle")
        for index, observation in _of_type(self.bundle, "Observation"):
            at = f"Bundle.entry[{index}].resource.valueQuantity"
            codes = _codes([observation.code])
            quantity = observation.valueQuantity
            if codes & {BIRTHS_TOTAL_CODE} and quantity is not None:
                self.put("child.birth_order", int(quantity.value or 0), at)
            if quantity is None or quantity.value is None:
                continue
            unit = str(quantity.code or quantity.unit or "")
            if codes & WEIGHT_CODES:
                grams = float(quantity.value) * (1000 if unit == "kg" else 1)
                self.put("child.weight_grams", round(grams), at)
            elif codes & LENGTH_CODES:
                self.put("child.length_cm", round(float(quantity.value)), at)

    def attendant(self) -> None:
        practitioners = _of_type(self.bundle, "Practitioner")
        if not practitioners:
            self.put("child.attendant", "other", "Bundle")
            return
        index, practitioner = practitioners[0]
        words = " ".join(
            " ".join(
                [
                    str(q.code.text or ""),
                    *(str(c.display or c.code or "") for c in q.code.coding or ()),
                ]
            )
            for q in practitioner.qualification or ()
        ).lower()
        kind = "doctor"
        if "bidan" in words or "midwife" in words:
            kind = "midwife"
        elif "perawat" in words or "nurse" in words:
            kind = "nurse"
        self.put("child.attendant", kind, f"Bundle.entry[{index}].resource.qualification")

    def read(self) -> Mapped:
        found = self.newborn()
        if found is None:
            raise BundleRefused(self.issues)
        index, patient = found
        nik = _identifier(patient, NIK_IBU_SYSTEM)
        at = f"Bundle.entry[{index}].resource.identifier"
        self.put("mother.nik", nik, at)
        self.child(index, patient)
        mother = self.mother(str(nik))
        people: list[Any] = [patient]
        if mother is None:
            self.missing(
                "the mother, as a RelatedPerson (relationship MTH) or a Patient with her NIK",
                "Bundle.entry.resource.ofType(RelatedPerson)",
            )
        else:
            where, person = mother
            self.put("mother.name", _name(person), f"{where}.name")
            people.insert(0, person)
        self.encounter()
        self.observations()
        self.attendant()
        contact = _telecom(people)
        expression = mother[0] + ".telecom" if mother else f"Bundle.entry[{index}].resource"
        self.put("contact.phone", contact["phone"], expression)
        self.put("contact.email", contact["email"], expression)
        self.mapped.payload.setdefault("birth_letter_number", None)
        if self.issues:
            raise BundleRefused(self.issues)
        return self.mapped


def map_bundle(bundle: Bundle) -> Mapped:
    """The notification a Bundle describes; BundleRefused lists what it lacks."""
    return _Reader(bundle).read()
