"""Creating staff accounts and checking passwords."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

from akta_service.accounts.models import User, user_regions
from akta_service.core.actors import STAFF_ROLES, Actor, Role
from akta_service.core.audit import record
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError, FieldError, InvalidInput
from akta_service.core.lockout import Counter
from akta_service.regions.models import Region
from akta_service.regions.operations import nip_problem

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


class AccountNotManaged(DomainError):
    """An admin acts only on accounts all of whose regions the admin serves."""

    status = 404
    code = "account_not_managed"


def manages(actor: Actor, user: User) -> bool:
    """Whether `actor` may manage `user`: the service itself (the CLI, the seed) always; an
    admin when every region of the account is one the admin serves."""
    if not actor.is_staff:
        return True
    if actor.role != Role.ADMIN:
        return False
    codes = {r.code for r in user.regions}
    return bool(codes) and codes <= actor.region_codes


def ensure_manages(actor: Actor, user: User) -> None:
    if not manages(actor, user):
        raise AccountNotManaged("account_not_managed")


def managed_users(actor: Actor) -> list[User]:
    """The accounts `actor` manages, by user name."""
    outside = (
        sa.select(user_regions.c.user_id)
        .where(user_regions.c.user_id == User.id)
        .where(user_regions.c.region_code.not_in(sorted(actor.region_codes)))
    )
    query = sa.select(User).order_by(User.username)
    if actor.is_staff:
        query = query.where(~sa.exists(outside), User.regions.any())
    return list(db.session.scalars(query))


def managed_user(actor: Actor, user_id: int) -> User:
    """The account with this id, when `actor` manages it (else not found, as if absent)."""
    user = db.session.get(User, user_id)
    if user is None:
        raise AccountNotManaged("account_not_managed")
    ensure_manages(actor, user)
    return user


def create_user(
    username: str,
    full_name: str,
    role: str,
    password: str,
    region_codes: list[str],
    created_by: Actor,
    *,
    must_change_password: bool = False,
) -> User:
    """Create a staff account serving the given regions.

    :param must_change_password: the password was chosen by someone else (an admin): the
        user must replace it at the first sign-in.
    """
    errors = []
    if role not in {str(r) for r in STAFF_ROLES}:
        errors.append(FieldError("role", "invalid_role", {"allowed": sorted(STAFF_ROLES)}))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("password", "too_short", {"min_length": MIN_PASSWORD_LENGTH}))
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        errors.append(FieldError("username", "username_taken"))
    regions = list(db.session.scalars(sa.select(Region).where(Region.code.in_(region_codes))))
    missing = sorted(set(region_codes) - {r.code for r in regions})
    not_served = sorted(set(region_codes) - created_by.region_codes)
    if missing:
        errors.append(FieldError("regions", "unknown_regions", {"regions": missing}))
    elif not region_codes:
        errors.append(FieldError("regions", "regions_required"))
    elif created_by.is_staff and not_served:
        errors.append(FieldError("regions", "regions_not_served", {"regions": not_served}))
    if errors:
        raise InvalidInput("user_invalid", errors=errors)
    user = User(
        username=username,
        full_name=full_name,
        role=Role(role),
        password_hash=_hasher.hash(password),
        regions=regions,
        must_change_password=must_change_password,
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

#: Wrong passwords are counted in the user's row, one UPDATE per guess (core.lockout).
PASSWORD_GUESSES = Counter(
    User, User.failed_logins, User.locked_until, limit=MAX_FAILED_LOGINS, lockout=LOCKOUT
)


class LoginRefused(DomainError):
    status = 401
    code = "login_refused"


def minutes_left(until: datetime | None) -> int:
    """Whole minutes, rounded up, until a lock ends (at least 1)."""
    if until is None:
        return 1
    return max(1, int((until - utcnow()).total_seconds() // 60) + 1)


def log_in(username: str, password: str) -> User:
    """The user, when the password is right and the account neither inactive nor locked.

    Every attempt is journalled; the message never says which of name or password was wrong.
    A second factor, when the account has one, is asked next (accounts.second_factor).
    """
    name = username.strip()
    # No username holds a NUL, and PostgreSQL cannot compare text that does.
    user = (
        None if "\x00" in name else db.session.scalar(sa.select(User).where(User.username == name))
    )
    wrong = LoginRefused("wrong_login")
    if user is None:
        _hasher.hash(password)  # the same work as a real check: no timing hint
        typed = name.replace("\x00", "")[:60]
        record("office:user:login_failed", Actor.system("login"), data={"username": typed})
        raise wrong
    actor = user.as_actor()
    guess = PASSWORD_GUESSES.take_guess(user, utcnow())
    if guess is None:
        until = user.locked_until
        record("office:user:login_locked", actor, data={"until": until and until.isoformat()})
        raise LoginRefused("account_locked", minutes=minutes_left(until))
    if not check_password(user, password) or not user.active:
        record("office:user:login_failed", actor, data={"locked": guess >= MAX_FAILED_LOGINS})
        raise wrong
    PASSWORD_GUESSES.clear(user)
    return user


def complete_login(user: User) -> None:
    """Password (and second factor, if any) accepted: the sign-in is journalled."""
    user.last_login_at = utcnow()
    record("office:user:login", user.as_actor())


def end_sessions(user: User) -> None:
    """Every session of the account ends now: its session version goes up by one."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["session_version"])


