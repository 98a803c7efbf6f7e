"""The short way for unchanged display polls: 304 without Flask and without the database.

Thousands of screens poll; nearly every poll finds nothing new. In front of the Flask
app, this WSGI layer answers a manifest poll whose If-None-Match names the manifest this
process already built for that display, as long as the change counter (watched by one
thread per process, see services.displays.VersionWatcher) has not moved since the
display's token was checked and the manifest built, and the manifest is still right by
the clock. A long poll (?wait=N) waits here on the watcher. Anything else — a new token,
a change, a malformed header, any other URL — goes to Flask as usual.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from flask import Flask

from server import metrics
from server.security import CSP
from server.services import displays

MANIFEST_PATH = "/api/device/v1/manifest"
MANIFEST_RULE = MANIFEST_PATH   # its URL rule, the route label of the request metrics
Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class UnchangedPolls:
    """WSGI middleware answering unchanged manifest polls from this process's memory."""

    def __init__(self, app: Flask, wsgi: Wsgi) -> None:
        self.app = app
        self.wsgi = wsgi

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != MANIFEST_PATH or environ.get("REQUEST_METHOD") != "GET":
            return self.wsgi(environ, start_response)
        started = time.perf_counter()
        answer = self._unchanged(environ)
        if answer is None:
            return self.wsgi(environ, start_response)
        etag = answer
        metrics.count_fast_poll(MANIFEST_RULE, time.perf_counter() - started)
        start_response("304 NOT MODIFIED", [
            ("ETag", etag), ("Cache-Control", "no-cache"),
            ("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "SAMEORIGIN"), ("Referrer-Policy", "same-origin")])
        return []

    def _unchanged(self, environ: dict[str, Any]) -> str | None:
        """The ETag to answer 304 with, or None to let Flask answer."""
        wait = 0.0
        query = environ.get("QUERY_STRING", "")
        if query:
            args = parse_qs(query, keep_blank_values=True)
            # stale= is the player's note to a kiosk agent; the server has no use for it.
            if not set(args) <= {"wait", "stale"} or any(len(v) != 1 for v in args.values()):
                return None
            try:
                wait = float(args.get("wait", ["0"])[0])
            except ValueError:
                return None
            if not 0 <= wait <= 55:
                return None
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        tag = environ.get("HTTP_IF_NONE_MATCH", "").strip()
        if scheme.lower() != "bearer" or not token or not tag:
            return None
        cache = self.app.extensions.get("vitrina.manifests")
        if cache is None:
            return None
        watcher = cache.watcher
        version = watcher.version
        if version is None:
            watcher.start(self.app.extensions["vitrina.db"].engine)
            return None
        known = cache.tokens.get(hashlib.sha256(f"token:{token.strip()}".encode()).hexdigest())
        if known is None or known[1] != version:
            return None
        built = cache.manifests.get(known[0])
        if built is None or built.version != version or built.etag != tag \
                or not displays.still_valid(built):
            return None
        if wait > 0:
            left = min(wait, displays.seconds_until(built))
            if watcher.wait_change(self.app.extensions["vitrina.db"].engine, version,
                                   left) is not None:
                return None      # something changed: Flask builds the new manifest
            if left < wait:
                return None      # the manifest ran out by the clock: Flask builds the next
        return built.etag
