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

#: Roles that cannot work without a second factor.
SECOND_FACTOR_ROLES = frozenset({Role.PEJABAT, Role.ADMIN})

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
    #: Set when an admin chose or reset the password: the user must pick their own first.
    must_change_password: Mapped[bool] = mapped_column(
        sa.Boolean, default=False, server_default=sa.false()
    )
    #: Part of every session's id: raising it ends all of the account's sessions at once.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    #: The TOTP secret, encrypted with a key derived from the app's secret key (Fernet).
    totp_secret: Mapped[str | None] = mapped_column(sa.String(300))
    #: When the TOTP enrolment was confirmed with a code; a secret without it is pending.
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The time step of the last TOTP code accepted: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    #: Wrong second-factor codes in a row, and the lock they set (apart from passwords').
    totp_failures: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    totp_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    regions: Mapped[list[Region]] = relationship(secondary=user_regions)
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

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
        """The session's id of this user: the account and its session version, so that
        raising the version makes every session cookie issued before it worthless."""
        return f"{self.id}.{self.session_version}"

    @property
    def needs_second_factor(self) -> bool:
        """Pejabat and admins must sign in with a TOTP code too."""
        return self.role in SECOND_FACTOR_ROLES

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None

    def held_at(self) -> str | None:
        """The page a signed-in user is kept on until they have done what it asks, if any."""
        if self.must_change_password:
            return "office.change_password_page"
        if self.needs_second_factor and not self.has_second_factor:
            return "office.totp_enrol"
        return None

    def as_actor(self) -> Actor:
        """This user as the journal records them."""
        return Actor.staff(self.id, self.full_name, self.role, (r.code for r in self.regions))


class RecoveryCode(Base):
    """A one-time code that stands in for a TOTP code when the phone is lost."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: argon2id hash; the code itself is shown once, at enrolment.
    code_hash: Mapped[str] = mapped_column(sa.String(200))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="recovery_codes")

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id} used={self.used_at is not None}>"
