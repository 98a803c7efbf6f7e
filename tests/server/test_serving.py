"""Real processes: `vitrina demo` and `vitrina serve` under gunicorn, over real HTTP."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import free_port, login, stop, vitrina, wait_for_http

pytestmark = pytest.mark.slow


def test_demo_starts_quickly_and_its_logins_work(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    started = time.monotonic()
    proc = vitrina("--instance", str(tmp_path / "inst"), "demo", "--port", str(port), log=log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/readyz", timeout=15, proc=proc)
        elapsed = time.monotonic() - started
        assert elapsed < 15, f"demo took {elapsed:.1f}s to answer"
        out = log.read_text()
        assert f"Open http://127.0.0.1:{port}/" in out
        logins = re.findall(r"user (\S+)\s+password (\S+)", out)
        assert len(logins) == 5
        for username, password in logins:
            with requests.Session() as s:
                r = login(s, f"http://127.0.0.1:{port}", username, password)
                assert r.status_code == 302, (username, r.text[:300])
                assert s.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
    finally:
        stop(proc)


def test_serve_runs_gunicorn_with_the_documented_config(tmp_path: Path) -> None:
    inst = str(tmp_path / "inst")
    port = free_port()
    setup = vitrina("--instance", inst, "db", "upgrade")
    assert setup.wait(30) == 0
    log = tmp_path / "serve.log"
    proc = vitrina("--instance", inst, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                   log=log)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", proc=proc)
        r = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert r.json()["status"] == "ok"
        time.sleep(0.3)
        text = log.read_text()
        assert "Using worker: gthread" in text
        assert len(re.findall(r"Booting worker with pid", text)) == 2
        assert re.search(r'"GET /readyz HTTP/1.1" 200 .* \d+ms', text)  # access log
    finally:
        stop(proc)
    assert "Shutting down" in log.read_text()
