"""The schedule dispatcher's work: bells, calendar, lessons, dated changes, imports, feeds.

Rows are turned into content.timetable's plain data by `build`; every decision
(what is on, what clashes) is the engine's. Every change is audited and
recorded with what undoes it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from content.timetable import (
    SCHOOL,
    BellSchedule,
    Change,
    Conflict,
    Event,
    Lesson,
    Period,
    Room,
    SchoolCalendar,
    Slot,
    Target,
    Timetable,
    class_of,
    class_sort_key,
)
from content.timetable_import import (
    CLASS_KEY,
    ImportResult,
    check_against,
    normalise_class,
    read_timetable,
)
from server.errors import FieldError, Forbidden, Invalid, NotFound
from server.models.base import utcnow
from server.models.orgs import Organisation
from server.models.timetable import (
    BellPeriod,
    BellScheduleRow,
    CalendarEntry,
    CalendarFeed,
    ChangeRow,
    LessonRow,
    RoomRow,
    SchoolEvent,
    SchoolGroup,
    Subject,
    Teacher,
    TimetableAction,
    TimetableSettings,
)
from server.rights import TIMETABLE_EDIT, TIMETABLE_VIEW, can
from server.services import audit
from server.services.context import Ctx
from server.services.orgs import visible_orgs
from server.timetable_schemas import (
    BellsIn,
    CalendarEntryIn,
    ChangeIn,
    EventIn,
    FeedIn,
    LessonBulkIn,
    LessonIn,
    RoomIn,
    SettingsIn,
)

#: Changes this many days around the day asked about are loaded into the engine.
CHANGES_BEFORE = timedelta(days=70)
CHANGES_AFTER = timedelta(days=130)
#: The id a change being checked (not yet saved) has in the engine.
CHECKING = -1
#: "1 08:30-09:15", "1. 8.30 – 9.15", "1) 08:30—09:15".
BELL_LINE = re.compile(
    r"^\s*(\d{1,2})[\s.:)]+(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})\s*$")


# --- schools and lookups ---------------------------------------------------------------

def schools(ctx: Ctx, action: str = TIMETABLE_VIEW) -> list[Organisation]:
    """The schools whose timetable the principal may see (or edit), by name."""
    return sorted((o for o in visible_orgs(ctx, action) if o.kind == "school"),
                  key=lambda o: o.name)


def get_school(ctx: Ctx, school_id: int, action: str = TIMETABLE_VIEW) -> Organisation:
    """A school the principal may act on, or raise NotFound / Forbidden."""
    org = ctx.session.get(Organisation, school_id)
    if org is None or org.kind != "school":
        raise NotFound(_("No such school."))
    if ctx.principal is not None and not can(ctx.principal, action, org.path):
        raise Forbidden(_("This school is outside your part of the tree."))
    return org


def may_edit(ctx: Ctx, school: Organisation) -> bool:
    """Whether the principal may change this school's timetable."""
    return ctx.principal is None or can(ctx.principal, TIMETABLE_EDIT, school.path)


@dataclass
class Lookups:
    """A school's classes, subjects, teachers and rooms by their keys and names."""

    groups: dict[str, SchoolGroup] = field(default_factory=dict)
    subjects: dict[str, Subject] = field(default_factory=dict)
    teachers: dict[str, Teacher] = field(default_factory=dict)
    rooms: dict[str, RoomRow] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        """The class keys (no subgroups), sorted as people sort them."""
        return sorted({class_of(k) for k in self.groups}, key=class_sort_key)


def lookups(session: Session, school: Organisation) -> Lookups:
    """Load the school's classes, subjects, teachers and rooms."""
    lk = Lookups()
    for g in session.scalars(select(SchoolGroup).where(SchoolGroup.org_id == school.id)):
        lk.groups[g.key] = g
    for s in session.scalars(select(Subject).where(Subject.org_id == school.id)):
        lk.subjects[s.name] = s
    for t in session.scalars(select(Teacher).where(Teacher.org_id == school.id)):
        lk.teachers[t.name] = t
    for r in session.scalars(select(RoomRow).where(RoomRow.org_id == school.id)):
        lk.rooms[r.key] = r
    return lk


def buildings(session: Session, school: Organisation) -> list[Organisation]:
    """The buildings below the school."""
    return list(session.scalars(select(Organisation).where(
        Organisation.parent_id == school.id, Organisation.kind == "building"
    ).order_by(Organisation.name)))


def settings_of(session: Session, school: Organisation) -> TimetableSettings:
    """The school's calendar settings (defaults if none were saved)."""
    found = session.scalar(select(TimetableSettings).where(
        TimetableSettings.org_id == school.id))
    return found or TimetableSettings(org_id=school.id, school_weekdays="01234", week_a=None,
                                      default_bells="normal", bells_by_weekday={})


def bell_schedules(session: Session, school: Organisation) -> list[BellScheduleRow]:
    """The school's bell schedules, by key."""
    return list(session.scalars(select(BellScheduleRow).where(
        BellScheduleRow.org_id == school.id).order_by(BellScheduleRow.key)))


def calendar_entries(session: Session, school: Organisation) -> list[CalendarEntry]:
    """Terms, holidays and special days, in date order."""
    return list(session.scalars(select(CalendarEntry).where(
        CalendarEntry.org_id == school.id).order_by(CalendarEntry.first, CalendarEntry.id)))


def calendar_of(session: Session, school: Organisation) -> SchoolCalendar:
    """The engine's calendar of the school."""
    st = settings_of(session, school)
    entries = calendar_entries(session, school)
    extra: set[date] = set()
    bells_by_date: dict[date, str] = {}
    for e in entries:
        if e.kind in ("school_day", "bells"):
            d = e.first
            while d <= e.last:
                if e.kind == "school_day":
                    extra.add(d)
                elif e.bells:
                    bells_by_date[d] = e.bells
                d += timedelta(days=1)
    return SchoolCalendar(
        terms=tuple((e.first, e.last) for e in entries if e.kind == "term"),
        holidays=tuple((e.first, e.last, e.name) for e in entries if e.kind == "holiday"),
        school_weekdays=frozenset(int(d) for d in st.school_weekdays),
        extra_days=frozenset(extra), week_a=st.week_a, default_bells=st.default_bells,
        bells_by_weekday={int(k): v for k, v in (st.bells_by_weekday or {}).items()},
        bells_by_date=bells_by_date)


