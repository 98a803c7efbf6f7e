"""Chromium on the kiosk agent's local address: it shows the school's content, obeys a
remote reload, and still shows the content after the server is stopped and the agent
restarted (a kiosk rebooted during an outage)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from server.extensions import db
from server.models.displays import Display
from server.services import displays
from server.services.context import system_ctx
from tests.helpers import ROOT, free_port, stop, wait_for_http
from tests.kiosk.conftest import Vitrina, running_vitrina

pytestmark = [pytest.mark.browser, pytest.mark.slow]

KIOSK = str(Path(sys.executable).parent / "vitrina-kiosk")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Vitrina]:
    with running_vitrina(tmp_path) as live:
        yield live


def _agent(server: Vitrina, state: Path, port: int, log: Path) -> Any:
    import subprocess

    env = {**os.environ, "VITRINA_KIOSK_SERVER": server.url,
           "VITRINA_KIOSK_STATE_DIR": str(state), "VITRINA_KIOSK_PORT": str(port),
           "VITRINA_KIOSK_WAIT": "5", "VITRINA_KIOSK_HEARTBEAT_EVERY": "5",
           "VITRINA_KIOSK_MIN_FREE_MB": "0", "VITRINA_KIOSK_CONFIG": os.devnull}
    with log.open("ab") as out:
        proc = subprocess.Popen([KIOSK, "run"], stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, cwd=ROOT)
    wait_for_http(f"http://127.0.0.1:{port}/player/", proc=proc)
    return proc


def test_the_kiosk_plays_on_through_an_outage_and_a_restart(
        page: Any, server: Vitrina, tmp_path: Path) -> None:
    state, port, log = tmp_path / "kiosk", free_port(), tmp_path / "kiosk.log"
    agent = _agent(server, state, port, log)
    try:
        page.goto(f"http://127.0.0.1:{port}/player/")
        code = page.locator("[data-testid=pair-code]")
        page.wait_for_function(
            "() => /^[A-Z0-9]{6}$/.test("
            "document.querySelector('[data-testid=pair-code]').textContent)", timeout=15_000)
        server.extra["display"] = server.pair(code.inner_text())
        main = page.locator("[data-testid=main]")
        main.locator("text=Science week").wait_for(timeout=20_000)
        main.locator("img.news-image").wait_for(timeout=10_000)   # the cached picture
        # A reload asked for on the fleet page reaches the browser through the agent.
        display_id = server.extra["display"]
        page.evaluate("() => { window.beforeReload = true; }")
        with server.app.test_request_context():
            displays.request_action(system_ctx(db.session, "test"),
                                    db.session.get(Display, display_id), "reload")
            db.session.commit()
        page.wait_for_function(
            "() => { if (window.beforeReload) { window.vitrinaHeartbeat(); return false; }"
            " return true; }", timeout=20_000, polling=500)
        main.locator("text=Science week").wait_for(timeout=20_000)
        page.evaluate("() => window.vitrinaHeartbeat()")     # "done", via the agent
        for _ in range(40):
            if server.display(display_id).action is None:
                break
            page.wait_for_timeout(250)
        assert server.display(display_id).action is None
        server.stop()
        stop(agent)
        agent = _agent(server, state, port, log)
        page.reload()
        main.locator("text=Science week").wait_for(timeout=20_000)
        main.locator("img.news-image").wait_for(timeout=10_000)
        stale = page.locator("[data-testid=stale]")
        stale.wait_for(timeout=30_000)
        assert stale.inner_text().startswith("No connection to the server since ")
    finally:
        stop(agent)
