"""The timetable engine: bells, lessons and dated changes, and what is on now.

Plain data in, plain data out. A `Timetable` is built once from a school's
calendar, bell schedules, weekly lessons, dated changes and events; it then
answers, for a moment and a target (school, building, class, subgroup, teacher
or room), the effective lessons of a day, what is on now and next, when the
bell rings, and what changed today and on the next school day. Moments are
aware datetimes; everything local (bells, dates) is read in the school's time
zone. A day's effective lessons are computed once and kept, so repeated
questions about the same day cost a dictionary lookup and a short scan.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CHANGE_KINDS = ("substitution", "cancellation", "room_move", "move", "extra")
TARGET_KINDS = ("school", "building", "class", "group", "teacher", "room")
WEEKS = ("", "A", "B")
#: Phases of a target's day.
PHASES = ("no_school", "no_lessons", "before_lessons", "lesson", "break", "after_school")
#: How far ahead the next school day is looked for (a summer holiday is shorter).
MAX_LOOKAHEAD_DAYS = 120
#: `date` under another name, for classes that have a field called date.
Day = date


@dataclass(frozen=True)
class Period:
    """A numbered period of a bell schedule, from start to end (local clock times)."""

    number: int
    start: time
    end: time


@dataclass(frozen=True)
class BellSchedule:
    """Named bells, e.g. "normal" or "short"; periods in order."""

    key: str
    name: str
    periods: tuple[Period, ...]

    def period(self, number: int) -> Period | None:
        """The period with this number, or None if the schedule has none."""
        for p in self.periods:
            if p.number == number:
                return p
        return None


@dataclass(frozen=True)
class Room:
    """A room with the building it is in and its floor."""

    key: str
    name: str = ""
    building: str = ""
    floor: int | None = None


@dataclass(frozen=True)
class Lesson:
    """A weekly lesson: weekday (0 = Monday), period, class or subgroup, subject, teacher, room.

    week is "" for every week, "A" or "B" for alternating weeks.
    """

    id: int
    weekday: int
    period: int
    group: str
    subject: str
    teacher: str = ""
    room: str = ""
    week: str = ""


@dataclass(frozen=True)
class Change:
    """A dated change of the timetable.

    substitution: another teacher (teacher); cancellation; room_move: another room
    (room); move: the lesson of `date` is held on new_date in new_period instead
    (room optional); extra: a lesson that is not in the weekly timetable (group,
    subject, teacher, room, period). Several changes of one lesson on one day add
    up (a substitution in another room).
    """

    id: int
    date: Day
    kind: str
    lesson_id: int | None = None
    period: int | None = None
    group: str | None = None
    subject: str | None = None
    teacher: str | None = None
    room: str | None = None
    new_date: Day | None = None
    new_period: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Event:
    """A dated event or parent meeting, with a place and an audience (empty: everyone)."""

    id: int
    title: str
    starts_at: datetime
    ends_at: datetime | None = None
    place: str = ""
    audience: tuple[str, ...] = ()
    kind: str = "event"


@dataclass(frozen=True)
class SchoolCalendar:
    """Which days are school days and which bells ring on them.

    terms: (first, last) dates of each term, inclusive; days outside every term
    are holidays. holidays: (first, last, name) inside terms. school_weekdays:
    the usual school days (0 = Monday). extra_days: weekend days that are school
    days by decree (a transferred working Saturday). week_a: any date in a week A
    (weeks alternate from it). bells_by_weekday / bells_by_date choose the bell
    schedule; default_bells is used otherwise.
    """

    terms: tuple[tuple[date, date], ...]
    holidays: tuple[tuple[date, date, str], ...] = ()
    school_weekdays: frozenset[int] = frozenset(range(5))
    extra_days: frozenset[date] = frozenset()
    week_a: date | None = None
    default_bells: str = "normal"
    bells_by_weekday: dict[int, str] = field(default_factory=dict)
    bells_by_date: dict[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """What a screen or a feed is about: a school, building, class, subgroup, teacher or room."""

    kind: str
    key: str = ""


SCHOOL = Target("school")


@dataclass(frozen=True)
class Slot:
    """An effective lesson on a date, after the day's changes.

    status: "normal", "changed" (substitution and/or room move), "cancelled",
    "moved_out" (held another day or period), "moved_in" (came from another day
    or period) or "extra". Cancelled and moved-out slots are kept so a changes
    board can strike them out; they never count as on now.
    """

    date: Day
    period: int
    start: datetime
    end: datetime
    group: str
    subject: str
    teacher: str
    room: str
    status: str = "normal"
    lesson_id: int | None = None
    change_ids: tuple[int, ...] = ()
    changes: tuple[str, ...] = ()
    original_teacher: str | None = None
    original_room: str | None = None
    moved_to: tuple[Day, int] | None = None
    moved_from: tuple[Day, int] | None = None
    note: str = ""

    @property
    def held(self) -> bool:
        """Whether the lesson takes place in this slot."""
        return self.status not in ("cancelled", "moved_out")

    @property
    def changed(self) -> bool:
        """Whether a change touches this slot."""
        return self.status != "normal"


@dataclass(frozen=True)
class Now:
    """What is on for a target at a moment.

    phase: "no_school" (weekend or holiday), "no_lessons" (a school day without
    lessons for the target), "before_lessons", "lesson", "break" or
    "after_school". period is the period ringing now (in a lesson phase).
    current: the target's held slots now; upcoming: its next held slots (later
    today, else on the next school day). next_bell: the next bell today;
    minutes_to_bell rounds up ("ends in 12 min" until the last second).
    free_until: for a room or teacher that is free now, when the next lesson
    starts (None: free for the rest of the day).
    """

    moment: datetime
    phase: str
    period: Period | None
    current: tuple[Slot, ...]
    upcoming: tuple[Slot, ...]
    next_bell: datetime | None
    minutes_to_bell: int | None
    free_until: datetime | None
    reason: str = ""


@dataclass(frozen=True)
class Conflict:
    """Two or more held slots at once: a teacher or room double-booked, or a class twice."""

    kind: str  # "teacher", "room" or "class"
    key: str
    date: Day
    period: int
    slots: tuple[Slot, ...]


def class_of(group: str) -> str:
    """The class of a class or subgroup key: "7Б/1" → "7Б"."""
    return group.split("/", 1)[0]


def groups_overlap(a: str, b: str) -> bool:
    """Whether two class/subgroup keys share pupils ("7Б" and "7Б/1" do, "7Б/1" and "7Б/2" not)."""
    if a == b:
        return True
    if class_of(a) != class_of(b):
        return False
    return "/" not in a or "/" not in b


def monday_of(day: date) -> date:
    """The Monday of day's week."""
    return day - timedelta(days=day.weekday())