def _engine_change(row: ChangeRow) -> Change:
    return Change(
        id=row.id, date=row.date, kind=row.kind, lesson_id=row.lesson_id, period=row.period,
        group=row.group.key if row.group else None,
        subject=row.subject.name if row.subject else None,
        teacher=row.teacher.name if row.teacher else None,
        room=row.room.key if row.room else None,
        new_date=row.new_date, new_period=row.new_period, note=row.note)


def build(session: Session, school: Organisation, around: date | None = None,
          extra: Iterable[Change] = ()) -> Timetable:
    """The school's timetable for the engine, with changes near `around` (default today)."""
    tz_today = datetime.now(school_zone(school)).date()
    around = around or tz_today
    lo, hi = around - CHANGES_BEFORE, around + CHANGES_AFTER
    lessons = [Lesson(r.id, r.weekday, r.period, r.group.key, r.subject.name,
                      r.teacher.name if r.teacher else "", r.room.key if r.room else "", r.week)
               for r in session.scalars(select(LessonRow).where(LessonRow.org_id == school.id))]
    changes = [_engine_change(r) for r in session.scalars(select(ChangeRow).where(
        ChangeRow.org_id == school.id,
        or_(ChangeRow.date.between(lo, hi), ChangeRow.new_date.between(lo, hi))))]
    events = [Event(e.id, e.title, e.starts_at, e.ends_at, e.place, tuple(e.audience or ()),
                    e.kind)
              for e in session.scalars(select(SchoolEvent).where(
                  SchoolEvent.org_id == school.id,
                  SchoolEvent.starts_at >= datetime.combine(lo, time(0), school_zone(school))))]
    schedules = [BellSchedule(b.key, b.name, tuple(Period(p.number, p.start, p.end)
                                                   for p in b.periods))
                 for b in bell_schedules(session, school)]
    rooms = [Room(r.key, r.name, r.building.name if r.building else "", r.floor)
             for r in session.scalars(select(RoomRow).where(RoomRow.org_id == school.id))]
    return Timetable(calendar_of(session, school), schedules, lessons, [*changes, *extra],
                     events, rooms, tz=school.timezone)


def school_zone(school: Organisation) -> ZoneInfo:
    """The school's time zone."""
    return ZoneInfo(school.timezone)


def today(school: Organisation) -> date:
    """Today's date at the school."""
    return datetime.now(school_zone(school)).date()


def parse_target(raw: str) -> Target:
    """"class:7Б" → Target; raise Invalid when the text names no target."""
    kind, _sep, key = raw.partition(":")
    if kind == "school":
        return SCHOOL
    if kind not in ("class", "group", "teacher", "room", "building") or not key:
        raise Invalid(_("Choose a class, teacher or room."), "target")
    return Target(kind, key)


# --- weekly grid ----------------------------------------------------------------------

@dataclass(frozen=True)
class Grid:
    """A week of a target: days (dates), period numbers, and slots per (day index, period)."""

    days: list[date]
    periods: list[int]
    cells: dict[tuple[int, int], list[Slot]]


def week_grid(tt: Timetable, target: Target, monday: date) -> Grid:
    """The effective week of target starting on monday (changes applied and marked)."""
    weekdays = sorted(tt.calendar.school_weekdays | {d.weekday() for d in tt.calendar.extra_days
                                                     if monday <= d < monday + timedelta(7)})
    days = [monday + timedelta(days=w) for w in weekdays]
    numbers: set[int] = set()
    for sched in tt.schedules.values():
        numbers.update(p.number for p in sched.periods)
    cells: dict[tuple[int, int], list[Slot]] = {}
    for i, d in enumerate(days):
        for s in tt.day(target, d):
            cells.setdefault((i, s.period), []).append(s)
            numbers.add(s.period)
    return Grid(days, sorted(numbers), cells)


def weekly_lessons(session: Session, school: Organisation, target: Target) -> list[LessonRow]:
    """The weekly lessons of a target (as typed, before any dated change)."""
    stmt = select(LessonRow).where(LessonRow.org_id == school.id)
    rows = list(session.scalars(stmt))
    out = []
    for r in rows:
        key = target.key
        if target.kind == "class" and class_of(r.group.key) != key:
            continue
        if target.kind == "teacher" and (r.teacher is None or r.teacher.name != key):
            continue
        if target.kind == "room" and (r.room is None or r.room.key != key):
            continue
        out.append(r)
    return sorted(out, key=lambda r: (r.weekday, r.period, r.group.key))


# --- dated changes --------------------------------------------------------------------

def _lesson_for(tt: Timetable, day: date, group: str, period: int) -> int:
    """The id of the weekly lesson of group in period on day, or raise Invalid."""
    slots = [s for s in tt.day(SCHOOL, day) if s.lesson_id is not None and s.period == period
             and s.status != "moved_in" and class_of(s.group) == class_of(group)
             and (s.group == group or "/" not in group)]
    exact = [s for s in slots if s.group == group]
    if len(exact) == 1:
        return exact[0].lesson_id  # type: ignore[return-value]
    if len(slots) == 1:
        return slots[0].lesson_id  # type: ignore[return-value]
    if not slots:
        raise Invalid(_("%(group)s has no lesson in period %(period)s on that day.",
                        group=group, period=period), "period")
    raise Invalid(_("%(group)s has several lessons in period %(period)s (%(groups)s): name "
                    "the subgroup.", group=group, period=period,
                    groups=", ".join(sorted(s.group for s in slots))), "group")


