"""A school's timetable: bells, calendar, classes, subjects, teachers, rooms, lessons,
dated changes, events, calendar feeds and the dispatcher's undo history.

Everything hangs on a school node; rooms may name one of its buildings. The
rules (what is on now, what clashes) live in content.timetable.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UTCDateTime, utcnow
from server.models.orgs import Organisation


class TimetableSettings(Base):
    """A school's calendar settings: school weekdays, week A, bells per weekday."""

    __tablename__ = "timetable_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    #: Digits 0 (Monday) to 6 of the usual school days.
    school_weekdays: Mapped[str] = mapped_column(String(7), default="01234")
    #: Any date in a week A; empty when the school does not alternate weeks.
    week_a: Mapped[date | None] = mapped_column(Date())
    default_bells: Mapped[str] = mapped_column(String(32), default="normal")
    #: {"5": "saturday"}: the bell schedule of a weekday, when not the default.
    bells_by_weekday: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class BellScheduleRow(Base):
    """A named bell schedule of a school (normal, shortened, Saturday …)."""

    __tablename__ = "bell_schedules"
    __table_args__ = (UniqueConstraint("org_id", "key", name="bells_org_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    periods: Mapped[list[BellPeriod]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="BellPeriod.number")


class BellPeriod(Base):
    """A numbered period of a bell schedule."""

    __tablename__ = "bell_periods"
    __table_args__ = (UniqueConstraint("schedule_id", "number", name="period_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("bell_schedules.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    start: Mapped[time] = mapped_column(Time())
    end: Mapped[time] = mapped_column(Time())


class CalendarEntry(Base):
    """A dated entry of a school's calendar.

    kind "term" (first..last inclusive), "holiday" (first..last), "school_day"
    (a weekend day with lessons by decree) or "bells" (another bell schedule on
    those days, e.g. a shortened day: bells names it).
    """

    __tablename__ = "calendar_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    first: Mapped[date] = mapped_column(Date())
    last: Mapped[date] = mapped_column(Date())
    name: Mapped[str] = mapped_column(String(100), default="")
    bells: Mapped[str | None] = mapped_column(String(32))


class SchoolGroup(Base):
    """A class ("7Б") or a subgroup of it ("7Б/1")."""

    __tablename__ = "school_groups"
    __table_args__ = (UniqueConstraint("org_id", "key", name="group_org_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key: Mapped[str] = mapped_column(String(32))


class Subject(Base):
    """A subject as the school names it."""

    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("org_id", "name", name="subject_org_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class Teacher(Base):
    """A teacher as shown on screens ("Иванова А. П.")."""

    __tablename__ = "teachers"
    __table_args__ = (UniqueConstraint("org_id", "name", name="teacher_org_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))


class RoomRow(Base):
    """A room, with the building (a node below the school) and floor it is on."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("org_id", "key", name="room_org_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    key: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100), default="")
    building_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    floor: Mapped[int | None] = mapped_column(Integer)

    building: Mapped[Organisation | None] = relationship(foreign_keys=[building_id],
                                                         lazy="joined")


class LessonRow(Base):
    """A weekly lesson; week is "" (every week), "A" or "B"."""

    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)
    week: Mapped[str] = mapped_column(String(1), default="")
    group_id: Mapped[int] = mapped_column(ForeignKey("school_groups.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))

    group: Mapped[SchoolGroup] = relationship(lazy="joined")
    subject: Mapped[Subject] = relationship(lazy="joined")
    teacher: Mapped[Teacher | None] = relationship(lazy="joined")
    room: Mapped[RoomRow | None] = relationship(lazy="joined")


class ChangeRow(Base):
    """A dated change (see content.timetable.Change for the kinds)."""

    __tablename__ = "timetable_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    date: Mapped[date] = mapped_column(Date(), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    period: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("school_groups.id"))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"))
    new_date: Mapped[date | None] = mapped_column(Date(), index=True)
    new_period: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    lesson: Mapped[LessonRow | None] = relationship(lazy="joined")
    group: Mapped[SchoolGroup | None] = relationship(lazy="joined")
    subject: Mapped[Subject | None] = relationship(lazy="joined")
    teacher: Mapped[Teacher | None] = relationship(lazy="joined")
    room: Mapped[RoomRow | None] = relationship(lazy="joined")


class SchoolEvent(Base):
    """An event or parent meeting: when, where, for whom (class keys; empty: everyone)."""

    __tablename__ = "school_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="event")
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(String(100), default="")
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)


class CalendarFeed(Base):
    """A subscribable iCalendar feed of a class, teacher or room at a secret-token URL."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    target_kind: Mapped[str] = mapped_column(String(16))
    target_key: Mapped[str] = mapped_column(String(100))
    #: SHA-256 of the secret token; the token itself is shown once.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TimetableAction(Base):
    """One dispatcher action on a school's timetable, with what undoes it.

    undo is a list of steps: {"op": "delete_change", "id": 5} or
    {"op": "restore_change", "row": {...}} or {"op": "restore_lesson", "row": {...}}.
    """

    __tablename__ = "timetable_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    summary: Mapped[str] = mapped_column(String(300))
    undo: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
