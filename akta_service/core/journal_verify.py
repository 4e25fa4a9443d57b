"""Checking the journal: every chain recomputed from its entries, every seal against them."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from akta_service.core.audit import JournalEntry, chain_key, chain_of, entry_digest
from akta_service.core.config import Settings
from akta_service.core.journal_seal import (
    JournalSeal,
    chain_heads,
    heads_digest,
    key_id,
    load_seal_key,
    signature_holds,
)

_ENTRIES = cast(sa.Table, JournalEntry.__table__)


class Problem(enum.StrEnum):
    """What is wrong at a broken link."""

    #: The entry's fields no longer give its hash: it was changed after it was written.
    CHANGED = "changed"
    #: The entry does not name the entry before it: one was removed or put in between.
    LINK = "link"
    #: The entry names an earlier entry than the one before it: two chained to one head.
    FORK = "fork"
    #: An entry without a hash after the chain began: written around the journal's code.
    UNHASHED = "unhashed"
    #: The chains no longer end in the heads a seal signed: rewritten after sealing.
    SEAL = "seal"
    #: A seal whose signature does not hold, or by a key this office does not have.
    SIGNATURE = "signature"


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain (or a seal that does not hold)."""

    problem: Problem
    #: "report:<id>" or a realm ("office:user"); for a seal, "seal".
    chain: str
    #: The entry (or seal) where the chain breaks.
    entry_id: int
    expected: str | None
    found: str | None


@dataclass
class Verification:
    """What `verify_journal` found."""

    entries: int = 0
    #: Entries written before the chains existed, not covered by them.
    legacy: int = 0
    chains: int = 0
    seals: int = 0
    breaks: list[Break] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.breaks


@dataclass
class _Chain:
    head: str | None = None
    seen: set[str] = field(default_factory=set)
    broken: bool = False


def _check_entry(chain: _Chain, name: str, row: Any) -> Break | None:
    values = dict(row._mapping)
    if values["entry_hash"] is None:
        if chain.head is None:
            return None  # legacy: before the chain began
        return Break(Problem.UNHASHED, name, values["id"], chain.head, None)
    if values["prev_hash"] != chain.head:
        problem = Problem.FORK if values["prev_hash"] in chain.seen else Problem.LINK
        return Break(problem, name, values["id"], chain.head, values["prev_hash"])
    recomputed = entry_digest(values)
    if recomputed != values["entry_hash"]:
        return Break(Problem.CHANGED, name, values["id"], recomputed, values["entry_hash"])
    chain.seen.add(recomputed)
    chain.head = recomputed
    return None


def verify_chains(session: Session, result: Verification) -> None:
    """Walk every chain in the order it was written; note each chain's first break."""
    chains: dict[str, _Chain] = {}
    rows = session.execute(
        sa.select(_ENTRIES).order_by(_ENTRIES.c.id).execution_options(yield_per=1000)
    )
    for row in rows:
        result.entries += 1
        name = chain_key(row.report_id, row.chain or chain_of(row.report_id, row.action))
        chain = chains.setdefault(name, _Chain())
        if row.entry_hash is None and chain.head is None:
            result.legacy += 1
        if chain.broken:
            continue
        found = _check_entry(chain, name, row)
        if found is not None:
            chain.broken = True
            result.breaks.append(found)
    result.chains = sum(1 for chain in chains.values() if chain.head is not None)


def verify_seals(session: Session, settings: Settings, result: Verification) -> None:
    """Each seal's signature, and the chains' heads at its moment against what it signed."""
    public_key = load_seal_key(settings).public_key()
    ours = key_id(public_key)
    stored = (
        sa.select(JournalSeal)
        .order_by(JournalSeal.sealed_through)
        .execution_options(populate_existing=True)  # as stored, not as this session saw it
    )
    for seal in session.scalars(stored):
        result.seals += 1
        if seal.key_id != ours or not signature_holds(seal, public_key):
            result.breaks.append(Break(Problem.SIGNATURE, "seal", seal.id, ours, seal.key_id))
            continue
        found = heads_digest(seal.sealed_through, chain_heads(session, seal.sealed_through))
        if found != seal.digest:
            result.breaks.append(Break(Problem.SEAL, "seal", seal.id, seal.digest, found))


def verify_journal(session: Session, settings: Settings) -> Verification:
    """Recompute every chain and check every seal."""
    result = Verification()
    verify_chains(session, result)
    verify_seals(session, settings, result)
    return result
