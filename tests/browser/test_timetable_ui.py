"""The dispatcher's morning in a real Chromium: type a substitution on the changes screen,
see the double booking before and after saving, and take it back with undo."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_admin_ui import sign_in
from tests.conftest import World, next_monday

pytestmark = pytest.mark.browser


def test_a_substitution_with_a_double_booking_warning(page: Any, live_server: str,
                                                     world: World) -> None:
    sign_in(page, live_server, "schedule_dispatcher")
    page.wait_for_url(f"{live_server}/")
    page.click("[data-nav='timetable.index']")
    page.wait_for_url(f"{live_server}/timetable/*/")
    monday = next_monday().isoformat()
    page.goto(f"{live_server}/timetable/{world.ids['a']}/changes?date={monday}")
    form = page.locator("[data-testid=quick-change]")
    # Only the fields a substitution needs are shown.
    assert page.locator("#f-teacher").is_visible()
    assert not page.locator("#f-new_date").is_visible()
    page.fill("#f-group", "8А")
    page.fill("#f-period", "1")
    page.fill("#f-teacher", "Ivanova")
    check = page.locator("[data-testid=change-check]")
    # The warning comes while typing, before anything is saved.
    check.locator("text=Ivanova is double-booked in period 1").wait_for()
    assert "7Б (Maths, 204)" in check.inner_text()
    page.fill("#f-note", "Sidorova is ill")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    warn = page.locator(".alert-warn")
    assert "Ivanova is double-booked in period 1" in warn.inner_text()
    assert "Saved: 8А, period 1" in page.locator(".alert-ok").inner_text()
    assert page.locator("[data-testid=conflicts]").is_visible()
    day = page.locator("[data-testid=day-by-class]")
    history = day.locator(".slot", has_text="History")
    assert history.get_attribute("data-status") == "changed"
    assert "Ivanova instead of Sidorova; Sidorova is ill" in history.inner_text()
    # Undo takes it back: no clash, no change.
    form.locator("[data-testid=undo]").click()
    page.wait_for_load_state()
    assert "Undone:" in page.locator(".alert-ok").inner_text()
    assert page.locator("[data-testid=conflicts]").count() == 0
    assert day.locator(".slot", has_text="History").get_attribute("data-status") == "normal"


def test_the_kind_of_change_decides_the_fields(page: Any, live_server: str,
                                               world: World) -> None:
    sign_in(page, live_server, "schedule_dispatcher")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/timetable/{world.ids['a']}/changes?date="
              f"{next_monday().isoformat()}")
    page.select_option("#f-kind", "move")
    assert page.locator("#f-new_date").is_visible() and page.locator("#f-new_period").is_visible()
    assert page.locator("#f-room").is_visible() and not page.locator("#f-subject").is_visible()
    page.select_option("#f-kind", "cancellation")
    assert not page.locator("#f-teacher").is_visible()
    page.fill("#f-group", "7Б")
    page.fill("#f-period", "4")
    page.locator("[data-testid=change-check]").locator(
        "text=7Б has no lesson in period 4 on that day.").wait_for()
