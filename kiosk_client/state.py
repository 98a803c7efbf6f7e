"""The agent's state folder: the device token (owner-only), the manifest it plays, and
a status file that `vitrina-kiosk status` reads. Every write is atomic: a file is
written aside, flushed to disk and renamed over the old one, so a kiosk switched
off at any moment finds either the old or the new file, never half of one."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace path with data in one step (fsync'd before the rename)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


@dataclass(frozen=True)
class Playing:
    """The manifest the screen plays, its ETag, and since when."""

    manifest: dict[str, Any]
    etag: str
    since: str


class StateDir:
    """The files of one agent under one folder (created owner-only)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)

    @property
    def token_file(self) -> Path:
        return self.root / "token"

    def token(self) -> str | None:
        """The device token, if this kiosk is paired."""
        try:
            text = self.token_file.read_text("utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def save_token(self, token: str) -> None:
        write_atomic(self.token_file, token.encode(), mode=0o600)

    def forget_token(self) -> None:
        for name in ("token", "playing.json", "pairing.json"):
            try:
                (self.root / name).unlink()
            except FileNotFoundError:
                pass

    def playing(self) -> Playing | None:
        """The last manifest accepted (all its media in the cache), or None."""
        data = self._read_json("playing.json")
        if not data or not isinstance(data.get("manifest"), dict):
            return None
        return Playing(data["manifest"], str(data["etag"]), str(data["since"]))

    def save_playing(self, playing: Playing) -> None:
        self._write_json("playing.json", {"manifest": playing.manifest, "etag": playing.etag,
                                          "since": playing.since})

    def pairing(self) -> dict[str, Any] | None:
        """The code shown and the claim kept while waiting to be paired."""
        return self._read_json("pairing.json")

    def save_pairing(self, value: dict[str, Any] | None) -> None:
        if value is None:
            try:
                (self.root / "pairing.json").unlink()
            except FileNotFoundError:
                pass
        else:
            self._write_json("pairing.json", value, mode=0o600)

    def status(self) -> dict[str, Any]:
        return self._read_json("status.json") or {}

    def save_status(self, value: dict[str, Any]) -> None:
        self._write_json("status.json", value)

    def _read_json(self, name: str) -> dict[str, Any] | None:
        try:
            value = json.loads((self.root / name).read_text("utf-8"))
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            return None
        return value if isinstance(value, dict) else None

    def _write_json(self, name: str, value: dict[str, Any], mode: int = 0o644) -> None:
        write_atomic(self.root / name, json.dumps(value, ensure_ascii=False).encode("utf-8"),
                     mode)
