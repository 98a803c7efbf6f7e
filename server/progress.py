"""How far a long request has got, for the page that waits on it.

The page makes up a random token and sends it with the form; while the request works,
its progress callback writes `<instance>/progress/<token>.json` (atomically, a few times
a second at most), and the page asks `GET …/progress/<token>` to move its bar. A file,
not a database row: the work's own transaction may hold the database's write lock (on
SQLite, the whole database) until it commits. Only the person who started the work can
read its progress; the file goes when the request ends.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

from flask import current_app

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: Files older than this are left-overs of a request that died; they are cleared.
STALE_SECONDS = 3600


def valid_token(token: str | None) -> bool:
    return bool(token) and _TOKEN.fullmatch(token or "") is not None


def folder() -> Path:
    return Path(current_app.instance_path) / "progress"


class ProgressFile:
    """A progress callback (step, done, total) that writes where the page can read it."""

    def __init__(self, token: str, user_id: int | None, every: float = 0.25) -> None:
        self.root = folder()
        self.path = self.root / f"{token}.json"
        self.user_id = user_id
        self.every = every
        self._last = (None, 0.0)
        self.root.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        last_step, last_at = self._last
        if step == last_step and now - last_at < self.every and done < total:
            return
        self._last = (step, now)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"user": self.user_id, "step": step, "done": done,
                                   "total": total}), encoding="utf-8")
        os.replace(tmp, self.path)

    def close(self) -> None:
        """The work is over: the file goes (and left-overs of dead requests with it)."""
        self.path.unlink(missing_ok=True)
        cutoff = time.time() - STALE_SECONDS
        for old in self.root.glob("*.json"):
            try:
                if old.stat().st_mtime < cutoff:
                    old.unlink()
            except FileNotFoundError:
                pass


def read(token: str, user_id: int | None) -> dict[str, Any] | None:
    """The progress of the work token names, if the asking person started it."""
    if not valid_token(token):
        return None
    try:
        state = json.loads((folder() / f"{token}.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("user") != user_id:
        return None
    return state
