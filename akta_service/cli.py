"""The `akta` command: database, demo data, the server, the workflow diagram, users."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from akta_service.app import create_app
from akta_service.core.actors import STAFF_ROLES, Role
from akta_service.core.config import ConfigError, JobsMode, SigningServiceMode


def _create_app() -> object:
    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def cli() -> None:
    """Brojol Aja Klalen: online birth registration."""


@cli.command("seed")
@with_appcontext
def seed_command() -> None:
    """Create the regions, and in development the demo accounts and reports (idempotent)."""
    from akta_service.demo.seed import print_logins, seed
    from akta_service.jobs.queue import ManualRunner, run_pending

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # A command's process ends when it is done: run the jobs it queued before leaving.
    app.extensions["akta_jobs"] = ManualRunner(app)
    result = seed(app.config["AKTA_SETTINGS"])
    run_pending(app)
    print_logins(result)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the service with waitress."""
    import waitress

    from akta_service.core.db import db
    from akta_service.demo.seed import demo_logins_text

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"Brojol Aja Klalen berjalan di http://{host}:{port}/")
    logins = demo_logins_text()
    if logins:
        click.echo(logins)
    # Release the start-up session: an open SQLite transaction would block every request.
    db.session.remove()
    from akta_service.akta.seal_keys import announce_seal_keys

    # The seal token opens once, now: a missing token or a wrong PIN is said at once (and
    # on /readyz), not at the first akta issued.
    click.echo(announce_seal_keys())
    settings = app.config["AKTA_SETTINGS"]
    if settings.signing_service == SigningServiceMode.EMBEDDED:
        from akta_service.signing.gateway import signing_service

        # The sandbox signing service, its own process: it says where the keys live.
        signing_service(app)
    if settings.jobs == JobsMode.INPROCESS:
        from akta_service.core.jobs import run_job
        from akta_service.jobs.background import start_sweeper

        run_job(app, "jobs.sweep", ())  # pick up work left from the last run at once
        start_sweeper(app)
    from akta_service.signing.gateway import close_signing_service
    from akta_service.verification.gateway import close_dukcapil

    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="akta")
    finally:
        close_dukcapil(app)  # the Dukcapil adapter's open connections, on Ctrl-C or SIGTERM
        close_signing_service(app)


@cli.command("worker")
@click.option("--concurrency", default=2, show_default=True, type=int)
@click.option("--beat/--no-beat", default=False, help="Also run the periodic sweep (one worker).")
@click.option("--loglevel", default="INFO", show_default=True)
@with_appcontext
def worker_command(concurrency: int, beat: bool, loglevel: str) -> None:
    """Start a Celery worker (AKTA_JOBS=celery, broker AKTA_BROKER_URL)."""
    from akta_service.akta.operations import load_issue_step
    from akta_service.core.collector import keep_loaded_out_of_collector
    from akta_service.jobs.celery_app import make_celery

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    argv = ["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", "--pool=prefork"]
    if beat:
        argv.append("--beat")
    celery = make_celery(app)
    # Loaded once here, before the pool forks, rather than in each job process on its first
    # akta; then kept out of the collector, so that no full collection pauses an akta.
    load_issue_step()
    kept = keep_loaded_out_of_collector()
    click.echo(
        f"Pekerja: jalur penerbitan akta dimuat; {kept:,} objek disisihkan dari pengumpul "
        "sampah (gc.freeze) sebelum proses pekerja dibuat",
        err=True,
    )
    celery.worker_main(argv=argv)


@cli.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Queue every report whose verification is past due (lost jobs, Dukcapil retries)."""
    from akta_service.core.jobs import run_job

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"{run_job(app, 'jobs.sweep', ())} laporan dijadwalkan ulang")


@cli.group("journal")
def journal_group() -> None:
    """The journal: its hash chains and the office's daily seals."""


@journal_group.command("verify")
@with_appcontext
def journal_verify_command() -> None:
    """Recompute every chain and check every seal; exit 1 at the first broken link."""
    from akta_service.core.db import db
    from akta_service.core.journal_verify import verify_journal

    result = verify_journal(db.session(), current_app.config["AKTA_SETTINGS"])
    click.echo(
        f"{result.entries} entri dalam {result.chains} rantai ({result.legacy} entri lama "
        f"tanpa rantai), {result.seals} segel"
    )
    for found in result.breaks:
        click.echo(
            f"RUSAK ({found.problem}): {found.chain}, "
            f"{'segel' if found.chain == 'seal' else 'entri'} {found.entry_id}: "
            f"seharusnya {found.expected or '—'}, tercatat {found.found or '—'}",
            err=True,
        )
    if not result.intact:
        click.get_current_context().exit(1)
    click.echo("Jurnal utuh.")


@journal_group.command("seal")
@with_appcontext
def journal_seal_command() -> None:
    """Make the daily seal of every chain's head as of last midnight (once a day)."""
    from akta_service.core.journal_seal import last_midnight, seal_journal
    from akta_service.core.transaction import unit_of_work

    try:
        with unit_of_work():
            seal = seal_journal(last_midnight())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Segel {seal.id} sampai {seal.sealed_through.isoformat()}: {seal.chains} rantai, "
        f"kunci {seal.key_id}, ringkasan {seal.digest}"
    )


@cli.group("workflow")
def workflow_group() -> None:
    """The birth-registration workflow."""


@workflow_group.command("diagram")
def workflow_diagram() -> None:
    """Print the workflow as a Mermaid state diagram."""
    from akta_service.workflow.definition import birth_registration
    from akta_service.workflow.diagram import mermaid

    click.echo(mermaid(birth_registration()), nl=False)


@cli.group("users")
def users_group() -> None:
    """Staff accounts."""


