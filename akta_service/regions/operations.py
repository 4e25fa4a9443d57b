"""Keeping the region list in the database."""

from __future__ import annotations

from akta_service.core.db import db
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
