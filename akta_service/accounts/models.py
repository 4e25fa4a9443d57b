"""Staff users, their role and the regions they serve."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from akta_service.core.actors import STAFF_ROLES, Actor, Role
from akta_service.core.db import Base, UTCDateTime, enum_column, utcnow
from akta_service.regions.models import Region

user_regions = sa.Table(
    "user_regions",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("region_code", sa.ForeignKey("regions.code"), primary_key=True),
)

_STAFF_ROLE_LIST = ", ".join(f"'{r}'" for r in sorted(STAFF_ROLES))


class User(Base):
    """A member of the office staff."""

    __tablename__ = "users"
    __table_args__ = (sa.CheckConstraint(f"role IN ({_STAFF_ROLE_LIST})", "role_is_staff"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(60), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    #: Only a staff role (CHECK role_is_staff); the column takes any Role, like every enum.
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    #: argon2id hash; never the password itself.
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    #: Nomor Induk Pegawai, for officers whose name appears on an akta.
    nip: Mapped[str | None] = mapped_column(sa.String(18))
    #: The officer's NIK: their identity at the signing service (a pejabat who signs has one).
    nik: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Wrong passwords in a row; reaching the limit locks the account for a while.
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    regions: Mapped[list[Region]] = relationship(secondary=user_regions)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username} {self.role}>"

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)

    def as_actor(self) -> Actor:
        """This user as the journal records them."""
        return Actor.staff(self.id, self.full_name, self.role, (r.code for r in self.regions))
