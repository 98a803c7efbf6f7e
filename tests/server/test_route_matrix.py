"""Every route × every role × inside/outside the role's subtree, plus anonymous.

The table below is written by hand from the rights model in DESIGN.md, not
derived from the code, and it must name every route of the app: a new route
without a line here fails `test_every_route_is_in_the_matrix`.

Everyone in the matrix holds their role on school A. "in" requests aim at
objects in school A, "out" requests at the same kind of object in school B.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask

from tests.conftest import ROLES, AuthActions, World, bearer

ALL = frozenset(ROLES)
ADMIN = frozenset({"admin"})
CONTENT = frozenset({"content_manager"})
TT_VIEW = frozenset({"admin", "content_manager", "schedule_dispatcher", "viewer"})
TT_EDIT = frozenset({"schedule_dispatcher"})
DISPLAY_VIEW = frozenset({"admin", "content_manager", "viewer"})
CARDS = frozenset({"card_admin"})
PHOTOS = frozenset({"card_admin", "admin"})
PUBLIC = "public"
#: Only a display with its device token; every person (and nobody) gets 401.
DEVICE = "device"
SIGNED_IN = "signed_in"
#: Monitoring only (METRICS_ALLOW_FROM networks or METRICS_TOKEN): from anywhere else every
#: person, admins included, finds no such page.
INTERNAL = "internal"

Url = Callable[[World, str], str]


def org(key_in: str, key_out: str, fmt: str) -> Url:
    return lambda w, side: fmt.format(w.ids[key_in if side == "in" else key_out])


def member(fmt: str) -> Url:
    return lambda w, side: fmt.format(w.users["member_a" if side == "in" else "member_b"])


def member_grant(fmt: str) -> Url:
    def build(w: World, side: str) -> str:
        who = "member_a" if side == "in" else "member_b"
        return fmt.format(w.users[who], w.grants[who])
    return build


def item(key: str, fmt: str) -> Url:
    return lambda w, side: fmt.format(w.items[f"{key}_{'a' if side == 'in' else 'b'}"])


def medium(fmt: str) -> Url:
    return lambda w, side: fmt.format(w.media["media_a" if side == "in" else "media_b"])


def poll_key(fmt: str) -> Url:
    return lambda w, side: fmt.format(w.poll_keys["poll_a"])


def school(fmt: str) -> Url:
    return lambda w, side: fmt.format(w.ids["a" if side == "in" else "b"])


def tt_obj(key: str, fmt: str) -> Url:
    """A timetable object of the school: "{s}" is the school, "{o}" the object."""
    return lambda w, side: fmt.format(s=w.ids["a" if side == "in" else "b"],
                                      o=w.tt[f"{key}_{'a' if side == 'in' else 'b'}"])


def fixed(path: str) -> Url:
    return lambda w, side: path


def own_token(fmt: str) -> Url:
    return lambda w, side: fmt  # filled per role in the test


@dataclass(frozen=True)
class Rule:
    """Who may call a route, and whether it concerns an object placed in the tree."""

    allowed: frozenset[str] | str
    url: Url
    scoped: bool = False


MATRIX: dict[tuple[str, str], Rule] = {
    # public
    ("static", "GET"): Rule(PUBLIC, fixed("/static/vitrina.css")),
    ("health.healthz", "GET"): Rule(PUBLIC, fixed("/healthz")),
    ("health.readyz", "GET"): Rule(PUBLIC, fixed("/readyz")),
    ("auth.login", "GET"): Rule(PUBLIC, fixed("/login")),
    ("auth.login", "POST"): Rule(PUBLIC, fixed("/login")),
    ("auth.set_language", "POST"): Rule(PUBLIC, fixed("/lang")),
    ("openapi.openapi_json", "GET"): Rule(PUBLIC, fixed("/api/openapi.json")),
    ("vote.page", "GET"): Rule(PUBLIC, poll_key("/vote/{}")),
    ("vote.cast", "POST"): Rule(PUBLIC, poll_key("/vote/{}")),
    # any signed-in person
    ("dashboard.index", "GET"): Rule(SIGNED_IN, fixed("/")),
    ("auth.logout", "POST"): Rule(SIGNED_IN, fixed("/logout")),
    ("account.index", "GET"): Rule(SIGNED_IN, fixed("/account/")),
    ("account.change_password", "POST"): Rule(SIGNED_IN, fixed("/account/password")),
    ("account.create_token", "POST"): Rule(SIGNED_IN, fixed("/account/tokens")),
    ("account.revoke_token", "POST"): Rule(SIGNED_IN, own_token("/account/tokens/{}/revoke")),
    ("api_me.get_me", "GET"): Rule(SIGNED_IN, fixed("/api/v1/me")),
    ("api_me.update_me", "PATCH"): Rule(SIGNED_IN, fixed("/api/v1/me")),
    ("api_me.change_password", "POST"): Rule(SIGNED_IN, fixed("/api/v1/me/password")),
    ("api_tokens.list_tokens", "GET"): Rule(SIGNED_IN, fixed("/api/v1/tokens")),
    ("api_tokens.create_token", "POST"): Rule(SIGNED_IN, fixed("/api/v1/tokens")),
    ("api_tokens.revoke_token", "DELETE"): Rule(SIGNED_IN, own_token("/api/v1/tokens/{}")),
    # organisations: everyone sees their part of the tree, admins change it
    ("orgs.index", "GET"): Rule(ALL, fixed("/orgs/")),
    ("orgs.show", "GET"): Rule(ALL, org("a1", "b1", "/orgs/{}"), scoped=True),
    ("orgs.edit", "GET"): Rule(ADMIN, org("a1", "b1", "/orgs/{}/edit"), scoped=True),
    ("orgs.edit", "POST"): Rule(ADMIN, org("a1", "b1", "/orgs/{}/edit"), scoped=True),
    ("orgs.delete", "POST"): Rule(ADMIN, org("a1", "b1", "/orgs/{}/delete"), scoped=True),
    ("orgs.create", "GET"): Rule(ADMIN, org("a", "b", "/orgs/{}/new"), scoped=True),
    ("orgs.create", "POST"): Rule(ADMIN, org("a", "b", "/orgs/{}/new"), scoped=True),
    ("api_orgs.list_orgs", "GET"): Rule(ALL, fixed("/api/v1/orgs")),
    ("api_orgs.create_org", "POST"): Rule(ADMIN, fixed("/api/v1/orgs")),
    ("api_orgs.get_org", "GET"): Rule(ALL, org("a1", "b1", "/api/v1/orgs/{}"), scoped=True),
    ("api_orgs.update_org", "PATCH"): Rule(ADMIN, org("a1", "b1", "/api/v1/orgs/{}"),
                                           scoped=True),
    ("api_orgs.delete_org", "DELETE"): Rule(ADMIN, org("a1", "b1", "/api/v1/orgs/{}"),
                                            scoped=True),
    # people and roles: admins only, within their subtree
    ("users.index", "GET"): Rule(ADMIN, fixed("/users/")),
    ("users.create", "GET"): Rule(ADMIN, fixed("/users/new")),
    ("users.create", "POST"): Rule(ADMIN, fixed("/users/new")),
    ("users.show", "GET"): Rule(ADMIN, member("/users/{}"), scoped=True),
    ("users.update", "POST"): Rule(ADMIN, member("/users/{}"), scoped=True),
    ("users.reset_password", "POST"): Rule(ADMIN, member("/users/{}/password"), scoped=True),
    ("users.add_grant", "POST"): Rule(ADMIN, member("/users/{}/grants"), scoped=True),
    ("users.remove_grant", "POST"): Rule(ADMIN, member_grant("/users/{}/grants/{}/delete"),
                                         scoped=True),
    ("api_users.list_users", "GET"): Rule(ADMIN, fixed("/api/v1/users")),
    ("api_users.create_user", "POST"): Rule(ADMIN, fixed("/api/v1/users")),
    ("api_users.get_user", "GET"): Rule(ADMIN, member("/api/v1/users/{}"), scoped=True),
    ("api_users.update_user", "PATCH"): Rule(ADMIN, member("/api/v1/users/{}"), scoped=True),
    ("api_users.set_password", "PUT"): Rule(ADMIN, member("/api/v1/users/{}/password"),
                                            scoped=True),
    ("api_users.add_grant", "POST"): Rule(ADMIN, member("/api/v1/users/{}/grants"),
                                          scoped=True),
    ("api_users.remove_grant", "DELETE"): Rule(
        ADMIN, member_grant("/api/v1/users/{}/grants/{}"), scoped=True),
    # content: content managers, within their subtree
    ("content.index", "GET"): Rule(CONTENT, fixed("/content/")),
    ("content.create", "GET"): Rule(CONTENT, fixed("/content/new?kind=news")),
    ("content.create", "POST"): Rule(CONTENT, fixed("/content/new")),
    ("content.show", "GET"): Rule(CONTENT, item("news", "/content/{}"), scoped=True),
    ("content.edit", "GET"): Rule(CONTENT, item("news", "/content/{}/edit"), scoped=True),
    ("content.edit", "POST"): Rule(CONTENT, item("news", "/content/{}/edit"), scoped=True),
    ("content.preview", "GET"): Rule(CONTENT, item("news", "/content/{}/preview"), scoped=True),
    ("content.publish", "POST"): Rule(CONTENT, item("news", "/content/{}/publish"),
                                      scoped=True),
    ("content.approve", "POST"): Rule(CONTENT, item("news", "/content/{}/approve"),
                                      scoped=True),
    ("content.reject", "POST"): Rule(CONTENT, item("news", "/content/{}/reject"), scoped=True),
    ("content.expire", "POST"): Rule(CONTENT, item("alert", "/content/{}/expire"), scoped=True),
    ("content.archive", "POST"): Rule(CONTENT, item("news", "/content/{}/archive"),
                                      scoped=True),
    ("content.duplicate", "POST"): Rule(CONTENT, item("news", "/content/{}/duplicate"),
                                        scoped=True),
    ("content.qr", "GET"): Rule(CONTENT, item("poll", "/content/{}/qr.svg"), scoped=True),
    ("content.results", "GET"): Rule(CONTENT, item("poll", "/content/{}/results"), scoped=True),
    ("content.bulk", "POST"): Rule(CONTENT, fixed("/content/bulk")),
    ("content.alerts", "GET"): Rule(CONTENT, fixed("/content/alerts")),
    ("content.alerts", "POST"): Rule(CONTENT, fixed("/content/alerts")),
    ("content.library", "GET"): Rule(CONTENT, fixed("/content/media")),
    ("content.library", "POST"): Rule(CONTENT, fixed("/content/media")),
    ("content.media_file", "GET"): Rule(CONTENT, medium("/content/media/{}.jpg"), scoped=True),
    ("api_content.list_items", "GET"): Rule(CONTENT, fixed("/api/v1/content")),
    ("api_content.create_item", "POST"): Rule(CONTENT, fixed("/api/v1/content")),
    ("api_content.get_item", "GET"): Rule(CONTENT, item("news", "/api/v1/content/{}"),
                                          scoped=True),
    ("api_content.update_item", "PUT"): Rule(CONTENT, item("news", "/api/v1/content/{}"),
                                             scoped=True),
    ("api_content.publish_item", "POST"): Rule(
        CONTENT, item("news", "/api/v1/content/{}/publish"), scoped=True),
    ("api_content.approve_item", "POST"): Rule(
        CONTENT, item("news", "/api/v1/content/{}/approve"), scoped=True),
    ("api_content.reject_item", "POST"): Rule(
        CONTENT, item("news", "/api/v1/content/{}/reject"), scoped=True),
    ("api_content.expire_item", "POST"): Rule(
        CONTENT, item("alert", "/api/v1/content/{}/expire"), scoped=True),
    ("api_content.archive_item", "POST"): Rule(
        CONTENT, item("news", "/api/v1/content/{}/archive"), scoped=True),
    ("api_content.duplicate_item", "POST"): Rule(
        CONTENT, item("news", "/api/v1/content/{}/duplicate"), scoped=True),
    ("api_content.bulk", "POST"): Rule(CONTENT, fixed("/api/v1/content/bulk")),
    ("api_content.list_alerts", "GET"): Rule(CONTENT, fixed("/api/v1/alerts")),
    ("api_content.raise_alert", "POST"): Rule(CONTENT, fixed("/api/v1/alerts")),
    ("api_content.withdraw_alert", "POST"): Rule(
        CONTENT, item("alert", "/api/v1/alerts/{}/withdraw"), scoped=True),
    ("api_content.list_media", "GET"): Rule(CONTENT, fixed("/api/v1/media")),
    ("api_content.upload_media", "POST"): Rule(CONTENT, fixed("/api/v1/media")),
    # audit log: admins
    ("audit.index", "GET"): Rule(ADMIN, fixed("/audit/")),
    # timetable: seen by most roles, changed by the schedule dispatcher
    ("timetable.index", "GET"): Rule(TT_VIEW, fixed("/timetable/")),
    ("timetable.school", "GET"): Rule(TT_VIEW, school("/timetable/{}/"), scoped=True),
    ("timetable.grid", "GET"): Rule(TT_VIEW, school("/timetable/{}/grid?target=class:7Б"),
                                    scoped=True),
    ("timetable.changes", "GET"): Rule(TT_VIEW, school("/timetable/{}/changes"), scoped=True),
    ("timetable.setup", "GET"): Rule(TT_VIEW, school("/timetable/{}/setup"), scoped=True),
    ("timetable.events", "GET"): Rule(TT_VIEW, school("/timetable/{}/events"), scoped=True),
    ("timetable.screens", "GET"): Rule(TT_VIEW, school("/timetable/{}/screens"), scoped=True),
    ("timetable.screen_data", "GET"): Rule(
        TT_VIEW, school("/timetable/{}/screen.json?target=room:204"), scoped=True),
    ("timetable.lesson_new", "GET"): Rule(TT_EDIT, school("/timetable/{}/lessons/new"),
                                          scoped=True),
    ("timetable.lesson_new", "POST"): Rule(TT_EDIT, school("/timetable/{}/lessons/new"),
                                           scoped=True),
    ("timetable.lesson_edit", "GET"): Rule(
        TT_EDIT, tt_obj("lesson", "/timetable/{s}/lessons/{o}"), scoped=True),
    ("timetable.lesson_edit", "POST"): Rule(
        TT_EDIT, tt_obj("lesson", "/timetable/{s}/lessons/{o}"), scoped=True),
    ("timetable.lesson_delete", "POST"): Rule(
        TT_EDIT, tt_obj("lesson", "/timetable/{s}/lessons/{o}/delete"), scoped=True),
    ("timetable.lesson_bulk", "POST"): Rule(TT_EDIT, school("/timetable/{}/lessons/bulk"),
                                            scoped=True),
    ("timetable.change_add", "POST"): Rule(TT_EDIT, school("/timetable/{}/changes"),
                                           scoped=True),
    ("timetable.change_check", "GET"): Rule(
        TT_EDIT, school("/timetable/{}/changes/check?group=7Б&period=1&kind=cancellation"),
        scoped=True),
    ("timetable.change_delete", "POST"): Rule(
        TT_EDIT, tt_obj("change", "/timetable/{s}/changes/{o}/delete"), scoped=True),
    ("timetable.absence", "GET"): Rule(
        TT_EDIT, school("/timetable/{}/absence?teacher=Ivanova"), scoped=True),
    ("timetable.absence_save", "POST"): Rule(TT_EDIT, school("/timetable/{}/absence"),
                                             scoped=True),
    ("timetable.undo", "POST"): Rule(TT_EDIT, school("/timetable/{}/undo"), scoped=True),
    ("timetable.import_", "GET"): Rule(TT_EDIT, school("/timetable/{}/import"), scoped=True),
    ("timetable.import_", "POST"): Rule(TT_EDIT, school("/timetable/{}/import"), scoped=True),
    ("timetable.import_apply", "POST"): Rule(TT_EDIT, school("/timetable/{}/import/apply"),
                                             scoped=True),
    ("timetable.bells_save", "POST"): Rule(TT_EDIT, school("/timetable/{}/setup/bells"),
                                           scoped=True),
    ("timetable.classes_add", "POST"): Rule(TT_EDIT, school("/timetable/{}/setup/classes"),
                                            scoped=True),
    ("timetable.class_delete", "POST"): Rule(
        TT_EDIT, tt_obj("group", "/timetable/{s}/setup/classes/{o}/delete"), scoped=True),
    ("timetable.room_save", "POST"): Rule(TT_EDIT, school("/timetable/{}/setup/rooms"),
                                          scoped=True),
    ("timetable.bells_delete", "POST"): Rule(
        TT_EDIT, school("/timetable/{}/setup/bells/normal/delete"), scoped=True),
    ("timetable.settings_save", "POST"): Rule(TT_EDIT, school("/timetable/{}/setup/settings"),
                                              scoped=True),
    ("timetable.calendar_add", "POST"): Rule(TT_EDIT, school("/timetable/{}/setup/calendar"),
                                             scoped=True),
    ("timetable.calendar_delete", "POST"): Rule(
        TT_EDIT, tt_obj("entry", "/timetable/{s}/setup/calendar/{o}/delete"), scoped=True),
    ("timetable.event_add", "POST"): Rule(TT_EDIT, school("/timetable/{}/events"), scoped=True),
    ("timetable.event_delete", "POST"): Rule(
        TT_EDIT, tt_obj("event", "/timetable/{s}/events/{o}/delete"), scoped=True),
    ("timetable.feeds", "GET"): Rule(TT_EDIT, school("/timetable/{}/feeds"), scoped=True),
    ("timetable.feed_create", "POST"): Rule(TT_EDIT, school("/timetable/{}/feeds"),
                                            scoped=True),
    ("timetable.feed_revoke", "POST"): Rule(
        TT_EDIT, tt_obj("feed", "/timetable/{s}/feeds/{o}/revoke"), scoped=True),
    ("api_timetable.day", "GET"): Rule(TT_VIEW, school("/api/v1/timetable/{}/day"),
                                       scoped=True),
    ("api_timetable.now", "GET"): Rule(TT_VIEW, school("/api/v1/timetable/{}/now"),
                                       scoped=True),
    ("api_timetable.list_changes", "GET"): Rule(
        TT_VIEW, school("/api/v1/timetable/{}/changes"), scoped=True),
    ("api_timetable.create_change", "POST"): Rule(
        TT_EDIT, school("/api/v1/timetable/{}/changes"), scoped=True),
    ("api_timetable.delete_change", "DELETE"): Rule(
        TT_EDIT, tt_obj("change", "/api/v1/timetable/{s}/changes/{o}"), scoped=True),
    ("displays.index", "GET"): Rule(DISPLAY_VIEW, fixed("/displays/")),
    ("displays.pair", "GET"): Rule(ADMIN, fixed("/displays/pair")),
    ("displays.pair", "POST"): Rule(ADMIN, fixed("/displays/pair")),
    ("displays.show", "GET"): Rule(DISPLAY_VIEW, tt_obj("display", "/displays/{o}"),
                                   scoped=True),
    ("displays.preview_manifest", "GET"): Rule(
        DISPLAY_VIEW, tt_obj("display", "/displays/{o}/manifest.json"), scoped=True),
    ("displays.preview_media", "GET"): Rule(
        DISPLAY_VIEW, lambda w, side: "/displays/{}/media/{}".format(
            w.tt["display_a" if side == "in" else "display_b"],
            w.media["media_a" if side == "in" else "media_b"]), scoped=True),
    ("displays.edit", "GET"): Rule(ADMIN, tt_obj("display", "/displays/{o}/edit"),
                                   scoped=True),
    ("displays.edit", "POST"): Rule(ADMIN, tt_obj("display", "/displays/{o}/edit"),
                                    scoped=True),
    ("displays.revoke", "POST"): Rule(ADMIN, tt_obj("display", "/displays/{o}/revoke"),
                                      scoped=True),
    ("displays.screenshot", "GET"): Rule(
        DISPLAY_VIEW, tt_obj("display", "/displays/{o}/screenshot.jpg"), scoped=True),
    ("displays.action", "POST"): Rule(ADMIN, tt_obj("display", "/displays/{o}/action"),
                                      scoped=True),
    ("displays.pair_again", "POST"): Rule(
        ADMIN, tt_obj("display", "/displays/{o}/pair-again"), scoped=True),
    ("pupils.index", "GET"): Rule(CARDS, fixed("/pupils/")),
    ("pupils.pupil", "GET"): Rule(CARDS, tt_obj("pupil", "/pupils/{o}"), scoped=True),
    ("pupils.add_photo", "POST"): Rule(CARDS, tt_obj("pupil", "/pupils/{o}/photo"),
                                       scoped=True),
    ("pupils.consent", "POST"): Rule(CARDS, tt_obj("pupil", "/pupils/{o}/consent"),
                                     scoped=True),
    ("pupils.photo", "GET"): Rule(PHOTOS, tt_obj("photo", "/pupils/photos/{o}.jpg"),
                                  scoped=True),
    ("pupils.sync", "GET"): Rule(CARDS, fixed("/pupils/sync")),
    ("pupils.progress_of", "GET"): Rule(CARDS, fixed("/pupils/progress/" + "a" * 24)),
    ("pupils.sync", "POST"): Rule(CARDS, fixed("/pupils/sync")),
    ("pupils.run", "GET"): Rule(CARDS, tt_obj("run", "/pupils/sync/{o}"), scoped=True),
    ("pupils.columns", "POST"): Rule(CARDS, school("/pupils/sync/columns?school_id={}"),
                                     scoped=True),
    ("pupils.push_settings", "POST"): Rule(
        CARDS, school("/pupils/sync/push-settings?school_id={}"), scoped=True),
    ("pupils.push", "POST"): Rule(CARDS, tt_obj("run", "/pupils/sync/{o}/push"),
                                  scoped=True),
    ("pupils.decide", "POST"): Rule(CARDS, tt_obj("run", "/pupils/sync/{o}/decide"),
                                    scoped=True),
    ("pupils.apply", "POST"): Rule(CARDS, tt_obj("run", "/pupils/sync/{o}/apply"),
                                   scoped=True),
    ("pupils.export", "GET"): Rule(CARDS, tt_obj("run", "/pupils/sync/{o}/changes.csv"),
                                   scoped=True),
    ("pupils.import_photos", "GET"): Rule(CARDS, fixed("/pupils/photos/import")),
    ("pupils.import_photos", "POST"): Rule(CARDS, fixed("/pupils/photos/import")),
    ("pupils.batch", "GET"): Rule(CARDS, tt_obj("batch", "/pupils/photos/batches/{o}"),
                                  scoped=True),
    ("pupils.batch_check", "POST"): Rule(
        CARDS, tt_obj("batch", "/pupils/photos/batches/{o}/check"), scoped=True),
    ("pupils.batch_photo", "GET"): Rule(
        CARDS, tt_obj("batch", "/pupils/photos/batches/{o}/0.jpg"), scoped=True),
    ("pupils.batch_apply", "POST"): Rule(
        CARDS, tt_obj("batch", "/pupils/photos/batches/{o}/apply"), scoped=True),
    ("pupils.batch_discard", "POST"): Rule(
        CARDS, tt_obj("batch", "/pupils/photos/batches/{o}/discard"), scoped=True),
    ("player.index", "GET"): Rule(PUBLIC, fixed("/player/")),
    ("player.asset", "GET"): Rule(PUBLIC, fixed("/player/player.js")),
    ("device.pair", "POST"): Rule(PUBLIC, fixed("/api/device/v1/pair")),
    ("device.pair_status", "POST"): Rule(PUBLIC, fixed("/api/device/v1/pair/status")),
    ("device.manifest", "GET"): Rule(DEVICE, fixed("/api/device/v1/manifest")),
    ("device.heartbeat", "POST"): Rule(DEVICE, fixed("/api/device/v1/heartbeat")),
    ("device.medium", "GET"): Rule(DEVICE, medium("/api/device/v1/media/{}")),
    ("device.touch_vote", "POST"): Rule(DEVICE, fixed("/api/device/v1/vote")),
    ("device.screenshot", "POST"): Rule(DEVICE, fixed("/api/device/v1/screenshot")),
    ("ical.feed", "GET"): Rule(PUBLIC, lambda w, side: f"/ical/{w.tt['feed_token_a']}.ics"),
    ("api_audit.list_events", "GET"): Rule(ADMIN, fixed("/api/v1/audit")),
    ("metrics.metrics", "GET"): Rule(INTERNAL, fixed("/metrics")),
}


def test_every_route_is_in_the_matrix(app: Flask) -> None:
    routes = {(r.endpoint, m) for r in app.url_map.iter_rules()
              for m in r.methods - {"HEAD", "OPTIONS"}}
    assert routes - set(MATRIX) == set(), "routes missing from the access matrix"
    assert set(MATRIX) - routes == set(), "matrix lines for routes that no longer exist"


def _cases() -> list[tuple[str, str, str, str]]:
    cases = []
    for (endpoint, method), rule in sorted(MATRIX.items()):
        cases.append((endpoint, method, "anonymous", "in"))
        if rule.allowed == PUBLIC:
            continue
        for role in ROLES:
            cases.append((endpoint, method, role, "in"))
            if rule.scoped:
                cases.append((endpoint, method, role, "out"))
    return cases


def _expected(rule: Rule, who: str, side: str) -> bool:
    if rule.allowed in (PUBLIC, DEVICE, INTERNAL):
        return rule.allowed == PUBLIC
    if who == "anonymous":
        return False
    if rule.allowed == SIGNED_IN:
        return True
    assert isinstance(rule.allowed, frozenset)
    return who in rule.allowed and side == "in"


@pytest.mark.parametrize(("endpoint", "method", "who", "side"), _cases())
def test_access(app: Flask, world: World, endpoint: str, method: str, who: str,
                side: str) -> None:
    rule = MATRIX[(endpoint, method)]
    url = rule.url(world, side)
    if "{}" in url:
        url = url.format(world.token_ids.get(who, 1))
    client = app.test_client()
    is_api = url.startswith("/api/")
    headers: dict[str, str] = {}
    if who != "anonymous":
        if is_api:
            headers = bearer(world.tokens[who])
        else:
            assert AuthActions(client).login(who).status_code == 302
    kwargs: dict[str, object] = {"headers": headers}
    if rule.allowed == INTERNAL:
        kwargs["environ_base"] = {"REMOTE_ADDR": "198.51.100.23"}   # not a monitoring host
    if is_api and method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = {}
    response = client.open(url, method=method, **kwargs)  # type: ignore[arg-type]
    response.close()
    status = response.status_code
    location = response.headers.get("Location", "")
    denied = status in (401, 403) or (status == 302 and "/login?next=" in location)
    allowed = _expected(rule, who, side)
    assert status < 500, response.get_data(as_text=True)[:500]
    if rule.allowed == PUBLIC:
        # A public form may still answer 401 to wrong credentials; it must never forbid.
        assert status != 403
        return
    if rule.allowed == INTERNAL:
        assert status == 404, f"{who} must not find {method} {url}, got {status}"
        return
    if rule.allowed == DEVICE:
        # People's sessions and API tokens are not device tokens.
        assert status == 401, f"{who} must not reach {method} {url} as a display"
        return
    if allowed:
        assert not denied, f"{who} should reach {method} {url}, got {status} {location}"
    else:
        assert denied, f"{who} must not reach {method} {url}, got {status}"
        if who == "anonymous":
            assert status == (401 if is_api else 302)
        else:
            assert status == 403
