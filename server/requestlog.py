"""A request ID on every request, and (LOG_FORMAT = "json") one JSON log line per request.

The ID comes from the proxy's `X-Request-ID` when it looks like one, else it is made up;
it is sent back in the answer's `X-Request-ID` so a report from a school can be matched
with the log. The JSON line says what a person running Vitrina needs and no more: the
route (not the query string, which may hold a searched pupil's name), the status, the
time taken, and who (a user name or a display's ID), never request bodies.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, Response, g, request

log = logging.getLogger("vitrina.request")
_GIVEN = re.compile(r"[A-Za-z0-9._-]{8,64}")


def init_app(app: Flask) -> None:
    as_json = str(app.config.get("LOG_FORMAT", "text")).lower() == "json"
    if as_json and not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False

    @app.before_request
    def start() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _GIVEN.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def finish(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        if as_json:
            started = g.get("request_started", time.perf_counter())
            log.info(json.dumps({
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z",
                "request_id": request_id, "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "path": request.path, "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "user": _who(), "remote": request.remote_addr,
            }, ensure_ascii=False))
        return response


def _who() -> str | None:
    """The signed-in person's user name, if the request looked them up (no query of its
    own: the log line must cost nothing)."""
    principal = g.get("vitrina_principal")
    return getattr(principal, "username", None)
