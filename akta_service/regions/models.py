"""Regions (kab/kota) with their office and Pejabat Pencatatan Sipil, and their kecamatan."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from akta_service.core.db import Base


class Region(Base):
    """A kabupaten/kota: its own registration counter, office and signing officer."""

    __tablename__ = "regions"
    __table_args__ = (
        sa.CheckConstraint("length(code) = 4 AND ltrim(code, '0123456789') = ''", "code_4_digits"),
        sa.CheckConstraint(
            "signing_officer_nip IS NULL OR (length(signing_officer_nip) = 18 "
            "AND ltrim(signing_officer_nip, '0123456789') = '')",
            "nip_18_digits",
        ),
    )

    #: Kepmendagri kab/kota code, e.g. 3274 for Kota Cirebon.
    code: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: Name of the Disdukcapil office, shown on the akta and in refusals.
    office_name: Mapped[str] = mapped_column(sa.String(200))
    #: City printed after "dikeluarkan di".
    issue_place: Mapped[str] = mapped_column(sa.String(120))
    signing_officer_name: Mapped[str | None] = mapped_column(sa.String(200))
    #: Nomor Induk Pegawai: 18 digits.
    signing_officer_nip: Mapped[str | None] = mapped_column(sa.String(18))
    signing_officer_title: Mapped[str | None] = mapped_column(sa.String(200))

    districts: Mapped[list[District]] = relationship(
        back_populates="region", order_by="District.code"
    )

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class District(Base):
    """A kecamatan inside a region."""

    __tablename__ = "districts"
    __table_args__ = (
        sa.CheckConstraint("length(code) = 6 AND ltrim(code, '0123456789') = ''", "code_6_digits"),
    )

    #: Six digits: the region's four plus the kecamatan's two.
    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))

    region: Mapped[Region] = relationship(back_populates="districts")

    def __repr__(self) -> str:
        return f"<District {self.code} {self.name}>"
