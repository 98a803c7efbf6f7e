"""Now/next for every room of a 1,500-pupil school.

≈ 60 rooms, ≈ 1,200 weekly lessons, 50 changes on the day. The engine answers
"what is on now and next" for each room at many moments of a school day. The
baseline, measured in the same run, answers the same question the naive way:
scanning the week's lessons and the day's changes for every question.
Target (issue 4): well under a millisecond per room.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from content.timetable import (
    BellSchedule,
    Change,
    Lesson,
    Period,
    Room,
    SchoolCalendar,
    Target,
    Timetable,
)

TZ = "Europe/Moscow"
DAY = date(2026, 11, 25)   # a Wednesday in week A
ROOMS = [f"{floor}{n:02d}" for floor in range(1, 5) for n in range(1, 16)]   # 60 rooms
CLASSES = [f"{grade}{letter}" for grade in range(1, 12) for letter in "АБВГ"][:45]
FIRST_BELL = datetime(2000, 1, 1, 8, 0)
BELLS = BellSchedule("normal", "Normal", tuple(
    Period(n + 1, (FIRST_BELL + timedelta(minutes=55 * n)).time(),
           (FIRST_BELL + timedelta(minutes=55 * n + 45)).time())
    for n in range(8)))


def build_school(seed: int = 7) -> tuple[list[Lesson], list[Change]]:
    """≈ 1,200 weekly lessons without double bookings, and 50 changes on DAY."""
    rng = random.Random(seed)
    lessons: list[Lesson] = []
    busy: set[tuple[int, int, str]] = set()
    teachers = [f"Teacher {i}" for i in range(90)]
    lid = 0
    for cls in CLASSES:
        for weekday in range(5):
            for period in range(1, 7 if cls[0] != "1" else 5):
                for _ in range(20):
                    room, teacher = rng.choice(ROOMS), rng.choice(teachers)
                    if (weekday, period, room) not in busy and \
                            (weekday, period, teacher) not in busy:
                        break
                busy |= {(weekday, period, room), (weekday, period, teacher)}
                lid += 1
                week = rng.choice(["", "", "", "A", "B"])
                lessons.append(Lesson(lid, weekday, period, cls, f"Subject {lid % 17}",
                                      teacher, room, week))
    today = [lesson for lesson in lessons if lesson.weekday == DAY.weekday()
             and lesson.week in ("", "A")]
    changes: list[Change] = []
    for cid, lesson in enumerate(rng.sample(today, 50), start=1):
        kind = rng.choice(["substitution", "cancellation", "room_move"])
        changes.append(Change(cid, DAY, kind, lesson_id=lesson.id,
                              teacher=rng.choice(teachers) if kind == "substitution" else None,
                              room=rng.choice(ROOMS) if kind == "room_move" else None))
    return lessons, changes


def naive_room_now(lessons: list[Lesson], changes: list[Change], room: str,
                   moment: datetime) -> tuple[list[Lesson], list[Lesson]]:
    """The baseline: scan every lesson and every change for each question."""
    local = moment.astimezone(ZoneInfo(TZ))
    week = "A"
    current, later = [], []
    for lesson in lessons:
        if lesson.weekday != local.weekday() or lesson.week not in ("", week):
            continue
        effective_room, held = lesson.room, True
        for c in changes:
            if c.lesson_id == lesson.id and c.date == local.date():
                if c.kind == "cancellation":
                    held = False
                if c.room:
                    effective_room = c.room
        if not held or effective_room != room:
            continue
        p = BELLS.period(lesson.period)
        assert p is not None
        start = datetime.combine(local.date(), p.start, local.tzinfo)
        end = datetime.combine(local.date(), p.end, local.tzinfo)
        if start <= local < end:
            current.append(lesson)
        elif start > local:
            later.append(lesson)
    return current, later


def timed(fn: Callable[[], None], repeat: int = 5) -> float:
    """The best of repeat runs of fn, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = clock.perf_counter()
        fn()
        best = min(best, clock.perf_counter() - t0)
    return best


def main() -> None:
    lessons, changes = build_school()
    calendar = SchoolCalendar(terms=((date(2026, 9, 1), date(2026, 12, 27)),),
                              week_a=date(2026, 11, 23))
    rooms = [Room(r, building="main", floor=int(r[0])) for r in ROOMS]
    zone = ZoneInfo(TZ)
    moments = [datetime.combine(DAY, time(8, 0), zone) + timedelta(minutes=7 * i)
               for i in range(60)]   # every 7 minutes from 8:00 to 14:53
    questions = len(moments) * len(ROOMS)

    def engine_warm(tt: Timetable) -> None:
        for m in moments:
            for r in ROOMS:
                tt.now(Target("room", r), m)

    warm_tt = Timetable(calendar, [BELLS], lessons, changes, rooms=rooms, tz=TZ)
    engine_warm(warm_tt)   # the day is built once, as on a server between changes
    warm = timed(lambda: engine_warm(warm_tt))

    def engine_cold() -> None:
        tt = Timetable(calendar, [BELLS], lessons, changes, rooms=rooms, tz=TZ)
        for r in ROOMS:
            tt.now(Target("room", r), moments[20])

    cold = timed(engine_cold)

    def baseline() -> None:
        for m in moments[:10]:
            for r in ROOMS:
                naive_room_now(lessons, changes, r, m)

    base = timed(baseline, repeat=3) / (10 * len(ROOMS))

    # The engine and the baseline agree on who is in each room.
    for m in moments[::6]:
        for r in ROOMS:
            mine = sorted(s.lesson_id or 0 for s in warm_tt.now(Target("room", r), m).current)
            theirs = sorted(lesson.id for lesson in naive_room_now(lessons, changes, r, m)[0])
            assert mine == theirs, (r, m, mine, theirs)

    per_room = warm / questions
    per_room_cold = cold / len(ROOMS)
    print(f"school: {len(ROOMS)} rooms, {len(CLASSES)} classes, {len(lessons)} weekly lessons, "
          f"{len(changes)} changes today")
    print(f"engine, day built (server between changes): {per_room * 1e6:8.1f} µs per room "
          f"({questions} questions)")
    print(f"engine, from scratch (build the timetable, then every room once): "
          f"{per_room_cold * 1e6:8.1f} µs per room")
    print(f"baseline, naive scan per question:          {base * 1e6:8.1f} µs per room")
    print(f"ratio baseline / engine: {base / per_room:6.1f}× (built), "
          f"{base / per_room_cold:6.1f}× (from scratch)")
    target = 1e-3
    verdict = "OK" if per_room < target / 10 and per_room_cold < target else "TOO SLOW"
    print(f"target: well under 1 ms per room → {verdict}")


if __name__ == "__main__":
    main()
