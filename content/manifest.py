"""The display manifest: everything a screen needs to play on its own for two days.

`build_manifest` is a pure function of plain data and an explicit `now`. Each
item carries the intervals in which it is on screen within the horizon (its
publish window, days of the week, daily window and school-bell windows already
combined), so a player switches items by the clock without the network. Output
is deterministic: the same inputs give the same document and the same ETag.
The document is described by `manifest.schema.json` next to this module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from content.publication import (
    SEVERITIES,
    Display,
    Item,
    Windows,
    is_on_screen,
    targets_display,
)

MANIFEST_VERSION = 1
#: How many local days a manifest covers, from today's midnight.
HORIZON_DAYS = 2
LAYOUTS = ("standard", "fullscreen", "portrait", "timetable")
TRANSITIONS = ("fade", "slide", "none")
#: Where on the screen an item plays: the main area, or the running line at the bottom.
ZONES = ("main", "ticker")
ORIENTATIONS = ("landscape", "portrait")


@dataclass(frozen=True)
class DisplayInfo:
    """A display as the manifest needs it."""

    id: int
    name: str
    org_path: str
    groups: frozenset[str]
    timezone: str
    locale: str = "ru"
    layout: str = "standard"
    orientation: str = "landscape"
    width: int = 1920
    height: int = 1080
    #: The screen is on between these local times (None: always on).
    power_on: time | None = None
    power_off: time | None = None
    #: Dark on days without lessons (weekends, holidays) when the school's calendar says so.
    off_when_no_school: bool = False
    transition: str = "fade"
    #: A touch screen: polls take votes on the screen.
    touch: bool = False

    def rules_display(self) -> Display:
        """The publication rules' view of this display."""
        return Display(org_path=self.org_path, groups=self.groups, timezone=self.timezone)


