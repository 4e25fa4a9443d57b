"""What a FHIR Bundle refused is answered with: OperationOutcome issues.

Apart from the reading of a Bundle (`notified.fhir`, which loads fhir.resources and
pydantic) so that the API's error handler and the operations can name a refusal without
loading those in every web worker: they load on the first Bundle received.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One problem of the Bundle, at a FHIRPath expression."""

    code: str  # FHIR's IssueType: structure, required, value, invalid, conflict
    diagnostics: str
    expression: str

    def as_fhir(self) -> dict[str, Any]:
        return {
            "severity": "error",
            "code": self.code,
            "diagnostics": self.diagnostics,
            "expression": [self.expression],
        }


class BundleRefused(Exception):
    """The Bundle cannot be taken; `issues` says where and why."""

    def __init__(self, issues: Iterable[Issue], status: int = 422) -> None:
        self.issues = list(issues)
        self.status = status
        super().__init__("; ".join(f"{i.expression}: {i.diagnostics}" for i in self.issues))

    def outcome(self) -> dict[str, Any]:
        return {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in self.issues]}
