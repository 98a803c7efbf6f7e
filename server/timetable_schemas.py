"""Request shapes of the timetable (dispatcher forms and the API)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from server.schemas import Id, Input, Output

#: `date` under a name a field called date cannot hide.
Day = date

ChangeKind = Literal["substitution", "cancellation", "room_move", "move", "extra"]
TargetKind = Literal["class", "group", "teacher", "room", "building", "school"]
Week = Literal["", "A", "B"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
PeriodNo = Annotated[int, Field(ge=0, le=20)]


class ChangeIn(Input):
    """A dated change, the lesson named by class (or subgroup) and period.

    substitution: teacher; room_move: room; move: new_date and new_period (room
    optional); extra: subject (teacher, room optional); cancellation: nothing more.
    """

    date: date
    kind: ChangeKind
    group: Key
    period: PeriodNo
    teacher: Name | None = None
    room: Key | None = None
    subject: Name | None = None
    new_date: date | None = None
    new_period: PeriodNo | None = None
    note: Note = ""


class LessonIn(Input):
    """A weekly lesson as the dispatcher types it (names, not ids)."""

    weekday: Annotated[int, Field(ge=0, le=6)]
    period: PeriodNo
    group: Key
    subject: Name
    teacher: Name | None = None
    room: Key | None = None
    week: Week = ""


class LessonBulkIn(Input):
    """One action on several lessons: delete, or set a teacher and/or room."""

    ids: list[Id] = Field(min_length=1, max_length=500)
    action: Literal["delete", "set"]
    teacher: Name | None = None
    room: Key | None = None


class BellsIn(Input):
    """A bell schedule: key, name and one period a line ("1 08:30-09:15")."""

    key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32,
                                          pattern=r"^[a-z0-9_-]+$")]
    name: Name
    periods: Annotated[str, StringConstraints(max_length=2000)]


class CalendarEntryIn(Input):
    """A term, holiday, extra school day or a day with other bells."""

    kind: Literal["term", "holiday", "school_day", "bells"]
    first: date
    last: date | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    bells: Key | None = None


class SettingsIn(Input):
    """A school's weekdays, week A and bells per weekday."""

    school_weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1)
    week_a: date | None = None
    default_bells: Key
    #: "5": "saturday" — a weekday (0 = Monday) whose bells are not the usual ones.
    weekday_bells: dict[Annotated[str, StringConstraints(pattern=r"^[0-6]$")], Key] = Field(
        default_factory=dict)


class EventIn(Input):
    """An event or parent meeting."""

    kind: Literal["event", "parent_meeting"] = "event"
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                            max_length=200)]
    starts_at: datetime
    ends_at: datetime | None = None
    place: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    audience: Annotated[str, StringConstraints(max_length=300)] = ""


class FeedIn(Input):
    """A calendar feed of a class, teacher or room."""

    target_kind: Literal["class", "group", "teacher", "room"]
    target_key: Name


class RoomIn(Input):
    """A room: its key (as on the door), a name, the building and floor."""

    key: Key
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    building_id: Id | None = None
    floor: Annotated[int, Field(ge=-5, le=100)] | None = None


# --- responses ----------------------------------------------------------------------------

class SlotOut(Output):
    """A lesson as held on a date (changes applied); times are the school's local ones."""

    date: date
    period: int
    start: datetime
    end: datetime
    group: str
    subject: str
    teacher: str
    room: str
    status: Literal["normal", "changed", "cancelled", "moved_out", "moved_in", "extra"]
    original_teacher: str | None = None
    original_room: str | None = None
    note: str = ""


class DayOut(Output):
    """A target's day."""

    date: date
    school_day: bool
    reason: str
    slots: list[SlotOut]


class NowOut(Output):
    """What is on for a target now."""

    phase: Literal["no_school", "no_lessons", "before_lessons", "lesson", "break",
                   "after_school"]
    period: int | None
    current: list[SlotOut]
    upcoming: list[SlotOut]
    next_bell: datetime | None
    minutes_to_bell: int | None
    free_until: datetime | None


class ChangeOut(Output):
    """A saved dated change, with the clashes it takes part in."""

    id: int
    date: date
    kind: ChangeKind
    summary: str
    note: str
    conflicts: list[str] = []


class TargetQuery(Input):
    """Which target and day: target like "class:7Б", "room:204", "teacher:…", "school:"."""

    target: Annotated[str, StringConstraints(max_length=120)] = "school:"
    date: Day | None = None
