"""The facility API against its own OpenAPI description, fuzzed with schemathesis.

Every operation the spec lists gets bounded, deterministic fuzzing with a real facility
token: valid and invalid inputs, on a made-up tracking code and on a real report. No answer
may be a 5xx, every answer must match the schema the spec documents for its status and
media type, and every error must be problem+json. A valid report's round trip is checked
against the spec too, since random data never passes the report's validation. Error bodies
are documented as application/problem+json (`Problem`); their shape is checked by a test of
its own as well.

schemathesis' own pytest loader (`schemathesis.pytest.from_fixture`) does not run under
pytest 9 (it sets `Item._nodeid`, which pytest 9 removed), so each operation's Hypothesis
test is built here from `APIOperation.as_strategy`.
"""

from __future__ import annotations

import copy
from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.facilities.operations import create_facility, issue_credential
from akta_service.verification.gateway import dukcapil
from tests.contract_checks import errors_are_problem_details

SPEC = "/api/v1/openapi.json"
#: 30 requests per operation and backend, about a second each operation.
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=30,
    deadline=None,
    # The same inputs on every run: a failure here is reproducible, not a flake.
    derandomize=True,
    database=None,
    # A busy machine must not fail the test because generating inputs was slow.
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
ADMIN = Actor.system("schemathesis")


FUZZ_CHECKS = [not_a_server_error, response_schema_conformance, errors_are_problem_details]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def facility_token(session: Any) -> str:
    create_facility("RS-FUZZ", "RS Uji Skema", "hospital", "3274", ADMIN)
    token = issue_credential("RS-FUZZ", ADMIN).token
    db.session.commit()  # into the test's savepoint: a refused request's rollback keeps it
    return token


@pytest.fixture
def api_schema(app: Flask, facility_token: str) -> schemathesis.BaseSchema:
    """The spec as the app serves it; every generated request carries the facility token."""
    config = schemathesis.Config.from_dict(
        {"auth": {"openapi": {"bearer": {"bearer": facility_token}}}}
    )
    return schemathesis.openapi.from_wsgi(SPEC, app, config=config)


@pytest.fixture
def birth_payload(app: Flask, session: Any) -> dict[str, Any]:
    """A report of a real sandbox family, valid down to the NIKs."""
    family = dukcapil().population.sample_families(1, "recorded", region="3274")[0]  # type: ignore[attr-defined]
    return copy.deepcopy(family["example_report"])


@pytest.fixture
def tracking_code(
    app: Flask, facility_token: str, birth_payload: dict[str, Any], session: Any
) -> str:
    """A real report of the fuzzing facility, so item operations get past the lookup."""
    client = app.test_client()
    created = client.post("/api/v1/births", json=birth_payload, headers=_auth(facility_token))
    assert created.status_code == 201, created.get_json()
    return str(created.get_json()["tracking_code"])


def _operation(schema: schemathesis.BaseSchema, label: str) -> schemathesis.APIOperation:
    operation = schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is not in the spec"
    return operation


def _labels(schema: schemathesis.BaseSchema) -> list[str]:
    """Every operation of the spec, as "METHOD /path"."""
    labels = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()  # a part of the spec schemathesis cannot read
        labels.append(result.ok().label)
    return labels


def _cases(
    operation: schemathesis.APIOperation, token: str, tracking_code: str
) -> st.SearchStrategy[schemathesis.Case]:
    """Valid requests, and invalid ones with and without the token (negative generation
    also mangles the Authorization header); on an item, half address the real report."""

    def with_token(case: schemathesis.Case) -> schemathesis.Case:
        case.headers.update(_auth(token))
        return case

    places: list[dict[str, Any]] = [{}]
    if "{tracking_code}" in operation.path:
        places.append({"path_parameters": {"tracking_code": tracking_code}})
    strategies = []
    for place in places:
        positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE, **place)
        negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, **place)
        strategies += [positive, negative.map(with_token), negative]
    return st.one_of(strategies)


def _fuzz(schema: schemathesis.BaseSchema, label: str, token: str, tracking_code: str) -> None:
    operation = _operation(schema, label)

    @hypothesis.given(case=_cases(operation, token, tracking_code))
    @FUZZ_SETTINGS
    def fuzz(case: schemathesis.Case) -> None:
        case.call_and_validate(checks=FUZZ_CHECKS)

    fuzz()


def test_fuzzed_requests_get_no_5xx_and_documented_answers(
    api_schema: schemathesis.BaseSchema,
    facility_token: str,
    tracking_code: str,
    subtests: pytest.Subtests,
) -> None:
    # Every operation the spec lists, including ones added after this test was written;
    # each is reported apart. A bug found here that cannot be fixed at once: skip its
    # label in this loop and fuzz it in a test of its own marked xfail(strict=True).
    labels = _labels(api_schema)
    assert "POST /api/v1/births" in labels, labels
    for label in labels:
        with subtests.test(operation=label):
            _fuzz(api_schema, label, facility_token, tracking_code)


def test_a_valid_report_round_trip_matches_the_spec(
    api_schema: schemathesis.BaseSchema, facility_token: str, birth_payload: dict[str, Any]
) -> None:
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    auth = _auth(facility_token)  # a hand-made Case gets no auth from the schema's config
    submit = _operation(api_schema, "POST /api/v1/births")
    created = submit.Case(body=birth_payload, media_type="application/json", headers=auth)
    response = created.call_and_validate(checks=checks)
    assert response.status_code == 201, response.text
    code = {"tracking_code": response.json()["tracking_code"]}

    follow = _operation(api_schema, "GET /api/v1/births/{tracking_code}")
    followed = follow.Case(path_parameters=code, headers=auth).call_and_validate(checks=checks)
    assert followed.json()["status"] == "submitted"
    listing = _operation(api_schema, "GET /api/v1/births")
    page = listing.Case(query={"limit": 1}, headers=auth).call_and_validate(checks=checks)
    assert [item["tracking_code"] for item in page.json()["items"]] == [code["tracking_code"]]
    cancel = _operation(api_schema, "POST /api/v1/births/{tracking_code}/cancel")
    cancelled = cancel.Case(
        path_parameters=code,
        body={"reason": "uji skema"},
        media_type="application/json",
        headers=auth,
    ).call_and_validate(checks=checks)
    assert cancelled.json()["status"] == "cancelled"


def test_error_answers_match_the_spec(
    api_schema: schemathesis.BaseSchema, facility_token: str
) -> None:
    submit = _operation(api_schema, "POST /api/v1/births")
    refused = submit.Case(
        body={"child": {}}, media_type="application/json", headers=_auth(facility_token)
    )
    response = refused.call()
    if response.status_code != 422:
        pytest.fail(f"this test needs a 422 answer, got {response.status_code}")
    # schemathesis validates a body only when its media type is the documented one, so the
    # media type and the shape are checked apart.
    refused.validate_response(response, checks=[content_type_conformance])
    documented = api_schema.raw_schema["components"]["schemas"]["Problem"]
    body = response.json()
    assert set(documented["required"]) <= set(body), f"missing members in {body}"
    assert isinstance(body["code"], str)
    assert isinstance(body["status"], int)
    assert all(set(e) == {"field", "code", "message"} for e in body["errors"])
