"""`vitrina-kiosk`: run the agent, or say what this kiosk shows.

    vitrina-kiosk run [--config FILE]      the agent and the local player (systemd runs this)
    vitrina-kiosk status [--config FILE]   what it shows, since when, cache, server reachability
    vitrina-kiosk files                    where the systemd units and the browser launcher are
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path
from typing import Any

import requests

from kiosk_client import __version__
from kiosk_client.agent import Agent
from kiosk_client.config import Config, ConfigError, load_config
from kiosk_client.local import LocalServer
from kiosk_client.state import StateDir


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n = n / 1024  # type: ignore[assignment]
    return str(n)


def run(config: Config) -> int:
    agent = Agent(config)
    try:
        local = LocalServer(agent)
    except OSError as exc:
        print(f"error: cannot listen on 127.0.0.1:{config.port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    local.start()

    def stop(*_: Any) -> None:
        agent.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"vitrina-kiosk {__version__}: server {config.server}; player at {local.url}",
          flush=True)
    agent.run()
    local.shutdown()
    local.server_close()
    return 0


def reachable(config: Config) -> str:
    """Whether the server answers now, in words."""
    try:
        r = requests.get(config.server + "/healthz", timeout=min(config.timeout, 5.0))
    except requests.RequestException as exc:
        return f"unreachable ({exc.__class__.__name__})"
    return "reachable" if r.status_code == 200 else f"answers {r.status_code}"


def status(config: Config) -> int:
    state = StateDir(config.state_dir)
    info = state.status()
    paired = state.token() is not None
    playing = state.playing()
    lines = [
        f"Server:      {config.server} — {reachable(config)}",
        f"Paired:      {'yes' if paired else 'no'}"
        + (f" (showing code {info['code']})" if not paired and info.get("code") else ""),
    ]
    if playing is not None:
        items = playing.manifest.get("items", [])
        lines += [
            f"Display:     {playing.manifest['display']['name']}",
            f"Showing:     manifest {playing.etag}, {len(items)} items, "
            f"{len(playing.manifest.get('alerts', []))} alerts",
            f"Since:       {playing.since}",
        ]
    else:
        lines.append("Showing:     nothing yet")
    cache = StateDir(config.state_dir).root / "cache" / "media"
    size = sum(p.stat().st_size for p in cache.iterdir()) if cache.exists() else 0
    lines += [
        f"Cache:       {_size(size)}",
        f"Last server contact: {info.get('last_ok') or 'never'}",
        f"Last error:  {info.get('last_error') or '—'}",
        f"Player:      {config.local_url}",
    ]
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vitrina-kiosk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command")
    for name, text in (("run", "run the agent and the local player"),
                       ("status", "what this kiosk shows, and whether the server answers")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--config", type=Path, help="the settings file "
                       "(default /etc/vitrina-kiosk.toml or $VITRINA_KIOSK_CONFIG)")
    sub.add_parser("files", help="print the folder holding the systemd units, the browser "
                   "launcher and an example settings file")
    args = parser.parse_args(argv)
    if args.command == "files":
        print(Path(__file__).resolve().parent / "deploy")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = load_config(getattr(args, "config", None))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "status":
        return status(config)
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
