"""The registry: labour-migration registration for border posts, district offices and head office."""
from flask import Flask, render_template, request

from registry.config import PROJECT_ROOT, load_config


def create_app(config=None):
    """Build the app for the configured role (office or central). `config` overrides everything else."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    load_config(app, config)
    from registry.core import logs

    logs.install(app)

    from registry import models  # noqa: F401  (registers every table and the outbox flush hook)
    from registry.core.sqlite import enable_sqlite_pragmas
    from registry.extensions import csrf, db, limiter, login_manager, migrate
    from registry.operations import ledger  # noqa: F401  (numbers given out, noted beside a SQLite database)
    from registry.sync import outbox  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Behind the TLS proxy: the client's address (for rate limits) and scheme come from its headers.
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    login_manager.init_app(app)
    with app.app_context():
        enable_sqlite_pragmas(db.engine)

    _register_access(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_commands(app)
    _register_template_helpers(app)

    from registry.sync.background import install as install_background_sync

    install_background_sync(app)
    return app


def _register_access(app):
    from registry.auth.services import load_user
    from registry.core.access import add_security_headers, check_access
    from registry.core.db import finish_request, rollback_on_exception
    from registry.extensions import login_manager

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.session_protection = "strong"
    app.before_request(check_access)
    app.after_request(add_security_headers)
    app.after_request(finish_request)
    app.teardown_request(rollback_on_exception)


def _register_blueprints(app):
    from registry.audit import bp as audit_bp
    from registry.auth import bp as auth_bp
    from registry.codes import bp as codes_bp
    from registry.core.health import bp as health_bp
    from registry.matching import bp as matching_bp
    from registry.offices import bp as offices_bp
    from registry.people import bp as people_bp
    from registry.recruitment import aftercare_views  # noqa: F401  (returns and complaints, on the blueprint below)
    from registry.recruitment.views import agencies_bp
    from registry.recruitment.views import bp as recruitment_bp
    from registry.referrals import bp as referrals_bp
    from registry.referrals import targets_bp
    from registry.registration import bp as registration_bp
    from registry.slips.views import bp as slips_bp
    from registry.statistics import bp as statistics_bp
    from registry.sync.api import bp as sync_api_bp
    from registry.sync.views import bp as sync_bp

    # Both roles register, search and administer; only central serves the sync API.
    for blueprint in (auth_bp, health_bp, codes_bp, offices_bp, people_bp, registration_bp, audit_bp, sync_bp,
                      slips_bp, referrals_bp, targets_bp, agencies_bp, recruitment_bp,
                      statistics_bp):
        app.register_blueprint(blueprint)
    if app.config["REGISTRY_ROLE"] == "central":
        app.register_blueprint(sync_api_bp)
        app.register_blueprint(matching_bp)  # the duplicate queue sees every office's records


def _register_errors(app):
    def page(status, title, message):
        code = title.lower().replace(" ", "_")

        def handler(error):
            if request.path.startswith(("/api/", "/codes/")):
                # The same shape as the sync API's own errors (docs/sync.md).
                return {"error": {"status": status, "code": code, "message": message}}, status
            return render_template("error.html", status=status, title=title, message=message), status

        return handler

    app.register_error_handler(400, page(400, "Bad request", "The request could not be understood. Go back and try again."))
    app.register_error_handler(403, page(403, "Not allowed", "Your role or office does not allow this."))
    app.register_error_handler(404, page(404, "Not found", "There is no such page or record here."))
    app.register_error_handler(405, page(405, "Not allowed", "That action is not available here."))
    app.register_error_handler(429, page(429, "Too many requests",
                                         "Too many attempts in a short time from here. Wait a minute, then try again."))
    app.register_error_handler(500, page(500, "Something went wrong", "Nothing was saved. Try again; if it happens again, tell your supervisor."))

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("error.html", status=400, title="Form expired",
                               message="The form was open too long or came from elsewhere. Reload the page and submit it again."), 400


def _register_commands(app):
    from registry.auth.cli import users_cli
    from registry.codes.cli import codes_cli
    from registry.demo.cli import demo_cli
    from registry.matching.cli import match_cli
    from registry.offices.cli import offices_cli
    from registry.operations.cli import backup_command, restore_command
    from registry.recruitment.cli import jobs_cli
    from registry.slips.cli import slips_cli
    from registry.statistics.cli import extract_cli
    from registry.sync.cli import sync_cli  # also adds `offices issue-secret`

    for group in (users_cli, codes_cli, offices_cli, demo_cli, sync_cli, slips_cli, extract_cli, match_cli, jobs_cli,
                  backup_command, restore_command):
        app.cli.add_command(group)


def _register_template_helpers(app):
    from registry.core import display

    app.jinja_env.globals.update(display.TEMPLATE_GLOBALS)
    app.jinja_env.filters.update(display.TEMPLATE_FILTERS)
