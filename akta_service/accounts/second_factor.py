"""The staff's second factor: TOTP codes (RFC 6238, pyotp) and one-time recovery codes.

The TOTP secret is kept encrypted (Fernet, with a key derived from the app's secret key by
HKDF), recovery codes as argon2 hashes. A code is good once: the time step of the last
accepted code is kept, and only a later step is accepted. Wrong codes are counted like
wrong passwords, apart from them (core.lockout), so a known password buys no more guesses.
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from markupsafe import Markup

from akta_service.accounts.models import RecoveryCode, User
from akta_service.accounts.operations import end_sessions, ensure_manages, minutes_left
from akta_service.core.actors import Actor
from akta_service.core.audit import record
from akta_service.core.config import current_settings
from akta_service.core.db import db, utcnow
from akta_service.core.errors import DomainError
from akta_service.core.lockout import Counter

log = logging.getLogger(__name__)

#: The name authenticator apps show above the code.
ISSUER = "Disdukcapil Akta"
#: Codes of the step before and after the current one are accepted too (clock drift).
VALID_WINDOW = 1
RECOVERY_CODES = 10
MAX_FAILED_CODES = 5
CODE_LOCKOUT = timedelta(minutes=15)
#: Recovery codes carry 60 random bits: argon2id at OWASP's lowest cost is plenty, and ten of
#: them are checked in one sign-in.
_recovery_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"

CODE_GUESSES = Counter(
    User, User.totp_failures, User.totp_locked_until, limit=MAX_FAILED_CODES, lockout=CODE_LOCKOUT
)


class SecondFactorRefused(DomainError):
    """A TOTP or recovery code that does not open the account (wrong, used, or locked)."""

    status = 401
    code = "second_factor_refused"


def _fernet() -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"akta staff totp secret"
    ).derive(current_settings().secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _secret_of(user: User) -> str | None:
    """The account's TOTP secret; None without one, or when it was encrypted under another
    secret key (then the account must enrol again: `akta users reset-2fa`)."""
    if user.totp_secret is None:
        return None
    try:
        return _fernet().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        log.warning("the TOTP secret of user %s does not decrypt with this secret key", user.id)
        return None


def pending_secret(user: User) -> str:
    """The secret the user is enrolling with: made (and kept, encrypted) on the first visit of
    the enrolment page, the same on a reload until confirmed."""
    if user.has_second_factor:
        raise SecondFactorRefused("totp_already_enrolled")
    secret = _secret_of(user)
    if secret is None:
        secret = pyotp.random_base32()
        user.totp_secret = _fernet().encrypt(secret.encode()).decode()
        db.session.flush()
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The QR code of `uri` as inline SVG, drawn here (no image from anywhere else)."""
    import segno  # the enrolment page's QR code only

    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno's own markup of our own address


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _use_step(user: User, step: int) -> bool:
    """Mark the step used; False when it (or a later one) already was: a replayed code."""
    statement = (
        sa.update(User)
        .where(User.id == user.id)
        .where(sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    used = db.session.execute(statement).scalar() is not None
    db.session.expire(user, ["totp_last_step"])
    return used


def _digits(code: str) -> str:
    return "".join(ch for ch in code if not ch.isspace())[:12]


def _take_guess(user: User) -> int:
    guess = CODE_GUESSES.take_guess(user, utcnow())
    if guess is None:
        record("office:user:second_factor_locked", user.as_actor())
        raise SecondFactorRefused(
            "second_factor_locked", minutes=minutes_left(user.totp_locked_until)
        )
    return guess


def _refuse(user: User, guess: int) -> SecondFactorRefused:
    record(
        "office:user:second_factor_failed",
        user.as_actor(),
        data={"locked": guess >= MAX_FAILED_CODES},
    )
    return SecondFactorRefused("wrong_second_factor")


def _accept_totp(user: User, secret: str, code: str) -> bool:
    step = _matching_step(secret, _digits(code), utcnow())
    return step is not None and _use_step(user, step)


def confirm_enrolment(user: User, code: str) -> list[str]:
    """The first code from the app proves the enrolment; answers the recovery codes, to be
    shown once (only their hashes are kept)."""
    secret = pending_secret(user)
    guess = _take_guess(user)
    if not _accept_totp(user, secret, code):
        raise _refuse(user, guess)
    CODE_GUESSES.clear(user)
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    db.session.flush()
    end_sessions(user)  # a session opened before the second factor existed ends
    record("office:user:second_factor_enrol", user.as_actor())
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODES)
    ]
    user.recovery_codes = [RecoveryCode(code_hash=_recovery_hasher.hash(c)) for c in codes]
    return codes


