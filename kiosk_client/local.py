"""The local player: the player's files and a local device API on 127.0.0.1.

The kiosk browser opens http://127.0.0.1:<port>/player/ and speaks to this server
exactly as a Smart TV speaks to Vitrina: the same player, the same paths. The
answers come from the agent: the manifest it plays (all its media cached), the
media from its cache, and its pairing code. So the screen plays with no server at
all, after a reboot too. When the agent cannot reach the server, manifest answers
carry `X-Vitrina-Stale-Since` and the player shows its "no connection since" mark.

Only requests addressed to 127.0.0.1 or localhost are answered (a web page elsewhere
cannot rebind a name to this port and read it).
"""

from __future__ import annotations

import json
import mimetypes
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kiosk_client.agent import Agent

API = "/api/device/v1"
PLAYER_FILES = ("index.html", "player.js", "player.css", "sw.js")
#: What the local player uses as its token: the real one stays with the agent.
LOCAL_TOKEN = "local"
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp",
               "mp4": "video/mp4", "webm": "video/webm"}


def _player_file(name: str) -> bytes:
    return resources.files("content").joinpath("player", name).read_bytes()


class LocalHandler(BaseHTTPRequestHandler):
    """One request of the kiosk browser."""

    server: LocalServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass    # the browser asks every few seconds; the agent logs what matters

    # --- answers -------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if body or status not in (204, 304):
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), headers=headers)

    def _body(self, limit: int = 16 * 1024) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            raise ValueError("too large")
        return self.rfile.read(length) if length else b""

    def _local_only(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        if host in ("127.0.0.1", "localhost", "::1"):
            return True
        self._json(421, {"message": "The kiosk player answers only on 127.0.0.1."})
        return False

    # --- routes --------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if not self._local_only():
            return
        url = urlsplit(self.path)
        path = url.path
        if path in ("/", "/player"):
            self._send(302, headers={"Location": "/player/"})
        elif path.startswith("/player/"):
            self._player(path[len("/player/"):] or "index.html")
        elif path == API + "/manifest":
            self._manifest(parse_qs(url.query))
        elif path.startswith(API + "/media/"):
            self._medium(path[len(API + "/media/"):])
        elif path == "/status.json":
            self._json(200, self.server.agent.state.status())
        else:
            self._json(404, {"message": "No such page."})

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if not self._local_only():
            return
        agent = self.server.agent
        try:
            body = self._body()
        except ValueError:
            self._json(413, {"message": "The request body is too large."})
            return
        path = urlsplit(self.path).path
        if path == API + "/pair":
            code = self._code()
            if agent.token:
                self._json(201, {"code": "", "claim": "local-paired", "poll_seconds": 1})
            elif code is None:
                # The agent has no code from the server yet: the player asks again soon.
                self._json(503, {"message": "No pairing code yet."})
            else:
                self._json(201, {"code": code, "claim": f"local-{code}", "poll_seconds": 1})
        elif path == API + "/pair/status":
            try:
                claim = json.loads(body or b"{}").get("claim", "")
            except (ValueError, AttributeError):
                claim = ""
            if agent.token:
                self._json(200, {"status": "paired", "token": LOCAL_TOKEN})
            elif claim != f"local-{agent.code}":
                # The code shown is not the agent's any more (it expired): show the new one.
                self._json(410, {"status": "expired"})
            else:
                self._json(202, {"status": "waiting"})
        elif path == API + "/heartbeat":
            try:
                report = json.loads(body or b"{}")
            except ValueError:
                report = {}
            actions = agent.player_report(report if isinstance(report, dict) else {})
            self._json(200, {"actions": actions})
        elif path == API + "/vote":
            status, answer = agent.forward_vote(body)
            self._send(status, answer)
        else:
            self._json(404, {"message": "No such page."})

    def _code(self, wait: float = 5.0) -> str | None:
        """The agent's pairing code, waiting a little for one to arrive from the server."""
        agent = self.server.agent
        deadline = time.monotonic() + wait
        with agent.changed:
            while not agent.code and not agent.token and time.monotonic() < deadline \
                    and not agent.stop_event.is_set():
                agent.changed.wait(deadline - time.monotonic())
        return agent.code

    def _player(self, name: str) -> None:
        if name not in PLAYER_FILES:
            self._json(404, {"message": "No such file."})
            return
        body = _player_file(name)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or name.endswith(".js"):
            content_type += "; charset=utf-8"
        self._send(200, body, content_type, {"Cache-Control": "no-cache"})

    def _stale_headers(self) -> dict[str, str]:
        agent = self.server.agent
        if agent.server_ok is False and agent.last_ok:
            since = datetime.fromisoformat(agent.last_ok).timestamp() * 1000
            return {"X-Vitrina-Stale-Since": str(int(since)), "Cache-Control": "no-cache"}
        return {"Cache-Control": "no-cache"}

    def _manifest(self, query: dict[str, list[str]]) -> None:
        agent = self.server.agent
        if not agent.token:
            self._json(401, {"error": "unauthorized"})
            return
        try:
            wait = min(max(float(query.get("wait", ["0"])[0]), 0.0), 55.0)
        except ValueError:
            wait = 0.0
        asked = self.headers.get("If-None-Match")
        # The player says whether it shows the "no connection" mark; if that is wrong now,
        # it hears so at once rather than at the end of its wait.
        shown_stale = query.get("stale", [""])[0]
        if shown_stale in ("0", "1") and (shown_stale == "1") != (agent.server_ok is False):
            wait = 0.0
        deadline = time.monotonic() + wait
        with agent.changed:
            generation = agent.generation
            while True:
                playing = agent.playing
                unchanged = playing is None or playing.etag == asked
                left = deadline - time.monotonic()
                if not unchanged or left <= 0 or agent.generation != generation \
                        or agent.stop_event.is_set():
                    break
                agent.changed.wait(left)
        if not agent.token:
            self._json(401, {"error": "unauthorized"})
        elif playing is None:
            self._json(503, {"message": "No manifest yet."}, self._stale_headers())
        elif playing.etag == asked:
            self._send(304, headers={"ETag": playing.etag, **self._stale_headers()})
        else:
            body = json.dumps(playing.manifest, ensure_ascii=False).encode("utf-8")
            self._send(200, body, headers={"ETag": playing.etag, **self._stale_headers()})

    def _medium(self, sha: str) -> None:
        agent = self.server.agent
        playing = agent.playing
        named = {m["sha256"]: m for m in (playing.manifest["media"] if playing else [])}
        if sha not in named or not agent.cache.valid(sha):
            # A rotten file was just dropped: the agent fetches it again on its next round.
            self._json(404, {"message": "No such file."})
            return
        body = agent.cache.path(sha).read_bytes()
        kind = MEDIA_TYPES.get(named[sha].get("ext", ""), "application/octet-stream")
        self._send(200, body, kind, {"Cache-Control": "public, max-age=31536000, immutable"})


class LocalServer(ThreadingHTTPServer):
    """The local player's HTTP server, bound to 127.0.0.1."""

    daemon_threads = True

    def __init__(self, agent: Agent, port: int | None = None) -> None:
        self.agent = agent
        super().__init__(("127.0.0.1", agent.config.port if port is None else port),
                         LocalHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/player/"

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="local-player", daemon=True)
        thread.start()
        return thread
