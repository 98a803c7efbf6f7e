"""The JSON API: tokens, and an OpenAPI document that matches what the routes really do."""

from __future__ import annotations

import io
import re
from typing import Any

import jsonschema
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import AuthActions, World, bearer, png_bytes


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.get_json()
    return doc


def _flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def test_openapi_lists_exactly_the_api_routes(app: Flask, spec: dict[str, Any]) -> None:
    routes = {(_flask_to_openapi(r.rule), m.lower()) for r in app.url_map.iter_rules()
              if r.rule.startswith("/api/v1/") for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert routes == documented
    assert spec["openapi"].startswith("3.1")


def _validate(spec: dict[str, Any], path: str, method: str, r: TestResponse) -> None:
    """Check a real response against the documented schema of its status."""
    op = spec["paths"][path][method]
    documented = op["responses"].get(str(r.status_code))
    assert documented, f"{method.upper()} {path} answered undocumented {r.status_code}"
    if "content" not in documented:
        assert r.data == b""
        return
    schema = documented["content"]["application/json"]["schema"]
    resolver_doc = {"components": spec["components"], **schema}
    jsonschema.validate(r.get_json(), resolver_doc,
                        cls=jsonschema.Draft202012Validator)


def test_responses_match_the_document(client: FlaskClient, world: World,
                                      spec: dict[str, Any]) -> None:
    h = bearer(world.tokens["admin"])
    a = world.ids["a"]
    calls: list[tuple[str, str, str, Any]] = [
        ("/api/v1/me", "get", "/api/v1/me", None),
        ("/api/v1/me", "patch", "/api/v1/me", {"locale": "en"}),
        ("/api/v1/orgs", "get", "/api/v1/orgs", None),
        ("/api/v1/orgs", "post", "/api/v1/orgs", {"parent_id": a, "kind": "building",
                                                  "name": "Annex", "timezone": "Europe/Moscow"}),
        ("/api/v1/orgs", "post", "/api/v1/orgs", {"parent_id": a}),
        ("/api/v1/orgs/{org_id}", "get", f"/api/v1/orgs/{a}", None),
        ("/api/v1/orgs/{org_id}", "get", f"/api/v1/orgs/{world.ids['b']}", None),
        ("/api/v1/orgs/{org_id}", "get", "/api/v1/orgs/99999", None),
        ("/api/v1/orgs/{org_id}", "patch", f"/api/v1/orgs/{a}", {"name": "School A+"}),
        ("/api/v1/users", "get", "/api/v1/users", None),
        ("/api/v1/users", "post", "/api/v1/users", {
            "username": "new.person", "display_name": "New Person",
            "password": "long-enough-1", "org_id": a, "email": "np@school.example"}),
        ("/api/v1/users/{user_id}", "get", f"/api/v1/users/{world.users['member_a']}", None),
        ("/api/v1/users/{user_id}", "patch", f"/api/v1/users/{world.users['member_a']}",
         {"display_name": "Member A"}),
        ("/api/v1/users/{user_id}/grants", "post",
         f"/api/v1/users/{world.users['member_a']}/grants", {"org_id": a, "role": "card_admin"}),
        ("/api/v1/users/{user_id}/password", "put",
         f"/api/v1/users/{world.users['member_a']}/password", {"password": "long-enough-2"}),
        ("/api/v1/users/{user_id}/grants/{grant_id}", "delete",
         f"/api/v1/users/{world.users['member_a']}/grants/{world.grants['member_a']}", None),
        ("/api/v1/audit", "get", "/api/v1/audit?action=user.", None),
        ("/api/v1/tokens", "get", "/api/v1/tokens", None),
        ("/api/v1/tokens", "post", "/api/v1/tokens", {"name": "backup script",
                                                      "expires_in_days": 30}),
        ("/api/v1/me/password", "post", "/api/v1/me/password", {
            "current_password": "correct-horse-1", "new_password": "correct-horse-2"}),
    ]
    for path, method, url, body in calls:
        r = client.open(url, method=method.upper(), headers=h, json=body)
        assert r.status_code < 500
        _validate(spec, path, method, r)
    r = client.get("/api/v1/orgs", headers=bearer("vit_forged"))
    _validate(spec, "/api/v1/orgs", "get", r)
    assert r.status_code == 401


def test_content_responses_match_the_document(client: FlaskClient, world: World,
                                              spec: dict[str, Any]) -> None:
    h = bearer(world.tokens["content_manager"])
    a = world.ids["a"]
    news, poll, alert = (world.items[k] for k in ("news_a", "poll_a", "alert_a"))
    item = {"title": "Open day", "body": "<p>Hi</p>", "target_org_ids": [a],
            "weekdays": [0, 2], "daily_start": "08:00:00", "daily_end": "15:00:00",
            "starts_at": "2026-12-01T08:00:00+05:00"}
    calls: list[tuple[str, str, str, Any]] = [
        ("/api/v1/content", "get", "/api/v1/content?state=published&kind=poll", None),
        ("/api/v1/content", "get", "/api/v1/content?state=nonsense", None),
        ("/api/v1/content", "post", "/api/v1/content", {"kind": "news", "org_id": a, **item}),
        ("/api/v1/content", "post", "/api/v1/content", {"kind": "poll", "org_id": a}),
        ("/api/v1/content/{item_id}", "get", f"/api/v1/content/{poll}", None),
        ("/api/v1/content/{item_id}", "get", f"/api/v1/content/{world.items['news_b']}", None),
        ("/api/v1/content/{item_id}", "get", "/api/v1/content/99999", None),
        ("/api/v1/content/{item_id}", "put", f"/api/v1/content/{news}", item),
        ("/api/v1/content/{item_id}/publish", "post", f"/api/v1/content/{news}/publish", None),
        ("/api/v1/content/{item_id}/approve", "post", f"/api/v1/content/{news}/approve", None),
        ("/api/v1/content/{item_id}/reject", "post", f"/api/v1/content/{news}/reject",
         {"reason": "no"}),
        ("/api/v1/content/{item_id}/duplicate", "post", f"/api/v1/content/{news}/duplicate",
         None),
        ("/api/v1/content/{item_id}/expire", "post", f"/api/v1/content/{news}/expire", None),
        ("/api/v1/content/{item_id}/archive", "post", f"/api/v1/content/{news}/archive", None),
        ("/api/v1/content/bulk", "post", "/api/v1/content/bulk",
         {"ids": [poll], "action": "expire"}),
        ("/api/v1/alerts", "get", "/api/v1/alerts", None),
        ("/api/v1/alerts", "post", "/api/v1/alerts", {"org_id": a, "title": "Closed today"}),
        ("/api/v1/alerts/{item_id}/withdraw", "post", f"/api/v1/alerts/{alert}/withdraw",
         None),
        ("/api/v1/media", "get", "/api/v1/media", None),
    ]
    for path, method, url, body in calls:
        r = client.open(url, method=method.upper(), headers=h, json=body)
        assert r.status_code < 500, r.get_data(as_text=True)
        _validate(spec, path, method, r)
    r = client.post("/api/v1/media", headers=h, content_type="multipart/form-data",
                    data={"org_id": str(a), "file": (io.BytesIO(png_bytes()), "x.png")})
    assert r.status_code == 201
    _validate(spec, "/api/v1/media", "post", r)
    upload = spec["paths"]["/api/v1/media"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["required"] == ["org_id", "file"]


def test_token_lifecycle(app: Flask, client: FlaskClient, world: World) -> None:
    h = bearer(world.tokens["viewer"])
    r = client.post("/api/v1/tokens", headers=h, json={"name": "dashboard script"})
    assert r.status_code == 201
    created = r.get_json()
    secret = created["token"]
    assert secret.startswith("vit_") and created["prefix"] == secret[:10]
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["username"] == "viewer"
    listed = client.get("/api/v1/tokens", headers=h).get_json()
    assert all("token" not in t for t in listed)
    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=h).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_cannot_revoke_someone_elses_token(client: FlaskClient, world: World) -> None:
    r = client.delete(f"/api/v1/tokens/{world.token_ids['admin']}",
                      headers=bearer(world.tokens["viewer"]))
    assert r.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(world.tokens["admin"])).status_code == 200


