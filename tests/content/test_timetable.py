"""The timetable engine, table-driven, with fixed moments and no database.

The school: Yekaterinburg (UTC+5), term 1 Sep – 27 Dec 2026, week A is the
week of Monday 23 Nov 2026, a holiday on Wed 4 Nov and on Mon 7 Dec, a working
Saturday on 28 Nov, a shortened day on Thu 26 Nov.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from content.timetable import (
    BellSchedule,
    Change,
    Event,
    Lesson,
    Period,
    Room,
    SchoolCalendar,
    Target,
    Timetable,
    bell_countdown,
    changes_board,
    class_sort_key,
    door_sign,
    find_conflicts,
    groups_overlap,
    period_windows,
    screen_slice,
)

TZ = "Asia/Yekaterinburg"
EKB = ZoneInfo(TZ)
MON, TUE, WED, THU, FRI, SAT = 0, 1, 2, 3, 4, 5

NORMAL = BellSchedule("normal", "Normal", (
    Period(1, time(8, 30), time(9, 15)),
    Period(2, time(9, 25), time(10, 10)),
    Period(3, time(10, 30), time(11, 15)),   # the big break (20 min) is before it
    Period(4, time(11, 25), time(12, 10)),
    Period(5, time(12, 20), time(13, 5)),
))
SHORT = BellSchedule("short", "Shortened", (
    Period(1, time(8, 30), time(9, 0)),
    Period(2, time(9, 10), time(9, 40)),
    Period(3, time(9, 50), time(10, 20)),
    Period(4, time(10, 30), time(11, 0)),
    Period(5, time(11, 10), time(11, 40)),
))
CALENDAR = SchoolCalendar(
    terms=((date(2026, 9, 1), date(2026, 12, 27)),),
    holidays=((date(2026, 11, 4), date(2026, 11, 4), "Unity Day"),
              (date(2026, 12, 7), date(2026, 12, 7), "Staff training")),
    extra_days=frozenset({date(2026, 11, 28)}),
    week_a=date(2026, 11, 25),
    bells_by_date={date(2026, 11, 26): "short"},
)
ROOMS = (Room("204", "Maths", "main", 2), Room("205", "Russian", "main", 2),
         Room("301", "English", "main", 3), Room("gym", "Gym", "annex", 1))

LESSONS = (
    Lesson(1, MON, 1, "7Б", "Maths", "Ivanova", "204"),
    Lesson(2, MON, 2, "7Б", "Russian", "Petrov", "205", week="A"),
    Lesson(3, MON, 2, "7Б/1", "English", "Smith", "301", week="B"),
    Lesson(4, MON, 2, "7Б/2", "English", "Jones", "204", week="B"),
    Lesson(5, MON, 3, "7Б", "PE", "Kuznetsov", "gym"),
    Lesson(6, MON, 3, "8А", "Maths", "Ivanova", "204"),
    Lesson(7, TUE, 1, "7Б", "History", "Petrov", "205"),
    Lesson(8, TUE, 2, "7Б", "Maths", "Ivanova", "204"),
    Lesson(9, MON, 4, "8А", "Russian", "Petrov", "205"),
    Lesson(10, FRI, 1, "7Б", "Biology", "Sidorova", "301"),
    Lesson(11, THU, 1, "7Б", "Maths", "Ivanova", "204"),
    Lesson(12, SAT, 1, "7Б", "Art", "Sidorova", "301"),
    Lesson(13, WED, 1, "7Б", "Physics", "Sidorova", "301"),
    Lesson(14, TUE, 3, "8А", "Music", "Smith", "301"),
)
CHANGES = (
    # Monday 30 Nov (week B): Ivanova is ill, Sidorova takes 7Б maths in 301.
    Change(1, date(2026, 11, 30), "substitution", lesson_id=1, teacher="Sidorova"),
    Change(2, date(2026, 11, 30), "room_move", lesson_id=1, room="301", note="204 is closed"),
    # Monday 30 Nov: 8А maths cancelled.
    Change(3, date(2026, 11, 30), "cancellation", lesson_id=6),
    # Monday 23 Nov: 7Б PE moved to Tuesday 24 Nov, period 5.
    Change(4, date(2026, 11, 23), "move", lesson_id=5, new_date=date(2026, 11, 24),
           new_period=5, note="gym is booked"),
    # Tuesday 24 Nov: an extra maths lesson for 8А in period 4.
    Change(5, date(2026, 11, 24), "extra", period=4, group="8А", subject="Maths",
           teacher="Ivanova", room="204"),
)
EVENTS = (
    Event(1, "Parent meeting 7Б", datetime(2026, 11, 30, 18, 0, tzinfo=EKB),
          place="205", audience=("7Б",), kind="parent_meeting"),
    Event(2, "Concert", datetime(2026, 12, 1, 15, 0, tzinfo=EKB), place="Hall"),
    Event(3, "8А trip", datetime(2026, 12, 2, 9, 0, tzinfo=EKB), audience=("8А",)),
)


@pytest.fixture(scope="module")
def tt() -> Timetable:
    return Timetable(CALENDAR, (NORMAL, SHORT), LESSONS, CHANGES, EVENTS, ROOMS, tz=TZ)


def at(y: int, mo: int, d: int, h: int, mi: int, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=EKB)


SEVEN_B = Target("class", "7Б")


@pytest.mark.parametrize(("moment", "phase", "period", "current", "minutes"), [
    (at(2026, 11, 23, 8, 29, 59), "before_lessons", None, [], 1),
    (at(2026, 11, 23, 8, 30), "lesson", 1, ["Maths"], 45),        # exactly at the bell
    (at(2026, 11, 23, 9, 14, 1), "lesson", 1, ["Maths"], 1),       # 59 s left: "1 min"
    (at(2026, 11, 23, 9, 15), "break", None, [], 10),              # the bell ends period 1
    (at(2026, 11, 23, 9, 25), "lesson", 2, ["Russian"], 45),
    (at(2026, 11, 23, 10, 9, 59), "lesson", 2, ["Russian"], 1),
    (at(2026, 11, 23, 10, 10), "after_school", None, [], None),    # PE moved away: done
    (at(2026, 11, 30, 10, 10), "break", None, [], 20),             # week B: the big break
    (at(2026, 11, 30, 10, 30), "lesson", 3, ["PE"], 45),
    (at(2026, 11, 22, 10, 0), "no_school", None, [], None),        # Sunday
])
def test_now_at_the_bells(tt: Timetable, moment: datetime, phase: str, period: int | None,
                          current: list[str], minutes: int | None) -> None:
    now = tt.now(SEVEN_B, moment)
    assert now.phase == phase
    assert (now.period.number if now.period else None) == period
    assert [s.subject for s in now.current] == current
    assert now.minutes_to_bell == minutes


def test_a_and_b_weeks(tt: Timetable) -> None:
    assert tt.week_of(date(2026, 11, 23)) == "A"
    assert tt.week_of(date(2026, 11, 30)) == "B"
    assert tt.week_of(date(2026, 11, 16)) == "B"
    week_a = [(s.period, s.group, s.subject) for s in tt.day(SEVEN_B, date(2026, 11, 23))]
    week_b = [(s.period, s.group, s.subject) for s in tt.day(SEVEN_B, date(2026, 11, 30))]
    assert (2, "7Б", "Russian") in week_a and all(s[2] != "English" for s in week_a)
    assert (2, "7Б/1", "English") in week_b and (2, "7Б/2", "English") in week_b
    assert all(s[2] != "Russian" for s in week_b)
    # A subgroup sees the whole class's lessons and its own half, not the other half.
    half = tt.day(Target("group", "7Б/1"), date(2026, 11, 30))
    assert [(s.period, s.group) for s in half] == [(1, "7Б"), (2, "7Б/1"), (3, "7Б")]


def test_a_lesson_moved_to_another_day(tt: Timetable) -> None:
    monday = tt.day(SEVEN_B, date(2026, 11, 23))
    pe = next(s for s in monday if s.subject == "PE")
    assert pe.status == "moved_out" and not pe.held
    assert pe.moved_to == (date(2026, 11, 24), 5)
    # On Monday PE is not on at its old time: after period 2, 7Б is done for the day.
    assert tt.now(SEVEN_B, at(2026, 11, 23, 10, 40)).phase == "after_school"
    tuesday_pe = tt.now(SEVEN_B, at(2026, 11, 24, 12, 30))
    assert [(s.subject, s.status, s.moved_from) for s in tuesday_pe.current] == [
        ("PE", "moved_in", (date(2026, 11, 23), 3))]
    assert tuesday_pe.current[0].note == "gym is booked"
    assert [s.subject for s in tt.changes(SEVEN_B, date(2026, 11, 24))] == ["PE"]


def test_substitution_and_room_move_add_up(tt: Timetable) -> None:
    maths = tt.day(SEVEN_B, date(2026, 11, 30))[0]
    assert (maths.teacher, maths.room, maths.status) == ("Sidorova", "301", "changed")
    assert (maths.original_teacher, maths.original_room) == ("Ivanova", "204")
    assert maths.changes == ("substitution", "room_move") and maths.note == "204 is closed"
    moment = at(2026, 11, 30, 8, 45)
    assert [s.group for s in tt.now(Target("teacher", "Sidorova"), moment).current] == ["7Б"]
    # The ill teacher and the closed room are free, yet the change is on their lists.
    assert tt.now(Target("teacher", "Ivanova"), moment).current == ()
    assert tt.now(Target("room", "204"), moment).current == ()
    assert [s.subject for s in tt.changes(Target("teacher", "Ivanova"), date(2026, 11, 30))] \
        == ["Maths", "Maths"]


def test_cancelled_lessons_are_listed_but_not_on(tt: Timetable) -> None:
    eight_a = Target("class", "8А")
    day = tt.day(eight_a, date(2026, 11, 30))
    assert [(s.subject, s.status) for s in day] == [("Maths", "cancelled"),
                                                    ("Russian", "normal")]
    assert tt.now(eight_a, at(2026, 11, 30, 10, 45)).phase == "before_lessons"


@pytest.mark.parametrize(("day", "reason"), [
    (date(2026, 11, 4), "holiday: Unity Day"),
    (date(2026, 11, 29), "weekend"),
    (date(2026, 12, 28), "out of term"),
    (date(2026, 11, 28), ""),                 # a working Saturday
    (date(2026, 11, 27), ""),
])
def test_school_days(tt: Timetable, day: date, reason: str) -> None:
    assert tt.day_off_reason(day) == reason
    assert tt.is_school_day(day) == (reason == "")


def test_a_holiday_gives_no_lessons(tt: Timetable) -> None:
    assert tt.day(SEVEN_B, date(2026, 11, 4)) == []
    now = tt.now(SEVEN_B, at(2026, 11, 4, 8, 45))
    assert (now.phase, now.reason, now.current, now.minutes_to_bell) == (
        "no_school", "holiday: Unity Day", (), None)
    # What comes next is Thursday's first lesson.
    assert [(s.date, s.subject) for s in now.upcoming] == [(date(2026, 11, 5), "Maths")]


@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 11, 27), date(2026, 11, 28)),   # Friday → the working Saturday
    (date(2026, 11, 28), date(2026, 11, 30)),   # Saturday → Monday, across Sunday
    (date(2026, 11, 3), date(2026, 11, 5)),     # across the Wednesday holiday
    (date(2026, 12, 4), date(2026, 12, 8)),     # Friday → Tuesday: weekend and holiday
    (date(2026, 12, 25), None),                 # the term ends; nothing within reach
])
def test_next_school_day(tt: Timetable, day: date, expected: date | None) -> None:
    assert tt.next_school_day(day) == expected


def test_after_school_points_to_the_next_school_day(tt: Timetable) -> None:
    now = tt.now(SEVEN_B, at(2026, 12, 4, 14, 0))   # Friday after lessons
    assert now.phase == "after_school" and now.next_bell is None
    assert [(s.date, s.subject) for s in now.upcoming] == [(date(2026, 12, 8), "History")]


def test_shortened_day_uses_its_bells(tt: Timetable) -> None:
    maths = tt.day(SEVEN_B, date(2026, 11, 26))[0]
    assert (maths.start.time(), maths.end.time()) == (time(8, 30), time(9, 0))
    assert tt.now(SEVEN_B, at(2026, 11, 26, 9, 5)).phase == "after_school"


def test_room_door_sign_during_a_break(tt: Timetable) -> None:
    sign = door_sign(tt, "204", at(2026, 11, 23, 10, 15))   # big break, Monday A
    assert sign.current is None and sign.phase == "break"
    assert sign.upcoming is not None and (sign.upcoming.group, sign.upcoming.period) == ("8А", 3)
    assert sign.free_until == at(2026, 11, 23, 10, 30)
    during = door_sign(tt, "204", at(2026, 11, 23, 10, 45))
    assert during.current is not None and during.current.group == "8А"
    assert during.free_until is None and during.upcoming is None
    idle = door_sign(tt, "gym", at(2026, 11, 23, 10, 15))   # PE moved away: free all day
    assert (idle.current, idle.upcoming, idle.free_until) == (None, None, None)


def test_building_and_school_targets(tt: Timetable) -> None:
    annex = tt.day(Target("building", "annex"), date(2026, 11, 30))
    assert [s.subject for s in annex] == ["PE"]
    school = tt.now(Target("school"), at(2026, 11, 30, 10, 45))
    assert sorted(s.group for s in school.current) == ["7Б"]   # 8А maths is cancelled


def test_conflicts(tt: Timetable) -> None:
    # Tuesday 24 Nov: 7Б PE moved in at period 5 is fine; the extra 8А maths is in period 4.
    assert tt.conflicts(date(2026, 11, 24)) == []
    clash = Timetable(CALENDAR, (NORMAL,), LESSONS, CHANGES + (
        # Smith covers 8А Russian in 205 (period 4) and is also given an extra 7Б lesson there.
        Change(10, date(2026, 11, 30), "substitution", lesson_id=9, teacher="Smith"),
        Change(11, date(2026, 11, 30), "extra", period=4, group="7Б", subject="Chess",
               teacher="Smith", room="205"),
    ), tz=TZ)
    found = {(c.kind, c.key, c.period) for c in clash.conflicts(date(2026, 11, 30))}
    assert found == {("teacher", "Smith", 4), ("room", "205", 4)}
    both = Timetable(CALENDAR, (NORMAL,), LESSONS, (
        Change(12, date(2026, 11, 23), "extra", period=1, group="7Б/1", subject="Chess",
               teacher="Smith", room="301"),), tz=TZ)
    assert {(c.kind, c.key) for c in both.conflicts(date(2026, 11, 23))} == {("class", "7Б")}
    # Two halves of a class at once is the point of subgroups, not a clash.
    assert tt.conflicts(date(2026, 11, 30)) == []
    assert find_conflicts([]) == []


@pytest.mark.parametrize(("a", "b", "overlap"), [
    ("7Б", "7Б", True), ("7Б", "7Б/1", True), ("7Б/1", "7Б/2", False), ("7Б", "7А", False),
])
def test_groups_overlap(a: str, b: str, overlap: bool) -> None:
    assert groups_overlap(a, b) is overlap


def test_changes_board_today_and_next_school_day(tt: Timetable) -> None:
    board = changes_board(tt, at(2026, 11, 27, 16, 0))   # Friday: next is Saturday 28
    assert [d["date"] for d in board] == ["2026-11-27", "2026-11-28"]
    board = changes_board(tt, at(2026, 11, 28, 16, 0))   # Saturday: next is Monday 30
    monday = board[1]
    assert monday["date"] == "2026-11-30"
    assert [c["class"] for c in monday["classes"]] == ["7Б", "8А"]   # type: ignore[index]
    cancelled = monday["classes"][1]["slots"][0]                     # type: ignore[index]
    assert (cancelled["subject"], cancelled["status"]) == ("Maths", "cancelled")


def test_bell_countdown_and_events(tt: Timetable) -> None:
    assert bell_countdown(tt, at(2026, 11, 30, 10, 33, 30)) == {
        "phase": "lesson", "period": 3, "next_bell": at(2026, 11, 30, 11, 15).isoformat(),
        "minutes_to_bell": 42}
    titles = [e.title for e in tt.upcoming_events(SEVEN_B, at(2026, 11, 30, 12, 0))]
    assert titles == ["Parent meeting 7Б", "Concert"]
    assert [e.title for e in tt.upcoming_events(Target("school"), at(2026, 12, 1, 16, 0))] \
        == ["8А trip"]


def test_screen_slice_is_plain_json(tt: Timetable) -> None:
    import json

    data = screen_slice(tt, SEVEN_B, at(2026, 11, 27, 16, 0))
    text = json.dumps(data, ensure_ascii=False)
    assert json.loads(text) == data
    assert [d["date"] for d in data["days"]] == ["2026-11-27", "2026-11-28"]  # type: ignore
    assert data["days"][0]["bells"][0] == {                                   # type: ignore
        "period": 1, "start": "2026-11-27T08:30:00+05:00", "end": "2026-11-27T09:15:00+05:00"}


def test_period_windows(tt: Timetable) -> None:
    day = date(2026, 11, 30)
    assert period_windows(tt, day, "big_break") == [(at(2026, 11, 30, 10, 10),
                                                     at(2026, 11, 30, 10, 30))]
    assert len(period_windows(tt, day, "breaks")) == 4
    assert period_windows(tt, day, "period:2") == [(at(2026, 11, 30, 9, 25),
                                                    at(2026, 11, 30, 10, 10))]
    assert period_windows(tt, date(2026, 11, 29), "breaks") == []
    with pytest.raises(ValueError, match="unknown period window"):
        period_windows(tt, day, "lunch")


def test_next_change_at_follows_the_bells(tt: Timetable) -> None:
    assert tt.next_change_at(SEVEN_B, at(2026, 11, 30, 8, 40)) == at(2026, 11, 30, 9, 15)
    assert tt.next_change_at(SEVEN_B, at(2026, 11, 30, 20, 0)) == at(2026, 12, 1, 0, 0)


def test_classes_sort_as_people_sort_them() -> None:
    assert sorted(["10А", "7Б", "11А", "7А", "5В"], key=class_sort_key) == [
        "5В", "7А", "7Б", "10А", "11А"]