@users_group.command("create")
@click.option("--username", required=True)
@click.option("--name", "full_name", required=True, help="Full name as shown in the journal.")
@click.option(
    "--role", required=True, type=click.Choice([str(r) for r in Role if r in STAFF_ROLES])
)
@click.option("--region", "regions", multiple=True, help="kab/kota code; repeat for several.")
@click.password_option()
@with_appcontext
def users_create(
    username: str, full_name: str, role: str, regions: tuple[str, ...], password: str
) -> None:
    """Create a staff account (the first admin is made this way)."""
    from akta_service.accounts.operations import create_user
    from akta_service.core.actors import Actor
    from akta_service.core.errors import InvalidInput
    from akta_service.core.transaction import unit_of_work

    settings = current_app.config["AKTA_SETTINGS"]
    try:
        with unit_of_work():
            user = create_user(
                username,
                full_name,
                role,
                password,
                list(regions or settings.region_codes),
                Actor.system("akta users create"),
            )
    except InvalidInput as exc:
        problems = "; ".join(f"{e.field}: {e.message}" for e in exc.detail["errors"])
        raise click.ClickException(problems) from exc
    click.echo(f"Pengguna {user.username} ({user.role}) dibuat.")


@click.command("grant-app-role")
@click.option("--role", default="akta_app", show_default=True, help="The service's own role.")
@click.option(
    "--password",
    envvar="AKTA_APP_DB_PASSWORD",
    default=None,
    help="Its password (or AKTA_APP_DB_PASSWORD); none: left as it is.",
)
@with_appcontext
def grant_app_role_command(role: str, password: str | None) -> None:
    """Create the service's PostgreSQL role and grant it what it needs, as the schema's
    owner (AKTA_MIGRATION_DATABASE_URL): it may not change the journal."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    from akta_service.core.db_roles import RoleRefused, grant_app_role

    settings = current_app.config["AKTA_SETTINGS"]
    engine = sa.create_engine(
        settings.migration_database_url, poolclass=NullPool, hide_parameters=True
    )
    try:
        with engine.begin() as connection:
            grant_app_role(connection, role, password)
    except RoleRefused as exc:
        raise click.ClickException(f"peran {role} ditolak: {exc}") from exc
    click.echo(f"Peran {role} siap: tidak dapat mengubah atau menghapus jurnal.")


@users_group.command("totp-code")
@click.argument("username")
@with_appcontext
def users_totp_code(username: str) -> None:
    """The current TOTP code of a demo account (outside production only)."""
    import sqlalchemy as sa

    from akta_service.accounts.models import User
    from akta_service.accounts.second_factor import SecondFactorRefused, current_code
    from akta_service.core.db import db

    if current_app.config["AKTA_SETTINGS"].is_production:
        raise click.ClickException("totp-code is for demo and development instances only")
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    try:
        click.echo(current_code(user))
    except SecondFactorRefused as exc:
        raise click.ClickException(f"{username} has no TOTP second factor") from exc


@users_group.command("reset-2fa")
@click.argument("username")
@with_appcontext
def users_reset_2fa(username: str) -> None:
    """Remove an account's TOTP and recovery codes: it enrols again at the next sign-in."""
    import sqlalchemy as sa

    from akta_service.accounts.models import User
    from akta_service.accounts.second_factor import reset_second_factor
    from akta_service.core.actors import Actor
    from akta_service.core.db import db
    from akta_service.core.transaction import unit_of_work

    with unit_of_work():
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no user {username}")
        reset_second_factor(user, Actor.system("akta users reset-2fa"))
    click.echo(f"Verifikasi dua langkah {username} diatur ulang.")


@users_group.command("signing-identity")
@click.option("--username", required=True)
@click.option("--nik", required=True, help="The officer's NIK at the signing service.")
@click.option("--nip", required=True, help="The NIP their certificate names (18 digits).")
@with_appcontext
def users_signing_identity(username: str, nik: str, nip: str) -> None:
    """Link a pejabat's account to the officer enrolled at the signing service."""
    import sqlalchemy as sa

    from akta_service.accounts.models import User
    from akta_service.accounts.operations import set_signing_identity
    from akta_service.core.actors import Actor
    from akta_service.core.db import db
    from akta_service.core.errors import InvalidInput
    from akta_service.core.transaction import unit_of_work

    try:
        with unit_of_work():
            user = db.session.scalar(sa.select(User).where(User.username == username))
            if user is None:
                raise click.ClickException(f"Tidak ada pengguna {username}")
            set_signing_identity(user, nik, nip, Actor.system("akta users signing-identity"))
    except InvalidInput as exc:
        problems = "; ".join(f"{e.field}: {e.message}" for e in exc.detail["errors"])
        raise click.ClickException(problems) from exc
    click.echo(f"{username} menandatangani sebagai NIP {nip}.")


def _attach_feature_commands() -> None:
    from akta_service.akta.cli import akta_group, verify_qr_command
    from akta_service.core.storage_cli import storage_group
    from akta_service.facilities.cli import credentials_group, facilities_group
    from akta_service.signing.cli import signing_group
    from akta_service.verification.cli import sandbox_group

    for group in (facilities_group, credentials_group, sandbox_group, akta_group, signing_group):
        cli.add_command(group)
    cli.add_command(verify_qr_command)
    cli.add_command(storage_group)
    from akta_service.backup.cli import BACKUP_COMMANDS

    for command in BACKUP_COMMANDS:  # `akta backup FILE`, `akta restore FILE`
        cli.add_command(command)
    # Beside Flask-Migrate's upgrade and downgrade: `akta db grant-app-role`.
    from flask_migrate.cli import db as db_group

    db_group.add_command(grant_app_role_command)


_attach_feature_commands()


def main() -> None:
    """Entry point of the `akta` console script."""
    cli()
