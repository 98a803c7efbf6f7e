"""The WSGI entry point: `gunicorn 'server.wsgi:make_app()'`."""

from __future__ import annotations

from flask import Flask

from server.app import create_app
from server.config import resolve_instance_path
from server.extensions import db
from server.migrate import require_current_schema


def make_app(instance: str | None = None) -> Flask:
    """Build the app for an instance and refuse to serve an out-of-date schema."""
    path = resolve_instance_path(instance)
    app = create_app(instance_path=str(path))
    with app.app_context():
        require_current_schema(db.engine, str(path))
    return app
