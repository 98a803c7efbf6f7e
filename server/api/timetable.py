"""The timetable over the API: a target's day and its now/next, and dated changes."""

from __future__ import annotations

from typing import Any

from content.timetable import Slot
from server.access import request_ctx, requires
from server.api.framework import Api
from server.models.base import utcnow
from server.rights import TIMETABLE_EDIT, TIMETABLE_VIEW
from server.services import timetable as tts
from server.timetable_schemas import ChangeIn, ChangeOut, DayOut, NowOut, TargetQuery

api = Api("timetable", "timetable")
VIEW = requires(TIMETABLE_VIEW)
EDIT = requires(TIMETABLE_EDIT)


def _editable(school_id: int, **_: Any) -> None:
    tts.get_school(request_ctx(), school_id, TIMETABLE_EDIT)


def _slot(s: Slot) -> dict[str, Any]:
    return {"date": s.date, "period": s.period, "start": s.start, "end": s.end,
            "group": s.group, "subject": s.subject, "teacher": s.teacher, "room": s.room,
            "status": s.status, "original_teacher": s.original_teacher,
            "original_room": s.original_room, "note": s.note}


@api.operation("/timetable/<int:school_id>/day", "GET", summary="A target's day",
               access=VIEW, query=TargetQuery, response=DayOut)
def day(school_id: int, query: TargetQuery) -> Any:
    """The lessons of a class, subgroup, teacher, room or the school on a date (default
    today), with the day's changes applied; cancelled and moved-away lessons included."""
    ctx = request_ctx()
    school = tts.get_school(ctx, school_id)
    target = tts.parse_target(query.target)
    when = query.date or tts.today(school)
    tt = tts.build(ctx.session, school, when)
    return {"date": when, "school_day": tt.is_school_day(when),
            "reason": tt.day_off_reason(when),
            "slots": [_slot(s) for s in tt.day(target, when)]}


@api.operation("/timetable/<int:school_id>/now", "GET", summary="What is on now",
               access=VIEW, query=TargetQuery, response=NowOut)
def now(school_id: int, query: TargetQuery) -> Any:
    """What is on now for a target, what comes next, and minutes to the bell."""
    ctx = request_ctx()
    school = tts.get_school(ctx, school_id)
    target = tts.parse_target(query.target)
    answer = tts.build(ctx.session, school).now(target, utcnow())
    return {"phase": answer.phase, "period": answer.period.number if answer.period else None,
            "current": [_slot(s) for s in answer.current],
            "upcoming": [_slot(s) for s in answer.upcoming],
            "next_bell": answer.next_bell, "minutes_to_bell": answer.minutes_to_bell,
            "free_until": answer.free_until}


@api.operation("/timetable/<int:school_id>/changes", "GET", summary="A day's changes",
               access=VIEW, query=TargetQuery, response=list[ChangeOut])
def list_changes(school_id: int, query: TargetQuery) -> Any:
    """The changes entered for a date (default today), in the order they were entered."""
    ctx = request_ctx()
    school = tts.get_school(ctx, school_id)
    when = query.date or tts.today(school)
    return [{"id": r.id, "date": r.date, "kind": r.kind, "note": r.note,
             "summary": tts.describe_change_row(r)}
            for r in tts.changes_on(ctx.session, school, when)]


@api.operation("/timetable/<int:school_id>/changes", "POST", summary="Enter a change",
               access=EDIT, guard=_editable, body=ChangeIn, response=ChangeOut, status=201)
def create_change(school_id: int, body: ChangeIn) -> Any:
    """Save a dated change; the answer lists the clashes it causes (it is saved anyway)."""
    ctx = request_ctx()
    school = tts.get_school(ctx, school_id, TIMETABLE_EDIT)
    row, clashes = tts.add_change(ctx, school, body)
    return {"id": row.id, "date": row.date, "kind": row.kind, "note": row.note,
            "summary": tts.describe_change_row(row),
            "conflicts": [tts.conflict_sentence(c) for c in clashes]}


@api.operation("/timetable/<int:school_id>/changes/<int:change_id>", "DELETE",
               summary="Remove a change", access=EDIT, guard=_editable)
def delete_change(school_id: int, change_id: int) -> Any:
    """Remove a dated change (audited; undo in the UI brings it back)."""
    ctx = request_ctx()
    school = tts.get_school(ctx, school_id, TIMETABLE_EDIT)
    tts.delete_change(ctx, school, change_id)
