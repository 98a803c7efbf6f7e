"""The admin UI in a real headless Chromium: sign-in, navigation per role, language switch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD, World, username_of

pytestmark = pytest.mark.browser

NAV_BY_ROLE = {
    "admin": ["dashboard.index", "timetable.index", "displays.index", "orgs.index",
              "users.index", "audit.index", "account.index"],
    "content_manager": ["dashboard.index", "content.index", "content.alerts",
                        "timetable.index", "displays.index", "orgs.index", "account.index"],
    "schedule_dispatcher": ["dashboard.index", "timetable.index", "orgs.index",
                            "account.index"],
    "card_admin": ["dashboard.index", "pupils.index", "orgs.index", "account.index"],
    "viewer": ["dashboard.index", "timetable.index", "displays.index", "orgs.index",
               "account.index"],
}


def sign_in(page: Any, base: str, who: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login")
    page.fill("#f-username", username_of(who))
    page.fill("#f-password", password)
    page.click("button.btn-primary")


@pytest.mark.parametrize("role", sorted(NAV_BY_ROLE))
def test_each_role_sees_its_navigation(page: Any, live_server: str, world: World,
                                       role: str) -> None:
    sign_in(page, live_server, role)
    page.wait_for_url(f"{live_server}/")
    nav = page.locator("[data-testid=nav] a").evaluate_all(
        "links => links.map(a => a.dataset.nav)")
    assert nav == NAV_BY_ROLE[role]
    assert page.locator(f".role-card[data-role={role}]").is_visible()
    if role != "admin":
        page.goto(f"{live_server}/users/")
        message = page.locator("[data-testid=error-message]").inner_text()
        assert "You do not have the right" in message


def test_failed_login_shows_an_error(page: Any, live_server: str, world: World) -> None:
    sign_in(page, live_server, "viewer", password="not-my-password")
    error = page.locator("[data-testid=login-error]")
    assert error.inner_text() == "Wrong user name or password."
    assert page.url.startswith(f"{live_server}/login")


def test_language_switch(page: Any, live_server: str, world: World, tmp_path: Path) -> None:
    sign_in(page, live_server, "admin")
    page.wait_for_url(f"{live_server}/")
    assert page.locator("h1").inner_text().startswith("Hello")
    page.click(".lang-switch button[value=ru]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith("Здравствуйте")
    assert page.locator("[data-nav='users.index']").inner_text() == "Люди и роли"
    assert page.locator("html").get_attribute("lang") == "ru"
    page.goto(f"{live_server}/orgs/")
    assert page.locator("h1").inner_text() == "Организации"
    page.click(".lang-switch button[value=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Organisations"
    assert page.url == f"{live_server}/orgs/"


def test_admin_creates_a_building_through_the_form(page: Any, live_server: str,
                                                   world: World) -> None:
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/orgs/{world.ids['a']}")
    page.click("text=Add: building")
    page.fill("#f-name", "Sports hall")
    page.click("button[type=submit].btn-primary")
    page.wait_for_url(f"{live_server}/orgs/*")
    assert "Sports hall" in page.locator("h1").inner_text()
    assert "“Sports hall” has been created." in page.locator(".alert-ok").inner_text()
