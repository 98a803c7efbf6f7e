"""A REST source over real HTTP: pages (by "next" and by Link header), the auth header,
retries on a flaky server, timeouts, and the records read like a register file."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sync.readers import read_register
from sync.rest import SourceError, fetch_all

PUPILS = [{"id": f"R{n}", "surname": "Иванов", "first_name": f"Имя{n}",
           "birth_date": "2014-03-02", "class": "7Б"} for n in range(5)]


class Api(BaseHTTPRequestHandler):
    calls: dict[str, int] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802
        Api.calls[self.path] = Api.calls.get(self.path, 0) + 1
        if self.headers.get("Authorization") != "Bearer sekret":
            self._json(401, {"error": "who are you"})
        elif self.path == "/pupils":
            self._json(200, {"items": PUPILS[:2], "next": "/pupils?page=2"})
        elif self.path == "/pupils?page=2":
            if Api.calls[self.path] == 1:
                self._json(503, {"error": "busy"})       # once: the client retries
            else:
                self._json(200, PUPILS[2:4], {"Link": '</pupils?page=3>; rel="next"'})
        elif self.path == "/pupils?page=3":
            self._json(200, {"items": PUPILS[4:]})
        elif self.path == "/slow":
            time.sleep(1.0)
            self._json(200, [])
        elif self.path == "/circle":
            self._json(200, {"items": [], "next": "/circle"})
        else:
            self._json(200, {"unexpected": True})


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass    # a client that gave up waiting (the timeout test) is expected


@pytest.fixture
def api() -> Iterator[str]:
    Api.calls = {}
    server = QuietServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pages_retries_and_the_auth_header(api: str) -> None:
    pauses: list[float] = []
    data = fetch_all(f"{api}/pupils", "Authorization: Bearer sekret", sleep=pauses.append)
    assert [r["id"] for r in json.loads(data)] == ["R0", "R1", "R2", "R3", "R4"]
    assert Api.calls["/pupils?page=2"] == 2 and pauses == [0.5]
    pupils = read_register(data, "register.json")
    assert [p.register_id for p in pupils] == ["R0", "R1", "R2", "R3", "R4"]
    assert pupils[0].class_name == "7Б"


@pytest.mark.parametrize(("path", "auth", "message"), [
    ("/pupils", "Authorization: Bearer wrong", "refused the credentials (401)"),
    ("/slow", "Authorization: Bearer sekret", "no answer after 4 tries (ReadTimeout)"),
    ("/circle", "Authorization: Bearer sekret", "go round in a circle"),
    ("/other", "Authorization: Bearer sekret", "expected a list"),
    ("/pupils", "Bearer sekret", "must look like"),
])
def test_what_goes_wrong_is_said(api: str, path: str, auth: str, message: str) -> None:
    with pytest.raises(SourceError, match=re.escape(message)):
        fetch_all(f"{api}{path}", auth, timeout=0.2, sleep=lambda s: None)
