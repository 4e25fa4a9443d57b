"""How a facility's system is recognised on the API: a bearer token of a live credential."""

from __future__ import annotations

from functools import wraps
from typing import Any, TypeVar, cast

from flask import g, request

from akta_service.core.errors import DomainError
from akta_service.facilities.operations import authenticate

F = TypeVar("F")


class Unauthorised(DomainError):
    status = 401
    code = "unauthorised"


def require_facility(view: F) -> F:
    """The request must carry a live facility credential; it is kept in `g.credential`."""

    @wraps(cast(Any, view))
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        credential = authenticate(token.strip()) if scheme.lower() == "bearer" else None
        if credential is None:
            raise Unauthorised("credential_required")
        g.credential = credential
        return cast(Any, view)(*args, **kwargs)

    return cast(F, wrapper)