def test_token_from_ui_shown_once_and_works(client: FlaskClient, world: World,
                                            auth: AuthActions) -> None:
    auth.login("card_admin")
    r = client.post("/account/tokens", data={"name": "export job"})
    assert r.status_code == 201
    secret = re.search(r'data-testid="new-token">(vit_[^<]+)<', r.get_data(as_text=True))
    assert secret
    assert secret.group(1) not in client.get("/account/").get_data(as_text=True)
    r = client.get("/api/v1/me", headers=bearer(secret.group(1)))
    assert r.get_json()["grants"][0]["role"] == "card_admin"


def test_session_cookie_does_not_authenticate_the_api(client: FlaskClient, world: World,
                                                      auth: AuthActions) -> None:
    auth.login("admin")
    assert client.get("/api/v1/me").status_code == 401


def test_me_lists_where_each_permission_holds(client: FlaskClient, world: World) -> None:
    me = client.get("/api/v1/me", headers=bearer(world.tokens["admin"])).get_json()
    assert me["permissions"]["user.manage"] == [world.ids["a"]]
    viewer = client.get("/api/v1/me", headers=bearer(world.tokens["viewer"])).get_json()
    assert viewer["permissions"]["user.manage"] == []
    assert viewer["permissions"]["org.view"] == [world.ids["a"]]
