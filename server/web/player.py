"""The display player (HTML, CSS, JavaScript from content/player) at a stable URL."""

from __future__ import annotations

from importlib import resources
from typing import Any

from flask import Blueprint, Response, abort

from server.access import public

bp = Blueprint("player", __name__)

FILES = {"index.html": "text/html", "player.js": "text/javascript", "player.css": "text/css",
         "sw.js": "text/javascript"}


def _file(name: str) -> Response:
    if name not in FILES:
        abort(404)
    data = resources.files("content").joinpath("player", name).read_bytes()
    response = Response(data, mimetype=FILES[name])
    # New player versions must reach screens soon; the files are small.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/player/")
@public
def index() -> Any:
    """The player a Smart TV browser opens (it pairs itself on first start)."""
    return _file("index.html")


@bp.get("/player/<name>")
@public
def asset(name: str) -> Any:
    """The player's script and style sheet."""
    return _file(name)
