"""iCalendar (RFC 5545) feeds of a class, teacher or room, with the day's changes applied."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from icalendar import Calendar, Event
from icalendar import Timezone as VTimezone

from content.timetable import Slot, Target, Timetable
from server.models.base import utcnow

#: A feed covers this many days back and ahead of today.
FEED_DAYS_BACK = 7
FEED_DAYS_AHEAD = 56
PRODID = "-//Vitrina//Timetable feed//RU"


def _summary(slot: Slot) -> str:
    text = slot.subject
    if "/" in slot.group:
        text += f" ({slot.group})"
    if slot.status == "cancelled":
        return f"✕ {text}"
    if slot.status == "moved_out":
        return f"→ {text}"
    return text


def _description(slot: Slot, sentence: str) -> str:
    lines = [f"{slot.group}", slot.teacher, slot.room and f"№ {slot.room}", sentence]
    return "\n".join(x for x in lines if x)


def feed_calendar(tt: Timetable, target: Target, school_id: int, title: str, today: date,
                  describe: object) -> bytes:
    """The feed of target from a week ago to eight weeks ahead, as iCalendar bytes.

    Every lesson occurrence is a VEVENT with a stable UID (so a phone updates it
    when it changes); a cancelled or moved-away lesson stays, marked CANCELLED.
    describe(slot) says in words what changed.
    """
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", str(tt.tz))
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add_component(VTimezone.from_tzinfo(tt.tz, first_date=today - timedelta(days=400),
                                            last_date=today + timedelta(days=400)))
    stamp = utcnow()
    day = today - timedelta(days=FEED_DAYS_BACK)
    end = today + timedelta(days=FEED_DAYS_AHEAD)
    while day <= end:
        for slot in tt.day(target, day):
            if target.kind in ("room", "teacher") and slot.held and \
                    getattr(slot, target.kind) != target.key:
                continue   # the lesson was moved away from this room or teacher
            sentence = describe(slot) if callable(describe) else ""
            ev = Event()
            if slot.lesson_id is not None and slot.status != "moved_in":
                uid = f"lesson-{slot.lesson_id}-{slot.date.isoformat()}"
            else:
                uid = f"change-{slot.change_ids[0] if slot.change_ids else 0}-" \
                      f"{slot.date.isoformat()}-{slot.period}"
            ev.add("uid", f"{uid}-{slot.group}@school-{school_id}.vitrina")
            ev.add("dtstamp", stamp)
            ev.add("dtstart", slot.start)
            ev.add("dtend", slot.end)
            ev.add("summary", _summary(slot))
            if slot.room:
                ev.add("location", slot.room)
            ev.add("description", _description(slot, sentence))
            if not slot.held:
                ev.add("status", "CANCELLED")
            elif slot.changed:
                ev.add("categories", ["CHANGED"])
            ev.add("sequence", len(slot.change_ids))
            cal.add_component(ev)
        day += timedelta(days=1)
    for e in tt.upcoming_events(target, datetime.combine(today - timedelta(days=FEED_DAYS_BACK),
                                                         datetime.min.time(), tt.tz), limit=200):
        ev = Event()
        ev.add("uid", f"event-{e.id}@school-{school_id}.vitrina")
        ev.add("dtstamp", stamp)
        ev.add("dtstart", e.starts_at.astimezone(tt.tz))
        ev.add("dtend", (e.ends_at or e.starts_at + timedelta(hours=1)).astimezone(tt.tz))
        ev.add("summary", e.title)
        if e.place:
            ev.add("location", e.place)
        cal.add_component(ev)
    return bytes(cal.to_ical())
