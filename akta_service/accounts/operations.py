"""Creating staff accounts and checking passwords."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from akta_service.accounts.models import User
from akta_service.core.actors import STAFF_ROLES, Actor, Role
from akta_service.core.audit import record
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError, FieldError, InvalidInput
from akta_service.regions.models import Region
from akta_service.regions.operations import nip_problem

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
        errors.append(FieldError("role", "invalid_role", {"allowed": sorted(STAFF_ROLES)}))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", "too_short", {"min_length": MIN_PASSWORD_LENGTH}))
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        errors.append(FieldError("username", "username_taken"))
    regions = list(db.session.scalars(sa.select(Region).where(Region.code.in_(region_codes))))
    missing = sorted(set(region_codes) - {r.code for r in regions})
    if missing:
        errors.append(FieldError("regions", "unknown_regions", {"regions": missing}))
    elif not region_codes:
        errors.append(FieldError("regions", "regions_required"))
    if errors:
        raise InvalidInput("user_invalid", errors=errors)
    user = User(
        username=username,
        full_name=full_name,
        role=Role(role),
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


#: Wrong passwords in a row before the account is locked, and for how long.
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class LoginRefused(DomainError):
    status = 401
    code = "login_refused"


def log_in(username: str, password: str) -> User:
    """The user, when the password is right and the account neither inactive nor locked.

    Every attempt is journalled; the message never says which of name or password was wrong.
    """
    user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
    now = utcnow()
    wrong = LoginRefused("wrong_login")
    if user is None:
        _hasher.hash(password)  # the same work as a real check: no timing hint
        record("office:user:login_failed", Actor.system("login"), data={"username": username[:60]})
        raise wrong
    actor = user.as_actor()
    if user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        record("office:user:login_locked", actor, data={"until": user.locked_until.isoformat()})
        raise LoginRefused("account_locked", minutes=minutes)
    if not check_password(user, password) or not user.active:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        record("office:user:login_failed", actor, data={"locked": user.locked_until is not None})
        raise wrong
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record("office:user:login", actor)
    return user


def set_active(user: User, active: bool, actor: Actor) -> None:
    """Deactivate (or reactivate) an account; a deactivated user's session ends at once."""
    if actor.is_user(user.id) and not active:
        raise InvalidInput("deactivate_self", errors=[FieldError("active", "self")])
    user.active = active
    db.session.flush()
    record(
        "office:user:activate" if active else "office:user:deactivate",
        actor,
        data={"user_id": user.id},
    )


def reset_password(user: User, actor: Actor) -> str:
    """A new random password, shown once to the admin to hand over; unlocks the account."""
    password = secrets.token_urlsafe(12)
    user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    record("office:user:reset_password", actor, data={"user_id": user.id})
    return password


def signed_in_user(user_id: str) -> User | None:
    """The active account a staff session belongs to (Flask-Login's user loader)."""
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def set_signing_identity(user: User, nik: str, nip: str, actor: Actor) -> None:
    """Link a pejabat's account to their identity at the signing service (NIK) and the NIP
    their certificate names: the akta they sign names them."""
    errors = []
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        errors.append(FieldError("nik", "nik_length"))
    problem = nip_problem(nip)
    if problem:
        errors.append(FieldError("nip", problem))
    if errors:
        raise InvalidInput("signing_identity_invalid", errors=errors)
    user.nik, user.nip = nik, nip
    db.session.flush()
    # The NIK is personal data: the journal says that it changed, not what it is.
    record("office:user:signing_identity", actor, data={"user_id": user.id, "nip": nip})
