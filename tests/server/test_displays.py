"""The fleet in the admin UI and on the command line: pair by code, see health, revoke."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.app import create_app
from server.cli import main
from server.extensions import db
from server.models.base import utcnow
from server.models.displays import Display
from tests.conftest import AuthActions, World


def test_an_admin_pairs_a_screen_by_its_code(app: Flask, client: FlaskClient, world: World,
                                             auth: AuthActions) -> None:
    device = app.test_client()
    code = device.post("/api/device/v1/pair").get_json()
    auth.login("admin")
    form = {"code": code["code"][:3] + " " + code["code"][3:].lower(), "name": "Canteen TV",
            "org_id": str(world.ids["a1"]), "floor": "1", "groups": "Canteen, floor-1",
            "layout": "standard", "orientation": "landscape", "locale": "ru",
            "timetable_target": "school:", "power_on": "07:00", "power_off": "18:30"}
    r = client.post("/displays/pair", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Canteen TV" in page and "Waiting for its token" in page
    token = device.post("/api/device/v1/pair/status",
                        json={"claim": code["claim"]}).get_json()["token"]
    with app.app_context():
        d = db.session.scalars(select(Display).where(Display.name == "Canteen TV")).one()
        assert (d.status, d.groups, d.floor) == ("active", ["canteen", "floor-1"], 1)
        assert d.token_hash is not None and token not in d.token_hash
    listing = client.get("/displays/?group=canteen").get_data(as_text=True)
    assert "Canteen TV" in listing and "Never seen" in listing and "Lobby A" not in listing
    # A wrong code says so next to the field, and nothing is made.
    r = client.post("/displays/pair", data={**form, "code": "AAAAAA", "name": "Ghost"})
    assert r.status_code == 422
    assert "No screen is showing this code" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Display).where(Display.name == "Ghost")).first() is None


def test_health_follows_the_heartbeats(app: Flask, client: FlaskClient, world: World,
                                       auth: AuthActions) -> None:
    with app.app_context():
        d = db.session.get(Display, world.tt["display_a"])
        assert d is not None
        d.last_seen_at = utcnow() - timedelta(minutes=30)
        db.session.commit()
    auth.login("viewer")
    page = client.get(f"/displays/{world.tt['display_a']}").get_data(as_text=True)
    assert 'data-testid="health">Dark<' in page
    assert 'data-testid="revoke"' not in page     # a viewer sees, an admin acts
    with app.app_context():
        d = db.session.get(Display, world.tt["display_a"])
        assert d is not None
        d.last_seen_at = utcnow()
        db.session.commit()
    page = client.get(f"/displays/{world.tt['display_a']}").get_data(as_text=True)
    assert 'data-testid="health">Online<' in page


def test_revoking_in_the_ui(app: Flask, client: FlaskClient, world: World,
                            auth: AuthActions) -> None:
    auth.login("admin")
    r = client.post(f"/displays/{world.tt['display_a']}/revoke", follow_redirects=True)
    assert "is revoked" in r.get_data(as_text=True)
    with app.app_context():
        d = db.session.get(Display, world.tt["display_a"])
        assert d is not None and (d.status, d.token_hash) == ("revoked", None)


def test_the_displays_commands(tmp_path: Path) -> None:
    inst = str(tmp_path)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, ["--instance", inst, *args])
        return result.exit_code, result.output

    assert run("db", "upgrade")[0] == 0
    assert run("users", "create-admin", "--username", "root", "--password", "long-enough-1",
               "--root-name", "Школа № 5", "--root-kind", "school")[0] == 0
    code, out = run("displays", "add", "Hall screen", "--group", "Hall", "--print-token")
    assert code == 0, out
    token = out.strip().splitlines()[-1]
    assert token.startswith("dev_")
    client = create_app(instance_path=inst).test_client()
    assert client.get("/api/device/v1/manifest",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    code, out = run("displays", "list")
    assert "Hall screen" in out and "Школа № 5" in out and "hall" in out
    code, out = run("displays", "revoke", "Hall screen")
    assert code == 0 and "Revoked" in out
    assert client.get("/api/device/v1/manifest",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 401
    code, out = run("displays", "add", "X", "--org", "Nowhere")
    assert code == 1 and "No organisation 'Nowhere'" in out


def test_going_dark_and_coming_back_is_noticed(app: Flask, client: FlaskClient, world: World,
                                               auth: AuthActions) -> None:
    from server.models.audit import AuditEvent
    from server.services import displays

    with app.test_request_context():
        d = db.session.get(Display, world.tt["display_a"])
        assert d is not None
        d.last_seen_at = utcnow() - timedelta(hours=1)
        db.session.commit()
        went = displays.mark_dark(db.session, utcnow())
        assert [x.id for x in went] == [world.tt["display_a"]]
        assert displays.mark_dark(db.session, utcnow()) == []    # noticed once
        db.session.commit()
    auth.login("admin")
    page = client.get("/displays/").get_data(as_text=True)
    assert 'data-testid="dark-displays"' in page and "Lobby A" in page
    with app.test_request_context():
        displays.record_heartbeat(db.session, world.tt["display_a"], {"uptime": 5})
        db.session.commit()
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_id == str(world.tt["display_a"]))))
    assert actions[-2:] == ["display.dark", "display.back"]
    assert 'data-testid="dark-displays"' not in client.get("/displays/").get_data(as_text=True)


def test_changing_a_display_reaches_its_screen(app: Flask, client: FlaskClient, world: World,
                                                auth: AuthActions) -> None:
    from server.services import displays

    with app.test_request_context():
        display, token = displays.create_with_token(system_ctx_for_test(), {
            "org_id": world.ids["a"], "name": "Hall", "groups": ["hall"]})
        db.session.commit()
        display_id = display.id
    device = app.test_client()
    auth_header = {"Authorization": f"Bearer {token}"}
    before = device.get("/api/device/v1/manifest", headers=auth_header)
    auth.login("admin")
    form = client.get(f"/displays/{display_id}/edit").get_data(as_text=True)
    assert 'value="Hall"' in form and 'name="code"' not in form
    r = client.post(f"/displays/{display_id}/edit", data={
        "name": "Main hall", "org_id": str(world.ids["a1"]), "groups": "Hall, Stage",
        "layout": "fullscreen", "orientation": "landscape", "locale": "en", "floor": "2",
        "transition": "slide", "touch": "on"})
    assert r.status_code == 302, r.get_data(as_text=True)[:1500]
    after = device.get("/api/device/v1/manifest",
                       headers={**auth_header, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    shown = after.get_json()["display"]
    assert (shown["name"], shown["layout"], shown["groups"]) == ("Main hall", "fullscreen",
                                                                  ["hall", "stage"])
    assert (shown["transition"], shown["touch"]) == ("slide", True)
    page = client.get(f"/displays/{display_id}").get_data(as_text=True)
    assert "Slide" in page and "touch screen" in page
    bad = client.post(f"/displays/{display_id}/edit", data={
        "name": "", "org_id": str(world.ids["a"]), "groups": "no spaces allowed"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert 'id="err-name"' in page and 'id="err-groups"' in page


def system_ctx_for_test() -> object:
    from server.services.context import system_ctx

    return system_ctx(db.session, "test")
