"""The baseline of benchmarks/poll.py: a bare WSGI app answering 2 KB of JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

BODY = json.dumps({"items": [{"id": n, "title": "x" * 40} for n in range(36)]}).encode()[:2048]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer every request with the same 2 KB of JSON."""
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]