@dataclass
class _Day:
    """A day's effective slots, sorted by start, with indexes per target key."""

    day: date
    school_day: bool
    reason: str
    bells: BellSchedule | None
    slots: list[Slot]
    by_room: dict[str, list[Slot]]
    by_teacher: dict[str, list[Slot]]
    by_class: dict[str, list[Slot]]


class Timetable:
    """A school's timetable; ask it about days, moments and targets."""

    def __init__(self, calendar: SchoolCalendar, schedules: Iterable[BellSchedule],
                 lessons: Iterable[Lesson], changes: Iterable[Change] = (),
                 events: Iterable[Event] = (), rooms: Iterable[Room] = (),
                 tz: str = "UTC") -> None:
        self.calendar = calendar
        self.schedules = {s.key: s for s in schedules}
        self.rooms = {r.key: r for r in rooms}
        self.tz = ZoneInfo(tz)
        self.lessons = {lesson.id: lesson for lesson in lessons}
        self._by_weekday: dict[int, list[Lesson]] = defaultdict(list)
        for lesson in self.lessons.values():
            self._by_weekday[lesson.weekday].append(lesson)
        self._changes_on: dict[date, list[Change]] = defaultdict(list)
        self._moves_into: dict[date, list[Change]] = defaultdict(list)
        for change in sorted(changes, key=lambda c: c.id):
            self._changes_on[change.date].append(change)
            if change.kind == "move" and change.new_date is not None:
                self._moves_into[change.new_date].append(change)
        self.events = tuple(sorted(events, key=lambda e: (e.starts_at, e.id)))
        self._days: dict[date, _Day] = {}

    # --- calendar ----------------------------------------------------------------------

    def week_of(self, day: date) -> str:
        """"A" or "B" for day's week, or "" when the school does not alternate weeks."""
        anchor = self.calendar.week_a
        if anchor is None:
            return ""
        weeks = (monday_of(day) - monday_of(anchor)).days // 7
        return "A" if weeks % 2 == 0 else "B"

    def day_off_reason(self, day: date) -> str:
        """Why day is not a school day ("weekend", "holiday: name", "out of term"), or ""."""
        cal = self.calendar
        for first, last, name in cal.holidays:
            if first <= day <= last:
                return f"holiday: {name}" if name else "holiday"
        if not any(first <= day <= last for first, last in cal.terms):
            return "out of term"
        if day.weekday() not in cal.school_weekdays and day not in cal.extra_days:
            return "weekend"
        return ""

    def is_school_day(self, day: date) -> bool:
        """Whether lessons are held on day (in a term, not a holiday, a school weekday)."""
        return self.day_off_reason(day) == ""

    def next_school_day(self, day: date) -> date | None:
        """The first school day after day, skipping weekends and holidays."""
        for offset in range(1, MAX_LOOKAHEAD_DAYS + 1):
            candidate = day + timedelta(days=offset)
            if self.is_school_day(candidate):
                return candidate
        return None

    def bells_for(self, day: date) -> BellSchedule | None:
        """The bell schedule ringing on day."""
        cal = self.calendar
        key = cal.bells_by_date.get(day) or cal.bells_by_weekday.get(day.weekday()) \
            or cal.default_bells
        return self.schedules.get(key)

    # --- a day's effective lessons -----------------------------------------------------

    def local_moment(self, day: date, clock: time) -> datetime:
        """The aware moment of a local clock time on day."""
        return datetime.combine(day, clock, self.tz)

    def _slot(self, day: date, bells: BellSchedule, period: int, **kw: object) -> Slot | None:
        p = bells.period(period)
        if p is None:
            return None
        return Slot(date=day, period=period, start=self.local_moment(day, p.start),
                    end=self.local_moment(day, p.end), **kw)  # type: ignore[arg-type]

    def _weekly(self, day: date) -> list[Lesson]:
        week = self.week_of(day)
        return [lesson for lesson in self._by_weekday.get(day.weekday(), ())
                if not lesson.week or not week or lesson.week == week]

    def _build_day(self, day: date) -> _Day:
        reason = self.day_off_reason(day)
        bells = self.bells_for(day)
        slots: list[Slot] = []
        if not reason and bells is not None:
            changes_by_lesson: dict[int, list[Change]] = defaultdict(list)
            for change in self._changes_on.get(day, ()):
                if change.lesson_id is not None:
                    changes_by_lesson[change.lesson_id].append(change)
            for lesson in self._weekly(day):
                slot = self._slot(day, bells, lesson.period, group=lesson.group,
                                  subject=lesson.subject, teacher=lesson.teacher,
                                  room=lesson.room, lesson_id=lesson.id)
                if slot is not None:
                    slots.append(_apply(slot, changes_by_lesson.get(lesson.id, ())))
            for change in self._changes_on.get(day, ()):
                if change.kind == "extra" and change.period is not None:
                    slot = self._slot(day, bells, change.period, group=change.group or "",
                                      subject=change.subject or "",
                                      teacher=change.teacher or "", room=change.room or "",
                                      status="extra", change_ids=(change.id,),
                                      changes=("extra",), note=change.note)
                    if slot is not None:
                        slots.append(slot)
            for change in self._moves_into.get(day, ()):
                slot = self._moved_in(day, bells, change)
                if slot is not None:
                    slots.append(slot)
        slots.sort(key=lambda s: (s.start, s.group, s.subject))
        by_room: dict[str, list[Slot]] = defaultdict(list)
        by_teacher: dict[str, list[Slot]] = defaultdict(list)
        by_class: dict[str, list[Slot]] = defaultdict(list)
        for s in slots:
            by_room[s.room].append(s)
            if s.original_room and s.original_room != s.room:
                by_room[s.original_room].append(s)
            by_teacher[s.teacher].append(s)
            if s.original_teacher and s.original_teacher != s.teacher:
                by_teacher[s.original_teacher].append(s)
            by_class[class_of(s.group)].append(s)
        return _Day(day, not reason, reason, bells, slots, by_room, by_teacher, by_class)

    def _moved_in(self, day: date, bells: BellSchedule, change: Change) -> Slot | None:
        lesson = self.lessons.get(change.lesson_id or -1)
        if lesson is None or change.new_period is None:
            return None
        if not self._occurs(lesson, change.date):
            return None
        return self._slot(day, bells, change.new_period, group=lesson.group,
                          subject=change.subject or lesson.subject,
                          teacher=change.teacher or lesson.teacher,
                          room=change.room or lesson.room, status="moved_in",
                          lesson_id=lesson.id, change_ids=(change.id,), changes=("move",),
                          moved_from=(change.date, lesson.period), note=change.note)

    def _occurs(self, lesson: Lesson, day: date) -> bool:
        week = self.week_of(day)
        return (lesson.weekday == day.weekday() and self.is_school_day(day)
                and (not lesson.week or not week or lesson.week == week))

    def _day(self, day: date) -> _Day:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self._build_day(day)
        return found

    def day(self, target: Target, day: date, include_dropped: bool = True) -> list[Slot]:
        """The target's slots on day in order (cancelled and moved-out ones unless told not)."""
        slots = self._select(self._day(day), target)
        return slots if include_dropped else [s for s in slots if _present(s, target)]

    def _select(self, d: _Day, target: Target) -> list[Slot]:
        kind, key = target.kind, target.key
        if kind == "school":
            return d.slots
        if kind == "room":
            return d.by_room.get(key, [])
        if kind == "teacher":
            return d.by_teacher.get(key, [])
        if kind == "class":
            return d.by_class.get(key, [])
        if kind == "group":
            return [s for s in d.by_class.get(class_of(key), []) if groups_overlap(s.group, key)]
        if kind == "building":
            return [s for s in d.slots
                    if self.rooms.get(s.room, Room(s.room)).building == key]
        raise ValueError(f"unknown target kind {kind!r}")

    # --- now and next -----------------------------------------------------------------

    def now(self, target: Target, moment: datetime) -> Now:
        """What is on for target at moment, what comes next and when the bell rings."""
        local = moment.astimezone(self.tz)
        d = self._day(local.date())
        held = [s for s in self._select(d, target) if _present(s, target)]
        bells = d.bells if d.school_day else None
        period = None
        next_bell = None
        if bells is not None:
            for p in bells.periods:
                start, end = self.local_moment(d.day, p.start), self.local_moment(d.day, p.end)
                if start <= local < end:
                    period = p
                    next_bell = end
                    break
                if local < start:
                    next_bell = start
                    break
        current = tuple(s for s in held if s.start <= local < s.end)
        later = [s for s in held if s.start > local]
        if later:
            first = later[0].start
            upcoming = tuple(s for s in later if s.start == first)
        else:
            upcoming = self._first_of_next_day(target, d.day)
        if not d.school_day:
            phase = "no_school"
        elif not held:
            phase = "no_lessons"
        elif local < held[0].start:
            phase = "before_lessons"
        elif local >= max(s.end for s in held):
            phase = "after_school"
            next_bell = None
        elif period is not None:
            phase = "lesson"
        else:
            phase = "break"
        if phase in ("no_school", "no_lessons"):
            next_bell = None
        minutes = None
        if next_bell is not None:
            minutes = math.ceil((next_bell - local).total_seconds() / 60)
        free_until = None
        if not current and later:
            free_until = later[0].start
        return Now(moment=local, phase=phase, period=period if phase == "lesson" else None,
                   current=current, upcoming=upcoming, next_bell=next_bell,
                   minutes_to_bell=minutes, free_until=free_until, reason=d.reason)

    def _first_of_next_day(self, target: Target, day: date) -> tuple[Slot, ...]:
        nxt = day
        for _ in range(MAX_LOOKAHEAD_DAYS):
            found = self.next_school_day(nxt)
            if found is None:
                return ()
            held = self.day(target, found, include_dropped=False)
            if held:
                return tuple(s for s in held if s.start == held[0].start)
            nxt = found
        return ()

    # --- changes, conflicts, events ---------------------------------------------------

    def changes(self, target: Target, day: date) -> list[Slot]:
        """The target's changed slots on day (struck-out ones included), in order."""
        return [s for s in self.day(target, day) if s.changed]

    def changes_ahead(self, target: Target, moment: datetime) -> list[tuple[date, list[Slot]]]:
        """Changes for today and the next school day, as (date, slots) pairs."""
        today = moment.astimezone(self.tz).date()
        days = [today]
        nxt = self.next_school_day(today)
        if nxt is not None:
            days.append(nxt)
        return [(d, self.changes(target, d)) for d in days]

    def conflicts(self, day: date) -> list[Conflict]:
        """Held slots that clash on day: a teacher or room twice, a class twice."""
        return find_conflicts(self._day(day).slots)

    def upcoming_events(self, target: Target, moment: datetime, limit: int = 5) -> list[Event]:
        """Events not yet over for target's audience, soonest first."""
        out = []
        for e in self.events:
            end = e.ends_at or e.starts_at
            if end < moment:
                continue
            if _audience_includes(e.audience, target):
                out.append(e)
                if len(out) >= limit:
                    break
        return out

    def next_change_at(self, target: Target, moment: datetime) -> datetime | None:
        """The next moment after moment when the target's now/next answer changes."""
        local = moment.astimezone(self.tz)
        d = self._day(local.date())
        marks = [m for s in self._select(d, target) if _present(s, target)
                 for m in (s.start, s.end)
                 if m > local]
        if d.bells is not None and d.school_day:
            for p in d.bells.periods:
                for clock in (p.start, p.end):
                    m = self.local_moment(d.day, clock)
                    if m > local:
                        marks.append(m)
        if marks:
            return min(marks)
        return datetime.combine(local.date() + timedelta(days=1), time(0, 0), self.tz)