def _check_day(tt: Timetable, day: date, period: int, fld_date: str, fld_period: str
               ) -> list[FieldError]:
    reason = tt.day_off_reason(day)
    if reason:
        return [FieldError(fld_date, _("There are no lessons on that day (%(reason)s).",
                                       reason=_day_off_label(reason)))]
    bells = tt.bells_for(day)
    if bells is None or bells.period(period) is None:
        return [FieldError(fld_period, _("Period %(period)s is not in that day's bells.",
                                         period=period))]
    return []


def _day_off_label(reason: str) -> str:
    if reason.startswith("holiday"):
        name = reason.partition(": ")[2]
        return _("holiday: %(name)s", name=name) if name else _("holiday")
    return {"weekend": _("weekend"), "out of term": _("outside the terms")}.get(reason, reason)


@dataclass(frozen=True)
class PreparedChange:
    """A change checked against the school, ready to save."""

    change: Change
    fields: dict[str, Any]


def prepare_change(ctx: Ctx, school: Organisation, data: ChangeIn, tt: Timetable,
                   lk: Lookups) -> PreparedChange:
    """Check a change against the school and its timetable; raise Invalid listing problems."""
    group = normalise_class(data.group)
    errors = _check_day(tt, data.date, data.period, "date", "period")
    if class_of(group) not in lk.groups:
        errors.append(FieldError("group", _("The school has no class %(group)s.", group=group)))
    teacher = room = subject = None
    if data.teacher:
        teacher = lk.teachers.get(data.teacher)
        if teacher is None:
            errors.append(FieldError("teacher", _("No teacher called “%(name)s” in this "
                                                  "school.", name=data.teacher)))
    if data.room:
        room = lk.rooms.get(data.room)
        if room is None:
            errors.append(FieldError("room", _("No room %(room)s in this school.",
                                               room=data.room)))
    if data.subject:
        subject = lk.subjects.get(data.subject)
        if subject is None:
            errors.append(FieldError("subject", _("No subject “%(name)s” in this school.",
                                                  name=data.subject)))
    kind = data.kind
    if kind == "substitution" and not data.teacher:
        errors.append(FieldError("teacher", _("Name the teacher who takes the lesson.")))
    if kind == "room_move" and not data.room:
        errors.append(FieldError("room", _("Name the room the lesson moves to.")))
    if kind == "extra" and not data.subject:
        errors.append(FieldError("subject", _("Name the subject of the extra lesson.")))
    if kind == "move":
        if data.new_date is None:
            errors.append(FieldError("new_date", _("Choose the day the lesson moves to.")))
        if data.new_period is None:
            errors.append(FieldError("new_period", _("Choose the period it moves to.")))
        if data.new_date is not None and data.new_period is not None:
            errors += _check_day(tt, data.new_date, data.new_period, "new_date", "new_period")
            if (data.new_date, data.new_period) == (data.date, data.period):
                errors.append(FieldError("new_period", _("That is where the lesson already "
                                                         "is.")))
    if errors:
        raise Invalid(errors)
    lesson_id = None
    if kind != "extra":
        lesson_id = _lesson_for(tt, data.date, group, data.period)
    elif group not in lk.groups and not CLASS_KEY.match(group):
        raise Invalid(_("“%(group)s” is not a class or subgroup.", group=group), "group")
    change = Change(
        id=CHECKING, date=data.date, kind=kind, lesson_id=lesson_id,
        period=data.period if kind == "extra" else None,
        group=group if kind == "extra" else None,
        subject=data.subject if kind == "extra" else None,
        teacher=data.teacher if kind in ("substitution", "extra", "move") else None,
        room=data.room if kind in ("room_move", "extra", "move") else None,
        new_date=data.new_date if kind == "move" else None,
        new_period=data.new_period if kind == "move" else None, note=data.note)
    fields = {
        "date": change.date, "kind": kind, "lesson_id": lesson_id, "period": change.period,
        "group": group if kind == "extra" else None,
        "subject_id": subject.id if subject and kind == "extra" else None,
        "teacher_id": teacher.id if teacher and change.teacher else None,
        "room_id": room.id if room and change.room else None,
        "new_date": change.new_date, "new_period": change.new_period, "note": data.note,
    }
    return PreparedChange(change, fields)


def conflicts_of(tt: Timetable, days: Iterable[date], change_id: int | None = None
                 ) -> list[Conflict]:
    """Clashes on days; with change_id, only those the change takes part in."""
    out = []
    for d in sorted(set(days)):
        for c in tt.conflicts(d):
            if change_id is None or any(change_id in s.change_ids for s in c.slots):
                out.append(c)
    return out


def check_change(ctx: Ctx, school: Organisation, data: ChangeIn) -> list[Conflict]:
    """The clashes a change would cause, without saving it (Invalid if it cannot be made)."""
    tt = build(ctx.session, school, data.date)
    prepared = prepare_change(ctx, school, data, tt, lookups(ctx.session, school))
    trial = build(ctx.session, school, data.date, extra=[prepared.change])
    return conflicts_of(trial, _days_of(prepared.change), CHECKING)


def _days_of(change: Change) -> list[date]:
    return [change.date] + ([change.new_date] if change.new_date else [])


def _save_change(ctx: Ctx, school: Organisation, data: ChangeIn, lk: Lookups) -> ChangeRow:
    tt = build(ctx.session, school, data.date)
    prepared = prepare_change(ctx, school, data, tt, lk)
    fields = dict(prepared.fields)
    group_key = fields.pop("group")
    fields["group_id"] = _group(ctx.session, school, lk, group_key).id if group_key else None
    row = ChangeRow(org_id=school.id, created_by_id=ctx.actor_id, **fields)
    ctx.session.add(row)
    ctx.session.flush()
    summary = describe_change_row(row)
    audit.record(ctx, "timetable.change.create", ("change", row.id), school,
                 f"Timetable change: {summary}", what=summary, kind=row.kind,
                 date=row.date.isoformat())
    return row


def add_change(ctx: Ctx, school: Organisation, data: ChangeIn
               ) -> tuple[ChangeRow, list[Conflict]]:
    """Save a change (audited, undoable) and return the clashes it takes part in."""
    row = _save_change(ctx, school, data, lookups(ctx.session, school))
    _remember(ctx, school, describe_change_row(row), [{"op": "delete_change", "id": row.id}])
    after = build(ctx.session, school, data.date)
    return row, conflicts_of(after, _days_of(_engine_change(row)), row.id)


