"""Keeping the region list in the database; the office and signing officer of each."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.db import db
from akta_service.core.errors import FieldError, InvalidInput, PermissionDenied
from akta_service.regions.data import REGIONS
from akta_service.regions.models import District, Region


def ensure_regions() -> list[Region]:
    """Insert the known regions and kecamatan that are missing; never overwrite edits."""
    regions = []
    for data in REGIONS:
        region = db.session.get(Region, data["code"])
        if region is None:
            region = Region(
                code=data["code"],
                name=data["name"],
                office_name=data["office_name"],
                issue_place=data["issue_place"],
            )
            db.session.add(region)
        for suffix, name in data["districts"].items():
            code = data["code"] + suffix
            if db.session.get(District, code) is None:
                db.session.add(District(code=code, region_code=data["code"], name=name))
        regions.append(region)
    db.session.flush()
    return regions


@dataclass(frozen=True)
class OfficeDetails:
    """What the akta prints about the office and its Pejabat Pencatatan Sipil."""

    office_name: str
    issue_place: str
    signing_officer_name: str | None
    signing_officer_nip: str | None
    signing_officer_title: str | None


def nip_problem(nip: str) -> str | None:
    """The message code of why `nip` is not a Nomor Induk Pegawai; None when it is one.

    The 18 digits are the birth date (YYYYMMDD), the month of appointment (YYYYMM),
    1 or 2 for the sex, and a serial number.
    """
    if len(nip) != 18 or not nip.isascii() or not nip.isdigit():
        return "nip_length"
    try:
        born = date(int(nip[0:4]), int(nip[4:6]), int(nip[6:8]))
    except ValueError:
        return "nip_birth_date"
    appointed = (int(nip[8:12]), int(nip[12:14]))
    if not 1 <= appointed[1] <= 12 or appointed <= (born.year, born.month):
        return "nip_appointed"
    if nip[14] not in "12":
        return "nip_sex"
    return None


def _cleaned(details: OfficeDetails) -> OfficeDetails:
    def optional(value: str | None) -> str | None:
        return (value or "").strip() or None

    nip = optional(details.signing_officer_nip)
    return OfficeDetails(
        office_name=details.office_name.strip(),
        issue_place=details.issue_place.strip(),
        signing_officer_name=optional(details.signing_officer_name),
        # Written as on a staff card, "19700315 199503 1 002", or without the spaces.
        signing_officer_nip=nip.replace(" ", "") if nip else None,
        signing_officer_title=optional(details.signing_officer_title),
    )


#: The longest each detail may be (the columns' lengths).
MAX_LENGTHS = {
    "office_name": 200,
    "issue_place": 120,
    "signing_officer_name": 200,
    "signing_officer_title": 200,
}


def _problems(details: OfficeDetails) -> list[FieldError]:
    errors = [
        FieldError(name, "too_long", {"max_length": limit})
        for name, limit in MAX_LENGTHS.items()
        if len(getattr(details, name) or "") > limit
    ]
    if not details.office_name:
        errors.append(FieldError("office_name", "office_name_required"))
    if not details.issue_place:
        errors.append(FieldError("issue_place", "issue_place_required"))
    nip = details.signing_officer_nip
    if nip is not None and (problem := nip_problem(nip)) is not None:
        errors.append(FieldError("signing_officer_nip", problem))
    if nip is None and details.signing_officer_name is not None:
        errors.append(FieldError("signing_officer_nip", "officer_nip_required"))
    if details.signing_officer_name is None and nip is not None:
        errors.append(FieldError("signing_officer_name", "officer_name_required"))
    return errors


def update_office(region: Region, details: OfficeDetails, actor: Actor) -> dict[str, Any]:
    """Change the region's office and signing officer; returns what changed (old, new).

    Akta produced from now on print the new details; PDFs already issued keep theirs.
    """
    if actor.is_staff and region.code not in actor.region_codes:
        raise PermissionDenied("region_not_yours", region=region.name)
    details = _cleaned(details)
    errors = _problems(details)
    if errors:
        raise InvalidInput("office_invalid", errors=errors)
    changed = {}
    for name, value in asdict(details).items():
        if getattr(region, name) != value:
            changed[name] = [getattr(region, name), value]
            setattr(region, name, value)
    if changed:
        db.session.flush()
        record("office:region:update", actor, data={"region": region.code, "changes": changed})
    return changed
