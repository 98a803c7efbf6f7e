"""Publication rules: when an item is on screen, where, and in which order.

Pure functions of plain data and an explicit `now` (an aware datetime). Local
times (daily windows, weekdays) are read in the display's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KINDS = ("news", "alert", "poll", "link", "qa", "media")
#: Stored states; "scheduled" and "expired" are derived from the publish window.
STORED_STATES = ("draft", "review", "published", "archived")
STATES = ("draft", "review", "scheduled", "published", "expired", "archived")
SEVERITIES = ("info", "warning", "critical")
TARGET_MODES = ("any", "all")
DEFAULT_DURATION = 10
#: Show only in a part of the school day: every lesson, every break, the longest break,
#: or one period ("period:3"); the school's bells decide (see content.timetable).
DURING = ("", "lessons", "breaks", "big_break")

#: The school's windows for a `during` spec on a local date, e.g. from
#: content.timetable.period_windows; None where the display has no timetable.
Windows = Callable[[str, date], list[tuple[datetime, datetime]]]


@dataclass(frozen=True)
class Recurrence:
    """Days of the week (0 = Monday; empty = every day) and a daily window.

    A window whose end is at or before its start runs across midnight: 22:00–02:00
    on Friday shows from Friday 22:00 to Saturday 02:00.
    """

    weekdays: frozenset[int] = frozenset()
    start: time | None = None
    end: time | None = None

    @property
    def always(self) -> bool:
        """Whether the recurrence restricts nothing."""
        return not self.weekdays and self.start is None and self.end is None


@dataclass(frozen=True)
class Targets:
    """Where an item goes: nodes of the tree and/or display groups.

    mode "any" shows on displays in any listed node or any listed group; "all"
    only on displays that are in a listed node and in a listed group.
    """

    org_paths: tuple[str, ...] = ()
    groups: frozenset[str] = frozenset()
    mode: str = "any"


@dataclass(frozen=True)
class Item:
    """What the rules need to know of a content item."""

    id: int
    kind: str
    state: str
    owner_path: str
    targets: Targets
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    recurrence: Recurrence = field(default_factory=Recurrence)
    priority: int = 0
    duration: int = DEFAULT_DURATION
    severity: str = "info"
    during: str = ""


@dataclass(frozen=True)
class Display:
    """Where a display hangs and which groups it is in."""

    org_path: str
    groups: frozenset[str]
    timezone: str


def effective_state(state: str, starts_at: datetime | None, ends_at: datetime | None,
                    now: datetime) -> str:
    """The state a person sees: published items are scheduled or expired by their window."""
    if state != "published":
        return state
    if ends_at is not None and now >= ends_at:
        return "expired"
    if starts_at is not None and now < starts_at:
        return "scheduled"
    return "published"


def _in_daily_window(rec: Recurrence, local: datetime) -> bool:
    def day_ok(weekday: int) -> bool:
        return not rec.weekdays or weekday in rec.weekdays

    day = local.weekday()
    t = local.time().replace(tzinfo=None)
    if rec.start is None and rec.end is None:
        return day_ok(day)
    start = rec.start or time(0, 0)
    if rec.end is None:
        return day_ok(day) and t >= start
    if rec.end > start:
        return day_ok(day) and start <= t < rec.end
    # Across midnight: the evening part belongs to today, the morning part to yesterday.
    if t >= start:
        return day_ok(day)
    if t < rec.end:
        return day_ok((day - 1) % 7)
    return False


def recurrence_active(rec: Recurrence, now: datetime, tz: str) -> bool:
    """Whether the recurrence allows showing at now, read in time zone tz."""
    if rec.always:
        return True
    return _in_daily_window(rec, now.astimezone(ZoneInfo(tz)))


def _boundaries(rec: Recurrence, day: date, tz: ZoneInfo) -> list[datetime]:
    out = [datetime.combine(day, time(0, 0), tz)]
    for t in (rec.start, rec.end):
        if t is not None:
            out.append(datetime.combine(day, t, tz))
    return out


def next_recurrence_change(rec: Recurrence, now: datetime, tz: str) -> datetime | None:
    """The first moment after now at which the recurrence turns on or off (≤ 8 days ahead)."""
    if rec.always:
        return None
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    current = _in_daily_window(rec, local)
    for offset in range(0, 9):
        day = local.date() + timedelta(days=offset)
        for moment in sorted(_boundaries(rec, day, zone)):
            if moment > local and _in_daily_window(rec, moment) != current:
                return moment.astimezone(now.tzinfo)
    return None


def during_active(spec: str, now: datetime, tz: str, windows: Windows | None) -> bool:
    """Whether now falls in the school-day part spec names ("" always does).

    Without the school's windows (a display outside any school) such an item never shows.
    """
    if not spec:
        return True
    if windows is None:
        return False
    day = now.astimezone(ZoneInfo(tz)).date()
    return any(start <= now < end for start, end in windows(spec, day))


def is_on_screen(item: Item, now: datetime, tz: str, windows: Windows | None = None) -> bool:
    """Whether item is live at now: published, inside its window, recurrence and part of day."""
    if effective_state(item.state, item.starts_at, item.ends_at, now) != "published":
        return False
    return recurrence_active(item.recurrence, now, tz) and \
        during_active(item.during, now, tz, windows)


def targets_display(item: Item, display: Display) -> bool:
    """Whether item is meant for display (always within the owner's part of the tree)."""
    if not display.org_path.startswith(item.owner_path):
        return False
    t = item.targets
    checks: list[bool] = []
    if t.org_paths:
        checks.append(any(display.org_path.startswith(p) for p in t.org_paths))
    if t.groups:
        checks.append(bool(t.groups & display.groups))
    if not checks:
        return False
    return all(checks) if t.mode == "all" else any(checks)


@dataclass(frozen=True)
class Playlist:
    """What a display shows now: an alert over everything, else items in order."""

    alert: Item | None
    items: tuple[Item, ...]


def _severity_rank(item: Item) -> int:
    return SEVERITIES.index(item.severity) if item.severity in SEVERITIES else 0


def build_playlist(items: Iterable[Item], display: Display, now: datetime,
                   windows: Windows | None = None) -> Playlist:
    """Select and order what display shows at now.

    Live alerts override everything: the most severe (then the newest) is shown.
    Other live items are ordered by priority (high first), then by start, then id.
    """
    live = [i for i in items if targets_display(i, display) and
            is_on_screen(i, now, display.timezone, windows)]
    alerts = [i for i in live if i.kind == "alert"]
    alert = None
    if alerts:
        epoch = datetime.min.replace(tzinfo=now.tzinfo)
        alert = max(alerts, key=lambda i: (_severity_rank(i), i.starts_at or epoch, i.id))
    others = sorted(
        (i for i in live if i.kind != "alert"),
        key=lambda i: (-i.priority, i.starts_at or datetime.min.replace(tzinfo=now.tzinfo),
                       i.id),
    )
    return Playlist(alert=alert, items=tuple(others))


def next_during_change(spec: str, now: datetime, tz: str, windows: Windows | None
                       ) -> datetime | None:
    """The first window edge after now for a school-day part (looking a week ahead)."""
    if not spec or windows is None:
        return None
    day = now.astimezone(ZoneInfo(tz)).date()
    for offset in range(8):
        edges = sorted(m for w in windows(spec, day + timedelta(days=offset)) for m in w
                       if m > now)
        if edges:
            return edges[0]
    return None


def next_change_at(items: Sequence[Item], display: Display, now: datetime,
                   windows: Windows | None = None) -> datetime | None:
    """The next moment after now when the playlist of display may change by itself."""
    moments: list[datetime] = []
    for i in items:
        if not targets_display(i, display) or i.state != "published":
            continue
        for m in (i.starts_at, i.ends_at):
            if m is not None and m > now:
                moments.append(m)
        for nxt in (next_recurrence_change(i.recurrence, now, display.timezone),
                    next_during_change(i.during, now, display.timezone, windows)):
            if nxt is not None and (i.ends_at is None or nxt < i.ends_at):
                moments.append(nxt)
    return min(moments) if moments else None
