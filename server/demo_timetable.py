"""A realistic demo timetable: bells, a school year, 12 classes with English in halves,
A/B weeks, a few hundred lessons without double bookings, a morning of changes, events."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from content.timetable import SCHOOL, Target
from server.models.orgs import Organisation
from server.models.timetable import RoomRow
from server.services import timetable as tts
from server.services.context import Ctx
from server.timetable_schemas import (
    BellsIn,
    CalendarEntryIn,
    ChangeIn,
    EventIn,
    LessonIn,
    SettingsIn,
)

NORMAL_BELLS = ("1 08:30-09:15\n2 09:25-10:10\n3 10:30-11:15\n4 11:35-12:20\n"
                "5 12:30-13:15\n6 13:25-14:10\n7 14:20-15:05")
SHORT_BELLS = ("1 08:30-09:00\n2 09:10-09:40\n3 09:55-10:25\n4 10:40-11:10\n"
               "5 11:20-11:50\n6 12:00-12:30\n7 12:40-13:10")
CLASSES = ("5А", "5Б", "6А", "6Б", "7А", "7Б", "8А", "8Б", "9А", "9Б", "10А", "11А")
#: Subject: (lessons a week for grades 5–6, 7–9, 10–11).
PLAN = {
    "Математика": (5, 0, 0), "Алгебра": (0, 3, 3), "Геометрия": (0, 2, 2),
    "Русский язык": (5, 4, 2), "Литература": (3, 2, 3), "Английский язык": (3, 3, 3),
    "История": (2, 2, 2), "Обществознание": (1, 1, 2), "География": (1, 2, 1),
    "Биология": (1, 2, 1), "Физика": (0, 2, 3), "Химия": (0, 1, 2), "Информатика": (1, 1, 1),
    "Физкультура": (2, 2, 2), "Музыка": (1, 0, 0), "ИЗО": (1, 0, 0), "Технология": (1, 1, 0),
}
TEACHERS = {
    "Математика": ["Иванова А. П.", "Кузнецова Е. В."],
    "Алгебра": ["Иванова А. П.", "Смирнов Д. А.", "Кузнецова Е. В."],
    "Геометрия": ["Смирнов Д. А.", "Иванова А. П."],
    "Русский язык": ["Петрова Н. С.", "Васильева О. И.", "Фёдорова Т. Г."],
    "Литература": ["Петрова Н. С.", "Васильева О. И.", "Фёдорова Т. Г."],
    "Английский язык": ["Морозова И. В.", "Волкова С. А.", "Brown J.", "Соловьёва М. Е."],
    "История": ["Орлов В. Н.", "Лебедев П. К."],
    "Обществознание": ["Орлов В. Н.", "Лебедев П. К."],
    "География": ["Зайцева Л. М."],
    "Биология": ["Павлова Г. Р.", "Зайцева Л. М."],
    "Физика": ["Новиков А. А."],
    "Химия": ["Павлова Г. Р."],
    "Информатика": ["Козлов Р. С.", "Новиков А. А."],
    "Физкультура": ["Егоров М. И.", "Белова Ю. П."],
    "Музыка": ["Сорокина В. В."],
    "ИЗО": ["Сорокина В. В."],
    "Технология": ["Михайлов С. С.", "Белова Ю. П."],
}
SPECIAL_ROOMS = {"Физкультура": ["Спортзал", "Малый зал"], "Информатика": ["305", "306"],
                 "Химия": ["310"], "Физика": ["309"], "Музыка": ["112"], "ИЗО": ["112"],
                 "Технология": ["Мастерская"], "Английский язык": ["301", "302", "303", "304"]}
HOME_ROOMS = ["101", "102", "103", "104", "105", "106", "201", "202", "203", "204", "205",
              "206"]


def _band(cls: str) -> int:
    grade = int("".join(ch for ch in cls if ch.isdigit()))
    return 0 if grade <= 6 else (1 if grade <= 9 else 2)


def _terms(today: date) -> list[tuple[date, date, str]]:
    """Russian school quarters of the school year around today (a summer school if none)."""
    year = today.year if today.month >= 8 else today.year - 1
    terms = [(date(year, 9, 1), date(year, 10, 25), "1 четверть"),
             (date(year, 11, 5), date(year, 12, 28), "2 четверть"),
             (date(year + 1, 1, 12), date(year + 1, 3, 20), "3 четверть"),
             (date(year + 1, 3, 30), date(year + 1, 5, 26), "4 четверть")]
    if not any(a <= today <= b for a, b, _ in terms):
        terms.append((today - timedelta(days=14), today + timedelta(days=45), "Летняя школа"))
    return terms


def seed_timetable(ctx: Ctx, school: Organisation, buildings: list[Organisation]) -> int:
    """Fill the school's timetable; returns the number of weekly lessons."""
    rng = random.Random(9)
    today = tts.today(school)
    tts.save_bells(ctx, school, BellsIn(key="normal", name="Обычные", periods=NORMAL_BELLS))
    tts.save_bells(ctx, school, BellsIn(key="short", name="Сокращённый день",
                                        periods=SHORT_BELLS))
    tts.save_settings(ctx, school, SettingsIn(school_weekdays=[0, 1, 2, 3, 4],
                                              week_a=today - timedelta(days=today.weekday()),
                                              default_bells="normal"))
    for first, last, name in _terms(today):
        tts.add_calendar_entry(ctx, school, CalendarEntryIn(kind="term", first=first, last=last,
                                                            name=name))
    year = today.year if today.month >= 8 else today.year - 1
    for day, name in ((date(year, 11, 4), "День народного единства"),
                      (date(year + 1, 2, 23), "День защитника Отечества"),
                      (date(year + 1, 3, 9), "Международный женский день (перенос)")):
        tts.add_calendar_entry(ctx, school, CalendarEntryIn(kind="holiday", first=day,
                                                            name=name))
    # The last Friday of each month is a shortened day (teachers' meeting after lessons).
    for month_offset in range(0, 3):
        first = (today.replace(day=1) + timedelta(days=32 * month_offset)).replace(day=1)
        last_day = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        friday = last_day - timedelta(days=(last_day.weekday() - 4) % 7)
        tts.add_calendar_entry(ctx, school, CalendarEntryIn(
            kind="bells", first=friday, bells="short", name="Педсовет"))
    halves = [f"{c}/{n}" for c in CLASSES for n in (1, 2)]
    tts.add_classes(ctx, school, " ".join(CLASSES + tuple(halves)))
    count = _weekly_lessons(ctx, school, rng)
    _room_places(ctx, school, buildings)
    _morning_changes(ctx, school, rng)
    _events(ctx, school, today)
    return count