def _apply(slot: Slot, changes: Sequence[Change]) -> Slot:
    """Apply a lesson's changes of the day to its slot."""
    if not changes:
        return slot
    status = "changed"
    teacher, room, subject = slot.teacher, slot.room, slot.subject
    moved_to = None
    for c in changes:
        if c.kind == "cancellation":
            status = "cancelled"
        elif c.kind == "move":
            if c.new_date is not None and c.new_period is not None:
                moved_to = (c.new_date, c.new_period)
                status = "moved_out"
        else:
            teacher = c.teacher or teacher
            room = c.room or room
            subject = c.subject or subject
    if status in ("cancelled", "moved_out"):
        teacher, room, subject = slot.teacher, slot.room, slot.subject
    return replace(
        slot, status=status, teacher=teacher, room=room, subject=subject,
        original_teacher=slot.teacher if teacher != slot.teacher else None,
        original_room=slot.room if room != slot.room else None, moved_to=moved_to,
        change_ids=tuple(c.id for c in changes), changes=tuple(c.kind for c in changes),
        note="; ".join(c.note for c in changes if c.note))


def _present(slot: Slot, target: Target) -> bool:
    """Whether slot takes place for target (a room or teacher changed away is not present)."""
    if not slot.held:
        return False
    if target.kind == "room":
        return slot.room == target.key
    if target.kind == "teacher":
        return slot.teacher == target.key
    return True


