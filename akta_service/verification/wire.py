"""The JSON shape of the Dukcapil dataclasses, shared by the sandbox server and the HTTP client.

A dataclass travels as a JSON object with one key per field: dates as ISO
strings ("2026-11-18"), Match values as their strings ("match", "no_match",
"not_found"), absent optional values as null, a dataclass inside one as an object
of its own and a tuple of them as a list. One codec on both sides keeps them from
drifting apart.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")


class WireError(ValueError):
    """A JSON body does not have the expected shape; the message names the field, not its value."""


def to_wire(instance: DataclassInstance) -> dict[str, Any]:
    """The dataclass as a JSON-ready dict."""
    return {
        field.name: _encode(getattr(instance, field.name)) for field in dataclasses.fields(instance)
    }


def from_wire(cls: type[T], data: Any, *, allow_unknown: bool = False) -> T:
    """Build `cls` from a decoded JSON object, checking every field's type.

    :param allow_unknown: ignore keys `cls` does not have (a client reading a newer server's
        answers); a server refuses them so that a typo in a claim is not silently dropped.
    """
    if not isinstance(data, dict):
        raise WireError("expected a JSON object")
    fields = dataclasses.fields(cls)
    unknown = sorted(set(data) - {field.name for field in fields})
    if unknown and not allow_unknown:
        raise WireError(f"unknown field(s): {', '.join(map(str, unknown))}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in fields:
        if field.name in data:
            values[field.name] = _decode(
                hints[field.name], data[field.name], field.name, allow_unknown
            )
        elif field.default is dataclasses.MISSING:
            raise WireError(f"{field.name}: required")
    return cls(**values)


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_wire(value)
    if isinstance(value, tuple):
        return [_encode(item) for item in value]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    return value


def _decode(kind: Any, value: Any, name: str, allow_unknown: bool = False) -> Any:
    arguments = typing.get_args(kind)
    if isinstance(kind, types.UnionType) and type(None) in arguments:
        if value is None:
            return None
        (kind,) = (argument for argument in arguments if argument is not type(None))
    if value is None:
        raise WireError(f"{name}: must not be null")
    if dataclasses.is_dataclass(kind):
        try:
            return from_wire(kind, value, allow_unknown=allow_unknown)  # type: ignore[arg-type]
        except WireError as exc:  # "family_card.head_nik: required"
            inner = str(exc)
            named = inner.split(" ", 1)[0].endswith(":")
            raise WireError(f"{name}.{inner}" if named else f"{name}: {inner}") from exc
    if typing.get_origin(kind) is tuple:  # tuple[X, ...]: a JSON list of X
        if not isinstance(value, list):
            raise WireError(f"{name}: expected a list")
        return tuple(
            _decode(arguments[0], item, f"{name}[{index}]", allow_unknown)
            for index, item in enumerate(value)
        )
    if kind is date:
        # fromisoformat also takes "20261118" and week dates; the wire format is YYYY-MM-DD only.
        if not isinstance(value, str) or len(value) != 10:
            raise WireError(f"{name}: expected a date as YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise WireError(f"{name}: expected a date as YYYY-MM-DD") from exc
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        try:
            return kind(value)
        except (ValueError, TypeError) as exc:
            allowed = ", ".join(str(member.value) for member in kind)
            raise WireError(f"{name}: expected one of {allowed}") from exc
    # bool is an int in Python but not a number in the wire format, and vice versa.
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind is str and isinstance(value, str):
        return value
    raise WireError(f"{name}: expected {getattr(kind, '__name__', kind)}")
