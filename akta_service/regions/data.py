"""The kab/kota this service knows (Kepmendagri codes) and their kecamatan."""

from __future__ import annotations

from typing import TypedDict


class RegionData(TypedDict):
    code: str
    name: str
    office_name: str
    issue_place: str
    districts: dict[str, str]


REGIONS: list[RegionData] = [
    {
        "code": "3274",
        "name": "Kota Cirebon",
        "office_name": "Dinas Kependudukan dan Pencatatan Sipil Kota Cirebon",
        "issue_place": "Cirebon",
        "districts": {
            "01": "Kejaksan",
            "02": "Lemahwungkuk",
            "03": "Harjamukti",
            "04": "Pekalipan",
            "05": "Kesambi",
        },
    },
    {
        "code": "3672",
        "name": "Kota Cilegon",
        "office_name": "Dinas Kependudukan dan Pencatatan Sipil Kota Cilegon",
        "issue_place": "Cilegon",
        "districts": {
            "01": "Cibeber",
            "02": "Cilegon",
            "03": "Pulomerak",
            "04": "Ciwandan",
            "05": "Jombang",
            "06": "Gerogol",
            "07": "Purwakarta",
            "08": "Citangkil",
        },
    },
    {
        "code": "3673",
        "name": "Kota Serang",
        "office_name": "Dinas Kependudukan dan Pencatatan Sipil Kota Serang",
        "issue_place": "Serang",
        "districts": {
            "01": "Serang",
            "02": "Kasemen",
            "03": "Walantaka",
            "04": "Curug",
            "05": "Cipocok Jaya",
            "06": "Taktakan",
        },
    },
]
