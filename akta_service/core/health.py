"""Liveness (`/healthz`: the database answers) and readiness (`/readyz`: schema at head,
stored files readable and writable with their master keys, and the state of what the service
leans on besides its database)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue

from akta_service.core.db import read_only_connection
from akta_service.core.resources import resource_dir
from akta_service.core.storage import backend_storage
from akta_service.core.storage_crypto import (
    StorageDecryptionError,
    keyring,
    unknown_master_key,
    unwrap,
    wrap,
)
from akta_service.core.transaction import undone

bp = Blueprint("health", __name__)

#: name -> the state of something the service calls out to (Dukcapil, say), as a word for
#: operators. The features register theirs with :func:`dependency`. A dependency that is
#: down does not make the service unready: reports are still taken, and the work waits.
DEPENDENCIES: dict[str, Callable[[], str]] = {}


def dependency(name: str) -> Callable[[Callable[[], str]], Callable[[], str]]:
    """Report `fn()` as the state of `name` on /readyz."""

    def register(fn: Callable[[], str]) -> Callable[[], str]:
        DEPENDENCIES[name] = fn
        return fn

    return register


#: name -> the state of something of the service's own it cannot work without besides the
#: database and the storage (the seal keys), as a dict whose "state" is "ok" or says why
#: not; any other state makes the service unready. The features register theirs with
#: :func:`readiness`.
READINESS: dict[str, Callable[[], dict[str, Any]]] = {}


def readiness(name: str) -> Callable[[Callable[[], dict[str, Any]]], Callable[[], dict[str, Any]]]:
    """Report `fn()` under `name` on /readyz; a state other than "ok" answers 503."""

    def register(fn: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        READINESS[name] = fn
        return fn

    return register


def migration_heads() -> tuple[set[str], set[str]]:
    """(revisions applied to the database, head revisions shipped with the code)."""
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    shipped = set(ScriptDirectory.from_config(config).get_heads())
    with read_only_connection() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    return applied, shipped


def storage_state() -> dict[str, Any]:
    """Whether a file can be written and read back (then undone) in the configured backend,
    the current master key seals and opens, and every master key the file keys are wrapped
    by is configured."""
    settings = current_app.config["AKTA_SETTINGS"]
    ring = keyring(settings)
    state: dict[str, Any] = {
        "backend": str(settings.storage_backend),
        "master_key": ring.current.id,
    }
    probe, payload = f".readyz-{secrets.token_hex(8)}", secrets.token_bytes(32)
    try:
        # The backend itself (no file key written: on SQLite that would wait for the lock).
        with undone():
            store = backend_storage(current_app)
            store.put(probe, payload)
            readable = store.get(probe) == payload
            store.delete(probe)
        wrapped = wrap(probe, payload, ring.current)
        readable = readable and unwrap(probe, ring.current.id, wrapped, ring) == payload
        unknown = unknown_master_key(ring)
    except (OSError, sa.exc.SQLAlchemyError, StorageDecryptionError) as exc:
        return {**state, "state": "unavailable", "error": type(exc).__name__}
    if unknown:
        return {**state, "state": "master_key_missing", "missing_master_key": unknown}
    return {**state, "state": "ok" if readable else "unreadable"}


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        with read_only_connection() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="unavailable", database="unreachable", error=type(exc).__name__), 503
    return jsonify(status="ok", database="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    try:
        applied, shipped = migration_heads()
    except sa.exc.SQLAlchemyError as exc:
        return jsonify(status="not_ready", database="unreachable", error=type(exc).__name__), 503
    body: dict[str, Any] = {
        "database_revision": sorted(applied),
        "code_revision": sorted(shipped),
        "dependencies": {name: state() for name, state in DEPENDENCIES.items()},
    }
    if applied != shipped:
        return jsonify(status="not_ready", migrations="behind", **body), 503
    body["storage"] = storage_state()
    body.update({name: state() for name, state in READINESS.items()})
    if any(body[name]["state"] != "ok" for name in ("storage", *READINESS)):
        return jsonify(status="not_ready", migrations="at_head", **body), 503
    return jsonify(status="ready", migrations="at_head", **body)
