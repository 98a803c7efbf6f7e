"""The device protocol over real HTTP: pair, manifest with ETag and 304, a change wakes a
long poll, media only as the manifest names them, heartbeats, revocation; bad input."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import jsonschema
import pytest
import requests
from flask import Flask
from sqlalchemy import select

from content.manifest import manifest_schema
from server.errors import Invalid, TooManyAttempts
from server.extensions import db
from server.models.displays import Display
from server.models.users import User
from server.services import content, displays
from server.services.context import Ctx, principal_for, system_ctx
from tests.conftest import AuthActions, World

DEVICE = "/api/device/v1"


def _admin_ctx(app: Flask) -> Ctx:
    user = db.session.query(User).filter(User.username == "admin").one()
    return Ctx(db.session, principal_for(db.session, user), "admin", "127.0.0.1")


def _pair(app: Flask, base: str, world: World, **fields: Any) -> tuple[str, int]:
    """Pair a new display in school A through the protocol; return its token and id."""
    code = requests.post(f"{base}{DEVICE}/pair", timeout=5)
    assert code.status_code == 201
    claim = code.json()["claim"]
    assert requests.post(f"{base}{DEVICE}/pair/status", json={"claim": claim},
                         timeout=5).status_code == 202
    with app.test_request_context():
        values = {"org_id": world.ids["a"], "name": "Lobby", "groups": ["lobby"],
                  "timetable_target": "room:204"}
        values.update(fields)
        display = displays.pair_display(_admin_ctx(app), code.json()["code"].lower(), values)
        db.session.commit()
        display_id = display.id
    paired = requests.post(f"{base}{DEVICE}/pair/status", json={"claim": claim}, timeout=5)
    assert paired.status_code == 200
    token = paired.json()["token"]
    again = requests.post(f"{base}{DEVICE}/pair/status", json={"claim": claim}, timeout=5)
    assert again.status_code == 410     # the token is handed out once
    return token, display_id


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_pair_poll_change_and_revoke(app: Flask, live_server: str, world: World) -> None:
    token, display_id = _pair(app, live_server, world)
    first = requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(token), timeout=5)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    doc = first.json()
    jsonschema.validate(doc, manifest_schema())
    assert [a["title"] for a in doc["alerts"]] == ["Alert A"]
    assert [i["title"] for i in doc["items"]] == ["Poll of school A"]
    assert doc["timetable"]["target"] == {"kind": "room", "key": "204"}
    assert doc["display"]["name"] == "Lobby"
    same = requests.get(f"{live_server}{DEVICE}/manifest",
                        headers={**_auth(token), "If-None-Match": etag}, timeout=5)
    assert same.status_code == 304 and same.content == b""
    assert same.headers["ETag"] == etag

    # A long poll wakes up within a second of a publication.
    def publish_soon() -> None:
        time.sleep(0.8)
        with app.test_request_context():
            content.publish_item(system_ctx(db.session, "test"), world.items["news_a"])
            db.session.commit()

    threading.Thread(target=publish_soon).start()
    started = time.monotonic()
    woke = requests.get(f"{live_server}{DEVICE}/manifest?wait=20",
                        headers={**_auth(token), "If-None-Match": etag}, timeout=30)
    waited = time.monotonic() - started
    assert woke.status_code == 200
    assert woke.headers["ETag"] != etag
    assert 0.7 < waited < 0.8 + 1.0
    assert "News of school A" in [i["title"] for i in woke.json()["items"]]
    # An unchanged long poll ends with 304 when its wait is over.
    quiet = requests.get(f"{live_server}{DEVICE}/manifest?wait=1",
                         headers={**_auth(token), "If-None-Match": woke.headers["ETag"]},
                         timeout=5)
    assert quiet.status_code == 304

    # Revoked, the display is turned away and falls back to pairing.
    with app.test_request_context():
        displays.revoke(_admin_ctx(app), db.session.get(Display, display_id))
        db.session.commit()
    gone = requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(token), timeout=5)
    assert gone.status_code == 401


def test_media_only_as_the_manifest_names_them(app: Flask, live_server: str,
                                               world: World) -> None:
    with app.test_request_context():
        content.publish_item(system_ctx(db.session, "test"), world.items["news_a"])
        db.session.commit()
    token, _ = _pair(app, live_server, world)
    doc = requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(token), timeout=5).json()
    sha = world.media["media_a"]
    assert [m["sha256"] for m in doc["media"]] == [sha]
    whole = requests.get(f"{live_server}{DEVICE}/media/{sha}", headers=_auth(token), timeout=5)
    assert whole.status_code == 200 and whole.content[:3] == b"\xff\xd8\xff"   # re-encoded
    assert "immutable" in whole.headers["Cache-Control"]
    part = requests.get(f"{live_server}{DEVICE}/media/{sha}",
                        headers={**_auth(token), "Range": "bytes=0-9"}, timeout=5)
    assert part.status_code == 206 and part.content == whole.content[:10]
    # School B's picture exists, but this display's manifest does not name it.
    other = requests.get(f"{live_server}{DEVICE}/media/{world.media['media_b']}",
                         headers=_auth(token), timeout=5)
    assert other.status_code == 404
    assert requests.get(f"{live_server}{DEVICE}/media/../../etc/passwd", headers=_auth(token),
                        timeout=5).status_code == 404


@pytest.mark.parametrize("header", ['abc', '"unterminated', '"a"b"', "W/", '"' + "x" * 2000 + '"'])
def test_a_malformed_if_none_match_is_refused(app: Flask, live_server: str, world: World,
                                              header: str) -> None:
    token, _ = _pair(app, live_server, world)
    r = requests.get(f"{live_server}{DEVICE}/manifest",
                     headers={**_auth(token), "If-None-Match": header}, timeout=5)
    assert r.status_code == 422
    assert r.json()["fields"][0]["field"] == "If-None-Match"


def test_heartbeats_and_their_bad_input(app: Flask, live_server: str, world: World) -> None:
    token, display_id = _pair(app, live_server, world)
    ok = requests.post(f"{live_server}{DEVICE}/heartbeat", headers=_auth(token), timeout=5,
                       json={"etag": '"abc"', "client_version": "1.0", "uptime": 60,
                             "free_disk": 10**9})
    assert ok.status_code == 200 and ok.json() == {"actions": []}
    huge = requests.post(f"{live_server}{DEVICE}/heartbeat", headers=_auth(token), timeout=5,
                         json={"error": "x" * 40_000})
    assert huge.status_code == 413
    wrong = requests.post(f"{live_server}{DEVICE}/heartbeat", headers=_auth(token), timeout=5,
                          json={"uptime": -5, "colour": "red"})
    assert wrong.status_code == 422
    assert {f["field"] for f in wrong.json()["fields"]} == {"uptime", "colour"}
    with app.app_context():
        d = db.session.get(Display, display_id)
        assert d is not None
        assert (d.client_version, d.uptime, d.last_error) == ("1.0", 60, None)


@pytest.mark.parametrize("token", ["", "dev_forged", "vit_notadevicetoken", "dev_" + "x" * 500])
def test_forged_tokens_are_turned_away(live_server: str, world: World, token: str) -> None:
    r = requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(token), timeout=5)
    assert r.status_code == 401


def test_a_heartbeat_changes_no_screen(app: Flask, live_server: str, world: World) -> None:
    token, _ = _pair(app, live_server, world)
    with app.app_context():
        before = displays.current_version(db.session)
    requests.post(f"{live_server}{DEVICE}/heartbeat", headers=_auth(token), json={"uptime": 1},
                  timeout=5)
    with app.app_context():
        assert displays.current_version(db.session) == before


def test_pairing_codes_and_guesses_are_limited(app: Flask, world: World) -> None:
    client = app.test_client()
    codes = set()
    for _ in range(displays.CODES_PER_ADDRESS_PER_HOUR):
        r = client.post(f"{DEVICE}/pair")
        assert r.status_code == 201
        code = r.get_json()["code"]
        assert len(code) == 6 and set(code) <= set(displays.CODE_ALPHABET)
        codes.add(code)
    assert len(codes) == displays.CODES_PER_ADDRESS_PER_HOUR
    assert client.post(f"{DEVICE}/pair").status_code == 429
    with app.test_request_context():
        ctx = _admin_ctx(app)
        for _ in range(displays.WRONG_CODES_PER_TEN_MINUTES):
            with pytest.raises(Invalid):
                displays.pair_display(ctx, "ZZZZZZ", {"org_id": world.ids["a"], "name": "X"})
            db.session.rollback()
        with pytest.raises(TooManyAttempts):
            displays.pair_display(ctx, next(iter(codes)), {"org_id": world.ids["a"],
                                                           "name": "X"})


def test_an_unchanged_poll_touches_no_database(app: Flask, world: World) -> None:
    from sqlalchemy import event

    with app.test_request_context():
        _d, token = displays.create_with_token(system_ctx(db.session, "test"), {
            "org_id": world.ids["a"], "name": "Quiet"})
        db.session.commit()
    client = app.test_client()
    auth = _auth(token)
    etag = client.get(f"{DEVICE}/manifest", headers=auth).headers["ETag"]
    client.get(f"{DEVICE}/manifest", headers={**auth, "If-None-Match": etag})
    watcher = app.extensions["vitrina.manifests"].watcher
    deadline = time.monotonic() + 5
    while watcher.version is None and time.monotonic() < deadline:
        time.sleep(0.05)
    client.get(f"{DEVICE}/manifest", headers=auth)   # the token is known at this counter
    here = threading.get_ident()
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.get_ident() == here:
            statements.append(statement)

    engine = app.extensions["vitrina.db"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        r = client.get(f"{DEVICE}/manifest", headers={**auth, "If-None-Match": etag})
        waited = client.get(f"{DEVICE}/manifest?wait=0.5",
                            headers={**auth, "If-None-Match": etag})
        as_player = client.get(f"{DEVICE}/manifest?wait=0.5&stale=0",   # what the player asks
                               headers={**auth, "If-None-Match": etag})
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (r.status_code, waited.status_code, as_player.status_code) == (304, 304, 304)
    assert r.headers["ETag"] == etag
    assert statements == []
    # A wrong tag still gets the whole manifest (through the app).
    assert client.get(f"{DEVICE}/manifest",
                      headers={**auth, "If-None-Match": '"other"'}).status_code == 200


def _votes(app: Flask, item_id: int) -> int:
    from server.models.content import PollVote

    with app.app_context():
        return db.session.query(PollVote).filter(PollVote.item_id == item_id).count()


def test_a_touch_screen_takes_one_vote_per_kiosk_session(app: Flask, live_server: str,
                                                         world: World) -> None:
    token, _ = _pair(app, live_server, world, touch=True)
    doc = requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(token), timeout=5).json()
    jsonschema.validate(doc, manifest_schema())
    assert doc["display"]["touch"] is True
    poll = next(i for i in doc["items"] if i["kind"] == "poll")
    assert [o["label"] for o in poll["options"]] == ["Yes", "No"]
    yes, no = (o["id"] for o in poll["options"])

    def vote(option: int, session: str, item: int = poll["id"]) -> requests.Response:
        return requests.post(f"{live_server}{DEVICE}/vote", headers=_auth(token), timeout=5,
                             json={"item_id": item, "option_id": option, "session": session})

    first = vote(yes, "walk-up-0001")
    assert first.status_code == 201
    assert first.json() == {"options": [{"id": yes, "label": "Yes", "votes": 1},
                                        {"id": no, "label": "No", "votes": 0}], "total": 1}
    twice = vote(no, "walk-up-0001")
    assert twice.status_code == 422 and "voted" in twice.json()["message"]
    # The next person at the kiosk starts a new session.
    assert vote(no, "walk-up-0002").json()["total"] == 2
    # School B's poll is not on this screen; an answer of another poll is not an answer here.
    assert vote(yes, "walk-up-0003", world.items["poll_b"]).status_code == 404
    assert vote(10**6, "walk-up-0003").status_code == 422
    assert vote(yes, "bad session!").status_code == 422
    assert _votes(app, poll["id"]) == 2


def test_a_screen_without_touch_takes_no_votes(app: Flask, live_server: str,
                                               world: World) -> None:
    token, _ = _pair(app, live_server, world)
    doc = requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(token), timeout=5).json()
    poll = next(i for i in doc["items"] if i["kind"] == "poll")
    r = requests.post(f"{live_server}{DEVICE}/vote", headers=_auth(token), timeout=5,
                      json={"item_id": poll["id"], "option_id": poll["options"][0]["id"],
                            "session": "walk-up-0001"})
    assert r.status_code == 403
    assert _votes(app, poll["id"]) == 0


def test_screenshots_are_downscaled_and_shown_on_the_fleet_page(
        app: Flask, live_server: str, world: World) -> None:
    from PIL import Image

    from server.models.displays import DisplayScreenshot

    token, display_id = _pair(app, live_server, world)
    sent = io.BytesIO()
    Image.new("RGB", (1920, 1080), "#204080").save(sent, "PNG")
    r = requests.post(f"{live_server}{DEVICE}/screenshot", headers=_auth(token), timeout=5,
                      data=sent.getvalue())
    assert r.status_code == 201 and (r.json()["width"], r.json()["height"]) == (640, 360)
    for bad, status in ((b"GIF89a" + b"\0" * 100, 422), (b"\x89PNG\r\n\x1a\n broken", 422),
                        (b"\xff\xd8\xff" + b"\0" * (5 * 1024 * 1024), 413)):
        refused = requests.post(f"{live_server}{DEVICE}/screenshot", headers=_auth(token),
                                timeout=10, data=bad)
        assert refused.status_code == status, refused.text[:300]
    with app.app_context():
        kept = db.session.get(DisplayScreenshot, display_id)
        assert kept is not None and kept.jpeg[:3] == b"\xff\xd8\xff"
        assert Image.open(io.BytesIO(kept.jpeg)).size == (640, 360)   # the good one stays
    admin = app.test_client()
    assert AuthActions(admin).login("admin").status_code == 302
    page = admin.get(f"/displays/{display_id}").get_data(as_text=True)
    assert 'data-testid="screenshot"' in page
    picture = admin.get(f"/displays/{display_id}/screenshot.jpg")
    assert picture.status_code == 200 and picture.mimetype == "image/jpeg"
    assert admin.get(f"/displays/{world.tt['display_a']}/screenshot.jpg").status_code == 404


def test_remote_actions_ride_on_heartbeat_replies(app: Flask, live_server: str,
                                                  world: World) -> None:
    token, display_id = _pair(app, live_server, world)

    def beat(**report: Any) -> Any:
        r = requests.post(f"{live_server}{DEVICE}/heartbeat", headers=_auth(token),
                          json=report, timeout=5)
        assert r.status_code == 200
        return r.json()["actions"]

    admin = app.test_client()
    assert AuthActions(admin).login("admin").status_code == 302
    assert admin.post(f"/displays/{display_id}/action",
                      data={"action": "reload"}).status_code == 302
    assert beat(uptime=5) == [{"id": 1, "action": "reload"}]
    assert beat(uptime=6) == [{"id": 1, "action": "reload"}]      # until it says it is done
    assert beat(done_action=1) == []
    admin.post(f"/displays/{display_id}/action", data={"action": "clear_cache"})
    assert beat(done_action=1) == [{"id": 2, "action": "clear_cache"}]
    refused = admin.post(f"/displays/{display_id}/action", data={"action": "format_disk"},
                         follow_redirects=True)
    assert "Unknown action" in refused.get_data(as_text=True)
    # "Pair it again": the screen loses its token at once and shows a new code; that code,
    # typed on this display's page, brings it back with its place and settings.
    assert admin.post(f"/displays/{display_id}/action",
                      data={"action": "repair"}).status_code == 302
    assert requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(token),
                        timeout=5).status_code == 401
    code = requests.post(f"{live_server}{DEVICE}/pair", timeout=5).json()
    page = admin.get(f"/displays/{display_id}").get_data(as_text=True)
    assert 'data-testid="pair-again"' in page
    assert admin.post(f"/displays/{display_id}/pair-again",
                      data={"code": code["code"]}).status_code == 302
    paired = requests.post(f"{live_server}{DEVICE}/pair/status",
                           json={"claim": code["claim"]}, timeout=5).json()
    assert paired["display"] == {"id": display_id, "name": "Lobby"}
    doc = requests.get(f"{live_server}{DEVICE}/manifest", headers=_auth(paired["token"]),
                       timeout=5).json()
    assert doc["timetable"]["target"] == {"kind": "room", "key": "204"}
    with app.app_context():
        from server.models.audit import AuditEvent

        done = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_id == str(display_id)).order_by(AuditEvent.id)))
    assert done[-5:] == ["display.action", "display.action_done", "display.action",
                         "display.unpair", "display.pair"]


def test_no_pupil_data_ever_reaches_a_display(app: Flask, world: World) -> None:
    """A school with pupils, cards and photos, a screen showing class 7Б's timetable (where
    a pupil is enrolled): the manifest and everything it names hold none of it."""
    from server.models.pupils import CardRow, PupilRow
    from server.services import pupil_sync

    with app.test_request_context():
        ctx = system_ctx(db.session, "test")
        pupil_sync.apply_run(ctx, world.tt["run_a"])
        _d, token = displays.create_with_token(ctx, {
            "org_id": world.ids["a"], "name": "Corridor", "timetable_target": "class:7Б"})
        db.session.commit()
        pupils = list(db.session.scalars(select(PupilRow)))
        cards = list(db.session.scalars(select(CardRow)))
    # (IDs as short as "A1" could turn up inside a random poll key by chance: not checked.)
    personal = {v for p in pupils for v in (p.surname, p.first_name, p.register_id)
                if v and len(v) >= 4} | {c.number for c in cards}
    assert {"Иванов", "Смирнова", "Орлова", "A-0001"} <= personal
    client = app.test_client()
    answer = client.get(f"{DEVICE}/manifest", headers=_auth(token))
    assert answer.status_code == 200
    doc = answer.get_json()
    assert doc["timetable"] is not None and "7Б" in answer.get_data(as_text=True)
    shown = answer.get_data(as_text=True)
    for url in {m["url"] for m in doc.get("media", [])}:
        shown += client.get(url, headers=_auth(token)).get_data(as_text=True)
    leaked = sorted(v for v in personal if v in shown)
    assert leaked == []
