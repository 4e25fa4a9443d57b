"""Who acts on a report: a person, a facility's system, or the service itself."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    """Roles known to the workflow; the YAML may name only these."""

    SYSTEM = "system"
    INFORMANT = "informant"
    FACILITY = "facility"
    OPERATOR = "operator"
    PEJABAT = "pejabat"
    ADMIN = "admin"
    VIEWER = "viewer"


#: Roles held by civil-registry staff, who act only within their regions.
STAFF_ROLES = frozenset({Role.OPERATOR, Role.PEJABAT, Role.ADMIN, Role.VIEWER})

#: How a staff member's journal reference begins: "user:12". Only this module writes or
#: reads that shape; everything else asks an Actor, or :func:`user_id_of`.
_USER_PREFIX = "user:"


@dataclass(frozen=True)
class Actor:
    """The one doing something, as written into the journal."""

    #: Stable reference: "user:12", "facility:RS001", "informant:<tracking code>", "system".
    #: Journal rows keep it as written; compare actors through the fields below instead.
    id: str
    name: str
    role: Role
    #: kab/kota codes a staff member serves.
    region_codes: frozenset[str] = field(default_factory=frozenset)
    #: The facility a facility credential belongs to.
    facility_code: str | None = None
    #: The staff user acting (None for anyone else).
    user_id: int | None = None
    #: The report an informant acts on, by its tracking code (None before it has one).
    tracking_code: str | None = None

    @classmethod
    def system(cls, name: str = "Sistem") -> Actor:
        return cls(id="system", name=name, role=Role.SYSTEM)

    @classmethod
    def informant(cls, tracking_code: str, name: str) -> Actor:
        return cls(
            id=f"informant:{tracking_code}",
            name=name,
            role=Role.INFORMANT,
            tracking_code=tracking_code,
        )

    @classmethod
    def facility(cls, code: str, name: str) -> Actor:
        return cls(id=f"facility:{code}", name=name, role=Role.FACILITY, facility_code=code)

    @classmethod
    def staff(cls, user_id: int, name: str, role: Role, region_codes: Iterable[str]) -> Actor:
        """A member of the office staff, serving the given kab/kota."""
        return cls(
            id=f"{_USER_PREFIX}{user_id}",
            name=name,
            role=role,
            region_codes=frozenset(region_codes),
            user_id=user_id,
        )

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def is_user(self, user_id: int | None) -> bool:
        """Whether this is the staff user with that id (never true for None)."""
        return user_id is not None and self.user_id == user_id


def user_id_of(reference: str) -> int | None:
    """The staff user an actor reference (a journal's or a credential's) names, if any."""
    number = reference.removeprefix(_USER_PREFIX)
    if number == reference or not number.isdigit():
        return None
    return int(number)
