"""The card administrator in a real Chromium: upload a register and a card list, read the
plan, confirm a proposed match, apply, and download the export for the card system."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_admin_ui import sign_in
from tests.conftest import World
from tests.server.test_pupil_sync import CARDS, REGISTER

pytestmark = pytest.mark.browser


def test_upload_plan_confirm_apply_download(page: Any, live_server: str, world: World,
                                            tmp_path: Path) -> None:
    register, cards = tmp_path / "Выгрузка АИС.csv", tmp_path / "cards.csv"
    register.write_bytes(REGISTER.encode("cp1251"))
    cards.write_text(CARDS + "0004;;активна;Смирнова;Анна;Игоревна;09.07.2013;8А\n")
    sign_in(page, live_server, "card_admin")
    page.wait_for_url(f"{live_server}/")
    page.click("[data-nav='pupils.index']")
    page.click("text=Sync with the card system")
    page.set_input_files("#f-register", str(register))
    page.set_input_files("#f-cards", str(cards))
    page.click("[data-testid=sync-submit]")
    page.wait_for_url(f"{live_server}/pupils/sync/*")
    kinds = page.locator("[data-testid=kinds]")
    assert "Proposed matches: 1" in kinds.inner_text()
    assert "Cards to block: 1" in kinds.inner_text()
    page.click("[data-testid='confirmed-0004']")
    page.locator("text=Noted; the plan is updated.").wait_for()
    assert "Proposed matches" not in page.locator("[data-testid=kinds]").inner_text()
    page.click("[data-kind='update_card']")
    rows = page.locator("[data-testid=plan] tr[data-action='update_card']")
    assert rows.count() == 2
    page.click("[data-testid=apply]")
    page.locator("[data-testid=report]").wait_for()
    assert "3 pupils added" in page.locator("[data-testid=report]").inner_text()
    assert page.locator("[data-testid=run-status]").inner_text() == "Applied"
    with page.expect_download() as download:
        page.click("[data-testid=export-csv]")
    saved = tmp_path / "changes.csv"
    download.value.save_as(saved)
    text = saved.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("action;card_number;register_id")
    assert "update;0004;R2" in text and "block;0003;R3" in text
    # The pupils are listed with their cards.
    page.click("[data-testid=pupils-nav] >> text=Pupils")
    table = page.locator("[data-testid=pupils]")
    assert "Смирнова Анна Игоревна" in table.inner_text()


def test_crop_and_save_a_photo(page: Any, live_server: str, world: World,
                               tmp_path: Path) -> None:
    from tests.sync.test_photos import jpeg, textured

    picture = tmp_path / "phone.jpg"
    picture.write_bytes(jpeg(textured((900, 1200))))
    sign_in(page, live_server, "card_admin")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/pupils/{world.tt['pupil_a']}")
    old_src = page.get_attribute("[data-testid=current-photo]", "src")
    page.set_input_files("#f-photo", str(picture))
    frame = page.locator("#crop-frame")
    frame.wait_for()
    page.fill("#crop-zoom", "60")
    page.dispatch_event("#crop-zoom", "input")
    box = frame.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 30, box["y"] + box["height"] / 2 + 20)
    page.mouse.up()
    x0 = float(page.input_value("#crop-x0"))
    x1 = float(page.input_value("#crop-x1"))
    assert 0 < x0 < x1 < 1 and abs((x1 - x0) - 0.6) < 0.02
    page.click("[data-testid=photo-submit]")
    page.locator("text=Photo saved.").wait_for()
    new_src = page.get_attribute("[data-testid=current-photo]", "src")
    assert new_src != old_src
    shown = page.evaluate("src => fetch(src).then(r => r.status)", new_src)
    assert shown == 200
    # Someone else signed in gets 403 on the photo's address.
    other = page.context.browser.new_context()
    try:
        stranger = other.new_page()
        sign_in(stranger, live_server, "content_manager")
        stranger.wait_for_url(f"{live_server}/")
        response = stranger.goto(f"{live_server}{new_src}")
        assert response is not None and response.status == 403
    finally:
        other.close()


def test_take_a_photo_with_the_camera(page: Any, live_server: str, world: World) -> None:
    sign_in(page, live_server, "card_admin")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/pupils/{world.tt['pupil_a']}")
    old_src = page.get_attribute("[data-testid=current-photo]", "src")
    page.click("[data-testid=camera-open]")
    page.wait_for_function("() => document.getElementById('camera-video').videoWidth > 0")
    page.click("[data-testid=camera-take]")
    page.locator("#crop-frame").wait_for()
    assert page.locator("[data-testid=camera]").is_hidden()       # the camera is let go
    assert page.evaluate("document.getElementById('f-photo').files[0].name") == "camera.jpg"
    page.click("[data-testid=photo-submit]")
    page.locator(".alert").first.wait_for()
    new_src = page.get_attribute("[data-testid=current-photo]", "src")
    assert new_src != old_src


def test_photos_for_many_pupils_with_progress(page: Any, live_server: str, world: World,
                                              tmp_path: Path) -> None:
    import zipfile

    from tests.sync.test_photos import jpeg, textured

    archive = tmp_path / "picture day.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("A9.jpg", jpeg(textured((900, 1200))))
        z.writestr("Орлова_Вера.jpg", jpeg(textured()))     # the same pupil by name
        z.writestr("nobody.jpg", jpeg(textured()))
    sign_in(page, live_server, "card_admin")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/pupils/photos/import")
    page.set_input_files("#f-archive", str(archive))
    page.click("[data-testid=import-submit]")
    page.locator("[data-testid=batch-left-out]").wait_for()
    left_out = page.inner_text("[data-testid=batch-left-out]")
    assert "more than one file for this pupil" in left_out
    assert "nobody.jpg" in left_out
    assert page.locator("[data-testid=batch-apply]").is_disabled()

    one = tmp_path / "one.zip"
    with zipfile.ZipFile(one, "w") as z:
        z.writestr("A9.jpg", jpeg(textured((900, 1200))))
    page.goto(f"{live_server}/pupils/photos/import")
    page.set_input_files("#f-archive", str(one))
    page.click("[data-testid=import-submit]")
    # The page's script checks the photos (a progress bar while it does) and then shows
    # them; without it the batch would stay "being checked".
    page.locator("[data-testid=batch-matched]").wait_for()
    assert "Орлова Вера" in page.inner_text("[data-testid=batch-matched]")
    page.wait_for_function("() => { const i = document.querySelector("
                           "'[data-testid=batch-matched] img'); return i && i.complete; }")
    assert page.evaluate("() => document.querySelector('[data-testid=batch-matched] img')"
                         ".naturalWidth") == 450
    page.click("[data-testid=batch-apply]")
    page.locator("[data-testid=batch-report]").wait_for()
    page.goto(f"{live_server}/pupils/{world.tt['pupil_a']}")
    assert page.locator("[data-testid=current-photo]").count() == 1
