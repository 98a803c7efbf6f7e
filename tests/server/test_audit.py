"""The audit log records who changed what, when and from where, and admins filter it."""

from __future__ import annotations

from datetime import date, timedelta

from flask.testing import FlaskClient

from tests.conftest import AuthActions, World, bearer


def test_filters_by_node_user_and_date(client: FlaskClient, world: World) -> None:
    root = bearer(world.tokens["root_admin"])
    client.patch(f"/api/v1/orgs/{world.ids['b1']}", headers=root, json={"name": "B1 renamed"})
    client.patch(f"/api/v1/orgs/{world.ids['a1']}", headers=bearer(world.tokens["admin"]),
                 json={"name": "A1 renamed"})
    def actions(query: str, who: str = "root_admin") -> list[str]:
        r = client.get(f"/api/v1/audit?{query}", headers=bearer(world.tokens[who]))
        assert r.status_code == 200, r.get_json()
        return [e["summary"] for e in r.get_json()["items"]]

    assert actions(f"action=org.update&org_id={world.ids['b']}") == ["Changed building B1 renamed"]
    assert actions(f"action=org.update&user_id={world.users['admin']}") == [
        "Changed building A1 renamed"]
    today = date.today()
    assert len(actions(f"action=org.update&date_from={today - timedelta(days=1)}")) == 2
    assert actions(f"action=org.update&date_to={today - timedelta(days=2)}") == []
    # A school admin sees only their school's part of the log.
    assert actions("action=org.update", who="admin") == ["Changed building A1 renamed"]
    r = client.get(f"/api/v1/audit?org_id={world.ids['b']}", headers=bearer(world.tokens["admin"]))
    assert r.status_code == 403


def test_audit_page_shows_changes(client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login("admin")
    client.post(f"/users/{world.users['member_a']}", data={"display_name": "Renamed Member",
                                                          "is_active": "on"})
    page = client.get("/audit/?action=user.update").get_data(as_text=True)
    assert "Changed account member-a: display_name" in page and "127.0.0.1" in page


def test_audit_page_speaks_russian(client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login("admin")
    client.post(f"/users/{world.users['member_a']}/grants",
                data={"role": "card_admin", "org_id": world.ids["a1"]})
    client.post("/lang", data={"lang": "ru"})
    page = client.get("/audit/?action=grant.create").get_data(as_text=True)
    assert "Роль «Администратор карт учащихся» на «Building A1» выдана member-a" in page
