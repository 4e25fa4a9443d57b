"""The journal's daily seal: the head of every chain, digested and signed by the office.

A chain's hashes show an entry changed; someone who may write the database could change
an entry and compute every hash after it again. The seal stops that: each day the
heads of all chains (as of local midnight) are digested and signed with the office's
Ed25519 seal key, which the database never holds, so a chain rewritten afterwards no
longer ends in the head the seal signed. Seals are append-only, like the journal.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy.orm import Mapped, Session, mapped_column

from akta_service.core.audit import JournalEntry, chain_key
from akta_service.core.clock import local_now, local_timezone
from akta_service.core.config import ConfigError, Settings, current_settings
from akta_service.core.db import Base, BigIntKey, UTCDateTime, db, utcnow
from akta_service.core.sweep import SweepTimes, sweeper

logger = logging.getLogger(__name__)

#: A seal covers what was written before its moment; it is made this long after, so that
#: no transaction that wrote an entry before then is still open.
SEAL_MARGIN = timedelta(minutes=5)

_ENTRIES = cast(sa.Table, JournalEntry.__table__)


class JournalSeal(Base):
    """The signed digest of every chain's head as of one moment (normally local midnight)."""

    __tablename__ = "journal_seals"

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    #: The seal covers the entries written before this moment.
    sealed_through: Mapped[datetime] = mapped_column(UTCDateTime, unique=True)
    #: How many chains had a head then.
    chains: Mapped[int] = mapped_column(sa.Integer)
    #: SHA-256 (hex) over the moment and every chain's name, head entry id and head hash.
    digest: Mapped[str] = mapped_column(sa.String(64))
    #: Ed25519 signature of the digest, base64.
    signature: Mapped[str] = mapped_column(sa.String(88))
    #: Which seal key signed (:func:`key_id`).
    key_id: Mapped[str] = mapped_column(sa.String(16))
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<JournalSeal {self.id} through {self.sealed_through} {self.digest[:12]}>"


@sa.event.listens_for(JournalSeal, "before_update")
@sa.event.listens_for(JournalSeal, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, target: JournalSeal) -> None:
    raise PermissionError(f"journal seals are append-only: {target!r}")


# The seal key ----------------------------------------------------------------------------------


def load_seal_key(settings: Settings) -> Ed25519PrivateKey:
    """The office's seal key (AKTA_JOURNAL_SEAL_KEY). Outside production it is created
    once; in production it must be there. The one place that touches the key, so that
    signing can move to a token without changing its callers."""
    path = settings.journal_seal_key_path
    if not path.exists():
        if settings.is_production:
            raise ConfigError(
                f"AKTA_JOURNAL_SEAL_KEY: no seal key at {path}; create one with "
                f"`openssl genpkey -algorithm ed25519 -out {path.name}` and keep a copy offline"
            )
        _create_key(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"AKTA_JOURNAL_SEAL_KEY: {path} is not an Ed25519 private key")
    return key


def _create_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process made it first
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name of a seal key: the first 16 hex digits of its public key's SHA-256."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


# Sealing -----------------------------------------------------------------------------------------


def chain_heads(session: Session, through: datetime) -> list[tuple[str, int, str]]:
    """Every chain's newest hashed entry written before `through`: (chain, entry id,
    entry hash), by chain name."""
    newest = (
        sa.select(sa.func.max(_ENTRIES.c.id).label("id"))
        .where(_ENTRIES.c.entry_hash.is_not(None), _ENTRIES.c.occurred_at < through)
        .group_by(_ENTRIES.c.report_id, _ENTRIES.c.chain)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            _ENTRIES.c.report_id, _ENTRIES.c.chain, _ENTRIES.c.id, _ENTRIES.c.entry_hash
        ).join(newest, newest.c.id == _ENTRIES.c.id)
    )
    return sorted((chain_key(r.report_id, r.chain), r.id, r.entry_hash) for r in rows)


def heads_digest(through: datetime, heads: list[tuple[str, int, str]]) -> str:
    """The SHA-256 (hex) a seal signs: the moment, then one line per chain head."""
    digest = hashlib.sha256(f"akta-journal-seal v1\n{through.isoformat()}\n".encode())
    for chain, entry_id, entry_hash in heads:
        digest.update(f"{chain} {entry_id} {entry_hash}\n".encode())
    return digest.hexdigest()


def seal_journal(through: datetime, settings: Settings | None = None) -> JournalSeal:
    """Seal the chains as they stood at `through` (once: an existing seal is returned)."""
    existing = db.session.scalar(
        sa.select(JournalSeal).where(JournalSeal.sealed_through == through)
    )
    if existing is not None:
        return existing
    key = load_seal_key(settings or current_settings())
    heads = chain_heads(db.session(), through)
    digest = heads_digest(through, heads)
    seal = JournalSeal(
        sealed_through=through,
        chains=len(heads),
        digest=digest,
        signature=base64.b64encode(key.sign(digest.encode())).decode(),
        key_id=key_id(key.public_key()),
    )
    db.session.add(seal)
    db.session.flush()
    # The log leaves the database server: a copy of the digest a database superuser
    # cannot reach to delete along with the seal.
    logger.info(
        "journal sealed through %s: %d chains, digest %s, key %s",
        through.isoformat(),
        seal.chains,
        digest,
        seal.key_id,
    )
    return seal


def signature_holds(seal: JournalSeal, public_key: Ed25519PublicKey) -> bool:
    """Whether the seal's signature is the key's over its digest."""
    try:
        public_key.verify(base64.b64decode(seal.signature), seal.digest.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


def last_midnight(now: datetime | None = None) -> datetime:
    """The start of today in the office's time zone: what the daily seal covers up to."""
    local = now.astimezone(local_timezone()) if now else local_now()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


_SEALED_KEY = "akta_journal_sealed_through"


@sweeper
def seal_the_day(times: SweepTimes) -> int:
    """Make the daily seal once the day is over (and the margin passed); no job is queued."""
    through = last_midnight(times.now)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if times.now < through + SEAL_MARGIN or app.extensions.get(_SEALED_KEY) == through:
        return 0
    try:
        with db.session.begin_nested():
            seal_journal(through)
    except ConfigError as exc:
        logger.error("the journal was not sealed: %s", exc)  # once a day, not every sweep
    except sa.exc.IntegrityError:
        pass  # another process sealed it at the same moment
    app.extensions[_SEALED_KEY] = through
    return 0