def log_out(user: User) -> None:
    """Signing out ends every session of the account, a copied cookie's too."""
    end_sessions(user)
    record("office:user:logout", user.as_actor())


def set_active(user: User, active: bool, actor: Actor) -> None:
    """Deactivate (or reactivate) an account; a deactivated user's sessions end at once."""
    ensure_manages(actor, user)
    if actor.is_user(user.id) and not active:
        raise InvalidInput("deactivate_self", errors=[FieldError("active", "self")])
    user.active = active
    db.session.flush()
    if not active:
        end_sessions(user)
    record(
        "office:user:activate" if active else "office:user:deactivate",
        actor,
        data={"user_id": user.id},
    )


def reset_password(user: User, actor: Actor) -> str:
    """A new random password, shown once to the admin to hand over; the user must replace it
    at the next sign-in, so the admin never knows a working password. Unlocks the account and
    ends its sessions."""
    ensure_manages(actor, user)
    password = secrets.token_urlsafe(12)
    user.password_hash = _hasher.hash(password)
    user.must_change_password = True
    db.session.flush()
    PASSWORD_GUESSES.clear(user)
    end_sessions(user)
    record("office:user:reset_password", actor, data={"user_id": user.id})
    return password


def change_password(user: User, current: str, new: str, repeated: str) -> None:
    """The user replaces their own password; every other session of theirs ends."""
    errors = []
    if not check_password(user, current):
        errors.append(FieldError("current_password", "current_password_wrong"))
    if len(new) < MIN_PASSWORD_LENGTH:
        errors.append(FieldError("new_password", "too_short", {"min_length": MIN_PASSWORD_LENGTH}))
    elif new != repeated:
        errors.append(FieldError("repeat_password", "passwords_differ"))
    elif new == current:
        errors.append(FieldError("new_password", "password_unchanged"))
    if errors:
        raise InvalidInput("password_change_refused", errors=errors)
    user.password_hash = _hasher.hash(new)
    user.must_change_password = False
    db.session.flush()
    end_sessions(user)
    record("office:user:change_password", user.as_actor())


def signed_in_user(session_id: str) -> User | None:
    """The active account a staff session belongs to (Flask-Login's user loader): the id
    carries the session version, and a session of an older version is signed out."""
    user_id, _, version = session_id.partition(".")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def set_signing_identity(user: User, nik: str, nip: str, actor: Actor) -> None:
    """Link a pejabat's account to their identity at the signing service (NIK) and the NIP
    their certificate names: the akta they sign names them."""
    ensure_manages(actor, user)
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


class SigningState(enum.StrEnum):
    """What the signing service says of a pejabat's signing (the admin's page shows it)."""

    NO_IDENTITY = "no_identity"
    NOT_ENROLLED = "not_enrolled"
    #: Enrolled, but the certificate names another NIP than the account's.
    NIP_MISMATCH = "nip_mismatch"
    LOCKED = "locked"
    ACTIVE = "active"
    UNREACHABLE = "unreachable"


class SigningUnlockRefused(DomainError):
    """The officer's signing could not be unlocked (no identity, not enrolled, no answer)."""

    status = 409
    code = "signing_unlock_refused"


def signing_state(user: User) -> SigningState:
    """Whether the account can sign now, as the signing service sees its NIK and NIP."""
    if not (user.nik and user.nip):
        return SigningState.NO_IDENTITY
    # The signing client (pyHanko) loads when an officer's signing is looked at.
    from akta_service.signing.client import SigningServiceError
    from akta_service.signing.gateway import signing_service

    try:
        locked, certificate_nip = signing_service().state(user.nik)
    except SigningServiceError as error:
        if error.code == "credential_unknown":
            return SigningState.NOT_ENROLLED
        return SigningState.UNREACHABLE
    if certificate_nip != user.nip:
        return SigningState.NIP_MISMATCH
    return SigningState.LOCKED if locked else SigningState.ACTIVE


def unlock_signing(user: User, actor: Actor) -> None:
    """An admin lets a pejabat locked out by five wrong passphrases sign again."""
    ensure_manages(actor, user)
    if not (user.nik and user.nip):
        raise SigningUnlockRefused("signing_unlock_no_identity")
    from akta_service.signing.client import SigningServiceError
    from akta_service.signing.gateway import signing_service

    try:
        signing_service().unlock(user.nik)
    except SigningServiceError as error:
        if error.code == "credential_unknown":
            raise SigningUnlockRefused("signing_unlock_not_enrolled") from None
        raise SigningUnlockRefused("signing_service_unavailable") from None
    record("office:user:signing_unlock", actor, data={"user_id": user.id, "nip": user.nip})
