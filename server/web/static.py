"""The admin UI's own CSS, JavaScript and icons (no downloads from elsewhere at runtime)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, send_from_directory

from server.access import public

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@public
def serve_static(filename: str) -> Response:
    """Serve a file of the admin UI's static folder."""
    return send_from_directory(STATIC_DIR, filename, max_age=3600)


def init_app(app: Flask) -> None:
    """Route /static/<file> to the static folder under the usual endpoint name."""
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=serve_static)
