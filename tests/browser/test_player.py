"""The player in a real Chromium: it pairs by code, shows news, an alert over it and the
alert's end, keeps playing with a stale marker when the server is gone, and its timetable
widget turns at the bell (driven by the player's controllable clock)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from server.content_schemas import AlertRaise
from server.extensions import db
from server.models.users import User
from server.services import content, displays
from server.services import timetable as tts
from server.services.context import Ctx, principal_for, system_ctx
from server.timetable_schemas import LessonIn
from tests.conftest import World

pytestmark = pytest.mark.browser


class Server:
    """A live server this test can stop halfway."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.running = True

    def stop(self) -> None:
        if self.running:
            self.server.shutdown()
            self.thread.join(5)
            self.server.server_close()
            self.running = False


@pytest.fixture
def server(app: Flask) -> Iterator[Server]:
    live = Server(app)
    yield live
    live.stop()


def _admin(app: Flask) -> Ctx:
    user = db.session.query(User).filter(User.username == "admin").one()
    return Ctx(db.session, principal_for(db.session, user), "admin", "127.0.0.1")


def _quiet_school(app: Flask, world: World) -> None:
    """Take school A's standing alert off, put its news on."""
    with app.test_request_context():
        ctx = system_ctx(db.session, "test")
        content.expire_item(ctx, world.items["alert_a"])
        content.publish_item(ctx, world.items["news_a"])
        db.session.commit()


def _playing_news(page: Any, app: Flask, server: Server, world: World, name: str) -> None:
    """A display of school A, its token already in the browser, playing school A's news."""
    _quiet_school(app, world)
    with app.test_request_context():
        _display, token = displays.create_with_token(system_ctx(db.session, "test"), {
            "org_id": world.ids["a"], "name": name, "locale": "en"})
        db.session.commit()
    page.add_init_script(f"localStorage.setItem('vitrina.token', {token!r});")
    page.goto(f"{server.url}/player/")
    page.locator("[data-testid=main] >> text=News of school A").wait_for(timeout=15_000)


def test_pairing_then_news_then_an_alert_over_it_then_its_end(
        page: Any, app: Flask, server: Server, world: World) -> None:
    _quiet_school(app, world)
    page.goto(f"{server.url}/player/")
    code = page.locator("[data-testid=pair-code]")
    page.wait_for_function(
        "() => /^[A-Z0-9]{6}$/.test(document.querySelector('[data-testid=pair-code]').textContent)")
    assert re.fullmatch(r"[A-Z0-9]{6}", code.inner_text())
    with app.test_request_context():
        displays.pair_display(_admin(app), code.inner_text(), {
            "org_id": world.ids["a"], "name": "Lobby", "groups": ["lobby"], "locale": "en"})
        db.session.commit()
    main = page.locator("[data-testid=main]")
    main.locator("text=News of school A").wait_for(timeout=15_000)
    assert not page.locator("[data-testid=pair-code]").is_visible()
    alert = page.locator("[data-testid=alert]")
    assert not alert.is_visible()
    with app.test_request_context():
        content.raise_alert(system_ctx(db.session, "test"), AlertRaise(
            org_id=world.ids["a"], title="Fire drill: leave by the main stairs",
            ends_at=datetime.now(UTC) + timedelta(seconds=6)))
        db.session.commit()
    alert.locator("text=Fire drill: leave by the main stairs").wait_for(timeout=5_000)
    # The alert ends by its own clock, with no help from the server.
    page.wait_for_selector("[data-testid=alert]", state="hidden", timeout=12_000)
    assert main.locator("h1").count() >= 1


def test_offline_it_keeps_playing_and_says_since_when(page: Any, app: Flask, server: Server,
                                                      world: World) -> None:
    _playing_news(page, app, server, world, "Corridor")
    assert not page.locator("[data-testid=stale]").is_visible()
    server.stop()
    stale = page.locator("[data-testid=stale]")
    stale.wait_for(timeout=60_000)
    assert stale.inner_text().startswith("No connection to the server since ")
    assert page.locator("[data-testid=main] >> text=News of school A").is_visible()


def test_the_timetable_widget_turns_at_the_bell(page: Any, app: Flask, server: Server,
                                                world: World) -> None:
    with app.test_request_context():
        ctx = system_ctx(db.session, "test")
        school = tts.get_school(ctx, world.ids["a"])
        day = tts.today(school)
        tts.save_lesson(ctx, school, LessonIn(weekday=day.weekday(), period=1, group="7Б",
                                              subject="Geometry", teacher="Ivanova",
                                              room="204"))
        _display, token = displays.create_with_token(ctx, {
            "org_id": world.ids["a"], "name": "Door 204", "locale": "en",
            "timetable_target": "room:204"})
        db.session.commit()
        tz = tts.school_zone(school)
    before = datetime.combine(day, datetime.min.time(), tz).replace(hour=9, minute=14, second=40)
    page.add_init_script(f"localStorage.setItem('vitrina.token', {token!r});")
    page.goto(f"{server.url}/player/?now={before.isoformat().replace('+', '%2B')}")
    widget = page.locator("[data-testid=widget]")
    widget.locator("text=Now: Geometry · 7Б").wait_for(timeout=15_000)
    bell = page.locator("[data-testid=bell]")
    assert bell.inner_text() == "Lesson 1 · bell in 1 min"
    page.evaluate("iso => window.vitrinaSetNow(iso)",
                  (before + timedelta(seconds=30)).isoformat())
    widget.locator("text=Free for the rest of the day").wait_for(timeout=5_000)
    assert bell.get_attribute("data-phase") in ("break", "after")


def test_the_fleet_preview_plays_the_display_s_manifest(page: Any, server: Server,
                                                        world: World) -> None:
    from tests.browser.test_admin_ui import sign_in

    sign_in(page, server.url, "admin")
    page.wait_for_url(f"{server.url}/")
    page.goto(f"{server.url}/displays/{world.tt['display_a']}")
    frame = page.frame_locator("[data-testid=preview]")
    # School A's standing alert covers everything on its screens.
    frame.locator("[data-testid=alert] >> text=Alert A").wait_for(timeout=15_000)


def test_a_reloaded_player_starts_without_the_server(page: Any, app: Flask, server: Server,
                                                     world: World) -> None:
    _playing_news(page, app, server, world, "Canteen")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null ||"
                           " navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function("async () => (await caches.keys()).includes('vitrina-player-v1')")
    server.stop()
    page.reload()    # a screen rebooted while the server is down
    page.locator("[data-testid=main] >> text=News of school A").wait_for(timeout=15_000)
    page.locator("[data-testid=stale]").wait_for(timeout=60_000)
