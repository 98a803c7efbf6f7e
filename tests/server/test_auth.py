"""Signing in and out, throttling, deactivation and safe redirects."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, AuthActions, World, bearer


def test_login_lands_on_dashboard_and_logout_ends_session(client: FlaskClient, world: World,
                                                          auth: AuthActions) -> None:
    r = auth.login("viewer")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "viewer person" in page
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client: FlaskClient, world: World,
                                                  auth: AuthActions) -> None:
    r = auth.login("viewer", password="wrong-password")
    assert r.status_code == 401
    assert "Wrong user name or password." in r.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_user_name_is_case_insensitive(client: FlaskClient, world: World) -> None:
    r = client.post("/login", data={"username": "  VIEWER ", "password": "correct-horse-1"})
    assert r.status_code == 302


def test_failed_logins_are_throttled(client: FlaskClient, world: World,
                                     auth: AuthActions) -> None:
    for _ in range(5):
        assert auth.login("viewer", password="nope-nope-nope").status_code == 401
    r = auth.login("viewer")  # even the right password waits now
    assert r.status_code == 429
    assert "Too many failed sign-in attempts" in r.get_data(as_text=True)
    # Another person is not locked out by someone guessing at "viewer".
    assert auth.login("admin").status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES_PER_ADDRESS": 3}])
def test_behind_no_proxy_a_forged_forwarded_for_does_not_escape_the_address_limit(
        app: Flask, world: World) -> None:
    guesser = app.test_client()
    for n, name in enumerate(("viewer", "admin", "content_manager")):
        r = guesser.post("/login", data={"username": name.replace("_", "-"),
                                         "password": "wrong-wrong-1"},
                         headers={"X-Forwarded-For": f"198.51.100.{n}"})
        assert r.status_code == 401
    r = guesser.post("/login", data={"username": "card-admin", "password": PASSWORD},
                     headers={"X-Forwarded-For": "198.51.100.77"})
    assert r.status_code == 429


@pytest.mark.parametrize("app_config", [{"LOGIN_MAX_FAILURES_PER_ADDRESS": 3,
                                         "PROXY_COUNT": 1}])
def test_behind_a_proxy_each_client_address_is_throttled_on_its_own(
        app: Flask, world: World) -> None:
    """Behind nginx every request comes from the proxy's address: with PROXY_COUNT the
    client's own address (from X-Forwarded-For) counts, so one guesser cannot lock a whole
    municipality out."""
    client = app.test_client()
    for name in ("viewer", "admin", "content_manager"):
        r = client.post("/login", data={"username": name.replace("_", "-"),
                                        "password": "wrong-wrong-1"},
                        headers={"X-Forwarded-For": "198.51.100.7"})
        assert r.status_code == 401
    r = client.post("/login", data={"username": "card-admin", "password": PASSWORD},
                    headers={"X-Forwarded-For": "198.51.100.7"})
    assert r.status_code == 429
    r = client.post("/login", data={"username": "card-admin", "password": PASSWORD},
                    headers={"X-Forwarded-For": "203.0.113.20"})
    assert r.status_code == 302


def test_deactivated_user_cannot_sign_in_and_loses_session(app: Flask, world: World) -> None:
    victim = app.test_client()
    AuthActions(victim).login("viewer")
    admin = app.test_client()
    AuthActions(admin).login("admin")
    r = admin.post(f"/users/{world.users['viewer']}", data={"display_name": "viewer person"})
    assert r.status_code == 302  # is_active checkbox absent: deactivated
    assert victim.get("/").status_code == 302
    assert AuthActions(app.test_client()).login("viewer").status_code == 401
    r = app.test_client().get("/api/v1/me", headers=bearer(world.tokens["viewer"]))
    assert r.status_code == 401


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "javascript:x"])
def test_login_never_redirects_off_site(client: FlaskClient, world: World, target: str) -> None:
    r = client.post("/login", data={"username": "viewer", "password": "correct-horse-1",
                                    "next": target})
    assert r.status_code == 302
    assert r.headers["Location"] == "/"


def test_login_returns_to_the_page_asked_for(client: FlaskClient, world: World) -> None:
    r = client.get("/orgs/")
    assert r.headers["Location"] == "/login?next=/orgs/"
    r = client.post("/login", data={"username": "viewer", "password": "correct-horse-1",
                                    "next": "/orgs/"})
    assert r.headers["Location"] == "/orgs/"


def test_session_cookie_is_http_only_and_lax(client: FlaskClient, world: World,
                                             auth: AuthActions) -> None:
    r = auth.login("viewer")
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


class TestHttps:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"PUBLIC_BASE_URL": "https://vitrina.school.example"}

    def test_secure_cookie_and_hsts_behind_https(self, client: FlaskClient, world: World,
                                                 auth: AuthActions) -> None:
        r = auth.login("viewer")
        assert "Secure" in r.headers["Set-Cookie"]
        assert "max-age" in client.get("/login").headers["Strict-Transport-Security"]


def test_security_headers(client: FlaskClient) -> None:
    r = client.get("/login")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in csp
    assert r.headers["Referrer-Policy"] == "same-origin"
    assert r.headers["Cache-Control"] == "no-store"
