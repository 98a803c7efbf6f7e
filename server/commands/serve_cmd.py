"""`vitrina serve`: run Vitrina under gunicorn (or the development server with --dev)."""

from __future__ import annotations

from typing import Any

import click

from server.cli import State, fail, instance_option, main, pass_state
from server.extensions import db
from server.migrate import SchemaOutOfDate, require_current_schema


def gunicorn_options() -> dict[str, Any]:
    """The settings of server.gunicorn_conf as a dict."""
    from server import gunicorn_conf

    return {k: v for k, v in vars(gunicorn_conf).items()
            if not k.startswith("_") and k != "os"}


def run_gunicorn(instance: str, overrides: dict[str, Any]) -> None:
    """Serve the instance with gunicorn using the documented config plus overrides."""
    from gunicorn.app.base import BaseApplication

    from server.wsgi import make_app

    options = {**gunicorn_options(), **{k: v for k, v in overrides.items() if v is not None}}

    class VitrinaServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return make_app(instance)

    VitrinaServer().run()


def check_schema(state: State) -> None:
    """Exit with a clear message if the database schema is not current."""
    app = state.get_app()
    with app.app_context():
        try:
            require_current_schema(db.engine, str(state.instance_path))
        except SchemaOutOfDate as exc:
            fail(str(exc))


@main.command("serve")
@instance_option
@click.option("--bind", help="host:port to listen on (default 127.0.0.1:8000).")
@click.option("--workers", type=int, help="Worker processes.")
@click.option("--threads", type=int, help="Threads per worker.")
@click.option("--dev", is_flag=True, help="Use Flask's development server instead (never in "
                                          "production).")
@pass_state
def serve(state: State, bind: str | None, workers: int | None, threads: int | None,
          dev: bool) -> None:
    """Serve Vitrina (gunicorn, settings in server/gunicorn_conf.py)."""
    check_schema(state)
    if dev:
        host, _, port = (bind or "127.0.0.1:8000").rpartition(":")
        app = state.get_app()
        click.echo(f"Development server on http://{host}:{port}/ — not for production.")
        app.run(host=host, port=int(port), debug=False, threaded=True)
        return
    run_gunicorn(str(state.instance_path), {"bind": bind, "workers": workers,
                                            "threads": threads})
