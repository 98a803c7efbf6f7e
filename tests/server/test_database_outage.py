"""The database away for a while (every connection to PostgreSQL cut and refused): people get
a clear 503 page and the API a 503 with Retry-After, displays keep getting their unchanged
manifest and media, and when the database is back everything answers again by itself,
without a restart.

Runs on the PostgreSQL run of the suite: the app reaches the test server through a TCP
proxy that the test cuts (a real outage as the app sees it: dropped connections, then
refused ones)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from flask import Flask
from sqlalchemy.engine import make_url

from server.extensions import db
from server.services import displays
from server.services.context import system_ctx
from tests.conftest import PASSWORD, PG_URL, World, username_of
from tests.helpers import CuttableProxy, free_port, login, stop, vitrina, wait_for_http

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="needs the PostgreSQL test server")]
DEVICE = "/api/device/v1"
#: How long the database stays away (the issue's figure is 30 s; the benchmark-length run
#: is VITRINA_OUTAGE_SECONDS=30).
OUTAGE = float(__import__("os").environ.get("VITRINA_OUTAGE_SECONDS", "8"))


def test_the_database_away_and_back(app: Flask, world: World, tmp_path: Path) -> None:
    with app.test_request_context():
        _display, screen_token = displays.create_with_token(
            system_ctx(db.session, "test"), {"org_id": world.ids["a"], "name": "Hall"})
        db.session.commit()
    app.extensions["vitrina.db"].engine.dispose()
    url = make_url(app.config["DATABASE_URL"])
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {"VITRINA_DATABASE_URL": through, "VITRINA_MEDIA_DIR": app.config["MEDIA_DIR"],
           "VITRINA_PHOTO_DIR": app.config["PHOTO_DIR"], "VITRINA_SECRET_KEY": "outage",
           "VITRINA_ACCESS_LOG": ""}
    proc = vitrina("--instance", str(tmp_path / "node"), "serve", "--bind", f"127.0.0.1:{port}",
                   "--workers", "1", "--threads", "8", env=env, log=tmp_path / "serve.log")
    try:
        wait_for_http(f"{base}/readyz", proc=proc, timeout=40)
        person = requests.Session()
        person.headers["Accept-Language"] = "en"
        assert login(person, base, username_of("admin"), PASSWORD).status_code == 302
        assert person.get(f"{base}/", timeout=10).status_code == 200
        screen = {"Authorization": f"Bearer {screen_token}"}
        first = requests.get(f"{base}{DEVICE}/manifest", headers=screen, timeout=10)
        assert first.status_code == 200
        etag = first.headers["ETag"]
        admin_api = {"Authorization": f"Bearer {world.tokens['admin']}"}

        proxy.cut()
        began = time.monotonic()
        seen_ui, seen_api, seen_poll = set(), set(), set()
        while time.monotonic() - began < OUTAGE:
            page = person.get(f"{base}/", timeout=30)
            seen_ui.add(page.status_code)
            if page.status_code == 503:
                assert "The database cannot be reached just now" in page.text
                assert page.headers.get("Retry-After")
            api = requests.get(f"{base}/api/v1/orgs", headers=admin_api, timeout=30)
            seen_api.add(api.status_code)
            if api.status_code == 503:
                assert api.json()["error"] == "unavailable"
            poll = requests.get(f"{base}{DEVICE}/manifest", timeout=30,
                                headers={**screen, "If-None-Match": etag})
            seen_poll.add(poll.status_code)
            assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
            time.sleep(0.5)
        assert seen_ui == {503}, seen_ui
        assert seen_api == {503}, seen_api
        # The display's poll is answered from memory (304) or told to come back (503);
        # either way the player keeps showing what it has (tests/browser: it carries on).
        assert seen_poll <= {304, 503}, seen_poll
        assert requests.get(f"{base}/readyz", timeout=30).status_code == 503

        proxy.mend()
        back = time.monotonic()
        while person.get(f"{base}/", timeout=30).status_code != 200:
            assert time.monotonic() - back < 15, "the UI did not come back by itself"
            time.sleep(0.2)
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
        assert requests.get(f"{base}/api/v1/orgs", headers=admin_api,
                            timeout=10).status_code == 200
        assert person.get(f"{base}/users/", timeout=10).status_code == 200
        assert proc.poll() is None
        assert "Traceback" not in (tmp_path / "serve.log").read_text()
    finally:
        stop(proc)
        proxy.close()
