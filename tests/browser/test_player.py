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

from server.content_schemas import AlertRaise, ItemCreate
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


def _player_of(page: Any, app: Flask, server: Server, world: World, **fields: Any) -> int:
    """A display of school A (its token already in the browser) with the player open."""
    with app.test_request_context():
        display, token = displays.create_with_token(system_ctx(db.session, "test"), {
            "org_id": world.ids["a"], "locale": "en", **fields})
        db.session.commit()
        display_id = display.id
    page.add_init_script(f"localStorage.setItem('vitrina.token', {token!r});")
    page.goto(f"{server.url}/player/")
    return display_id


def test_a_ticker_line_runs_and_items_fade_into_each_other(
        page: Any, app: Flask, server: Server, world: World) -> None:
    _quiet_school(app, world)
    with app.test_request_context():
        ctx = system_ctx(db.session, "test")
        a = world.ids["a"]
        for title, zone in (("Canteen closes at 15:00 today", "ticker"),
                            ("Chess club on Friday", "main")):
            item = content.create_item(ctx, ItemCreate(
                kind="news", org_id=a, title=title, zone=zone, duration=3, priority=5,
                target_org_ids=[a]))
            content.publish_item(ctx, item.id)
        db.session.commit()
    _player_of(page, app, server, world, name="Hall", transition="fade")
    ticker = page.locator("[data-testid=ticker]")
    ticker.locator("text=Canteen closes at 15:00 today").wait_for(timeout=15_000)
    assert page.eval_on_selector("#ticker-run", "n => getComputedStyle(n).animationName") \
        == "ticker"
    # The ticker line is not also an item of the main area.
    main = page.locator("[data-testid=main]")
    assert main.locator("text=Canteen closes at 15:00 today").count() == 0
    # Items take turns with a fade: the one leaving fades out, then is gone.
    main.locator(".item.enter-fade").first.wait_for(timeout=15_000)
    page.wait_for_function("() => document.querySelector('#main .leaving.leave-fade') !== null",
                           timeout=15_000, polling=50)
    assert page.eval_on_selector(".leave-fade", "n => getComputedStyle(n).animationName") \
        == "fade-out"
    page.wait_for_function("() => document.querySelectorAll('#main .item').length === 1",
                           timeout=5_000)


def test_a_touch_screen_takes_a_vote_on_the_screen(page: Any, app: Flask, server: Server,
                                                   world: World) -> None:
    with app.test_request_context():
        content.expire_item(system_ctx(db.session, "test"), world.items["alert_a"])
        db.session.commit()
    _player_of(page, app, server, world, name="Touch kiosk", touch=True)
    main = page.locator("[data-testid=main]")
    main.locator("text=Tap an answer to vote").wait_for(timeout=15_000)
    assert main.locator("figure.qr").count() == 0     # no phone needed at the screen
    main.locator("button.vote-button >> text=Yes").click()
    main.locator("text=Thank you! Your vote is counted.").wait_for(timeout=5_000)
    assert main.locator("button.vote-button").count() == 0
    assert "1 · 100%" in main.inner_text()
    with app.app_context():
        from server.models.content import PollVote

        assert db.session.query(PollVote).filter(
            PollVote.item_id == world.items["poll_a"]).count() == 1


def test_a_remote_reload_reaches_the_player(page: Any, app: Flask, server: Server,
                                            world: World) -> None:
    from server.models.displays import Display

    _quiet_school(app, world)
    display_id = _player_of(page, app, server, world, name="Stairs")
    page.locator("[data-testid=main] >> text=News of school A").wait_for(timeout=15_000)
    page.evaluate("() => { window.beforeReload = true; }")
    with app.test_request_context():
        displays.request_action(_admin(app), db.session.get(Display, display_id), "reload")
        db.session.commit()
    page.evaluate("() => window.vitrinaHeartbeat()")
    page.wait_for_function("() => window.beforeReload === undefined", timeout=10_000)
    page.locator("[data-testid=main] >> text=News of school A").wait_for(timeout=15_000)
    # After the reload it reports the action done, and the fleet page stops waiting for it.
    page.evaluate("() => window.vitrinaHeartbeat()")

    def cleared() -> bool:
        with app.app_context():
            d = db.session.get(Display, display_id)
            return d is not None and d.action is None

    for _ in range(50):
        if cleared():
            break
        page.wait_for_timeout(100)
    assert cleared()
