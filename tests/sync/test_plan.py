"""The reconcile planner, one case per rule, on plain values and a fixed day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from sync.plan import CARD_KINDS, Decisions, PlanError, Rules, plan_sync
from sync.records import Card, Consent, PhotoInfo, Pupil, Source

TODAY = date(2026, 11, 25)
YES = Consent(True, date(2026, 9, 1), "paper form")


def pupil(pid: str, surname: str = "Иванов", first: str = "Пётр", **kw: object) -> Pupil:
    values: dict[str, object] = {"patronymic": "Сергеевич", "birth_date": date(2014, 3, 2),
                                 "class_name": "7Б", "school": "school-9", "consent": YES}
    values.update(kw)
    return Pupil(pid, surname, first, **values)  # type: ignore[arg-type]


def card(number: str, pid: str | None, of: Pupil | None = None, **kw: object) -> Card:
    holder = of or pupil(pid or "x")
    values: dict[str, object] = {
        "surname": holder.surname, "first_name": holder.first_name,
        "patronymic": holder.patronymic, "birth_date": holder.birth_date,
        "class_name": holder.class_name, "issued_on": date(2025, 9, 1)}
    values.update(kw)
    return Card(number, pid, **values)  # type: ignore[arg-type]


PETR = pupil("R1")
ANNA = pupil("R2", "Смирнова", "Анна", patronymic="Игоревна", birth_date=date(2013, 7, 9),
             class_name="8А")
FRESH = {"R1": PhotoInfo("a" * 64, date(2025, 9, 1)), "R2": PhotoInfo("b" * 64,
                                                                     date(2025, 9, 1))}
Row = tuple[str, str | None, str | None]


def kinds(plan: object) -> set[Row]:
    return {(a.kind, a.pupil_id, a.card_number) for a in plan.actions}  # type: ignore[attr-defined]


CASES: list[tuple[str, dict[str, object], set[Row]]] = [
    ("all in order: nothing to do",
     {"register": [PETR], "cards": [card("C1", "R1")], "known": [PETR]}, set()),
    ("a new pupil needs a card",
     {"register": [PETR, ANNA], "cards": [card("C1", "R1")], "known": [PETR]},
     {("pupil_new", "R2", None), ("issue_card", "R2", None)}),
    ("a pupil who left keeps the card through the grace period",
     {"register": [replace(PETR, status="left", left_on=date(2026, 11, 20))],
      "cards": [card("C1", "R1")], "known": [replace(PETR, status="left",
                                                      left_on=date(2026, 11, 20))]}, set()),
    ("after the grace period the card is blocked",
     {"register": [replace(PETR, status="left", left_on=date(2026, 11, 1))],
      "cards": [card("C1", "R1")], "known": [PETR]},
     {("pupil_left", "R1", None), ("block_card", "R1", "C1")}),
    ("a pupil missing from the register has left today: blocked after the grace period",
     {"register": [], "cards": [card("C1", "R1")], "known": [PETR]},
     {("pupil_left", "R1", None)}),
    ("a class transfer mid-year corrects the card and the record",
     {"register": [replace(PETR, class_name="7А")], "cards": [card("C1", "R1")],
      "known": [PETR]},
     {("update_card", "R1", "C1"), ("pupil_update", "R1", None)}),
    ("a surname change corrects the card",
     {"register": [replace(ANNA, surname="Петрова")], "cards": [card("C2", "R2", ANNA)],
      "known": [replace(ANNA, surname="Петрова")]},
     {("update_card", "R2", "C2")}),
    ("no photo, and an outdated one",
     {"register": [PETR, ANNA], "cards": [card("C1", "R1"), card("C2", "R2", ANNA)],
      "known": [PETR, ANNA], "photos": {"R2": PhotoInfo("b" * 64, date(2020, 1, 10))}},
     {("photo_missing", "R1", None), ("photo_outdated", "R2", None)}),
    ("two register rows for one child: no card until a person answers",
     {"register": [PETR, replace(PETR, register_id="R9", surname="ИВАНОВ ")],
      "cards": [card("C1", "R1")], "known": [PETR]},
     {("duplicate_pupil", "R1", None), ("pupil_new", "R9", None)}),
    ("two children with the same name and birth date, confirmed distinct: two cards",
     {"register": [PETR, replace(PETR, register_id="R9")], "cards": [card("C1", "R1")],
      "known": [PETR, replace(PETR, register_id="R9")],
      "decisions": Decisions(distinct=frozenset({frozenset({"R1", "R9"})})),
      "photos": {**FRESH, "R9": FRESH["R1"]}},
     {("issue_card", "R9", None)}),
    ("one child with two active cards",
     {"register": [PETR], "cards": [card("C1", "R1"), card("C7", "R1")], "known": [PETR]},
     {("duplicate_cards", "R1", "C1")}),
    ("a card naming a register ID nobody has is a conflict, never blocked on a guess",
     {"register": [PETR], "cards": [card("C1", "R1"), card("C5", "R404")], "known": [PETR]},
     {("conflict", None, "C5")}),
    ("a card without ID, same name (Latin look-alike, ё) and birth date: proposed",
     {"register": [PETR], "cards": [card("C3", None, PETR, surname="Иванoв", first_name="Петр")],
      "known": [PETR]},
     {("propose_match", "R1", "C3")}),
    ("a confirmed match links the card",
     {"register": [PETR], "cards": [card("C3", None, PETR)], "known": [PETR],
      "decisions": Decisions(confirmed=frozenset({("C3", "R1")}))},
     {("update_card", "R1", "C3")}),
    ("a rejected match leaves the card a conflict",
     {"register": [PETR], "cards": [card("C1", "R1"), card("C3", None, PETR)],
      "known": [PETR], "decisions": Decisions(rejected=frozenset({("C3", "R1")}))},
     {("conflict", None, "C3")}),
    ("a pupil who left and came back gets the blocked card back",
     {"register": [PETR], "cards": [card("C1", "R1", status="blocked")],
      "known": [replace(PETR, status="left", left_on=date(2026, 6, 1))]},
     {("pupil_back", "R1", None), ("unblock_card", "R1", "C1")}),
    ("a lost card is replaced, not unblocked",
     {"register": [PETR], "cards": [card("C1", "R1", status="lost")], "known": [PETR]},
     {("issue_card", "R1", None)}),
    ("a register row without birth date: matched by ID, never proposed, still carded",
     {"register": [PETR, replace(ANNA, birth_date=None)],
      "cards": [card("C1", "R1"), card("C8", None, ANNA)], "known": [PETR]},
     {("pupil_new", "R2", None), ("issue_card", "R2", None), ("conflict", None, "C8")}),
]


@pytest.mark.parametrize(("name", "inputs", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_rule(name: str, inputs: dict[str, object], expected: set[Row]) -> None:
    args = {"photos": FRESH, **inputs}
    plan = plan_sync(today=TODAY, **args)  # type: ignore[arg-type]
    assert kinds(plan) == expected
    for action in plan.actions:
        assert action.reason    # every action says why


def test_changes_name_the_fields() -> None:
    plan = plan_sync([replace(PETR, class_name="7А", surname="Сидоров")], [card("C1", "R1")],
                     known=[PETR], photos=FRESH, today=TODAY)
    (update,) = plan.of("update_card")
    assert update.changes == (("surname", "Иванов", "Сидоров"), ("class_name", "7Б", "7А"))
    assert "no birth date" in plan_sync(
        [replace(ANNA, birth_date=None)], [], photos=FRESH, today=TODAY).of(
        "issue_card")[0].reason


def test_consent_is_said_with_the_photo_reminder() -> None:
    plan = plan_sync([replace(PETR, consent=None)], [card("C1", "R1")], known=[PETR],
                     today=TODAY)
    assert "No consent" in plan.of("photo_missing")[0].reason


def test_the_grace_period_is_the_school_s() -> None:
    left = replace(PETR, status="left", left_on=date(2026, 11, 20))
    args = {"known": [left], "photos": FRESH, "today": TODAY}
    assert plan_sync([left], [card("C1", "R1")], rules=Rules(grace_days=3), **args).of(  # type: ignore[arg-type]
        "block_card")
    assert not plan_sync([left], [card("C1", "R1")], rules=Rules(grace_days=30), **args).of(  # type: ignore[arg-type]
        "block_card")


def test_the_same_inputs_applied_twice_change_nothing_the_second_time() -> None:
    register = [replace(PETR, class_name="7А"), ANNA,
                replace(pupil("R3", "Кузнецов", "Илья"), status="left",
                        left_on=date(2026, 10, 1))]
    cards = [card("C1", "R1"), card("C3", "R3", register[2])]
    first = plan_sync(register, cards, known=[PETR, pupil("R3", "Кузнецов", "Илья")],
                      photos=FRESH, today=TODAY)
    assert {a.kind for a in first.actions} >= {"update_card", "issue_card", "block_card",
                                              "pupil_new", "pupil_update", "pupil_left"}
    # Applying: Vitrina's pupils follow the register; card changes wait for the card system.
    pending = {a.key for a in first.actions if a.kind in CARD_KINDS}
    second = plan_sync(register, cards, known=register, pending=pending, photos=FRESH,
                       today=TODAY)
    assert [a for a in second.actions if not a.kind.startswith("photo")] == []
    # Keys are stable: the same plan again has the same keys.
    again = plan_sync(register, cards, known=[PETR, pupil("R3", "Кузнецов", "Илья")],
                      photos=FRESH, today=TODAY)
    assert [a.key for a in again.actions] == [a.key for a in first.actions]


def test_one_id_on_two_rows_is_refused_with_both_rows() -> None:
    a = replace(PETR, source=Source("register.csv", 2))
    b = replace(ANNA, register_id="R1", source=Source("register.csv", 7))
    with pytest.raises(PlanError, match=r"R1 is on two rows \(register.csv, row 2 and "
                                        r"register.csv, row 7\)"):
        plan_sync([a, b], [], today=TODAY)
    with pytest.raises(PlanError, match="card C1 is on two rows"):
        plan_sync([PETR], [card("C1", "R1"), card("C1", "R1")], today=TODAY)


def test_a_register_missing_many_pupils_is_refused_unless_confirmed() -> None:
    school = [pupil(f"R{n}", first=f"Имя{n}") for n in range(40)]
    cut = school[:30]     # a file cut at a line end: 10 pupils seem to have left
    with pytest.raises(PlanError, match=r"lacks 10 of the 40 pupils known as enrolled \(25%\)"):
        plan_sync(cut, [], known=school, today=TODAY)
    confirmed = plan_sync(cut, [], known=school, today=TODAY,
                          rules=Rules(max_missing_share=1.0))
    assert len(confirmed.of("pupil_left")) == 10
    # A few leavers are ordinary.
    assert len(plan_sync(school[:37], [], known=school, today=TODAY).of("pupil_left")) == 3


def test_actions_the_planner_builds_fast_have_every_field_of_an_action() -> None:
    import dataclasses

    from sync.plan import _ACTION_DEFAULTS, Action

    defaults = {f.name: f.default for f in dataclasses.fields(Action)
                if f.default is not dataclasses.MISSING}
    assert defaults == _ACTION_DEFAULTS
    assert {f.name for f in dataclasses.fields(Action)} == {"kind", "reason", *defaults}
