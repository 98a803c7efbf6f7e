"""The card system's export: changes as CSV that no spreadsheet runs as a formula, and
photos only where consent is recorded."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import date

import pytest

from sync.export import build_export, safe_cell
from sync.plan import plan_sync
from sync.records import Consent
from tests.sync.test_plan import PETR, TODAY, card, pupil


@pytest.mark.parametrize(("raw", "shown"), [
    ("=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("  =1", "'  =1"), ("Иванов", "Иванов"), ("7Б", "7Б"), ("", ""),
])
def test_formula_looking_cells_are_escaped(raw: str, shown: str) -> None:
    assert safe_cell(raw) == shown


def test_the_export_lists_card_changes_and_photos_with_consent() -> None:
    evil = pupil("R5", "=HYPERLINK(\"http://x\")", "+cmd|calc", consent=None)
    moved = replace(PETR, class_name="7А")
    plan = plan_sync([moved, evil, pupil("R6", "Орлова", "Вера")],
                     [card("C1", "R1"), card("C9", "R404")],
                     known=[PETR], today=TODAY)
    pupils = {p.register_id: p for p in (moved, evil, pupil("R6", "Орлова", "Вера"))}
    export = build_export(plan.actions, pupils, lambda pid: b"\xff\xd8\xff" + pid.encode())
    assert export.changes_csv.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(export.changes_csv.decode("utf-8-sig")),
                           delimiter=";"))
    assert rows[0][:3] == ["action", "card_number", "register_id"]
    by_id = {r[2]: r for r in rows[1:]}
    assert set(by_id) == {"R1", "R5", "R6"}        # the conflict about C9 is not exported
    assert by_id["R1"][0] == "update" and by_id["R1"][9] == "class_name: 7Б → 7А"
    assert by_id["R5"][3:5] == ["'=HYPERLINK(\"http://x\")", "'+cmd|calc"]
    # Photos: by card number, or register ID for a card to issue; none without consent.
    names = zipfile.ZipFile(io.BytesIO(export.photos_zip)).namelist()
    assert sorted(names) == ["C1.jpg", "R6.jpg"]
    assert (export.photos, export.photos_without_consent) == (2, 1)
    assert by_id["R5"][10] == "" and by_id["R6"][10] == "R6.jpg"


def test_a_withdrawn_consent_keeps_the_photo_out() -> None:
    withdrawn = replace(PETR, class_name="7А", consent=Consent(False, date(2026, 10, 1), "letter"))
    plan = plan_sync([withdrawn], [card("C1", "R1")], known=[PETR], today=TODAY)
    export = build_export(plan.actions, {"R1": withdrawn}, lambda pid: b"jpeg")
    assert zipfile.ZipFile(io.BytesIO(export.photos_zip)).namelist() == []