def _audience_includes(audience: tuple[str, ...], target: Target) -> bool:
    if not audience or target.kind in ("school", "building", "room"):
        return True
    if target.kind == "class":
        return any(class_of(a) == target.key for a in audience)
    if target.kind == "group":
        return any(groups_overlap(a, target.key) for a in audience)
    return target.kind == "teacher" and target.key in audience


def find_conflicts(slots: Iterable[Slot]) -> list[Conflict]:
    """Clashes among held slots of one day: double-booked teachers and rooms, classes twice."""
    by_period: dict[int, list[Slot]] = defaultdict(list)
    for s in slots:
        if s.held:
            by_period[s.period].append(s)
    out: list[Conflict] = []
    for period in sorted(by_period):
        group = by_period[period]
        if len(group) < 2:
            continue
        day = group[0].date
        for kind, attr in (("teacher", "teacher"), ("room", "room")):
            seen: dict[str, list[Slot]] = defaultdict(list)
            for s in group:
                value = getattr(s, attr)
                if value:
                    seen[value].append(s)
            for key, clash in sorted(seen.items()):
                if len(clash) > 1 and not _same_lesson_split(clash):
                    out.append(Conflict(kind, key, day, period, tuple(clash)))
        by_class: dict[str, list[Slot]] = defaultdict(list)
        for s in group:
            by_class[class_of(s.group)].append(s)
        for key, members in sorted(by_class.items()):
            clash = [s for i, s in enumerate(members)
                     if any(groups_overlap(s.group, o.group)
                            for j, o in enumerate(members) if j != i)]
            if len(clash) > 1:
                out.append(Conflict("class", key, day, period, tuple(clash)))
    return out


