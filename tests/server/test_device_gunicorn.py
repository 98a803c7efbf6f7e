"""The device protocol against real gunicorn workers, with changes made by another process:
pair → manifest 200 → same ETag 304 → publish → the long poll returns within a second with a
new ETag → revoke → 401."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests

from server.app import create_app
from server.content_schemas import ItemCreate
from server.extensions import db
from server.models.displays import Display
from server.schemas import OrgCreate
from server.services import content, displays, orgs
from server.services.context import system_ctx
from tests.helpers import free_port, stop, vitrina, wait_for_http

pytestmark = pytest.mark.slow
DEVICE = "/api/device/v1"


def test_the_protocol_against_gunicorn(tmp_path: Path) -> None:
    inst = tmp_path / "inst"
    assert vitrina("--instance", str(inst), "db", "upgrade").wait(60) == 0
    back_office = create_app(instance_path=str(inst))   # another process's view of the data
    with back_office.test_request_context():
        ctx = system_ctx(db.session, "test")
        city = orgs.create_root(ctx, "municipality", "City", "Asia/Yekaterinburg", "ru")
        school = orgs.create_org(ctx, OrgCreate(parent_id=city.id, kind="school",
                                                name="School 9", timezone="Asia/Yekaterinburg"))
        news = content.create_item(ctx, ItemCreate(kind="news", org_id=school.id,
                                                   title="Science week",
                                                   target_org_ids=[school.id]))
        db.session.commit()
        school_id, news_id = school.id, news.id
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = vitrina("--instance", str(inst), "serve", "--bind", f"127.0.0.1:{port}",
                   "--workers", "2", log=tmp_path / "serve.log")
    try:
        wait_for_http(f"{base}/healthz", proc=proc)
        code = requests.post(f"{base}{DEVICE}/pair", timeout=5).json()
        with back_office.test_request_context():
            displays.pair_display(system_ctx(db.session, "test"), code["code"],
                                  {"org_id": school_id, "name": "Lobby"})
            db.session.commit()
        token = requests.post(f"{base}{DEVICE}/pair/status", json={"claim": code["claim"]},
                              timeout=5).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        first = requests.get(f"{base}{DEVICE}/manifest", headers=auth, timeout=5)
        assert first.status_code == 200 and first.json()["items"] == []
        etag = first.headers["ETag"]
        for _ in range(4):   # whichever worker answers, the same ETag gives 304
            same = requests.get(f"{base}{DEVICE}/manifest",
                                headers={**auth, "If-None-Match": etag}, timeout=5)
            assert same.status_code == 304
        session = requests.Session()
        pending = []

        def long_poll() -> None:
            started = time.monotonic()
            r = session.get(f"{base}{DEVICE}/manifest?wait=25",
                            headers={**auth, "If-None-Match": etag}, timeout=40)
            pending.append((r, time.monotonic() - started))

        waiter = threading.Thread(target=long_poll)
        waiter.start()
        time.sleep(1.0)
        with back_office.test_request_context():
            content.publish_item(system_ctx(db.session, "test"), news_id)
            db.session.commit()
        published = time.monotonic()
        waiter.join(30)
        answered = time.monotonic()
        (woke, _waited), = pending
        assert woke.status_code == 200
        assert woke.headers["ETag"] != etag
        assert [i["title"] for i in woke.json()["items"]] == ["Science week"]
        assert answered - published < 1.0, f"{answered - published:.2f} s after publishing"
        with back_office.test_request_context():
            display = db.session.query(Display).filter(Display.name == "Lobby").one()
            displays.revoke(system_ctx(db.session, "test"), display)
            db.session.commit()
        time.sleep(0.5)
        gone = requests.get(f"{base}{DEVICE}/manifest", headers=auth, timeout=5)
        assert gone.status_code == 401
    finally:
        stop(proc)
        back_office.extensions["vitrina.db"].engine.dispose()