def _weekly_lessons(ctx: Ctx, school: Organisation, rng: random.Random) -> int:
    busy: set[tuple[int, int, str, str]] = set()   # (weekday, period, "t"/"r", name)
    count = 0

    def free(day: int, period: int, kind: str, name: str, week: str) -> bool:
        weeks = ("A", "B") if not week else (week,)
        return all((day, period, kind, f"{name}|{w}") not in busy for w in weeks)

    def take(day: int, period: int, kind: str, name: str, week: str) -> None:
        for w in (("A", "B") if not week else (week,)):
            busy.add((day, period, kind, f"{name}|{w}"))

    for index, cls in enumerate(CLASSES):
        band = _band(cls)
        bag = [s for s, n in PLAN.items() for _ in range(n[band])]
        rng.shuffle(bag)
        per_day = [5, 6, 6, 6, 5] if band == 0 else [6, 6, 7, 6, 6]
        home = HOME_ROOMS[index]
        slots = [(d, p) for d in range(5) for p in range(1, per_day[d] + 1)]
        while len(bag) < len(slots):
            bag.append("Информатика" if len(bag) % 2 else "Технология")
        for (day, period), subject in zip(slots, bag, strict=False):
            split = subject == "Английский язык"
            alternating = subject in ("Информатика", "Технология") and band > 0
            groups = [f"{cls}/1", f"{cls}/2"] if split else [cls]
            for g_index, group in enumerate(groups):
                weeks = ["A", "B"] if alternating else [""]
                for week in weeks:
                    subj = subject if week != "B" else ("Технология" if subject == "Информатика"
                                                         else "Информатика")
                    if band == 2 and subj == "Технология":
                        subj = "Информатика"
                    rooms = SPECIAL_ROOMS.get(subj, [home])
                    teachers = TEACHERS[subj][:]
                    rng.shuffle(teachers)
                    teacher = next((t for t in teachers if free(day, period, "t", t, week)),
                                   None)
                    room = next((r for r in rooms[g_index:] + rooms[:g_index]
                                 if free(day, period, "r", r, week)), None)
                    if teacher is None or room is None:
                        continue
                    take(day, period, "t", teacher, week)
                    take(day, period, "r", room, week)
                    tts.save_lesson(ctx, school, LessonIn(
                        weekday=day, period=period, group=group, subject=subj,
                        teacher=teacher, room=room, week=week))  # type: ignore[arg-type]
                    count += 1
    return count