@dataclass(frozen=True)
class MediaRef:
    """A display medium by content hash."""

    sha256: str
    kind: str
    ext: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class ItemContent:
    """An item: its publication rule data and what a screen shows of it."""

    rule: Item
    title: str
    body: str = ""
    media: MediaRef | None = None
    fit: str = "contain"
    qr_url: str | None = None
    qr_svg: str | None = None
    zone: str = "main"
    #: A poll's answers as (id, label): the id is what a touch vote sends.
    options: tuple[tuple[int, str], ...] = ()
    qa: tuple[tuple[str, str], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def horizon(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """The span a manifest built at now covers: today's local midnight, two days on."""
    zone = ZoneInfo(tz)
    start = datetime.combine(now.astimezone(zone).date(), time(0, 0), zone)
    return start, datetime.combine(start.date() + timedelta(days=HORIZON_DAYS), time(0), zone)


def on_screen_intervals(item: Item, start: datetime, end: datetime, tz: str,
                        windows: Windows | None = None) -> list[tuple[datetime, datetime]]:
    """The intervals within [start, end) in which item is on screen.

    The rules change only at a few moments (window edges, daily edges, midnights,
    bell windows); between two of them the answer holds, so it is asked once
    per stretch.
    """
    zone = ZoneInfo(tz)
    marks = {start, end}
    for m in (item.starts_at, item.ends_at):
        if m is not None and start < m < end:
            marks.add(m)
    day = start.astimezone(zone).date() - timedelta(days=1)
    while datetime.combine(day, time(0), zone) < end:
        for clock in (time(0), item.recurrence.start, item.recurrence.end):
            if clock is not None:
                m = datetime.combine(day, clock, zone)
                if start < m < end:
                    marks.add(m)
        if item.during and windows is not None:
            for a, b in windows(item.during, day):
                for m in (a, b):
                    if start < m < end:
                        marks.add(m)
        day += timedelta(days=1)
    points = sorted(marks)
    out: list[tuple[datetime, datetime]] = []
    for a, b in zip(points, points[1:], strict=False):
        if is_on_screen(item, a, tz, windows):
            if out and out[-1][1] == a:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
    return out


def _iso(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).isoformat()


def _media(ref: MediaRef) -> dict[str, Any]:
    out: dict[str, Any] = {"sha256": ref.sha256, "kind": ref.kind, "ext": ref.ext,
                           "size": ref.size}
    if ref.width is not None and ref.height is not None:
        out["width"], out["height"] = ref.width, ref.height
    return out


def _item(content: ItemContent, spans: list[tuple[datetime, datetime]],
          zone: ZoneInfo) -> dict[str, Any]:
    rule = content.rule
    out: dict[str, Any] = {
        "id": rule.id, "kind": rule.kind, "zone": content.zone, "title": content.title,
        "duration": rule.duration, "priority": rule.priority,
        "windows": [[_iso(a, zone), _iso(b, zone)] for a, b in spans],
    }
    if content.body:
        out["body"] = content.body
    if content.media is not None:
        out["media"] = _media(content.media)
        out["fit"] = content.fit
    if content.qr_url:
        out["qr"] = {"url": content.qr_url, "svg": content.qr_svg or ""}
    if content.options:
        out["options"] = [{"id": i, "label": label} for i, label in content.options]
    if content.qa:
        out["qa"] = [{"question": q, "answer": a} for q, a in content.qa]
    if rule.kind == "alert":
        out["severity"] = rule.severity
    return out


def build_manifest(display: DisplayInfo, items: Iterable[ItemContent],
                   timetable: dict[str, Any] | None, now: datetime,
                   windows: Windows | None = None) -> dict[str, Any]:
    """The manifest of display at now: items and alerts with their on-screen intervals in
    the horizon, the media to cache, the timetable slice, and when to look again."""
    zone = ZoneInfo(display.timezone)
    start, end = horizon(now, display.timezone)
    rules_display = display.rules_display()
    shown: list[tuple[ItemContent, list[tuple[datetime, datetime]]]] = []
    for content in items:
        if not targets_display(content.rule, rules_display):
            continue
        spans = on_screen_intervals(content.rule, start, end, display.timezone, windows)
        spans = [(a, b) for a, b in spans if b > now]
        if spans:
            shown.append((content, spans))
    epoch = datetime.min.replace(tzinfo=zone)

    def order(pair: tuple[ItemContent, list[tuple[datetime, datetime]]]) -> tuple[Any, ...]:
        rule = pair[0].rule
        if rule.kind == "alert":
            rank = SEVERITIES.index(rule.severity) if rule.severity in SEVERITIES else 0
            return (-rank, -(rule.starts_at or epoch).timestamp(), -rule.id)
        return (-rule.priority, (rule.starts_at or epoch).timestamp(), rule.id)

    alerts = sorted((p for p in shown if p[0].rule.kind == "alert"), key=order)
    others = sorted((p for p in shown if p[0].rule.kind != "alert"), key=order)
    media = {c.media.sha256: c.media for c, _ in shown if c.media is not None}
    marks = sorted(m for _, spans in shown for span in spans for m in span if m > now)
    next_change = marks[0] if marks and marks[0] < end else end
    manifest: dict[str, Any] = {
        "version": MANIFEST_VERSION,
        "display": {
            "id": display.id, "name": display.name, "timezone": display.timezone,
            "locale": display.locale, "layout": display.layout,
            "orientation": display.orientation,
            "transition": display.transition, "touch": display.touch,
            "resolution": [display.width, display.height],
            "power": {
                "on": display.power_on.strftime("%H:%M") if display.power_on else None,
                "off": display.power_off.strftime("%H:%M") if display.power_off else None,
                "off_when_no_school": display.off_when_no_school,
            },
            "groups": sorted(display.groups),
        },
        "horizon": {"from": _iso(start, zone), "until": _iso(end, zone)},
        "alerts": [_item(c, s, zone) for c, s in alerts],
        "items": [_item(c, s, zone) for c, s in others],
        "media": [_media(media[k]) for k in sorted(media)],
        "timetable": timetable,
        "next_change_at": _iso(next_change, zone),
    }
    return manifest


def canonical_json(manifest: dict[str, Any]) -> bytes:
    """The manifest as bytes: sorted keys, no spaces, UTF-8 (what is hashed and sent)."""
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode("utf-8")


def manifest_etag(body: bytes) -> str:
    """The strong ETag of a manifest's canonical bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema every manifest satisfies."""
    text = resources.files("content").joinpath("manifest.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def media_named(manifest: dict[str, Any]) -> set[str]:
    """The SHA-256 of every medium a manifest names (a display may fetch only these)."""
    return {m["sha256"] for m in manifest.get("media", [])}


def playing_at(manifest: dict[str, Any], moment: datetime) -> tuple[dict[str, Any] | None,
                                                                    list[dict[str, Any]]]:
    """What a player shows at moment from a manifest: the alert over everything (if any)
    and the items in order — the same rule the player's JavaScript follows."""

    def live(entry: dict[str, Any]) -> bool:
        return any(datetime.fromisoformat(a) <= moment < datetime.fromisoformat(b)
                   for a, b in entry["windows"])

    alert = next((a for a in manifest["alerts"] if live(a)), None)
    return alert, [i for i in manifest["items"] if live(i)]
