"""Bad input gets a clear 4xx that names what is wrong, never a 500, and changes nothing."""

from __future__ import annotations

import re
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models.orgs import Organisation
from server.models.users import User
from tests.conftest import AuthActions, World, bearer


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_api_unknown_field_is_named(client: FlaskClient, world: World) -> None:
    r = client.post("/api/v1/orgs", headers=bearer(world.tokens["admin"]), json={
        "parent_id": world.ids["a"], "kind": "building", "name": "Gym hall",
        "timezone": "Asia/Yekaterinburg", "colour": "red"})
    assert r.status_code == 422
    body = r.get_json()
    assert body["error"] == "invalid"
    assert {"field": "colour", "reason": "Unknown field."} in body["fields"]


def test_api_wrong_type_is_named(client: FlaskClient, world: World) -> None:
    r = client.post("/api/v1/orgs", headers=bearer(world.tokens["admin"]), json={
        "parent_id": "the school", "kind": "building", "name": "Gym hall",
        "timezone": "Asia/Yekaterinburg"})
    assert r.status_code == 422
    assert r.get_json()["fields"] == [{"field": "parent_id", "reason": "Must be a whole number."}]


def test_api_over_long_name_changes_nothing(app: Flask, client: FlaskClient,
                                            world: World) -> None:
    before = _count(app, Organisation)
    r = client.post("/api/v1/orgs", headers=bearer(world.tokens["admin"]), json={
        "parent_id": world.ids["a"], "kind": "building", "name": "x" * 201,
        "timezone": "Asia/Yekaterinburg"})
    assert r.status_code == 422
    assert r.get_json()["fields"] == [{"field": "name", "reason": "At most 200 characters."}]
    assert _count(app, Organisation) == before


def test_api_several_problems_are_all_reported(client: FlaskClient, world: World) -> None:
    r = client.post("/api/v1/users", headers=bearer(world.tokens["admin"]), json={
        "username": "A B", "display_name": "", "password": "short", "org_id": world.ids["a"]})
    assert r.status_code == 422
    fields = {f["field"] for f in r.get_json()["fields"]}
    assert fields == {"username", "display_name", "password"}


@pytest.mark.parametrize(("data", "content_type", "status", "message"), [
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"name=x", "application/x-www-form-urlencoded", 400, "as JSON"),
    (b"[1, 2]", "application/json", 422, "JSON object"),
    (b'"text"', "application/json", 422, "JSON object"),
])
def test_api_malformed_bodies(client: FlaskClient, world: World, data: bytes,
                              content_type: str, status: int, message: str) -> None:
    r = client.post("/api/v1/orgs", headers=bearer(world.tokens["admin"]), data=data,
                    content_type=content_type)
    assert r.status_code == status
    assert message in r.get_json()["message"] + str(r.get_json()["fields"])


def test_api_unknown_query_parameter(client: FlaskClient, world: World) -> None:
    r = client.get("/api/v1/audit?colour=red", headers=bearer(world.tokens["admin"]))
    assert r.status_code == 422
    assert r.get_json()["fields"][0]["field"] == "colour"


def test_api_bad_query_value(client: FlaskClient, world: World) -> None:
    r = client.get("/api/v1/audit?date_from=yesterday", headers=bearer(world.tokens["admin"]))
    assert r.status_code == 422
    assert r.get_json()["fields"] == [{"field": "date_from",
                                       "reason": "Must be a date (YYYY-MM-DD)."}]


def test_ui_over_long_name_shows_field_error(app: Flask, client: FlaskClient, world: World,
                                             auth: AuthActions) -> None:
    auth.login("admin")
    before = _count(app, Organisation)
    r = client.post(f"/orgs/{world.ids['a']}/new", data={
        "parent_id": world.ids["a"], "kind": "building", "name": "y" * 300,
        "timezone": "Asia/Yekaterinburg", "locale": "ru"})
    assert r.status_code == 422
    assert "At most 200 characters." in r.get_data(as_text=True)
    assert _count(app, Organisation) == before


def test_ui_unknown_timezone_is_explained(client: FlaskClient, world: World,
                                          auth: AuthActions) -> None:
    auth.login("admin")
    r = client.post(f"/orgs/{world.ids['a1']}/edit", data={
        "name": "Building A1", "timezone": "Mars/Olympus", "locale": "ru"})
    assert r.status_code == 422
    assert "Unknown time zone" in r.get_data(as_text=True)


def test_ui_bad_query_string_is_a_4xx(client: FlaskClient, world: World,
                                      auth: AuthActions) -> None:
    auth.login("admin")
    r = client.get("/audit/?page=minus-one")
    assert r.status_code == 422
    assert "page" in r.get_data(as_text=True)


def _csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "page has no CSRF token"
    return match.group(1)


class TestCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"WTF_CSRF_ENABLED": True}

    def test_missing_csrf_token_is_refused_and_nothing_changes(
            self, app: Flask, client: FlaskClient, world: World) -> None:
        token = _csrf_token(client, "/login")
        r = client.post("/login", data={"username": "admin", "password": "correct-horse-1",
                                        "csrf_token": token})
        assert r.status_code == 302
        before = _count(app, User)
        r = client.post("/users/new", data={
            "username": "intruder", "display_name": "Intruder", "password": "long-enough-1",
            "org_id": world.ids["a"]})
        assert r.status_code == 400
        assert "did not come from this site" in r.get_data(as_text=True)
        assert _count(app, User) == before
        # With the token the same form works.
        token = _csrf_token(client, "/users/new")
        r = client.post("/users/new", data={
            "username": "newcomer", "display_name": "New Comer", "password": "long-enough-1",
            "org_id": world.ids["a"], "csrf_token": token})
        assert r.status_code == 302
        assert _count(app, User) == before + 1


    def test_login_form_without_csrf_is_refused(self, client: FlaskClient, world: World) -> None:
        r = client.post("/login", data={"username": "admin", "password": "correct-horse-1"})
        assert r.status_code == 400
        assert "Go back, reload the page" in r.get_data(as_text=True)


def test_api_needs_no_csrf_token(client: FlaskClient, world: World) -> None:
    r = client.get("/api/v1/me", headers=bearer(world.tokens["viewer"]))
    assert r.status_code == 200


class TestExpiredSession:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"SESSION_HOURS": 1 / 3600}  # one second

    def test_expired_session_asks_to_sign_in_again(self, client: FlaskClient, world: World,
                                                   auth: AuthActions) -> None:
        assert auth.login("viewer").status_code == 302
        assert client.get("/").status_code == 200
        time.sleep(2.1)
        r = client.get("/orgs/")
        assert r.status_code == 302
        assert "/login?next=/orgs/" in r.headers["Location"]


def test_session_ends_when_password_changed_elsewhere(app: Flask, world: World) -> None:
    first, second = app.test_client(), app.test_client()
    AuthActions(first).login("viewer")
    AuthActions(second).login("viewer")
    r = second.post("/account/password", data={"current_password": "correct-horse-1",
                                              "new_password": "another-horse-2"})
    assert r.status_code == 302
    assert second.get("/").status_code == 200  # the one that changed it stays signed in
    r = first.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_unknown_page_is_a_friendly_404(client: FlaskClient, world: World,
                                       auth: AuthActions) -> None:
    auth.login("viewer")
    r = client.get("/no/such/page")
    assert r.status_code == 404
    assert "This page does not exist." in r.get_data(as_text=True)
    r = client.get("/api/v1/nothing", headers=bearer(world.tokens["viewer"]))
    assert r.status_code == 404 and r.get_json()["error"] == "not_found"


def test_wrong_method_is_405_not_500(client: FlaskClient, world: World) -> None:
    r = client.put("/api/v1/orgs", headers=bearer(world.tokens["admin"]), json={})
    assert r.status_code == 405


def test_huge_body_is_refused(app: Flask, world: World) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    client = app.test_client()
    r = client.post("/api/v1/orgs", headers=bearer(world.tokens["admin"]),
                    data=b"{" + b" " * 5000 + b"}", content_type="application/json")
    assert r.status_code == 413


def test_database_unreachable_is_a_clear_503(tmp_path: object) -> None:
    from pathlib import Path

    from tests.conftest import make_app

    missing = Path(str(tmp_path)) / "no" / "such" / "dir" / "x.db"
    app = make_app(f"sqlite:///{missing}", Path(str(tmp_path)), TESTING=False)
    client = app.test_client()
    r = client.get("/login")
    assert r.status_code == 200  # the sign-in page needs no database
    r = client.post("/login", data={"username": "admin", "password": "whatever-123"})
    assert r.status_code == 503
    assert "The database cannot be reached just now" in r.get_data(as_text=True)
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer vit_x" + "y" * 40})
    assert r.status_code == 503
    assert r.get_json()["error"] == "unavailable"
    assert client.get("/readyz").status_code == 503


def test_ids_larger_than_any_row_are_not_found_not_a_database_error(
        client: FlaskClient, auth: AuthActions, world: World) -> None:
    """Found by the API fuzz run: a 40-digit ID reached the database (OverflowError on
    SQLite, out of range on PostgreSQL)."""
    huge = 2**31
    admin = bearer(world.tokens["root_admin"])
    for method, url in (("GET", f"/api/v1/orgs/{huge}"), ("PATCH", f"/api/v1/orgs/{huge}"),
                        ("DELETE", f"/api/v1/orgs/{huge}"),
                        ("GET", f"/api/v1/timetable/{huge}/day"),
                        ("PUT", f"/api/v1/users/{huge}/password")):
        r = client.open(url, method=method, headers=admin, json={})
        assert r.status_code == 404, (method, url, r.status_code)
        assert r.get_json()["error"] == "not_found"
    assert client.get(f"/api/v1/orgs/{huge - 1}", headers=admin).status_code == 404
    r = client.post(f"/api/v1/users/{world.users['member_a']}/grants", headers=admin,
                    json={"org_id": 10**30, "role": "viewer"})
    assert r.status_code == 422
    assert r.get_json()["fields"][0]["field"] == "org_id"
    auth.login("root_admin")
    assert client.get(f"/orgs/{10**20}").status_code == 404
