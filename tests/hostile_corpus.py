"""Input an attacker or a broken client sends, in one place: values for any field, and whole
bodies and query strings built of them, raw bytes included (text that is not UTF-8).

The tests of tests/test_hostile_corpus.py send every entry to the API and to every public
form; no answer may be a 5xx.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_from_bytes

#: Text a person never types, and numbers beyond any column (name -> value).
TEXT: dict[str, str] = {
    "nul": "Budi\x00Santoso",
    "bell-escape": "\x07\x1b[31mmerah",
    "c1-control": "Siti\x85Aminah",
    "line-breaks": "baris\r\nbaru\ttab",
    "rtl-override": "\u202egpj.exe",
    "zero-width": "\u200b\u200d\ufeff",
    "emoji": "\U0001f476\U0001f3fd",
    "beyond-int64": "99999999999999999999",
    "beyond-int32": "2147483648",
    "below-int32": "-2147483649",
    "huge-number": "9" * 5_000,
    "superscript-digit": "\u00b2",
    "arabic-digits": "\u0661\u0662\u0663",
    "float-overflow": "1e309",
    "nan": "NaN",
    "long": "A" * 20_000,
    "format-string": "%s%n{0}{__class__}",
    "sql": "' OR 1=1; --",
    "html": '"><script>alert(1)</script>',
    "path": "../../../etc/passwd",
    "impossible-date": "31-02-99999",
    "empty": "",
    "blank": "   ",
}

#: Bytes that are not UTF-8, as a broken client or an attacker puts them in a form or a URL.
NOT_UTF8: dict[str, bytes] = {
    "invalid-byte": b"\xff\xfe",
    "overlong-slash": b"\xc0\xaf",
    "utf8-surrogate": b"\xed\xa0\x80",
    "truncated": b"Budi\xe2\x82",
    "latin-1": b"Jos\xe9",
}

#: JSON values that are no text: numbers beyond every column, floats that are not numbers.
JSON_VALUES: dict[str, Any] = {
    "beyond-int64": 10**20,
    "below-int64": -(10**20),
    "beyond-int32": 2**31,
    "float": 3.5,
    "huge-float": 1e308,
    "true": True,
    "list": [1, 2],
    "object": {"a": 1},
    "null": None,
}

#: Raw JSON documents that are not what any JSON parser should take quietly.
JSON_BODIES: dict[str, bytes] = {
    "not-utf8": b'{"child": {"name": "\xff\xfe"}}',
    "lone-surrogate-escape": b'{"child": {"name": "\\ud800"}}',
    "infinity": b'{"child": {"birth_order": Infinity}}',
    "nan": b'{"child": {"weight_grams": NaN}}',
    "huge-exponent": b'{"child": {"birth_order": 1e99999}}',
    "huge-integer": b'{"child": {"birth_order": ' + b"9" * 5_000 + b"}}",
    "deep": b"[" * 50_000 + b"]" * 50_000,
    "truncated": b'{"child": {"name": "Bu',
    "not-json": b"<xml/>",
    "empty": b"",
    "array": b"[]",
    "string": b'"report"',
    "duplicate-keys": b'{"child": 1, "child": {"name": "x"}}',
}

#: Every hostile value a text box can carry, as bytes.
FORM_VALUES: dict[str, bytes] = {
    **{name: value.encode() for name, value in TEXT.items()},
    **NOT_UTF8,
}

LONG_FIELD_NAME = "f" * 10_000


def _quoted(value: str | bytes) -> str:
    return quote_from_bytes(value.encode() if isinstance(value, str) else value, safe="")


def urlencoded(fields: dict[str, str | bytes]) -> bytes:
    """An application/x-www-form-urlencoded body of names and values, raw bytes allowed."""
    return "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in fields.items()).encode()


def query_string(fields: dict[str, str | bytes]) -> str:
    """A query string of names and values, raw bytes percent-encoded as they are."""
    return urlencoded(fields).decode()


def multipart(
    fields: dict[str, str | bytes],
    files: dict[str, tuple[str | bytes, bytes]] | None = None,
    boundary: str = "hostileboundary",
) -> tuple[bytes, str]:
    """A multipart/form-data body (raw bytes in names, values and file names allowed) and
    its content type."""

    def _bytes(value: str | bytes) -> bytes:
        return value.encode() if isinstance(value, str) else value

    parts = []
    for name, value in fields.items():
        parts.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (boundary.encode(), _bytes(name), _bytes(value))
        )
    for name, (filename, content) in (files or {}).items():
        parts.append(
            b'--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n%s\r\n"
            % (boundary.encode(), _bytes(name), _bytes(filename), content)
        )
    body = b"".join(parts) + b"--%s--\r\n" % boundary.encode()
    return body, f"multipart/form-data; boundary={boundary}"


def json_with(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    """A copy of `document` with the value at `path` replaced."""
    copy = json.loads(json.dumps(document))
    target = copy
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copy


def leaf_paths(document: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every leaf value of a JSON document."""
    if isinstance(document, dict):
        return [p for k, v in document.items() for p in leaf_paths(v, (*prefix, k))]
    if isinstance(document, list):
        return [p for i, v in enumerate(document) for p in leaf_paths(v, (*prefix, i))]
    return [prefix]