def add_changes(ctx: Ctx, school: Organisation, changes: list[ChangeIn], summary: str
                ) -> tuple[list[ChangeRow], list[Conflict]]:
    """Save several changes as one undoable action, all or none (Invalid names the row)."""
    if not changes:
        raise Invalid(_("Nothing to save: choose a substitute or a cancellation."))
    lk = lookups(ctx.session, school)
    rows = []
    for index, data in enumerate(changes):
        try:
            rows.append(_save_change(ctx, school, data, lk))
        except Invalid as exc:
            raise Invalid([FieldError(f"{index}.{e.field}", e.reason)
                           for e in exc.errors]) from None
    _remember(ctx, school, summary, [{"op": "delete_change", "id": r.id} for r in rows])
    days = {d for r in rows for d in _days_of(_engine_change(r))}
    after = build(ctx.session, school, changes[0].date)
    ids = {r.id for r in rows}
    clashes = [c for c in conflicts_of(after, days)
               if any(ids & set(s.change_ids) for s in c.slots)]
    return rows, clashes


@dataclass(frozen=True)
class Cover:
    """A lesson of an absent teacher and who could take it."""

    slot: Slot
    same_subject: list[str]
    others: list[str]


def covers_for(tt: Timetable, teacher: str, day: date) -> list[Cover]:
    """The absent teacher's lessons of day, each with the teachers free in that period
    (those who teach the subject first)."""
    slots = tt.day(Target("teacher", teacher), day, include_dropped=False)
    everyone = {s.teacher for d in (day,) for s in tt.day(SCHOOL, d)} | {
        lesson.teacher for lesson in tt.lessons.values()}
    everyone.discard("")
    everyone.discard(teacher)
    subject_teachers: dict[str, set[str]] = {}
    for lesson in tt.lessons.values():
        subject_teachers.setdefault(lesson.subject, set()).add(lesson.teacher)
    busy: dict[int, set[str]] = {}
    for s in tt.day(SCHOOL, day):
        if s.held:
            busy.setdefault(s.period, set()).add(s.teacher)
    out = []
    for s in slots:
        free = sorted(everyone - busy.get(s.period, set()))
        same = [t for t in free if t in subject_teachers.get(s.subject, set())]
        out.append(Cover(s, same, [t for t in free if t not in same]))
    return out


def delete_change(ctx: Ctx, school: Organisation, change_id: int) -> None:
    """Remove a change (audited, undoable)."""
    row = ctx.session.get(ChangeRow, change_id)
    if row is None or row.org_id != school.id:
        raise NotFound(_("No such change."))
    summary = describe_change_row(row)
    _remember(ctx, school, _("Removed: %(change)s", change=summary),
              [{"op": "restore_change", "row": _change_dict(row)}])
    audit.record(ctx, "timetable.change.delete", ("change", row.id), school,
                 f"Removed timetable change: {summary}", what=summary, kind=row.kind,
                 date=row.date.isoformat())
    ctx.session.delete(row)
    ctx.session.flush()


def changes_on(session: Session, school: Organisation, day: date) -> list[ChangeRow]:
    """The saved changes of a day (and those moving a lesson into it), in entry order."""
    return list(session.scalars(select(ChangeRow).where(
        ChangeRow.org_id == school.id, or_(ChangeRow.date == day, ChangeRow.new_date == day)
    ).order_by(ChangeRow.id)))


def describe_change_row(row: ChangeRow) -> str:
    """A short sentence about a change, e.g. "7Б, period 3, 30.11: substitution — Сидорова"."""
    lesson = row.lesson
    group = row.group.key if row.group else (lesson.group.key if lesson else "?")
    period = row.period if row.period is not None else (lesson.period if lesson else "?")
    word = _("period")
    head = f"{group}, {word} {period}, {row.date.strftime('%d.%m')}"
    kind = CHANGE_LABELS.get(row.kind, row.kind)
    detail = ""
    if row.kind == "substitution" and row.teacher:
        detail = row.teacher.name
    elif row.kind == "room_move" and row.room:
        detail = row.room.key
    elif row.kind == "move" and row.new_date:
        detail = f"{row.new_date.strftime('%d.%m')}, {word} {row.new_period}"
    elif row.kind == "extra" and row.subject:
        detail = row.subject.name
    return f"{head}: {kind}" + (f" — {detail}" if detail else "")


CHANGE_LABELS: dict[str, Any] = {
    "substitution": _l("substitution"), "cancellation": _l("cancelled"),
    "room_move": _l("room change"), "move": _l("moved"), "extra": _l("extra lesson"),
}


def _change_dict(row: ChangeRow) -> dict[str, Any]:
    return {"id": row.id, "date": row.date.isoformat(), "kind": row.kind,
            "lesson_id": row.lesson_id, "period": row.period, "group_id": row.group_id,
            "subject_id": row.subject_id, "teacher_id": row.teacher_id, "room_id": row.room_id,
            "new_date": row.new_date.isoformat() if row.new_date else None,
            "new_period": row.new_period, "note": row.note,
            "created_by_id": row.created_by_id}


def _lesson_dict(row: LessonRow) -> dict[str, Any]:
    return {"id": row.id, "weekday": row.weekday, "period": row.period, "week": row.week,
            "group_id": row.group_id, "subject_id": row.subject_id,
            "teacher_id": row.teacher_id, "room_id": row.room_id}


def _remember(ctx: Ctx, school: Organisation, summary: str, undo: list[dict[str, Any]]) -> None:
    ctx.session.add(TimetableAction(org_id=school.id, user_id=ctx.actor_id,
                                    summary=summary[:300], undo=undo))


