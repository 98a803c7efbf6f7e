"""The admin UI's own CSS, JavaScript and icons (no downloads from elsewhere at runtime)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

from server.access import public

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
bp = Blueprint("static", __name__)


@bp.get("/static/<path:filename>", endpoint="static")
@public
def static(filename: str) -> Response:
    """Serve a file of the admin UI's static folder."""
    return send_from_directory(STATIC_DIR, filename, max_age=3600)
