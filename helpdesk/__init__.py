"""The helpdesk application factory."""
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from helpdesk.config import load_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    overrides = overrides or {}
    if "INSTANCE_PATH" in overrides:
        app.instance_path = overrides["INSTANCE_PATH"]
    app.config.from_mapping(load_config(app.instance_path))
    app.config.from_mapping(overrides)
    if proxies := app.config["PROXY_COUNT"]:
        # The client's address, scheme and host as the outermost trusted proxy saw them.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from helpdesk import cli, models  # noqa: F401  (registers every model for migrations)
    from helpdesk.db import configure_engine_events
    from helpdesk.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine)

    from helpdesk.escalation.services import close_breach
    from helpdesk.tickets import events

    events.subscribe(close_breach)

    from helpdesk.accounts.views import bp as accounts_bp
    from helpdesk.admin.views import bp as admin_bp
    from helpdesk.api.views import bp as api_bp
    from helpdesk.billing.views import bp as billing_bp
    from helpdesk.contracts.views import bp as contracts_bp
    from helpdesk.escalation import health
    from helpdesk.escalation.views import bp as escalation_bp
    from helpdesk.portal.views import bp as portal_bp
    from helpdesk.reporting.views import bp as reporting_bp
    from helpdesk.tickets.views import bp as tickets_bp
    from helpdesk.web import assets, errors, filters, i18n, security

    app.register_blueprint(accounts_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(contracts_bp)
    app.register_blueprint(escalation_bp)
    app.register_blueprint(billing_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(reporting_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)
    i18n.init_app(app)
    assets.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    return app
