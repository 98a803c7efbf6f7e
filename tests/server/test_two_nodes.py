"""Two app nodes (each its own gunicorn) on one database and one shared media folder, as a
municipality runs them behind a reverse proxy: a change made through one node wakes a
display long-polling the other, the other serves the media the first one stored, and a
person signed in on one node is signed in on the other.

On the PostgreSQL run of the suite (VITRINA_TEST_DATABASE_URL) both nodes use that server;
on the SQLite run they share one database file."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from PIL import Image

from server.extensions import db
from server.services import displays
from server.services.context import system_ctx
from tests.conftest import PASSWORD, World, username_of
from tests.helpers import free_port, login, stop, vitrina, wait_for_http

pytestmark = pytest.mark.slow
DEVICE = "/api/device/v1"


def _start_node(name: str, app: Flask, tmp_path: Path) -> tuple[Any, str]:
    port = free_port()
    env = {"VITRINA_DATABASE_URL": app.config["DATABASE_URL"],
           "VITRINA_MEDIA_DIR": app.config["MEDIA_DIR"],
           "VITRINA_PHOTO_DIR": app.config["PHOTO_DIR"],
           "VITRINA_SECRET_KEY": "one-secret-for-every-node",
           "VITRINA_ACCESS_LOG": ""}
    proc = vitrina("--instance", str(tmp_path / name), "serve", "--bind", f"127.0.0.1:{port}",
                   "--workers", "1", "--threads", "8", env=env, log=tmp_path / f"{name}.log")
    return proc, f"http://127.0.0.1:{port}"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), "#228833").save(out, format="JPEG")
    return out.getvalue()


def test_a_change_through_one_node_wakes_a_display_on_the_other(
        app: Flask, world: World, tmp_path: Path) -> None:
    with app.test_request_context():
        _display, screen_token = displays.create_with_token(
            system_ctx(db.session, "test"), {"org_id": world.ids["a"], "name": "Canteen"})
        db.session.commit()
    app.extensions["vitrina.db"].engine.dispose()
    (node_a, base_a), (node_b, base_b) = (_start_node("node-a", app, tmp_path),
                                          _start_node("node-b", app, tmp_path))
    try:
        wait_for_http(f"{base_a}/healthz", proc=node_a, timeout=40)
        wait_for_http(f"{base_b}/healthz", proc=node_b, timeout=40)
        screen = {"Authorization": f"Bearer {screen_token}"}
        manager = {"Authorization": f"Bearer {world.tokens['content_manager']}"}

        first = requests.get(f"{base_b}{DEVICE}/manifest", headers=screen, timeout=10)
        assert first.status_code == 200
        titles = [i["title"] for i in first.json()["items"]]
        assert "News of school A" not in titles       # a draft so far
        etag = first.headers["ETag"]
        assert requests.get(f"{base_b}{DEVICE}/manifest", timeout=10,
                            headers={**screen, "If-None-Match": etag}).status_code == 304

        answers: list[tuple[requests.Response, float]] = []

        def long_poll() -> None:
            r = requests.get(f"{base_b}{DEVICE}/manifest?wait=25", timeout=40,
                             headers={**screen, "If-None-Match": etag})
            answers.append((r, time.monotonic()))

        waiter = threading.Thread(target=long_poll)
        waiter.start()
        time.sleep(1.0)
        # A new picture and the news published through node A, by the content manager.
        uploaded = requests.post(f"{base_a}/api/v1/media", headers=manager, timeout=20,
                                 data={"org_id": str(world.ids["a"])},
                                 files={"file": ("canteen.jpg", _jpeg(), "image/jpeg")})
        assert uploaded.status_code == 201, uploaded.text
        created = requests.post(f"{base_a}/api/v1/content", headers=manager, timeout=20,
                                json={"kind": "news", "org_id": world.ids["a"],
                                      "title": "Canteen opens", "media_id": uploaded.json()["id"],
                                      "target_org_ids": [world.ids["a"]]})
        assert created.status_code == 201, created.text
        news = created.json()["id"]
        published = requests.post(f"{base_a}/api/v1/content/{news}/publish", headers=manager,
                                  timeout=20)
        assert published.status_code == 200, published.text
        done = time.monotonic()
        waiter.join(30)
        (woke, answered), = answers
        assert woke.status_code == 200
        assert woke.headers["ETag"] != etag
        assert answered - done < 2.0, f"node B answered {answered - done:.2f} s after publishing"
        shown = {i["title"]: i for i in woke.json()["items"]}
        assert "Canteen opens" in shown

        # Node B serves the picture node A stored (the media folder is shared).
        sha = uploaded.json()["sha256"]
        assert sha in str(shown["Canteen opens"])
        picture = requests.get(f"{base_b}{DEVICE}/media/{sha}", headers=screen, timeout=10)
        assert picture.status_code == 200
        assert picture.content == requests.get(f"{base_a}{DEVICE}/media/{sha}",
                                               headers=screen, timeout=10).content

        # Signed in on node A is signed in on node B (one secret key, sessions in cookies).
        person = requests.Session()
        assert login(person, base_a, username_of("content_manager"),
                     PASSWORD).status_code == 302
        page = person.get(f"{base_b}/content/", timeout=10, allow_redirects=False)
        assert page.status_code == 200
        assert "Canteen opens" in page.text
    finally:
        stop(node_a)
        stop(node_b)