def _normalised_recovery(code: str) -> str | None:
    letters = "".join(ch for ch in code.lower() if ch.isalnum())
    if len(letters) != 12 or letters.isdigit():
        return None
    return "-".join(letters[i : i + 4] for i in range(0, 12, 4))


def _use_recovery_code(user: User, code: str) -> bool:
    for row in db.session.scalars(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ):
        try:
            _recovery_hasher.verify(row.code_hash, code)
        except (VerificationError, InvalidHashError):
            continue
        # The UPDATE decides: of two sign-ins with the same code at once, one wins.
        taken = db.session.execute(
            sa.update(RecoveryCode)
            .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
            .values(used_at=utcnow())
            .returning(RecoveryCode.id)
            .execution_options(synchronize_session=False)
        ).scalar()
        db.session.expire(row)
        return taken is not None
    return False


def check_second_factor(user: User, code: str) -> None:
    """Sign-in's second step: a TOTP code, or one of the recovery codes (used up by it).

    Raises SecondFactorRefused when the code is wrong, already used, or the account's codes
    are locked after MAX_FAILED_CODES wrong ones.
    """
    secret = _secret_of(user)
    if secret is None or not user.has_second_factor:
        raise SecondFactorRefused("wrong_second_factor")
    guess = _take_guess(user)
    recovery = _normalised_recovery(code)
    if recovery is not None and _use_recovery_code(user, recovery):
        left = sum(1 for r in user.recovery_codes if r.used_at is None)
        record("office:user:recovery_code_used", user.as_actor(), data={"left": left})
    elif recovery is not None or not _accept_totp(user, secret, code):
        raise _refuse(user, guess)
    CODE_GUESSES.clear(user)


def require_totp(user: User, code: str) -> None:
    """For an action that needs the second factor again (signing akta, with the signing
    passphrase besides, never instead): the current TOTP code of `user`, good once, counted
    like a sign-in's. Recovery codes do not serve here. Raises SecondFactorRefused."""
    secret = _secret_of(user)
    if secret is None or not user.has_second_factor:
        raise SecondFactorRefused("second_factor_missing")
    guess = _take_guess(user)
    if not _accept_totp(user, secret, code):
        raise _refuse(user, guess)
    CODE_GUESSES.clear(user)


def reset_second_factor(user: User, actor: Actor) -> None:
    """An admin removes the account's TOTP and recovery codes (a lost phone): its sessions
    end, and a pejabat or admin enrols again at the next sign-in."""
    ensure_manages(actor, user)
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes = []
    db.session.flush()
    CODE_GUESSES.clear(user)
    end_sessions(user)
    record("office:user:second_factor_reset", actor, data={"user_id": user.id})


def current_code(user: User) -> str:
    """The account's TOTP code now (the demo's `akta users totp-code`; never in production)."""
    secret = _secret_of(user)
    if secret is None:
        raise SecondFactorRefused("second_factor_missing")
    return pyotp.TOTP(secret).now()


def enrol_directly(user: User, actor: Actor) -> None:
    """Give the account a TOTP secret at once, without the enrolment page (the demo seed)."""
    user.totp_secret = _fernet().encrypt(pyotp.random_base32().encode()).decode()
    user.totp_enabled_at = utcnow()
    db.session.flush()
    record("office:user:second_factor_enrol", actor, data={"user_id": user.id})
