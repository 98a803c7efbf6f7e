"""Publication rules, table-driven, with fixed moments and no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from content.publication import (
    Display,
    Item,
    Recurrence,
    Targets,
    build_playlist,
    effective_state,
    is_on_screen,
    next_change_at,
    next_recurrence_change,
    recurrence_active,
    targets_display,
)

EKB = "Asia/Yekaterinburg"  # UTC+5 all year: Russia has no DST
VLAD = "Asia/Vladivostok"   # UTC+10
SCHOOL_A, SCHOOL_B = "/1/2/3/", "/1/2/4/"
LOBBY_A = Display(org_path="/1/2/3/7/", groups=frozenset({"lobby"}), timezone=EKB)
CANTEEN_A = Display(org_path="/1/2/3/7/", groups=frozenset({"canteen", "floor-1"}),
                    timezone=EKB)
LOBBY_B = Display(org_path="/1/2/4/8/", groups=frozenset({"lobby"}), timezone=EKB)


def local(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))  # type: ignore[misc]


def item(id: int = 1, kind: str = "news", state: str = "published", owner: str = "/1/",
         targets: Targets | None = None, **kw: object) -> Item:
    return Item(id=id, kind=kind, state=state, owner_path=owner,
                targets=targets or Targets(org_paths=("/1/",)), **kw)  # type: ignore[arg-type]


NOW = datetime(2026, 11, 24, 5, 15, tzinfo=UTC)  # Tuesday 10:15 in Yekaterinburg


@pytest.mark.parametrize(("state", "start", "end", "expected"), [
    ("draft", None, None, "draft"),
    ("review", NOW - timedelta(days=1), None, "review"),
    ("archived", None, NOW - timedelta(days=1), "archived"),
    ("published", None, None, "published"),
    ("published", NOW + timedelta(seconds=1), None, "scheduled"),
    ("published", NOW, None, "published"),  # starts exactly now
    ("published", None, NOW, "expired"),  # ends exactly now: gone
    ("published", None, NOW + timedelta(seconds=1), "published"),
    ("published", NOW - timedelta(days=2), NOW - timedelta(days=1), "expired"),
])
def test_effective_state(state: str, start: datetime | None, end: datetime | None,
                         expected: str) -> None:
    assert effective_state(state, start, end, NOW) == expected


MON_FRI = frozenset(range(5))


@pytest.mark.parametrize(("rec", "moment", "tz", "expected"), [
    (Recurrence(), local(EKB, 2026, 11, 29, 3, 0), EKB, True),
    (Recurrence(weekdays=MON_FRI), local(EKB, 2026, 11, 24, 10, 0), EKB, True),   # Tue
    (Recurrence(weekdays=MON_FRI), local(EKB, 2026, 11, 29, 10, 0), EKB, False),  # Sun
    (Recurrence(start=time(8), end=time(15)), local(EKB, 2026, 11, 24, 8, 0), EKB, True),
    (Recurrence(start=time(8), end=time(15)), local(EKB, 2026, 11, 24, 15, 0), EKB, False),
    (Recurrence(start=time(8), end=time(15)), local(EKB, 2026, 11, 24, 7, 59), EKB, False),
    # The same UTC moment is 10:15 in Yekaterinburg but 15:15 in Vladivostok.
    (Recurrence(start=time(8), end=time(15)), NOW, EKB, True),
    (Recurrence(start=time(8), end=time(15)), NOW, VLAD, False),
    # Across midnight, Friday evening into Saturday morning.
    (Recurrence(weekdays=frozenset({4}), start=time(22), end=time(2)),
     local(EKB, 2026, 11, 27, 23, 30), EKB, True),
    (Recurrence(weekdays=frozenset({4}), start=time(22), end=time(2)),
     local(EKB, 2026, 11, 28, 1, 59), EKB, True),   # Saturday 01:59 belongs to Friday
    (Recurrence(weekdays=frozenset({4}), start=time(22), end=time(2)),
     local(EKB, 2026, 11, 28, 2, 0), EKB, False),
    (Recurrence(weekdays=frozenset({4}), start=time(22), end=time(2)),
     local(EKB, 2026, 11, 27, 1, 0), EKB, False),   # Friday 01:00 belongs to Thursday
    (Recurrence(weekdays=frozenset({4}), start=time(22), end=time(2)),
     local(EKB, 2026, 11, 28, 23, 0), EKB, False),  # Saturday evening: not Friday
    (Recurrence(start=time(12)), local(EKB, 2026, 11, 24, 23, 59), EKB, True),
    (Recurrence(end=time(12)), local(EKB, 2026, 11, 24, 12, 0), EKB, False),
])
def test_recurrence(rec: Recurrence, moment: datetime, tz: str, expected: bool) -> None:
    assert recurrence_active(rec, moment, tz) is expected


@pytest.mark.parametrize(("rec", "moment", "expected"), [
    (Recurrence(start=time(8), end=time(15)), local(EKB, 2026, 11, 24, 10, 0),
     local(EKB, 2026, 11, 24, 15, 0)),
    (Recurrence(start=time(8), end=time(15)), local(EKB, 2026, 11, 24, 16, 0),
     local(EKB, 2026, 11, 25, 8, 0)),
    (Recurrence(weekdays=MON_FRI, start=time(8), end=time(15)), local(EKB, 2026, 11, 27, 16, 0),
     local(EKB, 2026, 11, 30, 8, 0)),  # Friday afternoon → Monday morning
    (Recurrence(weekdays=frozenset({4}), start=time(22), end=time(2)),
     local(EKB, 2026, 11, 27, 23, 0), local(EKB, 2026, 11, 28, 2, 0)),
    (Recurrence(weekdays=frozenset({5, 6})), local(EKB, 2026, 11, 24, 10, 0),
     local(EKB, 2026, 11, 28, 0, 0)),
    (Recurrence(), local(EKB, 2026, 11, 24, 10, 0), None),
])
def test_next_recurrence_change(rec: Recurrence, moment: datetime,
                                expected: datetime | None) -> None:
    assert next_recurrence_change(rec, moment, EKB) == expected


@pytest.mark.parametrize(("targets", "display", "expected"), [
    (Targets(org_paths=(SCHOOL_A,)), LOBBY_A, True),
    (Targets(org_paths=(SCHOOL_A,)), LOBBY_B, False),
    (Targets(groups=frozenset({"lobby"})), LOBBY_A, True),
    (Targets(groups=frozenset({"lobby"})), CANTEEN_A, False),
    (Targets(groups=frozenset({"lobby"})), LOBBY_B, True),
    (Targets(org_paths=(SCHOOL_A,), groups=frozenset({"lobby"}), mode="any"), CANTEEN_A, True),
    (Targets(org_paths=(SCHOOL_A,), groups=frozenset({"lobby"}), mode="any"), LOBBY_B, True),
    (Targets(org_paths=(SCHOOL_A,), groups=frozenset({"lobby"}), mode="all"), CANTEEN_A, False),
    (Targets(org_paths=(SCHOOL_A,), groups=frozenset({"lobby"}), mode="all"), LOBBY_B, False),
    (Targets(org_paths=(SCHOOL_A,), groups=frozenset({"lobby"}), mode="all"), LOBBY_A, True),
    (Targets(org_paths=(SCHOOL_A, SCHOOL_B)), LOBBY_B, True),
    (Targets(), LOBBY_A, False),
])
def test_targeting_union_and_intersection(targets: Targets, display: Display,
                                          expected: bool) -> None:
    assert targets_display(item(targets=targets), display) is expected


def test_group_targeting_never_leaves_the_owners_subtree() -> None:
    school_item = item(owner=SCHOOL_A, targets=Targets(groups=frozenset({"lobby"})))
    assert targets_display(school_item, LOBBY_A)
    assert not targets_display(school_item, LOBBY_B)


def test_municipal_item_reaches_every_school_below() -> None:
    municipal = item(owner="/1/2/", targets=Targets(org_paths=("/1/2/",)))
    assert targets_display(municipal, LOBBY_A) and targets_display(municipal, LOBBY_B)


def test_playlist_orders_by_priority_then_start() -> None:
    a = item(1, priority=0, starts_at=NOW - timedelta(hours=2))
    b = item(2, priority=5, starts_at=NOW - timedelta(hours=1))
    c = item(3, priority=0, starts_at=NOW - timedelta(hours=3))
    hidden = item(4, state="draft")
    future = item(5, starts_at=NOW + timedelta(minutes=1))
    playlist = build_playlist([a, b, c, hidden, future], LOBBY_A, NOW)
    assert playlist.alert is None
    assert [i.id for i in playlist.items] == [2, 3, 1]


def test_alert_overrides_and_most_severe_wins() -> None:
    news = item(1, priority=100)
    warning = item(2, kind="alert", severity="warning", starts_at=NOW - timedelta(minutes=1))
    critical = item(3, kind="alert", severity="critical", starts_at=NOW - timedelta(minutes=30))
    elsewhere = item(4, kind="alert", severity="critical", starts_at=NOW,
                     targets=Targets(org_paths=(SCHOOL_B,)))
    playlist = build_playlist([news, warning, critical, elsewhere], LOBBY_A, NOW)
    assert playlist.alert is not None
    assert playlist.alert.id == 3
    assert [i.id for i in playlist.items] == [1]  # the player hides them while the alert is up
    assert build_playlist([news, warning, critical, elsewhere], LOBBY_B, NOW).alert.id == 4  # type: ignore[union-attr]


def test_withdrawn_alert_is_gone_at_once() -> None:
    alert = item(1, kind="alert", severity="critical", ends_at=NOW)
    assert build_playlist([alert], LOBBY_A, NOW).alert is None


def test_nothing_stays_after_its_end() -> None:
    it = item(1, ends_at=NOW + timedelta(minutes=5))
    assert is_on_screen(it, NOW + timedelta(minutes=4, seconds=59), EKB)
    assert not is_on_screen(it, NOW + timedelta(minutes=5), EKB)


def test_next_change_at_is_the_earliest_boundary() -> None:
    ends = item(1, ends_at=NOW + timedelta(minutes=30))
    starts = item(2, starts_at=NOW + timedelta(minutes=10))
    daily = item(3, recurrence=Recurrence(start=time(8), end=time(10, 20)))  # 10:20 local
    other_school = item(4, starts_at=NOW + timedelta(minutes=1),
                        targets=Targets(org_paths=(SCHOOL_B,)))
    assert next_change_at([ends, starts, other_school], LOBBY_A, NOW) == NOW + timedelta(
        minutes=10)
    assert next_change_at([ends, starts, daily], LOBBY_A, NOW) == NOW + timedelta(minutes=5)
    assert next_change_at([item(9)], LOBBY_A, NOW) is None


# --- by the school's bells ------------------------------------------------------------------

def _school_windows() -> object:
    from content.timetable import Timetable, period_windows
    from tests.content.test_timetable import CALENDAR, LESSONS, NORMAL, SHORT, TZ

    tt = Timetable(CALENDAR, (NORMAL, SHORT), LESSONS, tz=TZ)
    return lambda spec, day: period_windows(tt, day, spec)


@pytest.mark.parametrize(("moment", "during", "shown"), [
    ((2026, 11, 30, 10, 15), "big_break", True),      # Monday, the 10:10–10:30 break
    ((2026, 11, 30, 10, 30), "big_break", False),     # the bell: period 3 begins
    ((2026, 11, 30, 9, 20), "breaks", True),
    ((2026, 11, 30, 9, 20), "lessons", False),
    ((2026, 11, 30, 9, 30), "period:2", True),
    ((2026, 11, 29, 10, 15), "big_break", False),     # Sunday: no breaks at all
    ((2026, 11, 4, 10, 15), "big_break", False),      # a holiday
    ((2026, 11, 30, 10, 15), "", True),
])
def test_items_shown_by_the_bells(moment: tuple[int, ...], during: str, shown: bool) -> None:
    windows = _school_windows()
    it = item(during=during)
    now = local(EKB, *moment)
    assert is_on_screen(it, now, EKB, windows) is shown  # type: ignore[arg-type]
    playlist = build_playlist([it], LOBBY_A, now, windows)  # type: ignore[arg-type]
    assert (playlist.items == (it,)) is shown


def test_an_item_by_the_bells_needs_a_timetable() -> None:
    assert not is_on_screen(item(during="breaks"), local(EKB, 2026, 11, 30, 9, 20), EKB)
    assert is_on_screen(item(), local(EKB, 2026, 11, 30, 9, 20), EKB)


def test_next_change_follows_the_bells() -> None:
    windows = _school_windows()
    it = item(during="big_break")
    before = next_change_at([it], LOBBY_A, local(EKB, 2026, 11, 30, 9, 0), windows)  # type: ignore[arg-type]
    during = next_change_at([it], LOBBY_A, local(EKB, 2026, 11, 30, 10, 20), windows)  # type: ignore[arg-type]
    friday = next_change_at([it], LOBBY_A, local(EKB, 2026, 11, 27, 12, 0), windows)  # type: ignore[arg-type]
    assert before == local(EKB, 2026, 11, 30, 10, 10)
    assert during == local(EKB, 2026, 11, 30, 10, 30)
    # After Friday's big break the next one is on the working Saturday, 28 Nov.
    assert friday == local(EKB, 2026, 11, 28, 10, 10)
