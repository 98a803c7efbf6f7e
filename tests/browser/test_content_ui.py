"""The content manager's pages in a real Chromium: write a news item with a picture, publish
it, see it in the list and the screen preview; hostile text stays inert; alerts."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from server.content_schemas import ItemCreate
from server.extensions import db
from server.services import content
from server.services.context import system_ctx
from tests.browser.test_admin_ui import sign_in
from tests.conftest import World, png_bytes
from tests.content.test_richtext import XSS_PAYLOADS

pytestmark = pytest.mark.browser


def test_news_with_a_picture_from_draft_to_screen(page: Any, live_server: str,
                                                  world: World) -> None:
    sign_in(page, live_server, "content_manager")
    page.wait_for_url(f"{live_server}/")
    page.click("[data-nav='content.index']")
    page.click("summary:has-text('New item')")
    page.click("[data-kind=news]")
    page.fill("#f-title", "Science week starts on Monday")
    editor = page.locator("[data-testid=editor]")
    editor.click()
    page.keyboard.type("Experiments in the ")
    page.click("button[title=Bold]")
    page.keyboard.type("main hall")
    page.set_input_files("#f-file", files=[{"name": "lab.png", "mimeType": "image/png",
                                            "buffer": png_bytes((1200, 800), "#22aa66")}])
    page.fill("#f-target_groups", "lobby")
    page.click("[data-testid=save]")
    page.wait_for_url(f"{live_server}/content/*")
    assert page.locator("[data-testid=item-state]").inner_text() == "Draft"
    page.click("[data-testid=publish]")
    page.wait_for_load_state()
    assert page.locator("[data-testid=item-state]").inner_text() == "On screen"
    assert "Published." in page.locator(".alert-ok").inner_text()

    screen = page.frame_locator("[data-testid=preview]")
    assert screen.locator("h1").inner_text() == "Science week starts on Monday"
    assert screen.locator("[data-testid=rich] b").inner_text() == "main hall"
    image = screen.locator("img.news-image")
    image.wait_for()
    page.wait_for_function(
        "() => { const f = document.querySelector('[data-testid=preview]');"
        " const i = f && f.contentDocument && f.contentDocument.querySelector('img.news-image');"
        " return i && i.complete && i.naturalWidth > 0; }")
    assert image.evaluate("i => i.naturalWidth") == 1200

    page.click("[data-nav='content.index']")
    row = page.locator("[data-testid=content-table] tr", has_text="Science week")
    assert row.locator(".state").inner_text() == "On screen"


def test_hostile_text_does_not_run_in_the_preview(app: Flask, page: Any, live_server: str,
                                                  world: World) -> None:
    body = "".join(XSS_PAYLOADS).replace("alert(1)", "window.top.pwned=1;alert(1)")
    with app.test_request_context():
        item = content.create_item(system_ctx(db.session, "test"), ItemCreate(
            kind="news", org_id=world.ids["a"], title="<img src=x onerror=alert(2)>",
            body=body, target_org_ids=[world.ids["a"]]))
        db.session.commit()
        item_id = item.id
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, live_server, "content_manager")
    page.wait_for_url(f"{live_server}/")
    for path in (f"/content/{item_id}", f"/content/{item_id}/preview",
                 f"/content/{item_id}/edit", "/content/"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.pwned === undefined"), path
    assert dialogs == []
    # Not only blocked by the page's policy: the markup itself carries nothing active.
    page.goto(f"{live_server}/content/{item_id}/preview")
    active = page.evaluate("""() => [...document.querySelectorAll('*')].filter(el =>
        ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'svg', 'STYLE', 'FORM'].includes(el.tagName) ||
        [...el.attributes].some(a => a.name.startsWith('on') || a.name === 'style' ||
            /^\\s*(javascript|data|vbscript):/i.test(a.value))).map(el => el.outerHTML)""")
    assert active == []
    page.goto(f"{live_server}/content/{item_id}")
    # the title is shown as text, not turned into an element
    assert page.locator("h1").inner_text() == "<img src=x onerror=alert(2)>"


def test_raise_and_withdraw_an_alert(page: Any, live_server: str, world: World) -> None:
    sign_in(page, live_server, "content_manager")
    page.wait_for_url(f"{live_server}/")
    page.click("[data-nav='content.alerts']")
    page.fill("#f-title", "Lockdown: stay in your classrooms")
    page.select_option("#f-severity", "critical")
    page.click("[data-testid=raise]")
    page.wait_for_load_state()
    active = page.locator("[data-testid=active-alerts]")
    row = active.locator(".alert-row", has_text="Lockdown: stay in your classrooms")
    assert row.locator(".sev").inner_text().lower() == "emergency"
    row.locator("[data-testid=withdraw]").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/content/alerts"
    assert "Taken off the screens." in page.locator(".alert-ok").inner_text()
    assert active.locator(".alert-row", has_text="Lockdown").count() == 0


def test_poll_page_shows_its_qr_code_and_live_results(browser: Any, page: Any,
                                                      live_server: str, world: World) -> None:
    sign_in(page, live_server, "content_manager")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/content/{world.items['poll_a']}")
    page.wait_for_function(
        "() => { const i = document.querySelector('[data-testid=qr]');"
        " return i && i.complete && i.naturalWidth > 0; }")
    qr_in_preview = page.frame_locator("[data-testid=preview]").locator(".qr-box img")
    qr_in_preview.wait_for()
    page.wait_for_function(
        "() => { const f = document.querySelector('[data-testid=preview]');"
        " const i = f && f.contentDocument && f.contentDocument.querySelector('.qr-box img');"
        " return i && i.complete && i.naturalWidth > 0; }")
    assert page.locator("[data-testid=results] [data-total]").inner_text() == "0"
    # a pupil votes on a phone; the manager's page counts it without a reload
    phone = browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 800})
    try:
        vote = phone.new_page()
        vote.goto(f"{live_server}/vote/{world.poll_keys['poll_a']}")
        vote.click("button[name=option_id] >> nth=1")
        assert "ваш голос учтён" in vote.locator(".alert-ok").inner_text()
    finally:
        phone.close()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=results] [data-total]').textContent === '1'",
        timeout=12_000)
    row = page.locator("[data-testid=results] .result >> nth=1")
    assert row.locator(".result-n").inner_text() == "1"
