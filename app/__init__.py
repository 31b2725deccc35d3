"""Application factory: config, extensions, content, blueprints, CLI, error pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import models as _models  # noqa: F401
from .actions import models as _action_models  # noqa: F401
from .config import load_config
from .workshops import models as _workshop_models  # noqa: F401

# The three imports above put every table on Base.metadata whenever the package is imported (create_app, Alembic,
# the schema test): feature packages keep their own models, and app.models does not import them back.


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(load_config(Path(app.instance_path), config))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        # X-Forwarded-Host is not trusted (x_host=0): the Host the proxy passes on is checked against
        # TRUSTED_HOSTS, and links for other people are built on BASE_URL, never on a client-sent header.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=0)  # type: ignore[method-assign]

    from .content import ContentRegistry

    # Fail fast: a malformed content file stops the app with the path of the bad field.
    app.extensions["content"] = ContentRegistry.from_paths(
        app.config["CONTENT_FILE"], app.config["CONTENT_ARCHIVE_DIR"], app.config["LANGUAGES"]
    )

    from . import auth, cli, errors, ratelimit, requestlog, security
    from .db import db
    from .extensions import babel, csrf, login_manager

    requestlog.init_app(app)  # first: its hooks must run even for a request the others refuse
    db.init_app(app)
    csrf.init_app(app)
    from . import form_speed

    form_speed.install()
    from .i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)
    ratelimit.init_app(app)
    auth.init_login(app, login_manager)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)

    from .account.views import bp as account_bp
    from .actions.views import bp as actions_bp
    from .admin.views import bp as admin_bp
    from .assessments.views import bp as assessments_bp
    from .auditlog.views import bp as auditlog_bp
    from .main.views import bp as main_bp
    from .reports.views import bp as reports_bp
    from .supervisor.views import bp as supervisor_bp
    from .workshops.views import bp as workshops_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(assessments_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(auditlog_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(supervisor_bp)
    app.register_blueprint(workshops_bp)
    app.register_blueprint(actions_bp)

    from . import templating

    templating.init_app(app)
    if app.config["APP_ENV"] == "production":
        # Compile every template now, in each worker as it starts, rather than inside the first requests
        # (in a workshop, 200 people joining in the same second would each wait for the compiling).
        for name in app.jinja_env.list_templates(extensions=("html",)):
            app.jinja_env.get_template(name)
    return app
