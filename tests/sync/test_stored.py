"""A plan as stored: compact, and read back as the same actions and listings."""

from __future__ import annotations

import json
from datetime import date

from sync import stored
from sync.plan import plan_sync
from sync.records import Card, Pupil, Source

TODAY = date(2026, 11, 25)


def _plan():  # type: ignore[no-untyped-def]
    reg = [Pupil(f"R{i}", "Иванов", "Пётр", birth_date=date(2014, 3, i + 1), class_name="7Б",
                 source=Source("register.csv", i + 2)) for i in range(5)]
    cards = [Card("C0", "R0", surname="Иванов", first_name="Пётр",
                  birth_date=date(2014, 3, 1), class_name="6Б", source=Source("cards.csv", 2)),
             Card("C9", "R404", source=Source("cards.csv", 3))]
    return plan_sync(reg, cards, today=TODAY, known=reg[1:])


def test_a_stored_plan_reads_back_as_the_same_actions_and_listing() -> None:
    plan = _plan()
    data = json.loads(json.dumps(stored.encode(plan.actions)))     # as the database has it
    assert tuple(stored.actions(data)) == plan.actions
    assert [a.sources for a in stored.actions(data)] == [a.sources for a in plan.actions]
    assert tuple(stored.actions(data, {"conflict"})) == tuple(
        a for a in plan.actions if a.kind == "conflict") != ()
    listed = stored.actions_of(data)
    assert listed == [stored.as_dict(a) for a in plan.actions]
    update = next(d for d in listed if d["kind"] == "update_card")
    assert update["key"] and update["rows"] == ["register.csv, row 2", "cards.csv, row 2"]
    assert update["changes"] == [["class_name", "6Б", "7Б"]]
    assert next(d for d in listed if d["kind"] == "conflict")["needs_person"]
    assert stored.counts(data) == plan.counts()
    # Each reason and file name is written once, however many actions share it.
    assert len(data["reasons"]) == len({a.reason for a in plan.actions})
    assert sorted(data["files"]) == ["cards.csv", "register.csv"]
    assert len(data["kind"]) == len(data["extra"]) == len(plan.actions)


def test_actions_spliced_into_a_plan_go_where_the_plan_orders_them() -> None:
    plan = _plan()
    tables = stored.Tables()
    entries = [tables.entry(a) for a in plan.actions]
    few = entries[1::3]
    rest = stored.columns_of(e for e in entries if e not in few)
    assert stored.spliced(rest, [], few) == stored.columns_of(entries)
    assert stored.spliced(rest, [], []) is rest
    # Some left out, others put in (one where one left out was).
    whole = stored.columns_of(entries)
    last = len(entries) - 1
    drop = [(0, 1), (2, 4), (last, last + 1)]
    assert stored.spliced(whole, drop, [entries[2], entries[3], entries[-1]]) == \
        stored.columns_of(e for i, e in enumerate(entries) if i != 0)
    keep = [k != stored.KIND_INDEX["conflict"] for k in rest["kind"]]
    assert stored.counts(tables.stored(stored.selected(rest, keep))).get("conflict") is None


def test_a_plan_stored_in_the_earlier_forms_still_reads() -> None:
    plan = _plan()
    tables = stored.Tables()
    version_2 = {"v": 2, "files": tables.files, "reasons": tables.reasons, "actions": [
        [e[0], e[1], e[2], e[3], *(e[6][:2] if e[6] else ([], [])),
         ([e[4], e[5]] if e[4] >= 0 else []) + (e[6][2] if e[6] else [])]
        for e in (tables.entry(a) for a in plan.actions)]}
    assert not stored.is_stored(version_2)
    assert stored.actions_of(version_2) == [stored.as_dict(a) for a in plan.actions]
    assert stored.counts(version_2) == plan.counts()
    listed = [stored.as_dict(a) for a in _plan().actions]
    assert not stored.is_stored(listed)
    assert stored.actions_of(listed) == listed
    assert stored.counts(listed) == _plan().counts()
    assert stored.actions_of([]) == [] and stored.counts(None) == {}
