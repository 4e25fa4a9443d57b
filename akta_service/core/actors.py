"""Who acts on a report: a person, a facility's system, or the service itself."""

from __future__ import annotations

import enum
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


@dataclass(frozen=True)
class Actor:
    """The one doing something, as written into the journal."""

    #: Stable reference: "user:12", "facility:RS001", "informant:<tracking code>", "system".
    id: str
    name: str
    role: Role
    #: kab/kota codes a staff member serves.
    region_codes: frozenset[str] = field(default_factory=frozenset)
    #: The facility a facility credential belongs to.
    facility_code: str | None = None

    @classmethod
    def system(cls, name: str = "Sistem") -> Actor:
        return cls(id="system", name=name, role=Role.SYSTEM)

    @classmethod
    def informant(cls, tracking_code: str, name: str) -> Actor:
        return cls(id=f"informant:{tracking_code}", name=name, role=Role.INFORMANT)

    @classmethod
    def facility(cls, code: str, name: str) -> Actor:
        return cls(id=f"facility:{code}", name=name, role=Role.FACILITY, facility_code=code)

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES
