"""`akta facilities ...` and `akta credentials ...`: facilities and their API tokens."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from akta_service.core.actors import Actor
from akta_service.core.db import db
from akta_service.core.errors import DomainError
from akta_service.core.transaction import unit_of_work
from akta_service.facilities.models import ApiCredential
from akta_service.facilities.operations import (
    create_facility,
    issue_credential,
    revoke_credential,
    set_webhook,
)
from akta_service.notifications.models import Delivery

CLI_ACTOR = Actor.system("akta command line")


def _fail(error: DomainError) -> click.ClickException:
    problems = "; ".join(f"{e.field}: {e.message}" for e in error.detail.get("errors", []))
    return click.ClickException(problems or error.message)


@click.group("facilities")
def facilities_group() -> None:
    """Hospitals, puskesmas, clinics and midwives that report through the API."""


@facilities_group.command("create")
@click.option("--code", required=True, help="Short code, e.g. RSUD-GJ.")
@click.option("--name", required=True)
@click.option(
    "--kind", required=True, type=click.Choice(["hospital", "puskesmas", "clinic", "midwife"])
)
@click.option("--region", required=True, help="kab/kota code, e.g. 3274.")
@with_appcontext
def facilities_create(code: str, name: str, kind: str, region: str) -> None:
    """Register a facility."""

    try:
        with unit_of_work():
            facility = create_facility(code, name, kind, region, CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"Fasilitas {facility.code} ({facility.name}) terdaftar.")


@facilities_group.command("webhook")
@click.option("--code", required=True)
@click.option("--url", default=None, help="Callback URL; leave out to remove the webhook.")
@with_appcontext
def facilities_webhook(code: str, url: str | None) -> None:
    """Set where the facility's status changes are POSTed; prints the signing secret once."""

    try:
        with unit_of_work():
            secret = set_webhook(code, url, CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from exc
    if secret is None:
        click.echo(f"Webhook {code.upper()} dihapus.")
        return
    click.echo(f"Webhook {code.upper()} -> {url}")
    click.echo("Rahasia HMAC (hanya ditampilkan sekali):")
    click.echo(secret)


@facilities_group.command("deliveries")
@click.option("--code", required=True)
@click.option("--limit", default=20, show_default=True)
@with_appcontext
def facilities_deliveries(code: str, limit: int) -> None:
    """The facility's webhook delivery log, newest first."""

    rows = db.session.scalars(
        sa.select(Delivery)
        .where(Delivery.facility_code == code.upper())
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    for row in rows:
        click.echo(
            f"{row.created_at:%Y-%m-%d %H:%M:%S}  {row.event:<32} {row.status:<8} "
            f"percobaan {row.attempts}  {row.last_result or '-'}"
        )


@click.group("credentials")
def credentials_group() -> None:
    """API credentials of facilities."""


@credentials_group.command("create")
@click.option("--facility", "facility_code", required=True)
@click.option("--label", default="", help="Which system uses it, e.g. 'SIMRS produksi'.")
@with_appcontext
def credentials_create(facility_code: str, label: str) -> None:
    """Issue a token; it is shown only this once."""

    try:
        with unit_of_work():
            issued = issue_credential(facility_code, CLI_ACTOR, label)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"Kredensial {issued.credential.key_id} untuk {issued.credential.facility_code}.")
    click.echo("Token (hanya ditampilkan sekali, simpan sekarang):")
    click.echo(issued.token)


@credentials_group.command("revoke")
@click.argument("key_id")
@with_appcontext
def credentials_revoke(key_id: str) -> None:
    """Stop a credential from working."""

    try:
        with unit_of_work():
            revoke_credential(key_id, CLI_ACTOR)
    except DomainError as exc:
        raise _fail(exc) from exc
    click.echo(f"Kredensial {key_id} dicabut.")


@credentials_group.command("list")
@with_appcontext
def credentials_list() -> None:
    """Every credential with its facility, last use and revocation."""

    rows = db.session.scalars(sa.select(ApiCredential).order_by(ApiCredential.id))
    for row in rows:
        used = (
            row.last_used_at.isoformat(timespec="seconds") if row.last_used_at else "belum pernah"
        )
        state = f"dicabut {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "aktif"
        click.echo(f"{row.key_id}  {row.facility_code:<12} {state:<20} terakhir dipakai: {used}")
