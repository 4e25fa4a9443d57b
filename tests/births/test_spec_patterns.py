"""The OpenAPI description's patterns say exactly what the server takes: a NIK matches the
pattern if and only if the server reads it, and so do dates, times, moments, cursors,
Idempotency-Keys and webhook URLs, on both databases."""

from __future__ import annotations

import re
import string
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from akta_service.births.api import CURSOR_PATTERN, DATE_TIME_PATTERN, Moment
from akta_service.births.schemas import NIK_PATTERN, ClockTime, IsoDate
from akta_service.core import outbound
from akta_service.core.actors import Actor
from akta_service.core.idempotency import KEY_PATTERN
from akta_service.core.nik import InvalidNik, parse_nik
from akta_service.facilities.api import WEBHOOK_URL_PATTERN
from akta_service.facilities.operations import create_facility, issue_credential
from tests.parents.conftest import sandbox_report

#: A public address (example.com's) for names, which cannot be resolved here.
PUBLIC = "93.184.216.34"

SETTINGS = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
_NIK_TEXT = st.text(alphabet="0123456789 .-", min_size=14, max_size=22)


def _nik_taken(text: str) -> bool:
    try:
        parse_nik(text)
    except InvalidNik:
        return False
    return True


@SETTINGS
@given(st.one_of(st.from_regex(NIK_PATTERN, fullmatch=True), _NIK_TEXT, st.text(max_size=20)))
def test_a_nik_matches_the_pattern_exactly_when_the_server_reads_it(text: str) -> None:
    assert bool(re.match(NIK_PATTERN, text)) == _nik_taken(text), repr(text)


@pytest.mark.parametrize(
    ("nik", "taken"),
    [
        ("3274014101000001", True),
        ("3274 0141 0100 0001", True),
        ("3274-01.4101000001", True),
        ("3274012902000001", True),  # 29 February 2000
        ("3274012902010001", False),  # 29 February 2001
        ("3274013104000001", False),  # 31 April
        ("3274018101000001", True),  # day 81: python-stdnum reads it as day 1
        ("3274014101000000", False),  # serial 0000
        ("\uff13274014101000001", False),  # a full-width digit
        ("\t3274014101000001", False),
    ],
)
def test_the_pattern_agrees_with_the_server_on_edge_cases(nik: str, taken: bool) -> None:
    assert _nik_taken(nik) is taken
    assert bool(re.match(NIK_PATTERN, nik)) is taken


def _loads(field: Any, text: Any) -> bool:
    try:
        field.deserialize(text)
    except Exception:  # marshmallow's ValidationError, or anything else: refused
        return False
    return True


@SETTINGS
@given(st.one_of(st.text(alphabet="0123456789-W:T", max_size=12), st.dates().map(str)))
def test_a_date_is_what_its_pattern_and_format_say(text: str) -> None:
    try:
        datetime.strptime(text, "%Y-%m-%d")
        valid = bool(re.match(IsoDate.PATTERN, text))
    except ValueError:
        valid = False
    assert _loads(IsoDate(), text) is valid, text


@SETTINGS
@given(st.one_of(st.text(alphabet="0123456789:.+Z", max_size=10), st.times().map(str)))
def test_a_time_is_what_its_pattern_says(text: str) -> None:
    assert _loads(ClockTime(), text) is bool(re.match(ClockTime.PATTERN, text)), text


@SETTINGS
@given(
    st.one_of(
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.isoformat()),
        st.text(alphabet="0123456789-:TZ+.", max_size=30),
    )
)
def test_a_moment_is_taken_when_it_matches_and_is_a_real_date(text: str) -> None:
    try:
        datetime.fromisoformat(re.sub(r"(\.[0-9]{6})[0-9]+", r"\1", text))
        real = True
    except ValueError:
        real = False
    expected = real and bool(re.match(DATE_TIME_PATTERN, text))
    assert _loads(Moment(), text) is expected, text


def test_the_earliest_and_latest_moments_stay_at_the_edge() -> None:
    assert Moment().deserialize("0001-01-01T00:00:00+01:00") == datetime.min.replace(tzinfo=UTC)
    assert Moment().deserialize("9999-12-31T23:59:59-01:00") == datetime.max.replace(tzinfo=UTC)


@pytest.fixture
def token(session: Any) -> str:
    create_facility("RS-POLA", "RS Pola", "hospital", "3274", Actor.system("test"))
    return issue_credential("RS-POLA", Actor.system("test")).token


def _auth(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.mark.parametrize(
    ("cursor", "status"),
    [("0_0", 200), ("9999999999999999_999999999999999999", 200), ("%%%", 422), ("1_", 422)],
)
def test_any_cursor_of_the_pattern_is_a_place_in_the_list(
    client: FlaskClient, token: str, cursor: str, status: int
) -> None:
    assert re.match(CURSOR_PATTERN, cursor) is not None if status == 200 else True
    response = client.get(f"/api/v1/births?cursor={cursor}", headers=_auth(token))
    assert response.status_code == status
    if status == 422:
        assert response.get_json()["errors"][0] == {
            "field": "cursor",
            "code": "cursor_unknown",
            "message": "Cursor tidak dikenal; pakai next_cursor dari halaman sebelumnya.",
        }


@pytest.mark.parametrize(
    ("key", "status"),
    [("a", 201), ("~" * 200, 201), ("~" * 201, 400), ("a b", 400), ("kunci\u00e9", 400)],
)
def test_an_idempotency_key_is_what_its_pattern_says(
    client: FlaskClient, token: str, app: Flask, key: str, status: int
) -> None:
    assert bool(re.match(KEY_PATTERN, key)) is (status == 201)
    headers = _auth(token, **{"Idempotency-Key": key.encode().decode("latin-1")})
    response = client.post("/api/v1/births", json=sandbox_report("recorded"), headers=headers)
    assert response.status_code == status


URI = jsonschema_rs.Draft4Validator({"type": "string", "format": "uri"}, validate_formats=True)
_URL_CHARS = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%<>\" "


@SETTINGS
@given(st.one_of(st.from_regex(WEBHOOK_URL_PATTERN, fullmatch=True), st.text(_URL_CHARS)))
def test_a_webhook_url_of_the_pattern_is_a_uri(text: str) -> None:
    """The pattern admits only what format "uri" does (schemathesis checks the format with
    jsonschema-rs): a URL outside the format is refused."""
    if re.match(WEBHOOK_URL_PATTERN, text):
        assert URI.is_valid(text), text


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://rs.example/kelahiran?x=1#a", 200),
        ("http://10.0.0.1:8080/hook", 200),
        ("http://[2606:4700::1111]:8080/hook", 200),
        ("http://[2001:db8::1::2]/hook", 422),
        ("", 422),
        ("https://", 422),
        ("https://rs\u00e9.example/", 422),
        ("https://rs.example/a#b#c", 422),
        ("ftp://rs.example/", 422),
    ],
)
def test_a_webhook_url_is_taken_exactly_when_it_matches(
    client: FlaskClient, token: str, url: str, status: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No DNS here: every name is taken as resolving to a public address, so that what is
    # seen is the pattern's judgement (tests/facilities/test_webhook.py has the addresses').
    monkeypatch.setattr(
        outbound, "resolve_host", lambda host, port: [host if host[0].isdigit() else PUBLIC]
    )
    assert bool(re.match(WEBHOOK_URL_PATTERN, url)) is (status == 200)
    response = client.put("/api/v1/webhook", json={"url": url}, headers=_auth(token))
    assert response.status_code == status
