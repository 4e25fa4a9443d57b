"""Creating staff accounts and checking passwords."""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from akta_service.accounts.models import User
from akta_service.core.actors import STAFF_ROLES, Actor, Role
from akta_service.core.audit import record
from akta_service.core.db import db
from akta_service.core.errors import InvalidInput
from akta_service.regions.models import Region

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


def create_user(
    username: str,
    full_name: str,
    role: str,
    password: str,
    region_codes: list[str],
    created_by: Actor,
) -> User:
    """Create a staff account serving the given regions."""
    errors = []
    if role not in {str(r) for r in STAFF_ROLES}:
        allowed = ", ".join(sorted(STAFF_ROLES))
        errors.append(
            {
                "field": "role",
                "code": "invalid_role",
                "message": f"Peran harus salah satu dari: {allowed}",
            }
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(
            {
                "field": "password",
                "code": "too_short",
                "message": f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter",
            }
        )
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        errors.append(
            {"field": "username", "code": "taken", "message": "Nama pengguna sudah dipakai"}
        )
    regions = list(db.session.scalars(sa.select(Region).where(Region.code.in_(region_codes))))
    missing = sorted(set(region_codes) - {r.code for r in regions})
    if missing or not region_codes:
        errors.append(
            {
                "field": "regions",
                "code": "unknown_region",
                "message": f"Wilayah tidak dikenal: {', '.join(missing) or '(kosong)'}"
                " (jalankan `akta seed` untuk memuat daftar wilayah)",
            }
        )
    if errors:
        raise InvalidInput("Data pengguna belum benar", errors=errors)
    user = User(
        username=username,
        full_name=full_name,
        role=Role(role).value,
        password_hash=_hasher.hash(password),
        regions=regions,
    )
    db.session.add(user)
    db.session.flush()
    record("office:user:create", created_by, data={"user_id": user.id, "role": role})
    return user


def check_password(user: User, password: str) -> bool:
    """True when the password is the user's; rehashes when the parameters changed."""
    try:
        _hasher.verify(user.password_hash, password)
    except VerificationError:
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True