def _same_lesson_split(slots: list[Slot]) -> bool:
    """Subgroups of one class taught together (same teacher, room and subject) are no clash."""
    first = slots[0]
    return all(s.subject == first.subject and class_of(s.group) == class_of(first.group)
               and s.teacher == first.teacher and s.room == first.room for s in slots) \
        and len({s.group for s in slots}) == len(slots)


# --- what screens show -----------------------------------------------------------------

def slot_json(slot: Slot) -> dict[str, object]:
    """A slot as JSON-ready data for a screen or the manifest (local ISO times)."""
    out: dict[str, object] = {
        "date": slot.date.isoformat(), "period": slot.period,
        "start": slot.start.isoformat(), "end": slot.end.isoformat(),
        "group": slot.group, "subject": slot.subject, "teacher": slot.teacher,
        "room": slot.room, "status": slot.status,
    }
    if slot.original_teacher:
        out["original_teacher"] = slot.original_teacher
    if slot.original_room:
        out["original_room"] = slot.original_room
    if slot.moved_to:
        out["moved_to"] = {"date": slot.moved_to[0].isoformat(), "period": slot.moved_to[1]}
    if slot.moved_from:
        out["moved_from"] = {"date": slot.moved_from[0].isoformat(),
                             "period": slot.moved_from[1]}
    if slot.note:
        out["note"] = slot.note
    return out