def last_action(session: Session, school: Organisation, user_id: int | None
                ) -> TimetableAction | None:
    """The person's newest action on the school's timetable that can still be undone."""
    return session.scalar(select(TimetableAction).where(
        TimetableAction.org_id == school.id, TimetableAction.user_id == user_id,
        TimetableAction.undone_at.is_(None)).order_by(TimetableAction.id.desc()).limit(1))


def undo_last(ctx: Ctx, school: Organisation) -> str:
    """Undo the person's last action on this school's timetable; return what was undone."""
    action = last_action(ctx.session, school, ctx.actor_id)
    if action is None:
        raise Invalid(_("There is nothing to undo."))
    for step in reversed(action.undo):
        op = step["op"]
        if op == "delete_change":
            row = ctx.session.get(ChangeRow, step["id"])
            if row is not None:
                ctx.session.delete(row)
        elif op == "restore_change":
            data = dict(step["row"])
            data["date"] = date.fromisoformat(data["date"])
            data["new_date"] = date.fromisoformat(data["new_date"]) if data["new_date"] else None
            if data.get("lesson_id") and ctx.session.get(LessonRow, data["lesson_id"]) is None:
                continue
            ctx.session.add(ChangeRow(org_id=school.id, **data))
        elif op == "delete_lesson":
            lesson = ctx.session.get(LessonRow, step["id"])
            if lesson is not None:
                ctx.session.delete(lesson)
        elif op == "restore_lesson":
            data = dict(step["row"])
            lesson = ctx.session.get(LessonRow, data["id"])
            if lesson is None:
                ctx.session.add(LessonRow(org_id=school.id, **data))
            else:
                for k, v in data.items():
                    setattr(lesson, k, v)
        ctx.session.flush()
    action.undone_at = utcnow()
    audit.record(ctx, "timetable.undo", ("timetable_action", action.id), school,
                 f"Undid: {action.summary}", what=action.summary)
    return action.summary


# --- weekly lessons -------------------------------------------------------------------

def _group(session: Session, school: Organisation, lk: Lookups, key: str) -> SchoolGroup:
    found = lk.groups.get(key)
    if found is None:
        found = SchoolGroup(org_id=school.id, key=key)
        session.add(found)
        session.flush()
        lk.groups[key] = found
    return found


def _named(session: Session, school: Organisation, table: dict[str, Any], model: type[Any],
           name: str, attr: str = "name") -> Any:
    found = table.get(name)
    if found is None:
        found = model(org_id=school.id, **{attr: name})
        session.add(found)
        session.flush()
        table[name] = found
    return found


def _check_group(lk: Lookups, group: str, fld: str = "group") -> None:
    if not CLASS_KEY.match(group):
        raise Invalid(_("“%(group)s” is not a class (like 7Б) or subgroup (like 7Б/1).",
                        group=group), fld)
    if class_of(group) not in lk.groups:
        raise Invalid(_("The school has no class %(group)s: add it under Bells and calendar "
                        "first.", group=class_of(group)), fld)


def save_lesson(ctx: Ctx, school: Organisation, data: LessonIn,
                lesson_id: int | None = None) -> LessonRow:
    """Create or change a weekly lesson (new subjects, teachers, rooms are added)."""
    lk = lookups(ctx.session, school)
    group = normalise_class(data.group)
    _check_group(lk, group)
    periods = {p.number for b in bell_schedules(ctx.session, school) for p in b.periods}
    if periods and data.period not in periods:
        raise Invalid(_("Period %(period)s is not in the bell schedule.", period=data.period),
                      "period")
    values = {
        "weekday": data.weekday, "period": data.period, "week": data.week,
        "group_id": _group(ctx.session, school, lk, group).id,
        "subject_id": _named(ctx.session, school, lk.subjects, Subject, data.subject).id,
        "teacher_id": _named(ctx.session, school, lk.teachers, Teacher, data.teacher).id
        if data.teacher else None,
        "room_id": _named(ctx.session, school, lk.rooms, RoomRow, data.room, "key").id
        if data.room else None,
    }
    if lesson_id is None:
        row = LessonRow(org_id=school.id, **values)
        ctx.session.add(row)
        ctx.session.flush()
        undo: list[dict[str, Any]] = [{"op": "delete_lesson", "id": row.id}]
        verb = "created"
    else:
        row = get_lesson(ctx, school, lesson_id)
        undo = [{"op": "restore_lesson", "row": _lesson_dict(row)}]
        for k, v in values.items():
            setattr(row, k, v)
        ctx.session.flush()
        verb = "changed"
    ctx.session.refresh(row)
    summary = describe_lesson(row)
    _remember(ctx, school, summary, undo)
    audit.record(ctx, f"timetable.lesson.{'create' if verb == 'created' else 'update'}",
                 ("lesson", row.id), school, f"Lesson {verb}: {summary}", what=summary)
    return row


def get_lesson(ctx: Ctx, school: Organisation, lesson_id: int) -> LessonRow:
    """A weekly lesson of the school, or raise NotFound."""
    row = ctx.session.get(LessonRow, lesson_id)
    if row is None or row.org_id != school.id:
        raise NotFound(_("No such lesson."))
    return row


def describe_lesson(row: LessonRow) -> str:
    """"7Б, Mon 3: Maths (Иванова, 204)"."""
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[row.weekday]
    extra = ", ".join(x for x in (row.teacher.name if row.teacher else "",
                                  row.room.key if row.room else "") if x)
    week = f" ({row.week})" if row.week else ""
    return f"{row.group.key}, {day} {row.period}{week}: {row.subject.name}" + \
        (f" ({extra})" if extra else "")


