"""The application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, render_template
from flask_migrate import Migrate
from werkzeug.middleware.proxy_fix import ProxyFix

from akta_service.core.actors import Role
from akta_service.core.api import init_json
from akta_service.core.clock import local_time
from akta_service.core.config import current_settings, load_settings
from akta_service.core.db import configure_engine_events, db
from akta_service.core.errors import register_error_handlers
from akta_service.core.labels import journal_label, label
from akta_service.core.limits import init_limits
from akta_service.core.log_redaction import install as install_log_redaction
from akta_service.core.resources import resource_dir
from akta_service.core.security_headers import init_security_headers
from akta_service.core.sessions import csrf, init_sessions
from akta_service.core.transaction import TransactionalFlask, init_transactions
from akta_service.jobs.queue import make_runner

migrate = Migrate()


def _import_models() -> None:
    """Every model module, so that metadata and Alembic see all tables."""
    from akta_service.accounts import models as _accounts  # noqa: F401
    from akta_service.akta import models as _akta  # noqa: F401
    from akta_service.akta import numbering as _numbering  # noqa: F401
    from akta_service.births import models as _births  # noqa: F401
    from akta_service.core import audit as _audit  # noqa: F401
    from akta_service.core import idempotency as _idempotency  # noqa: F401
    from akta_service.core import journal_seal as _journal_seal  # noqa: F401
    from akta_service.facilities import models as _facilities  # noqa: F401
    from akta_service.notifications import models as _notifications  # noqa: F401
    from akta_service.notified import models as _notified  # noqa: F401
    from akta_service.parents import models as _parents  # noqa: F401
    from akta_service.regions import models as _regions  # noqa: F401


def connect_features() -> None:
    """The features' operations, which register at import what the core runs for them:
    their jobs (`core.jobs.job`), their sweepers (`core.sweep.sweeper`), their listeners to
    the workflow's signals (`workflow.signals`) and their workflow effects
    (`workflow.rules.effect`)."""
    from akta_service.akta import operations as _akta  # noqa: F401 - issue job, sweeper
    from akta_service.core import journal_seal as _seal  # noqa: F401 - the daily seal
    from akta_service.core import sweep as _sweep  # noqa: F401 - the sweep job
    from akta_service.notifications import operations as _notifications  # noqa: F401
    from akta_service.notified import operations as _notified  # noqa: F401 - sweepers
    from akta_service.parents import operations as _parents  # noqa: F401 - sweeper
    from akta_service.verification import operations as _verification  # noqa: F401


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the service. `config` overrides environment settings (AKTA_* names) and Flask keys."""
    install_log_redaction()  # before anything logs: no record carries personal data
    settings = load_settings(config)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app = TransactionalFlask(
        __name__,
        instance_path=str(settings.instance_path),
        template_folder=str(resource_dir("templates")),
    )
    app.config.update(settings.flask_config())
    _trust_proxies(app, settings.trusted_proxy_hops)
    init_json(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]  # answers read in schema order
    _import_models()
    connect_features()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), compare_type=True)
    app.extensions["akta_jobs"] = make_runner(app)
    with app.app_context():
        configure_engine_events(db.engine, settings.db_idle_check_seconds)
        # Fail at start-up, not at the first request, when the workflow file is wrong.
        from akta_service.workflow.definition import birth_notification, birth_registration

        birth_registration()
        birth_notification()

    _register_pages(app)
    init_limits(app)
    from akta_service.accounts.operations import signed_in_user

    init_sessions(app, load_user=signed_in_user)
    csrf.init_app(app)
    _exempt_and_register_api(app)
    register_error_handlers(app)
    init_security_headers(app)
    init_transactions(app)  # last: its hook runs before the other after-request hooks
    _init_templates(app)
    logging.getLogger("akta_service").setLevel(logging.INFO)
    return app


def _trust_proxies(app: Flask, hops: int) -> None:
    """Behind `hops` reverse proxies the client is the address they forward (the rightmost
    `hops` of X-Forwarded-For), and the scheme and host the ones the client used; with none,
    those headers are whatever the client wrote and count for nothing."""
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )


def _register_pages(app: Flask) -> None:
    """Every feature's pages, each on its own blueprint, and the home page."""
    from akta_service.accounts.admin import bp as accounts_admin_bp
    from akta_service.accounts.views import bp as office_bp
    from akta_service.akta.annulment_views import bp as akta_annulment_bp
    from akta_service.akta.batch_views import bp as akta_batch_bp
    from akta_service.akta.office import bp as akta_office_bp
    from akta_service.akta.seal_views import bp as akta_seal_bp
    from akta_service.akta.views import bp as akta_public_bp
    from akta_service.core.health import bp as health_bp
    from akta_service.facilities.admin import bp as facilities_admin_bp
    from akta_service.notified.views import bp as notified_bp
    from akta_service.parents import form_views as _form  # noqa: F401 - /lapor on parents_bp
    from akta_service.parents import status_views as _status  # noqa: F401 - /status
    from akta_service.parents.i18n import current_language, init_i18n
    from akta_service.parents.pages import bp as parents_bp
    from akta_service.regions.admin import bp as regions_admin_bp
    from akta_service.review.views import bp as review_bp
    from akta_service.stats.views import bp as stats_bp

    for blueprint in (
        health_bp,
        akta_public_bp,
        office_bp,
        review_bp,
        akta_office_bp,
        akta_batch_bp,
        akta_annulment_bp,
        akta_seal_bp,
        accounts_admin_bp,
        facilities_admin_bp,
        regions_admin_bp,
        stats_bp,
        parents_bp,
        notified_bp,
    ):
        app.register_blueprint(blueprint)
    init_i18n(app)

    @app.get("/")
    def home() -> str:
        return render_template("public/home.html", lang=current_language())


def _exempt_and_register_api(app: Flask) -> None:
    """The facilities' API: bearer tokens, not cookies, so no CSRF there."""
    from akta_service.births.api import blp as births_api
    from akta_service.core.api import API_CONFIG, api
    from akta_service.facilities.api import blp as webhook_api
    from akta_service.notified.api import blp as notified_api
    from akta_service.notified.fhir_api import blp as fhir_api

    csrf.exempt(births_api)
    csrf.exempt(webhook_api)
    csrf.exempt(notified_api)
    csrf.exempt(fhir_api)
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api.init_app(app)
    api.register_blueprint(births_api)
    api.register_blueprint(webhook_api)
    api.register_blueprint(notified_api)
    api.register_blueprint(fhir_api)


def _init_templates(app: Flask) -> None:
    """What every page may use."""
    # Every page shows moments in the office's time zone (WIB), never in UTC.
    app.jinja_env.globals["local_time"] = local_time
    # Pages compare roles with the enum, as the code does, never with their spelling.
    app.jinja_env.globals["Role"] = Role
    # Internal names (statuses, flags, checks, triggers...) reach a page only as their words.
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["journal_label"] = lambda entry: journal_label(
        entry.action, entry.trigger
    )

    @app.context_processor
    def _on_time_limit() -> dict[str, int]:
        # Pages say the on-time limit from the settings, never a number of their own.
        return {"on_time_days": current_settings().on_time_days}
