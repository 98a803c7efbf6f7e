"""Admins manage people, roles and the tree within their own subtree, and it is audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models.audit import AuditEvent
from server.models.orgs import Organisation
from tests.conftest import AuthActions, World, bearer


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_admin_creates_account_grants_role_and_it_works(app: Flask, client: FlaskClient,
                                                        world: World, auth: AuthActions) -> None:
    auth.login("admin")
    r = client.post("/users/new", data={"username": "teacher.ivanova",
                                        "display_name": "Анна Иванова",
                                        "password": "long-enough-1", "org_id": world.ids["a1"]})
    assert r.status_code == 302
    user_id = int(r.headers["Location"].rsplit("/", 1)[1])
    r = client.post(f"/users/{user_id}/grants", data={"role": "content_manager",
                                                      "org_id": world.ids["a"]})
    assert r.status_code == 302
    page = client.get(f"/users/{user_id}").get_data(as_text=True)
    assert "Content manager" in page and "School A" in page
    created = _events(app, "user.create")[-1]
    assert created.actor_name == "admin" and created.address == "127.0.0.1"
    assert created.org_id == world.ids["a1"]
    assert _events(app, "grant.create")[-1].details["role"] == "content_manager"

    other = app.test_client()
    r = other.post("/login", data={"username": "teacher.ivanova", "password": "long-enough-1"})
    assert r.status_code == 302
    nav = other.get("/").get_data(as_text=True)
    assert 'data-nav="orgs.index"' in nav and 'data-nav="users.index"' not in nav


def test_school_admin_cannot_grant_outside_school(client: FlaskClient, world: World,
                                                  auth: AuthActions) -> None:
    auth.login("admin")
    r = client.post(f"/users/{world.users['member_a']}/grants",
                    data={"role": "admin", "org_id": world.ids["muni"]})
    assert r.status_code == 403


def test_admin_cannot_remove_own_admin_role(client: FlaskClient, world: World,
                                            auth: AuthActions) -> None:
    auth.login("admin")
    r = client.post(f"/users/{world.users['admin']}/grants/{world.grants['admin']}/delete")
    assert r.status_code == 422
    assert "cannot remove your own admin role" in r.get_data(as_text=True)


def test_user_list_shows_only_own_subtree(client: FlaskClient, world: World,
                                          auth: AuthActions) -> None:
    auth.login("admin")
    page = client.get("/users/").get_data(as_text=True)
    assert "member_a person" in page and "member_b person" not in page
    assert "root_admin person" not in page  # homed in the region, above the school
    r = client.get("/users/?org_id={}".format(world.ids["b"]))
    assert r.status_code == 403


def test_region_admin_sees_everyone(client: FlaskClient, world: World) -> None:
    r = client.get("/api/v1/users", headers=bearer(world.tokens["root_admin"]))
    names = {u["username"] for u in r.get_json()["items"]}
    assert {"member-a", "member-b", "root-admin", "viewer"} <= names


def test_search_finds_by_name(client: FlaskClient, world: World) -> None:
    r = client.get("/api/v1/users?q=MEMBER_A", headers=bearer(world.tokens["admin"]))
    assert [u["username"] for u in r.get_json()["items"]] == ["member-a"]


def test_tree_kinds_are_enforced(client: FlaskClient, world: World) -> None:
    h = bearer(world.tokens["root_admin"])
    r = client.post("/api/v1/orgs", headers=h, json={
        "parent_id": world.ids["muni"], "kind": "building", "name": "Shed",
        "timezone": "Asia/Yekaterinburg"})
    assert r.status_code == 422
    assert r.get_json()["fields"][0]["field"] == "kind"
    r = client.post("/api/v1/orgs", headers=h, json={
        "parent_id": world.ids["a1"], "kind": "building", "name": "Annex",
        "timezone": "Asia/Yekaterinburg"})
    assert r.status_code == 422
    r = client.post("/api/v1/orgs", headers=h, json={
        "parent_id": world.ids["muni"], "kind": "school", "name": "school a",
        "timezone": "Asia/Yekaterinburg"})
    assert r.status_code == 422
    assert "already has this name" in r.get_json()["fields"][0]["reason"]


def test_create_and_rename_node_in_ui(app: Flask, client: FlaskClient, world: World,
                                      auth: AuthActions) -> None:
    auth.login("admin")
    r = client.post(f"/orgs/{world.ids['a']}/new", data={
        "parent_id": world.ids["a"], "kind": "building", "name": "Спортивный корпус",
        "timezone": "Asia/Yekaterinburg", "locale": "ru"})
    assert r.status_code == 302
    org_id = int(r.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        assert org is not None
        assert org.path == f"/{world.ids['region']}/{world.ids['muni']}/{world.ids['a']}/{org_id}/"
    r = client.post(f"/orgs/{org_id}/edit", data={"name": "Спорткорпус",
                                                  "timezone": "Asia/Omsk", "locale": "ru"})
    assert r.status_code == 302
    change = _events(app, "org.update")[-1]
    # only what really changed is recorded
    assert change.details["before"] == {"name": "Спортивный корпус",
                                        "timezone": "Asia/Yekaterinburg"}
    r = client.post(f"/orgs/{org_id}/delete")
    assert r.status_code == 302
    assert _events(app, "org.delete")[-1].object_id == str(org_id)


def test_non_empty_node_is_not_deleted(client: FlaskClient, world: World) -> None:
    r = client.delete(f"/api/v1/orgs/{world.ids['a']}", headers=bearer(world.tokens["root_admin"]))
    assert r.status_code == 422
    assert "nodes inside it" in r.get_json()["message"]


def test_viewer_sees_tree_but_not_other_schools(client: FlaskClient, world: World) -> None:
    r = client.get("/api/v1/orgs", headers=bearer(world.tokens["viewer"]))
    names = [o["name"] for o in r.get_json()]
    assert names == ["School A", "Building A1"]


def test_admin_resets_password_and_old_one_stops_working(app: Flask, world: World) -> None:
    admin = app.test_client()
    AuthActions(admin).login("admin")
    r = admin.post(f"/users/{world.users['member_a']}/password",
                   data={"password": "fresh-password-9"})
    assert r.status_code == 302
    c = app.test_client()
    assert AuthActions(c).login("member_a").status_code == 401
    assert AuthActions(c).login("member_a", "fresh-password-9").status_code == 302
    assert _events(app, "user.password_reset")