def bulk_lessons(ctx: Ctx, school: Organisation, data: LessonBulkIn) -> int:
    """Delete several lessons or give them a teacher/room, in one undoable action."""
    rows = [get_lesson(ctx, school, i) for i in dict.fromkeys(data.ids)]
    lk = lookups(ctx.session, school)
    undo: list[dict[str, Any]] = []
    if data.action == "delete":
        for r in rows:
            undo.append({"op": "restore_lesson", "row": _lesson_dict(r)})
            ctx.session.delete(r)
        summary = f"Deleted {len(rows)} lessons"
    else:
        if not data.teacher and not data.room:
            raise Invalid(_("Name a teacher or a room to set."), "teacher")
        teacher = _named(ctx.session, school, lk.teachers, Teacher, data.teacher) \
            if data.teacher else None
        room = _named(ctx.session, school, lk.rooms, RoomRow, data.room, "key") \
            if data.room else None
        for r in rows:
            undo.append({"op": "restore_lesson", "row": _lesson_dict(r)})
            if teacher is not None:
                r.teacher_id = teacher.id
            if room is not None:
                r.room_id = room.id
        summary = f"Changed {len(rows)} lessons"
    ctx.session.flush()
    _remember(ctx, school, summary, undo)
    audit.record(ctx, "timetable.lesson.bulk", ("school", school.id), school, summary,
                 how=data.action, count=len(rows))
    return len(rows)


def delete_lesson(ctx: Ctx, school: Organisation, lesson_id: int) -> None:
    """Remove a weekly lesson (undoable; its dated changes go with it)."""
    row = get_lesson(ctx, school, lesson_id)
    summary = describe_lesson(row)
    _remember(ctx, school, f"Deleted lesson {summary}",
              [{"op": "restore_lesson", "row": _lesson_dict(row)}])
    audit.record(ctx, "timetable.lesson.delete", ("lesson", row.id), school,
                 f"Lesson deleted: {summary}", what=summary)
    ctx.session.delete(row)
    ctx.session.flush()


# --- classes ----------------------------------------------------------------------------

def add_classes(ctx: Ctx, school: Organisation, text: str) -> list[str]:
    """Add the classes (and subgroups) listed in text, separated by commas or spaces."""
    keys = [normalise_class(k) for k in re.split(r"[,;\s]+", text) if k.strip()]
    if not keys:
        raise Invalid(_("Name at least one class, like 7Б."), "classes")
    bad = [k for k in keys if not CLASS_KEY.match(k)]
    if bad:
        raise Invalid(_("Not a class: %(keys)s (write them like 7Б, or 7Б/1 for a subgroup).",
                        keys=", ".join(bad)), "classes")
    lk = lookups(ctx.session, school)
    added = []
    for key in dict.fromkeys(keys):
        if "/" in key and class_of(key) not in lk.groups:
            _group(ctx.session, school, lk, class_of(key))
            added.append(class_of(key))
        if key not in lk.groups:
            _group(ctx.session, school, lk, key)
            added.append(key)
    if added:
        audit.record(ctx, "timetable.classes.add", ("school", school.id), school,
                     f"Classes added: {', '.join(added)}", classes=added)
    return added


def delete_class(ctx: Ctx, school: Organisation, group_id: int) -> str:
    """Remove a class or subgroup that no lesson, change or subgroup uses."""
    row = ctx.session.get(SchoolGroup, group_id)
    if row is None or row.org_id != school.id:
        raise NotFound(_("No such class."))
    used = ctx.session.scalar(select(LessonRow.id).where(LessonRow.group_id == row.id)
                              .limit(1)) or ctx.session.scalar(
        select(ChangeRow.id).where(ChangeRow.group_id == row.id).limit(1))
    children = "/" not in row.key and any(
        class_of(k) == row.key and k != row.key for k in lookups(ctx.session, school).groups)
    if used or children:
        raise Invalid(_("%(key)s still has lessons or subgroups.", key=row.key))
    audit.record(ctx, "timetable.classes.delete", ("school", school.id), school,
                 f"Class removed: {row.key}", classes=[row.key])
    ctx.session.delete(row)
    return row.key


# --- rooms ------------------------------------------------------------------------------

def save_room(ctx: Ctx, school: Organisation, data: RoomIn) -> RoomRow:
    """Add a room or change its name, building and floor."""
    building = None
    if data.building_id is not None:
        building = next((b for b in buildings(ctx.session, school) if b.id == data.building_id),
                        None)
        if building is None:
            raise Invalid(_("Choose one of this school's buildings."), "building_id")
    lk = lookups(ctx.session, school)
    row = lk.rooms.get(data.key)
    created = row is None
    if row is None:
        row = RoomRow(org_id=school.id, key=data.key)
        ctx.session.add(row)
    row.name = data.name
    row.building_id = building.id if building else None
    row.floor = data.floor
    ctx.session.flush()
    audit.record(ctx, "timetable.room.save", ("room", row.id), school,
                 f"Room {data.key} {'added' if created else 'changed'}", room=data.key)
    return row


# --- bells, calendar, settings ---------------------------------------------------------

def parse_bells(text: str) -> list[Period]:
    """Periods from lines like "1 08:30-09:15"; raise Invalid naming the bad line."""
    periods: list[Period] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = BELL_LINE.match(line)
        if not m:
            raise Invalid(_("Line %(line)s: write a period as “1 08:30-09:15”.", line=number),
                          "periods")
        n, h1, m1, h2, m2 = (int(x) for x in m.groups())
        if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
            raise Invalid(_("Line %(line)s: not a time of day.", line=number), "periods")
        start, end = time(h1, m1), time(h2, m2)
        if end <= start:
            raise Invalid(_("Line %(line)s: the period ends before it starts.", line=number),
                          "periods")
        if periods and (n <= periods[-1].number or start < periods[-1].end):
            raise Invalid(_("Line %(line)s: periods must follow each other in order.",
                            line=number), "periods")
        periods.append(Period(n, start, end))
    if not periods:
        raise Invalid(_("Give at least one period."), "periods")
    return periods


def save_bells(ctx: Ctx, school: Organisation, data: BellsIn) -> BellScheduleRow:
    """Create or replace a bell schedule (audited)."""
    periods = parse_bells(data.periods)
    row = ctx.session.scalar(select(BellScheduleRow).where(
        BellScheduleRow.org_id == school.id, BellScheduleRow.key == data.key))
    if row is None:
        row = BellScheduleRow(org_id=school.id, key=data.key, name=data.name)
        ctx.session.add(row)
    row.name = data.name
    row.periods.clear()
    ctx.session.flush()
    for p in periods:
        row.periods.append(BellPeriod(number=p.number, start=p.start, end=p.end))
    ctx.session.flush()
    audit.record(ctx, "timetable.bells.save", ("bells", row.id), school,
                 f"Bell schedule “{data.name}” saved", name=data.name,
                 periods=len(periods))
    return row