@dataclass(frozen=True)
class DoorSign:
    """A room's door: what is on now, what is next, and until when the room is free."""

    room: str
    current: Slot | None
    upcoming: Slot | None
    free_until: datetime | None
    phase: str


def door_sign(tt: Timetable, room: str, moment: datetime) -> DoorSign:
    """The door sign of room at moment (during a break: free until the next lesson)."""
    now = tt.now(Target("room", room), moment)
    current = now.current[0] if now.current else None
    local_day = moment.astimezone(tt.tz).date()
    upcoming = next((s for s in now.upcoming if s.date == local_day), None) \
        if current is None else next((s for s in tt.day(Target("room", room), local_day,
                                                          include_dropped=False)
                                      if s.start >= current.end), None)
    return DoorSign(room=room, current=current, upcoming=upcoming,
                    free_until=None if current else now.free_until, phase=now.phase)


def changes_board(tt: Timetable, moment: datetime,
                  target: Target = SCHOOL) -> list[dict[str, object]]:
    """Today's and the next school day's changes, grouped by class, in period order."""
    out: list[dict[str, object]] = []
    for day, slots in tt.changes_ahead(target, moment):
        by_class: dict[str, list[Slot]] = defaultdict(list)
        for s in slots:
            by_class[class_of(s.group)].append(s)
        out.append({
            "date": day.isoformat(),
            "classes": [{"class": key, "slots": [slot_json(s) for s in by_class[key]]}
                        for key in sorted(by_class, key=class_sort_key)],
        })
    return out