def _room_places(ctx: Ctx, school: Organisation, buildings: list[Organisation]) -> None:
    main = buildings[0] if buildings else None
    for room in tts.lookups(ctx.session, school).rooms.values():
        room.building_id = main.id if main else None
        room.floor = int(room.key[0]) if room.key[:1].isdigit() else 1


def _morning_changes(ctx: Ctx, school: Organisation, rng: random.Random) -> None:
    """Today's (or the next school day's) changes: an ill teacher covered, a closed room."""
    tt = tts.build(ctx.session, school)
    day = tts.today(school)
    if not tt.is_school_day(day):
        day = tt.next_school_day(day) or day
    slots = [s for s in tt.day(SCHOOL, day) if s.held]
    ill = "Иванова А. П."
    teachers = sorted({s.teacher for s in slots})

    def busy(teacher: str, period: int) -> bool:
        return any(s.teacher == teacher and s.period == period
                   for s in tt.day(Target("teacher", teacher), day, include_dropped=False))

    for s in [s for s in slots if s.teacher == ill]:
        cover = [t for t in teachers if t != ill and not busy(t, s.period)
                 and (t in TEACHERS.get(s.subject, []) or rng.random() < 0.3)]
        if cover and s.period != 1:
            tts.add_change(ctx, school, ChangeIn(
                date=day, kind="substitution", group=s.group, period=s.period,
                teacher=cover[0], note="замена: учитель болеет"))
        else:
            tts.add_change(ctx, school, ChangeIn(
                date=day, kind="cancellation", group=s.group, period=s.period,
                note="учитель болеет"))
    closed = "204"
    for s in [s for s in slots if s.room == closed]:
        free_rooms = [r for r in ("107", "108", "207", "208")
                      if r not in {x.room for x in slots if x.period == s.period}]
        if free_rooms:
            tts.add_change(ctx, school, ChangeIn(
                date=day, kind="room_move", group=s.group, period=s.period,
                room=_ensure_room(ctx, school, free_rooms[0]),
                note="в 204 ремонт"))
    last = max((s.period for s in slots if s.group == "9А"), default=0)
    if last and last < 7:
        tts.add_change(ctx, school, ChangeIn(
            date=day, kind="extra", group="9А", period=last + 1, subject="Алгебра",
            teacher="Смирнов Д. А." if not busy("Смирнов Д. А.", last + 1) else None,
            room="309" if not any(x.room == "309" and x.period == last + 1 for x in slots)
            else None, note="консультация к ОГЭ"))
    nxt = tt.next_school_day(day)
    movable = [s for s in slots if s.group == "10А" and s.period == 1 and s.teacher != ill]
    if nxt and movable and not any(x.group == "10А" and x.period == 7
                                   for x in tt.day(SCHOOL, nxt)):
        tts.add_change(ctx, school, ChangeIn(
            date=day, kind="move", group="10А", period=1, new_date=nxt, new_period=7,
            note="класс на экскурсии утром"))


def _ensure_room(ctx: Ctx, school: Organisation, key: str) -> str:
    lk = tts.lookups(ctx.session, school)
    if key not in lk.rooms:
        ctx.session.add(RoomRow(org_id=school.id, key=key, floor=int(key[0])))
        ctx.session.flush()
    return key


def _events(ctx: Ctx, school: Organisation, today: date) -> None:
    zone = tts.school_zone(school)

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(today + timedelta(days=days), time(hour, minute), zone)

    for title, kind, start, place, audience in (
            ("Родительское собрание 7Б", "parent_meeting", at(2, 18), "каб. 205", "7Б"),
            ("Родительское собрание 9А и 9Б: ОГЭ", "parent_meeting", at(6, 18, 30),
             "Актовый зал", "9А, 9Б"),
            ("Концерт ко Дню матери", "event", at(4, 15), "Актовый зал", ""),
            ("Школьный этап олимпиады по математике", "event", at(8, 9), "каб. 201–204",
             "7А, 7Б, 8А, 8Б")):
        tts.add_event(ctx, school, EventIn(title=title, kind=kind,  # type: ignore[arg-type]
                                           starts_at=start.astimezone(UTC), place=place,
                                           audience=audience))
