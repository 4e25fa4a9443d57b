"""FHIR intake: a facility sends the Bundle it builds for SATUSEHAT; it becomes a notification."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response, g, request, url_for
from flask.views import MethodView

from akta_service.core.api import ApiBlueprint, loads_strictly
from akta_service.core.config import current_settings
from akta_service.core.errors import requested_language
from akta_service.core.limits import per_credential
from akta_service.facilities.auth import require_facility
from akta_service.facilities.operations import facility_actor
from akta_service.notified.fhir_refusals import BundleRefused, Issue
from akta_service.notified.operations import receive_bundle

FHIR_JSON = "application/fhir+json"

blp = ApiBlueprint(
    "fhir_api",
    __name__,
    url_prefix="/api/v1/fhir",
    description="FHIR R4: pemberitahuan kelahiran dalam Bundle seperti untuk SATUSEHAT",
)


@cache
def example_bundle() -> dict[str, Any]:
    """A complete Bundle of a hospital birth, as the OpenAPI description shows it."""
    text = (Path(__file__).parent / "example_bundle.json").read_text(encoding="utf-8")
    example: dict[str, Any] = json.loads(text)
    return example


def _fhir(body: dict[str, Any], status: int, **headers: str) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype=FHIR_JSON, headers=headers
    )


@blp.errorhandler(BundleRefused)
def _refused(refused: BundleRefused) -> Response:
    return _fhir(refused.outcome(), refused.status)


_OUTCOME = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
        "issue": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["severity", "code", "expression"],
                "properties": {
                    "severity": {"type": "string"},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}
_ANSWER = {
    "type": "object",
    "required": ["resourceType", "type", "identifier"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["transaction-response"]},
        "identifier": {
            "type": "object",
            "description": "The tracking code: system <base>/tracking-code, value the code",
            "properties": {"system": {"type": "string"}, "value": {"type": "string"}},
        },
        "entry": {"type": "array", "items": {"type": "object"}},
    },
}


def _answer(code: str, created: bool) -> dict[str, Any]:
    location = url_for("notified_api.NotificationItem", tracking_code=code)
    return {
        "resourceType": "Bundle",
        "type": "transaction-response",
        "identifier": {
            "system": current_settings().public_base_url + "/tracking-code",
            "value": code,
        },
        "entry": [
            {"response": {"status": "201 Created" if created else "200 OK", "location": location}}
        ],
    }


@blp.route("")
class FhirBundleIntake(MethodView):
    decorators = [per_credential, require_facility]  # noqa: RUF012

    @blp.doc(
        requestBody={
            "required": True,
            "description": (
                "A FHIR R4 Bundle (type transaction or message) with a Bundle.identifier, shaped "
                "as for SATUSEHAT: a newborn Patient with the mother's NIK as the identifier "
                "https://fhir.kemkes.go.id/id/nik-ibu, birthDate with the patient-birthTime "
                "extension (UTC), gender and multipleBirthInteger (0 single; 1, 2... twins); the "
                "mother as a RelatedPerson (relationship MTH) or a Patient with her NIK, with a "
                "phone or e-mail; an Encounter with its Location (a Location of type PTRES or an "
                "Encounter of class HH is a home birth) and the birth letter's number as an "
                "identifier of system https://fhir.kemkes.go.id/id/surat-keterangan-lahir; "
                "Observations of birth weight (LOINC 8339-4, g or kg) and length (89269-5, cm), "
                "optionally [#] Births total (11640-0) for the child's birth order; optionally "
                "the Practitioner who attended (a qualification naming a midwife, bidan, or a "
                "nurse; a doctor otherwise). Bundles are judged by FHIR R4 (fhir.resources) and "
                "these rules; every problem is an OperationOutcome issue with the FHIRPath of "
                "its element. The same Bundle.identifier sent again (even at the same moment) "
                "answers the first notification (200); with other content it is refused (409)."
            ),
            "content": {
                FHIR_JSON: {
                    "schema": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string", "enum": ["Bundle"]}},
                    },
                    "example": example_bundle(),
                },
            },
        },
        responses={
            "201": {
                "description": "Notified: the tracking code is the answer's identifier",
                "content": {FHIR_JSON: {"schema": _ANSWER}},
            },
            "200": {
                "description": "The same Bundle again: the first answer",
                "content": {FHIR_JSON: {"schema": _ANSWER}},
            },
            "400": {
                "description": "Not JSON",
                "content": {FHIR_JSON: {"schema": _OUTCOME}},
            },
            "409": {
                "description": "Another Bundle with this identifier was sent before",
                "content": {FHIR_JSON: {"schema": _OUTCOME}},
            },
            "422": {
                "description": "The Bundle is not valid FHIR R4 or lacks what a notification needs",
                "content": {FHIR_JSON: {"schema": _OUTCOME}},
            },
        },
    )
    def post(self) -> Response:
        """Notify a birth with a FHIR R4 Bundle as the facility builds it for SATUSEHAT."""
        try:
            payload = loads_strictly(request.get_data())
        except ValueError as exc:
            raise BundleRefused(
                [Issue("structure", "the body is not JSON", "Bundle")], status=400
            ) from exc
        notice, replayed = receive_bundle(
            payload, g.credential.facility, facility_actor(g.credential), requested_language()
        )
        answer = _answer(notice.tracking_code, created=not replayed)
        location = answer["entry"][0]["response"]["location"]
        return _fhir(answer, 200 if replayed else 201, Location=location)