def class_sort_key(key: str) -> tuple[int, str]:
    """Sort classes as people do: 5А, 5Б, …, 10А, 11Б (numbers as numbers)."""
    digits = ""
    for ch in key:
        if not ch.isdigit():
            break
        digits += ch
    return (int(digits) if digits else 999, key[len(digits):])


def bell_countdown(tt: Timetable, moment: datetime, target: Target = SCHOOL) -> dict[str, object]:
    """The bell line of a screen: phase, period, next bell and minutes to it."""
    now = tt.now(target, moment)
    return {
        "phase": now.phase,
        "period": now.period.number if now.period else None,
        "next_bell": now.next_bell.isoformat() if now.next_bell else None,
        "minutes_to_bell": now.minutes_to_bell,
    }


def screen_slice(tt: Timetable, target: Target, moment: datetime) -> dict[str, object]:
    """Timetable data for a display: today's and the next school day's slots and bells,
    changes, events, so the player can compute now/next and countdowns offline."""
    today = moment.astimezone(tt.tz).date()
    days: list[dict[str, object]] = []
    nxt = tt.next_school_day(today)
    for day in [today] + ([nxt] if nxt else []):
        bells = tt.bells_for(day) if tt.is_school_day(day) else None
        days.append({
            "date": day.isoformat(),
            "school_day": tt.is_school_day(day),
            "week": tt.week_of(day),
            "bells": [{"period": p.number,
                       "start": tt.local_moment(day, p.start).isoformat(),
                       "end": tt.local_moment(day, p.end).isoformat()}
                      for p in (bells.periods if bells else ())],
            "slots": [slot_json(s) for s in tt.day(target, day)],
        })
    return {
        "target": {"kind": target.kind, "key": target.key},
        "days": days,
        "changes": changes_board(tt, moment, target),
        "events": [{"title": e.title, "starts_at": e.starts_at.isoformat(),
                    "ends_at": e.ends_at.isoformat() if e.ends_at else None,
                    "place": e.place, "kind": e.kind}
                   for e in tt.upcoming_events(target, moment)],
    }


def period_windows(tt: Timetable, day: date, spec: str) -> list[tuple[datetime, datetime]]:
    """Local windows of day for scheduling content by the bells.

    spec: "lessons" (every period), "breaks" (every break between periods),
    "big_break" (the longest break), or "period:N" (period N).
    """
    if not tt.is_school_day(day):
        return []
    bells = tt.bells_for(day)
    if bells is None:
        return []
    periods = [(tt.local_moment(day, p.start), tt.local_moment(day, p.end), p.number)
               for p in bells.periods]
    breaks = [(a[1], b[0]) for a, b in zip(periods, periods[1:], strict=False) if b[0] > a[1]]
    if spec == "lessons":
        return [(s, e) for s, e, _ in periods]
    if spec == "breaks":
        return breaks
    if spec == "big_break":
        return [max(breaks, key=lambda w: (w[1] - w[0], -w[0].timestamp()))] if breaks else []
    if spec.startswith("period:") and spec[7:].isdigit():
        return [(s, e) for s, e, n in periods if n == int(spec[7:])]
    raise ValueError(f"unknown period window {spec!r}")