def delete_bells(ctx: Ctx, school: Organisation, key: str) -> None:
    """Remove a bell schedule that no day uses."""
    row = ctx.session.scalar(select(BellScheduleRow).where(
        BellScheduleRow.org_id == school.id, BellScheduleRow.key == key))
    if row is None:
        raise NotFound(_("No such bell schedule."))
    st = settings_of(ctx.session, school)
    if key == st.default_bells or key in (st.bells_by_weekday or {}).values() or any(
            e.bells == key for e in calendar_entries(ctx.session, school)):
        raise Invalid(_("This bell schedule is in use; choose another for those days first."))
    audit.record(ctx, "timetable.bells.delete", ("bells", row.id), school,
                 f"Bell schedule “{row.name}” deleted", name=row.name)
    ctx.session.delete(row)


def save_settings(ctx: Ctx, school: Organisation, data: SettingsIn) -> TimetableSettings:
    """Save the school's weekdays, week A and bells per weekday."""
    keys = {b.key for b in bell_schedules(ctx.session, school)}
    for fld, key in [("default_bells", data.default_bells)] + [
            (f"bells_{d}", k) for d, k in sorted(data.weekday_bells.items())]:
        if key and key not in keys:
            raise Invalid(_("No bell schedule “%(key)s”.", key=key), fld)
    st = settings_of(ctx.session, school)
    if st.id is None:
        ctx.session.add(st)
    st.school_weekdays = "".join(str(d) for d in sorted(set(data.school_weekdays)))
    st.week_a = data.week_a
    st.default_bells = data.default_bells
    st.bells_by_weekday = {d: k for d, k in data.weekday_bells.items()
                           if k != data.default_bells}
    ctx.session.flush()
    audit.record(ctx, "timetable.settings", ("school", school.id), school,
                 "Timetable settings saved")
    return st


def add_calendar_entry(ctx: Ctx, school: Organisation, data: CalendarEntryIn) -> CalendarEntry:
    """Add a term, holiday, extra school day or day with other bells."""
    last = data.last or data.first
    if last < data.first:
        raise Invalid(_("The last day is before the first."), "last")
    if data.kind == "bells":
        if not data.bells or data.bells not in {b.key for b in bell_schedules(ctx.session,
                                                                               school)}:
            raise Invalid(_("Choose the bell schedule of those days."), "bells")
    row = CalendarEntry(org_id=school.id, kind=data.kind, first=data.first, last=last,
                        name=data.name, bells=data.bells if data.kind == "bells" else None)
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, "timetable.calendar.add", ("calendar", row.id), school,
                 f"Calendar: {data.kind} {data.first}–{last}", kind=data.kind,
                 first=data.first.isoformat(), last=last.isoformat(), name=data.name)
    return row


def delete_calendar_entry(ctx: Ctx, school: Organisation, entry_id: int) -> None:
    """Remove a calendar entry."""
    row = ctx.session.get(CalendarEntry, entry_id)
    if row is None or row.org_id != school.id:
        raise NotFound(_("No such calendar entry."))
    audit.record(ctx, "timetable.calendar.delete", ("calendar", row.id), school,
                 f"Calendar entry removed: {row.kind} {row.first}–{row.last}", kind=row.kind,
                 first=row.first.isoformat(), last=row.last.isoformat(), name=row.name)
    ctx.session.delete(row)


# --- events ---------------------------------------------------------------------------

def events(session: Session, school: Organisation, since: datetime) -> list[SchoolEvent]:
    """Events from since on, soonest first."""
    return list(session.scalars(select(SchoolEvent).where(
        SchoolEvent.org_id == school.id, SchoolEvent.starts_at >= since
    ).order_by(SchoolEvent.starts_at)))


def add_event(ctx: Ctx, school: Organisation, data: EventIn) -> SchoolEvent:
    """Add an event or parent meeting (audience: class keys separated by commas)."""
    audience = [normalise_class(a) for a in re.split(r"[,;\s]+", data.audience) if a.strip()]
    lk = lookups(ctx.session, school)
    for a in audience:
        _check_group(lk, a, "audience")
    if data.ends_at is not None and data.ends_at <= data.starts_at:
        raise Invalid(_("The event ends before it starts."), "ends_at")
    row = SchoolEvent(org_id=school.id, kind=data.kind, title=data.title,
                      starts_at=data.starts_at, ends_at=data.ends_at, place=data.place,
                      audience=audience)
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, "timetable.event.add", ("event", row.id), school,
                 f"Event “{data.title}” added", title=data.title)
    return row


def delete_event(ctx: Ctx, school: Organisation, event_id: int) -> None:
    """Remove an event."""
    row = ctx.session.get(SchoolEvent, event_id)
    if row is None or row.org_id != school.id:
        raise NotFound(_("No such event."))
    audit.record(ctx, "timetable.event.delete", ("event", row.id), school,
                 f"Event “{row.title}” removed", title=row.title)
    ctx.session.delete(row)


# --- imports --------------------------------------------------------------------------

def check_import(ctx: Ctx, school: Organisation, data: bytes, filename: str) -> ImportResult:
    """Read a timetable file and check it against the school; nothing is written."""
    result = read_timetable(data, filename)
    lk = lookups(ctx.session, school)
    periods = {p.number for b in bell_schedules(ctx.session, school) for p in b.periods}
    check_against(result, [k for k in lk.groups if "/" not in k], periods)
    names = {b.name for b in buildings(ctx.session, school)}
    for room in result.rooms.values():
        if room.building and room.building not in names:
            row = next((x.row for x in result.lessons if x.room == room.key), 0)
            result.problem(row, "building", "unknown_building",
                           "The school has no building “{value}”.", value=room.building)
    result.problems.sort(key=lambda p: (p.row, p.column))
    return result


