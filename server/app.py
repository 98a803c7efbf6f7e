"""The application factory: defaults, instance folder, environment, extensions, blueprints."""

from __future__ import annotations

from typing import Any

from flask import Flask, abort
from werkzeug.middleware.proxy_fix import ProxyFix

from server import access, config, errorpages, i18n, metrics, requestlog, security
from server.api import audit as api_audit
from server.api import content as api_content
from server.api import device as device_api
from server.api import me as api_me
from server.api import openapi
from server.api import orgs as api_orgs
from server.api import timetable as api_timetable
from server.api import tokens as api_tokens
from server.api import users as api_users
from server.extensions import babel, csrf, db, login_manager
from server.pollpath import UnchangedPolls
from server.services import displays
from server.web import (
    account,
    audit,
    auth,
    content,
    dashboard,
    health,
    orgs,
    player,
    pupils,
    static,
    timetable,
    ui,
    users,
    vote,
)
from server.web import displays as displays_web

#: The largest ID an INTEGER column holds; a larger one in a URL names no row.
MAX_ROW_ID = 2**31 - 1


def _ids_in_range(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """`<int:…>` larger than any row's ID: 404, as for any ID of no row (not a database
    error). Checked here, not by the converter, which would make werkzeug answer 405."""
    if values and any(isinstance(v, int) and v > MAX_ROW_ID for v in values.values()):
        abort(404)


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build a Vitrina app; reads configuration but never touches the database schema."""
    app = Flask(
        __name__,
        instance_path=str(config.resolve_instance_path(instance_path)),
        static_folder=None,
    )
    config.load_config(app, test_config)
    app.url_value_preprocessor(_ids_in_range)

    db.init_app(app)
    # Before the CSRF check reads the form: the few routes that take large uploads.
    app.before_request(pupils.allow_large_uploads)
    csrf.init_app(app)
    login_manager.init_app(app)
    auth.configure_login(login_manager)
    babel.init_app(app, locale_selector=i18n.select_locale,
                   timezone_selector=i18n.select_timezone)
    i18n.init_app(app)
    security.init_app(app)
    requestlog.init_app(app)
    metrics.init_app(app)
    errorpages.init_app(app)
    ui.init_app(app)
    static.init_app(app)

    for blueprint in (health.bp, auth.bp, account.bp, dashboard.bp, orgs.bp,
                      users.bp, audit.bp, content.bp, vote.bp, timetable.bp,
                      timetable.feeds_bp, displays_web.bp, player.bp, pupils.bp):
        app.register_blueprint(blueprint)
    for api in (api_me.api, api_orgs.api, api_users.api, api_audit.api, api_tokens.api,
                api_content.api, api_timetable.api):
        app.register_blueprint(api.blueprint)
        csrf.exempt(api.blueprint)
    app.register_blueprint(openapi.bp)
    app.register_blueprint(device_api.bp)
    csrf.exempt(device_api.bp)
    displays.install_change_counter(app)
    app.wsgi_app = UnchangedPolls(app, app.wsgi_app)  # type: ignore[method-assign]
    proxies = int(app.config["PROXY_COUNT"])
    if proxies > 0:
        # The client's address (sign-in throttling, pairing and voting limits, logs) and
        # scheme from the trusted proxies' X-Forwarded-For / -Proto, never from others.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0, x_port=0, x_prefix=0)

    access.check_every_route_has_a_rule(app)
    return app
