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
