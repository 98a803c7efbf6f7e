"""A real Vitrina under gunicorn (stoppable and restartable on its port), a school with a
news item that has a picture, and a kiosk agent with its own state folder."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from PIL import Image

from kiosk_client.agent import Agent
from kiosk_client.config import Config
from server.app import create_app
from server.content_schemas import ItemCreate
from server.extensions import db
from server.schemas import OrgCreate
from server.services import content, displays, media, orgs
from server.services.context import system_ctx
from tests.helpers import free_port, stop, vitrina, wait_for_http


def picture(color: str, size: tuple[int, int] = (800, 600)) -> bytes:
    """A PNG with some texture (so it does not shrink to nothing once re-encoded)."""
    img = Image.new("RGB", size, color)
    for x in range(0, size[0], 7):
        for y in range(0, size[1], 11):
            img.putpixel((x, y), ((x * 3) % 256, (y * 5) % 256, (x + y) % 256))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@dataclass
class Vitrina:
    """The server process, and the back office's own view of the same database."""

    inst: Path
    log: Path
    port: int
    app: Flask
    school_id: int = 0
    proc: subprocess.Popen[bytes] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = vitrina("--instance", str(self.inst), "serve", "--bind",
                            f"127.0.0.1:{self.port}", "--workers", "1", log=self.log)
        wait_for_http(f"{self.url}/healthz", proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None

    def publish_news(self, title: str, color: str | None = None, **fields: Any) -> int:
        """Publish a news item in the school (with a fresh picture if color is given)."""
        with self.app.test_request_context():
            ctx = system_ctx(db.session, "test")
            media_id = None
            if color is not None:
                media_id = media.upload(ctx, self.school_id, f"{title}.png",
                                        picture(color)).id
            item = content.create_item(ctx, ItemCreate(
                kind="news", org_id=self.school_id, title=title, media_id=media_id,
                target_org_ids=[self.school_id], **fields))
            content.publish_item(ctx, item.id)
            db.session.commit()
            return item.id

    def pair(self, code: str, **fields: Any) -> int:
        with self.app.test_request_context():
            display = displays.pair_display(system_ctx(db.session, "test"), code, {
                "org_id": self.school_id, "name": "Kiosk in the lobby", "locale": "en",
                **fields})
            db.session.commit()
            return display.id

    def display(self, display_id: int) -> Any:
        from server.models.displays import Display

        with self.app.app_context():
            found = db.session.get(Display, display_id)
            assert found is not None
            db.session.expunge(found)
            return found


_TEMPLATE: dict[str, Path] = {}


def _migrated_instance(inst: Path) -> None:
    """A migrated instance folder, copied from one made once per test process."""
    if "inst" not in _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="vitrina-kiosk-template-")) / "inst"
        assert vitrina("--instance", str(template), "db", "upgrade").wait(60) == 0
        _TEMPLATE["inst"] = template
    shutil.copytree(_TEMPLATE["inst"], inst)


@contextmanager
def running_vitrina(tmp_path: Path) -> Iterator[Vitrina]:
    """A migrated instance with a school and its news (with a picture), served by gunicorn."""
    inst = tmp_path / "inst"
    _migrated_instance(inst)
    app = create_app(instance_path=str(inst))
    with app.test_request_context():
        ctx = system_ctx(db.session, "test")
        city = orgs.create_root(ctx, "municipality", "City", "Asia/Yekaterinburg", "en")
        school = orgs.create_org(ctx, OrgCreate(parent_id=city.id, kind="school",
                                                name="School 9",
                                                timezone="Asia/Yekaterinburg"))
        db.session.commit()
        school_id = school.id
    live = Vitrina(inst, tmp_path / "serve.log", free_port(), app, school_id)
    live.publish_news("Science week", "#3366cc")
    live.start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Vitrina]:
    with running_vitrina(tmp_path) as live:
        yield live


def kiosk_config(server: Vitrina, state: Path, **overrides: Any) -> Config:
    values: dict[str, Any] = {"server": server.url, "state_dir": state, "port": free_port(),
                              "wait": 5, "heartbeat_every": 5, "min_free_mb": 0,
                              "timeout": 5}
    values.update(overrides)
    return Config(**values)


def paired_agent(server: Vitrina, state: Path, **overrides: Any) -> tuple[Agent, int]:
    """An agent that has paired through the protocol and plays its first manifest."""
    agent = Agent(kiosk_config(server, state, **overrides))
    assert agent.pair_once() is False and agent.code
    display_id = server.pair(agent.code)
    assert agent.pair_once() is True
    assert agent.sync_once(wait=0) == "updated"
    return agent, display_id
