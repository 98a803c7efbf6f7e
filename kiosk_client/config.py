"""The agent's settings: a small TOML file, then environment variables over it.

    server = "https://vitrina.school9.example"
    state_dir = "/var/lib/vitrina-kiosk"
    port = 8765
    screenshot_every = 300
    screenshot_command = "grim -"

Each key may also come from the environment as VITRINA_KIOSK_<KEY> (upper case),
which wins over the file. A wrong value is an error naming the file (or the
variable) and the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path("/etc/vitrina-kiosk.toml")
ENV_PREFIX = "VITRINA_KIOSK_"


class ConfigError(Exception):
    """A setting that is missing or wrong, with where it came from."""


@dataclass(frozen=True)
class Config:
    """Everything the agent needs to know about its server and its PC."""

    #: The Vitrina server's base address, e.g. https://vitrina.example.
    server: str
    #: Where the token, the last manifest and the media cache live.
    state_dir: Path = Path("/var/lib/vitrina-kiosk")
    #: The local player is served on 127.0.0.1 at this port.
    port: int = 8765
    #: How long one manifest poll waits for a change, in seconds (the server allows 55).
    wait: int = 25
    heartbeat_every: float = 60.0
    #: Seconds between screenshots sent to the fleet page; 0 sends none.
    screenshot_every: float = 0.0
    #: A command printing a PNG or JPEG of the screen on its standard output.
    screenshot_command: str = ""
    #: Keep at least this much of the disk free: media no manifest needs go first.
    min_free_mb: float = 200
    #: At most this much media in the cache (0: as much as the disk allows).
    cache_limit_mb: float = 0
    #: Seconds an ordinary request to the server may take.
    timeout: float = 15.0

    @property
    def local_url(self) -> str:
        """Where the kiosk browser opens the player."""
        return f"http://127.0.0.1:{self.port}/player/"


_NUMBERS = {"port": (1, 65535), "wait": (0, 55), "heartbeat_every": (5, 3600),
            "screenshot_every": (0, 86400), "min_free_mb": (0, 10**7),
            "cache_limit_mb": (0, 10**7), "timeout": (1, 300)}


def _coerce(key: str, value: Any, where: str) -> Any:
    if key == "server":
        text = str(value).strip().rstrip("/")
        if not text.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: server: must start with http:// or https://, "
                              f"got {value!r}")
        return text
    if key == "state_dir":
        return Path(str(value)).expanduser()
    if key == "screenshot_command":
        return str(value)
    low, high = _NUMBERS[key]
    try:
        number = int(value) if key in ("port", "wait") else float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: {key}: must be a number, got {value!r}") from None
    if not low <= number <= high:
        raise ConfigError(f"{where}: {key}: must be between {low} and {high}, got {value!r}")
    return number


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the file (if any: an explicit path must exist), then the environment."""
    environ = os.environ if environ is None else environ
    known = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    explicit = path is not None or ENV_PREFIX + "CONFIG" in environ
    file = path or Path(environ.get(ENV_PREFIX + "CONFIG", str(DEFAULT_FILE)))
    if file.exists():
        try:
            raw = tomllib.loads(file.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        for key, value in raw.items():
            if key not in known:
                raise ConfigError(f"{file}: unknown setting {key!r} "
                                  f"(known: {', '.join(sorted(known))})")
            values[key] = _coerce(key, value, str(file))
    elif explicit:
        raise ConfigError(f"{file}: no such file")
    for key in known:
        name = ENV_PREFIX + key.upper()
        if name in environ:
            values[key] = _coerce(key, environ[name], name)
    if "server" not in values:
        raise ConfigError(f"server: not set (in {file} or {ENV_PREFIX}SERVER)")
    return Config(**values)