def apply_import(ctx: Ctx, school: Organisation, data: bytes, filename: str) -> ImportResult:
    """Replace the school's weekly lessons with the file's, all or nothing.

    Dated changes of the old lessons go with them; classes, subjects, teachers
    and rooms the file names are added; a school without bells gets the file's.
    """
    result = check_import(ctx, school, data, filename)
    if not result.ok:
        raise Invalid(_("The file has %(count)s problems; nothing was imported.",
                        count=len(result.problems)), "file")
    session = ctx.session
    old = session.scalars(select(LessonRow.id).where(LessonRow.org_id == school.id)).all()
    if old:
        session.execute(delete(ChangeRow).where(ChangeRow.lesson_id.in_(old)))
        session.execute(delete(LessonRow).where(LessonRow.org_id == school.id))
    session.execute(delete(TimetableAction).where(TimetableAction.org_id == school.id))
    if result.periods and not bell_schedules(session, school):
        text = "\n".join(f"{p.number} {p.start:%H:%M}-{p.end:%H:%M}" for p in result.periods)
        save_bells(ctx, school, BellsIn(key="normal", name=_("Normal"), periods=text))
    lk = lookups(session, school)
    by_name = {b.name: b for b in buildings(session, school)}
    for room in result.rooms.values():
        row = _named(session, school, lk.rooms, RoomRow, room.key, "key")
        if room.building:
            row.building_id = by_name[room.building].id
        if room.floor is not None:
            row.floor = room.floor
    for x in result.lessons:
        session.add(LessonRow(
            org_id=school.id, weekday=x.weekday, period=x.period, week=x.week,
            group_id=_group(session, school, lk, x.group).id,
            subject_id=_named(session, school, lk.subjects, Subject, x.subject).id,
            teacher_id=_named(session, school, lk.teachers, Teacher, x.teacher).id
            if x.teacher else None,
            room_id=lk.rooms[x.room].id if x.room else None))
    session.flush()
    audit.record(ctx, "timetable.import", ("school", school.id), school,
                 f"Timetable imported from {filename}: {len(result.lessons)} lessons",
                 filename=filename, lessons=len(result.lessons), replaced=len(old),
                 format=result.format)
    return result


# --- calendar feeds -------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feeds(session: Session, school: Organisation) -> list[CalendarFeed]:
    """The school's calendar feeds, newest first."""
    return list(session.scalars(select(CalendarFeed).where(
        CalendarFeed.org_id == school.id).order_by(CalendarFeed.id.desc())))


def create_feed(ctx: Ctx, school: Organisation, data: FeedIn) -> tuple[CalendarFeed, str]:
    """A new feed and its secret token (shown once; only its hash is kept)."""
    lk = lookups(ctx.session, school)
    key = data.target_key
    known = {"class": set(lk.classes), "group": set(lk.groups), "teacher": set(lk.teachers),
             "room": set(lk.rooms)}[data.target_kind]
    if data.target_kind in ("class", "group"):
        key = normalise_class(key)
    if key not in known:
        raise Invalid(_("The school has no such class, teacher or room."), "target_key")
    token = secrets.token_urlsafe(24)
    row = CalendarFeed(org_id=school.id, target_kind=data.target_kind, target_key=key,
                       token_hash=_hash(token), created_by_id=ctx.actor_id)
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, "timetable.feed.create", ("feed", row.id), school,
                 f"Calendar feed for {data.target_kind} {key} created",
                 target=f"{data.target_kind}:{key}")
    return row, token


def revoke_feed(ctx: Ctx, school: Organisation, feed_id: int) -> None:
    """Stop a feed: its URL answers 404 from now on."""
    row = ctx.session.get(CalendarFeed, feed_id)
    if row is None or row.org_id != school.id:
        raise NotFound(_("No such feed."))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(ctx, "timetable.feed.revoke", ("feed", row.id), school,
                     f"Calendar feed for {row.target_kind} {row.target_key} revoked",
                     target=f"{row.target_kind}:{row.target_key}")


def feed_for_token(session: Session, token: str) -> CalendarFeed | None:
    """The live feed with this token, or None."""
    if not token or len(token) > 100:
        return None
    row = session.scalar(select(CalendarFeed).where(CalendarFeed.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def slot_sentence(slot: Slot) -> str:
    """What changed about a slot, for people: "Сидорова instead of Иванова; room 301"."""
    parts = []
    if slot.status == "cancelled":
        parts.append(_("cancelled"))
    if slot.status == "moved_out" and slot.moved_to:
        parts.append(_("moved to %(date)s, period %(period)s",
                       date=slot.moved_to[0].strftime("%d.%m"), period=slot.moved_to[1]))
    if slot.status == "moved_in" and slot.moved_from:
        parts.append(_("moved from %(date)s, period %(period)s",
                       date=slot.moved_from[0].strftime("%d.%m"), period=slot.moved_from[1]))
    if slot.status == "extra":
        parts.append(_("extra lesson"))
    if slot.original_teacher:
        parts.append(_("%(new)s instead of %(old)s", new=slot.teacher or "—",
                       old=slot.original_teacher))
    if slot.original_room:
        parts.append(_("room %(new)s instead of %(old)s", new=slot.room,
                       old=slot.original_room))
    if slot.note:
        parts.append(slot.note)
    return "; ".join(parts)


def conflict_sentence(c: Conflict) -> str:
    """A clash for people: "Сидорова has two lessons in period 3: 7Б, 8А"."""
    who = ", ".join(f"{s.group} ({s.subject}, {s.room or '—'})" for s in c.slots)
    if c.kind == "teacher":
        return _("%(name)s is double-booked in period %(period)s: %(who)s",
                 name=c.key, period=c.period, who=who)
    if c.kind == "room":
        return _("Room %(name)s is double-booked in period %(period)s: %(who)s",
                 name=c.key, period=c.period, who=who)
    return _("Class %(name)s has two lessons at once in period %(period)s: %(who)s",
             name=c.key, period=c.period, who=who)
