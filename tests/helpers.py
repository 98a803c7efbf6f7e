"""Helpers for tests that run real processes: free ports, waiting for HTTP, stopping."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
VITRINA = str(Path(sys.executable).parent / "vitrina")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_http(url: str, timeout: float = 20.0, proc: subprocess.Popen[bytes] | None = None
                  ) -> requests.Response:
    """Poll url until it answers 200; fail early if proc exits."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            r = requests.get(url, timeout=2)
            if r.status_code == 200:
                return r
        except requests.RequestException as exc:
            last = exc
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s ({last})")


def stop(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Stop a process group started with start_new_session=True."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def vitrina(*args: str, env: dict[str, str] | None = None, log: Path | None = None
            ) -> subprocess.Popen[bytes]:
    """Start the vitrina command as its own process group."""
    cmd = [VITRINA, *args]
    environ = {**os.environ, **(env or {})}
    if log is None:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                env=environ, start_new_session=True, cwd=ROOT)
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=environ,
                                start_new_session=True, cwd=ROOT)


def login(session: requests.Session, base: str, username: str, password: str
          ) -> requests.Response:
    """Sign in through the real login form (with its CSRF token)."""
    import re

    page = session.get(f"{base}/login", timeout=5).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "login page without CSRF token"
    return session.post(f"{base}/login", data={"username": username, "password": password,
                                               "csrf_token": token.group(1)},
                        allow_redirects=False, timeout=5)
