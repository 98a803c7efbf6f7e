"""The display manifest: deterministic, schema-valid, and agreeing with the publication rules
at every moment of its horizon."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from content.manifest import (
    DisplayInfo,
    ItemContent,
    MediaRef,
    build_manifest,
    canonical_json,
    manifest_etag,
    manifest_schema,
    media_named,
    on_screen_intervals,
    playing_at,
)
from content.publication import Item, Recurrence, Targets, build_playlist
from content.timetable import Target, Timetable, period_windows, screen_slice
from tests.content.test_timetable import CALENDAR, LESSONS, NORMAL, ROOMS, SHORT

TZ = "Asia/Yekaterinburg"
EKB = ZoneInfo(TZ)
SCHOOL = "/1/2/3/"
LOBBY = DisplayInfo(id=7, name="Lobby", org_path="/1/2/3/9/", groups=frozenset({"lobby"}),
                    timezone=TZ, power_on=time(7, 0), power_off=time(19, 0))
PICTURE = MediaRef("a" * 64, "image", "jpg", 12345, 1920, 1080)
CLIP = MediaRef("b" * 64, "video", "mp4", 999_999)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=EKB)  # type: ignore[misc]


def rule(id: int, kind: str = "news", **kw: object) -> Item:
    return Item(id=id, kind=kind, state=kw.pop("state", "published"),  # type: ignore[arg-type]
                owner_path="/1/", targets=kw.pop("targets", Targets(org_paths=(SCHOOL,))),  # type: ignore[arg-type]
                **kw)  # type: ignore[arg-type]


def items() -> list[ItemContent]:
    return [
        ItemContent(rule(1, priority=5), "Concert on Friday", "<p>Hall, 18:00</p>", PICTURE),
        ItemContent(rule(2, "media", starts_at=at(2026, 11, 30, 12, 0)), "Clip", media=CLIP,
                    fit="cover"),
        ItemContent(rule(3, recurrence=Recurrence(frozenset({0, 1, 2, 3, 4}), time(8, 0),
                                                  time(9, 0))), "Breakfast menu"),
        ItemContent(rule(4, "link"), "School site", qr_url="https://school.example/",
                    qr_svg="<svg/>"),
        ItemContent(rule(5, "poll"), "Which trip?", options=((51, "Museum"), (52, "Zoo"))),
        ItemContent(rule(6, "qa"), "FAQ", qa=(("When?", "Now."),)),
        ItemContent(rule(7, during="big_break"), "Big break quiz"),
        ItemContent(rule(8, targets=Targets(org_paths=("/1/2/4/",))), "Other school"),
        ItemContent(rule(9, ends_at=at(2026, 11, 29, 0, 0)), "Ended yesterday"),
        ItemContent(rule(10, state="draft"), "A draft"),
        ItemContent(rule(11, "alert", severity="warning", starts_at=at(2026, 11, 30, 10, 0),
                         ends_at=at(2026, 11, 30, 11, 0)), "Drill at 10:30"),
        ItemContent(rule(12, "alert", severity="critical", starts_at=at(2026, 11, 30, 10, 20),
                         ends_at=at(2026, 11, 30, 10, 40)), "Leave the building"),
    ]


def timetable() -> Timetable:
    return Timetable(CALENDAR, (NORMAL, SHORT), LESSONS, rooms=ROOMS, tz=TZ)


def windows_of(tt: Timetable):  # type: ignore[no-untyped-def]
    return lambda spec, day: period_windows(tt, day, spec)


NOW = at(2026, 11, 30, 9, 30)   # a Monday in week B


def build(now: datetime = NOW, entries: list[ItemContent] | None = None) -> dict[str, object]:
    tt = timetable()
    return build_manifest(LOBBY, entries if entries is not None else items(),
                          screen_slice(tt, Target("room", "204"), now), now, windows_of(tt))


def test_the_manifest_satisfies_its_schema() -> None:
    manifest = build()
    jsonschema.validate(manifest, manifest_schema())
    jsonschema.Draft202012Validator.check_schema(manifest_schema())
    # and survives a JSON round trip unchanged
    assert json.loads(canonical_json(manifest)) == manifest


def test_same_inputs_same_bytes_whatever_the_order() -> None:
    a = canonical_json(build())
    b = canonical_json(build(entries=list(reversed(items()))))
    assert a == b
    assert manifest_etag(a) == manifest_etag(b)
    assert manifest_etag(a).startswith('"') and len(manifest_etag(a)) == 34
    changed = items()
    changed[0] = ItemContent(rule(1, priority=5), "Concert on Saturday", "", PICTURE)
    assert manifest_etag(canonical_json(build(entries=changed))) != manifest_etag(a)


def test_what_goes_in_and_what_stays_out() -> None:
    manifest = build()
    ids = [i["id"] for i in manifest["items"]]  # type: ignore[index]
    assert ids == [1, 3, 4, 5, 6, 7, 2]   # priority first, then start (none first), then id
    assert [a["id"] for a in manifest["alerts"]] == [12, 11]  # type: ignore[index]
    assert media_named(manifest) == {"a" * 64, "b" * 64}
    news = manifest["items"][0]  # type: ignore[index]
    assert news["media"]["sha256"] == "a" * 64 and news["body"] == "<p>Hall, 18:00</p>"
    assert manifest["items"][2]["qr"] == {"url": "https://school.example/", "svg": "<svg/>"}  # type: ignore[index]
    assert manifest["display"]["power"] == {"on": "07:00", "off": "19:00",  # type: ignore[index]
                                            "off_when_no_school": False}
    assert manifest["horizon"] == {"from": "2026-11-30T00:00:00+05:00",
                                   "until": "2026-12-02T00:00:00+05:00"}
    poll = manifest["items"][3]  # type: ignore[index]
    assert poll["options"] == [{"id": 51, "label": "Museum"}, {"id": 52, "label": "Zoo"}]
    assert {i["zone"] for i in manifest["items"]} == {"main"}  # type: ignore[index]
    assert (manifest["display"]["transition"], manifest["display"]["touch"]) == (  # type: ignore[index]
        "fade", False)


def test_ticker_items_and_screen_settings_reach_the_manifest() -> None:
    tt = timetable()
    kiosk = replace(LOBBY, transition="slide", touch=True)
    line = ItemContent(rule(20), "Canteen closes at 15:00 today", zone="ticker")
    manifest = build_manifest(kiosk, [*items(), line], None, NOW, windows_of(tt))
    jsonschema.validate(manifest, manifest_schema())
    ticker = [i for i in manifest["items"] if i["zone"] == "ticker"]
    assert [i["title"] for i in ticker] == ["Canteen closes at 15:00 today"]
    assert (manifest["display"]["transition"], manifest["display"]["touch"]) == ("slide", True)
    # The player rule lists ticker lines with the rest; the player puts them in their zone.
    assert 20 in [i["id"] for i in playing_at(manifest, NOW)[1]]


def test_windows_combine_every_rule() -> None:
    manifest = build(at(2026, 11, 30, 0, 0))
    by_id = {i["id"]: i["windows"] for i in manifest["items"]}  # type: ignore[index]
    assert by_id[3] == [["2026-11-30T08:00:00+05:00", "2026-11-30T09:00:00+05:00"],
                        ["2026-12-01T08:00:00+05:00", "2026-12-01T09:00:00+05:00"]]
    assert by_id[2] == [["2026-11-30T12:00:00+05:00", "2026-12-02T00:00:00+05:00"]]
    assert by_id[7] == [["2026-11-30T10:10:00+05:00", "2026-11-30T10:30:00+05:00"],
                        ["2026-12-01T10:10:00+05:00", "2026-12-01T10:30:00+05:00"]]
    assert by_id[1] == [["2026-11-30T00:00:00+05:00", "2026-12-02T00:00:00+05:00"]]
    # Built at 9:30, this morning's breakfast menu is over and no longer sent.
    later = {i["id"]: i["windows"] for i in build()["items"]}  # type: ignore[index]
    assert later[3] == [["2026-12-01T08:00:00+05:00", "2026-12-01T09:00:00+05:00"]]


def test_next_change_at() -> None:
    assert build()["next_change_at"] == "2026-11-30T10:00:00+05:00"   # the drill alert
    late = build(at(2026, 12, 1, 23, 0))
    assert late["next_change_at"] == "2026-12-02T08:00:00+05:00"       # tomorrow's menu
    always = build(at(2026, 12, 1, 23, 0), entries=items()[:1])
    assert always["next_change_at"] == "2026-12-03T00:00:00+05:00"     # the horizon's end


@pytest.mark.parametrize("minutes", range(0, 2 * 24 * 60, 17))
def test_the_player_rule_agrees_with_the_publication_rules(minutes: int) -> None:
    manifest = build(at(2026, 11, 30, 0, 0))
    moment = at(2026, 11, 30, 0, 0) + timedelta(minutes=minutes)
    tt = timetable()
    rules = [c.rule for c in items()]
    display = LOBBY.rules_display()
    expected = build_playlist(rules, display, moment, windows_of(tt))
    alert, shown = playing_at(manifest, moment)
    assert (alert["id"] if alert else None) == (expected.alert.id if expected.alert else None)
    assert [i["id"] for i in shown] == [i.id for i in expected.items]


def test_intervals_across_midnight() -> None:
    night = rule(1, recurrence=Recurrence(frozenset(), time(22, 0), time(2, 0)))
    spans = on_screen_intervals(night, at(2026, 11, 30, 0, 0), at(2026, 12, 2, 0, 0), TZ)
    assert spans == [(at(2026, 11, 30, 0, 0), at(2026, 11, 30, 2, 0)),
                     (at(2026, 11, 30, 22, 0), at(2026, 12, 1, 2, 0)),
                     (at(2026, 12, 1, 22, 0), at(2026, 12, 2, 0, 0))]
