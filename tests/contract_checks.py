"""schemathesis checks of our own, loaded by the contract run (tests/test_api_contract.py)
through SCHEMATHESIS_HOOKS.

A request valid by the OpenAPI description is accepted, with one documented exception
JSON Schema cannot say: rules across fields and across requests (the mother older than the
child, two different witnesses, nothing in the future, an Idempotency-Key reused for
another request, a file's bytes, the addresses a webhook's host resolves to). The
contract run lets positive data get a 422 and this check fails it unless every reason
given is one of those; a 400 stays a failure of positive data.
"""

from __future__ import annotations

from typing import Any

import schemathesis

#: The refusals BirthReportInput's description (and the Idempotency-Key's) names.
DOCUMENTED_REFUSALS = frozenset(
    {
        "mother_younger",
        "father_required",
        "same_witness",
        "future_birth",
        "marriage_in_future",
        # BirthNotificationInput's: the family reachable by phone or e-mail.
        "contact_required",
        "idempotency_key_reused",
        # An uploaded file is judged by its bytes (PDF, JPEG or PNG), which no schema says.
        "unsupported_type",
        # A webhook's host is judged by what it resolves to, at registration and delivery.
        "webhook_host_unknown",
        "webhook_host_internal",
    }
)


#: FHIR intake answers errors as FHIR does: an OperationOutcome, each issue at its element.
FHIR_JSON = "application/fhir+json"


def is_fhir_outcome(response: schemathesis.Response) -> bool:
    """A FHIR endpoint's error: an OperationOutcome whose every issue names its element."""
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith(FHIR_JSON):
        return False
    body = response.json()
    issues = body.get("issue") or []
    if body.get("resourceType") != "OperationOutcome" or not issues:
        raise AssertionError(f"a FHIR {response.status_code} that is no OperationOutcome: {body}")
    if not all(issue.get("expression") and issue.get("code") for issue in issues):
        raise AssertionError(f"an issue without its element or code: {body}")
    return True


def _reasons(body: dict[str, Any]) -> set[str]:
    return {str(e.get("code")) for e in body.get("errors") or []} or {str(body.get("code"))}


@schemathesis.check
def valid_data_refused_only_by_documented_rules(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    if is_fhir_outcome(response):
        # A Bundle is judged by FHIR R4 and the SATUSEHAT rules its description names, which
        # JSON Schema cannot say: every refusal is one of those.
        return None
    undocumented = _reasons(response.json()) - DOCUMENTED_REFUSALS
    if undocumented:
        raise AssertionError(f"a request valid by the spec was refused for {sorted(undocumented)}")
    return None


@schemathesis.check
def errors_are_problem_details(
    ctx: Any, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """Every error is RFC 9457 problem+json whose `status` is the HTTP status."""
    if response.status_code < 400 or is_fhir_outcome(response):
        return None
    content_type = response.headers.get("content-type", [""])[0]
    if not content_type.startswith("application/problem+json"):
        raise AssertionError(f"{response.status_code} answered as {content_type!r}")
    body = response.json()
    missing = {"type", "title", "status", "detail", "code"} - set(body)
    if missing or body["status"] != response.status_code:
        raise AssertionError(f"not problem details of a {response.status_code}: {body}")
    return None
