"""The dispatcher's work through the UI: changes with clashes and undo, imports that are
all-or-nothing, bells and classes, calendar feeds that phones can read, screen data."""

from __future__ import annotations

import re
from datetime import date, timedelta

import icalendar
import pytest
import vobject
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models.audit import AuditEvent
from server.models.timetable import ChangeRow, LessonRow
from tests.conftest import AuthActions, World, next_monday

SD = "schedule_dispatcher"


def _count(app: Flask, model: type, **where: int) -> int:
    with app.app_context():
        stmt = select(func.count()).select_from(model)
        for key, value in where.items():
            stmt = stmt.where(getattr(model, key) == value)
        return int(db.session.scalar(stmt) or 0)


def _audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def _text(r: object) -> str:
    return r.get_data(as_text=True)  # type: ignore[attr-defined]


def test_a_substitution_that_double_books_a_teacher_is_flagged_and_undone(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login(SD)
    school = world.ids["a"]
    monday = next_monday().isoformat()
    # Ivanova teaches 7Б in period 1 on Mondays; giving her 8А's period 1 double-books her.
    check = client.get(f"/timetable/{school}/changes/check", query_string={
        "date": monday, "kind": "substitution", "group": "8А", "period": "1",
        "teacher": "Ivanova"})
    assert check.get_json() == {"ok": True, "conflicts": [
        "Ivanova is double-booked in period 1: 7Б (Maths, 204), 8А (History, 301)"]}
    before = _count(app, ChangeRow)
    r = client.post(f"/timetable/{school}/changes", data={
        "date": monday, "kind": "substitution", "group": "8а", "period": "1",
        "teacher": "Ivanova", "note": "Sidorova is ill"}, follow_redirects=True)
    html = _text(r)
    assert r.status_code == 200
    assert "Ivanova is double-booked in period 1" in html
    assert "8А, period 1" in html and "substitution — Ivanova" in html
    assert _count(app, ChangeRow) == before + 1
    assert "timetable.change.create" in _audit_actions(app)
    # The day's grid shows who teaches now, and whom she replaces.
    assert "Ivanova instead of Sidorova; Sidorova is ill" in html
    r = client.post(f"/timetable/{school}/undo", data={"next": f"/timetable/{school}/changes"},
                    follow_redirects=True)
    assert "Undone:" in _text(r)
    assert _count(app, ChangeRow) == before
    assert _audit_actions(app)[-1] == "timetable.undo"
    r = client.post(f"/timetable/{school}/undo", follow_redirects=True)
    assert "There is nothing to undo." in _text(r)


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"teacher": "Nobody"}, "teacher", "No teacher called “Nobody” in this school."),
    ({"period": "4"}, "period", "7Б has no lesson in period 4 on that day."),
    ({"period": "9"}, "period", "Period 9 is not in that day&#39;s bells."),
    ({"group": "9Я"}, "group", "The school has no class 9Я."),
    ({"kind": "substitution", "teacher": ""}, "teacher", "Name the teacher who takes"),
    ({"date": "2026-02-31"}, "date", "date"),
])
def test_a_change_that_cannot_be_made_says_why_and_writes_nothing(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions,
        fields: dict[str, str], field: str, message: str) -> None:
    auth.login(SD)
    data = {"date": next_monday().isoformat(), "kind": "substitution", "group": "7Б",
            "period": "1", "teacher": "Smith"}
    data.update(fields)
    data = {k: v for k, v in data.items() if v != ""}
    before = _count(app, ChangeRow)
    r = client.post(f"/timetable/{world.ids['a']}/changes", data=data)
    assert r.status_code == 422
    html = _text(r)
    assert f'id="err-{field}"' in html
    assert message in html
    assert _count(app, ChangeRow) == before


def test_a_change_on_a_holiday_is_refused(client: FlaskClient, world: World,
                                          auth: AuthActions) -> None:
    auth.login(SD)
    school = world.ids["a"]
    holiday = next_monday() + timedelta(days=7)
    r = client.post(f"/timetable/{school}/setup/calendar", data={
        "kind": "holiday", "first": holiday.isoformat(), "name": "Teachers' day"})
    assert r.status_code == 302
    r = client.post(f"/timetable/{school}/changes", data={
        "date": holiday.isoformat(), "kind": "cancellation", "group": "7Б", "period": "1"})
    assert r.status_code == 422
    assert "There are no lessons on that day (holiday: Teachers&#39; day)." in _text(r)


def test_a_lesson_moved_to_another_day_shows_there(client: FlaskClient, world: World,
                                                   auth: AuthActions) -> None:
    auth.login(SD)
    school = world.ids["a"]
    monday = next_monday()
    tuesday = monday + timedelta(days=1)
    r = client.post(f"/timetable/{school}/changes", data={
        "date": monday.isoformat(), "kind": "move", "group": "7Б", "period": "1",
        "new_date": tuesday.isoformat(), "new_period": "3"})
    assert r.status_code == 302, _text(r)[:2000]
    grid = _text(client.get(f"/timetable/{school}/grid",
                            query_string={"target": "class:7Б", "week": monday.isoformat()}))
    assert grid.count('data-status="moved_out"') == 1
    assert grid.count('data-status="moved_in"') == 1
    assert f"moved to {tuesday.strftime('%d.%m')}, period 3" in grid
    # The teacher's own week shows it too.
    teacher = _text(client.get(f"/timetable/{school}/grid", query_string={
        "target": "teacher:Ivanova", "week": monday.isoformat()}))
    assert f"moved from {monday.strftime('%d.%m')}, period 1" in teacher


BAD_CSV_ROWS = [
    "День;Урок;Класс;Предмет;Учитель;Кабинет",
    "Пн;1;7Б;Математика;Иванова;204",
    "Пн;1;7Б;Физика;Сидорова;301",      # 3: duplicate
    "Пн;9;7Б;Химия;Сидорова;301",       # 4: period out of range
    "Вт;2;7Ж;Химия;Сидорова;301",       # 5: unknown class
]


def test_a_malformed_import_reports_every_row_and_writes_nothing(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login(SD)
    school = world.ids["a"]
    data = "\n".join(BAD_CSV_ROWS).encode() + b"\n" + "Ср;1;8А;Литература;Петров;205".encode(
        "cp1251") + b"\n"
    lessons, changes, events = (_count(app, LessonRow), _count(app, ChangeRow),
                                len(_audit_actions(app)))
    r = client.post(f"/timetable/{school}/import", data={"file": (__import__("io").BytesIO(
        data), "timetable.csv")}, content_type="multipart/form-data")
    assert r.status_code == 422
    html = _text(r)
    rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", html)
    assert [(row, column) for row, column, _ in rows] == [
        ("3", "group"), ("4", "period"), ("5", "group"), ("6", "—")]
    assert "7Б already has a lesson then (row 2)." in html
    assert "Period 9 is not in the bell schedule (1 … 5)." in html
    assert "The school has no class 7Ж." in html
    assert "The line is not UTF-8 text" in html
    assert 'name="token"' not in html
    assert (_count(app, LessonRow), _count(app, ChangeRow), len(_audit_actions(app))) == (
        lessons, changes, events)
    # A forged confirmation does nothing either.
    r = client.post(f"/timetable/{school}/import/apply", data={"token": "0" * 64},
                    follow_redirects=True)
    assert "That preview has expired" in _text(r)
    assert _count(app, LessonRow) == lessons


def test_an_import_replaces_the_weekly_lessons_after_a_preview(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    import io

    auth.login(SD)
    school = world.ids["a"]
    csv = ("day,period,class,subject,teacher,room,week,building,floor\n"
           "Mon,1,7Б,Algebra,Ivanova,204,A,Building A1,2\n"
           "Mon,1,7Б,Geometry,Ivanova,204,B,,\n"
           "Tue,3,8А,Chemistry,Novikova,310,,,\n").encode()
    r = client.post(f"/timetable/{school}/import", data={"file": (io.BytesIO(csv), "tt.csv")},
                    content_type="multipart/form-data")
    html = _text(r)
    assert r.status_code == 200, html[:3000]
    assert "3 lessons, 2 classes, 2 teachers, 2 rooms." in html
    assert "will be replaced" in html
    assert _count(app, LessonRow, org_id=school) == 4   # not yet
    token = re.search(r'name="token" value="([0-9a-f]{64})"', html)
    assert token
    r = client.post(f"/timetable/{school}/import/apply", data={"token": token[1]},
                    follow_redirects=True)
    assert "Imported 3 lessons from tt.csv." in _text(r)
    assert _count(app, LessonRow, org_id=school) == 3
    assert _count(app, LessonRow, org_id=world.ids["b"]) == 4   # school B untouched
    assert _count(app, ChangeRow, org_id=school) == 0   # the old lessons' changes went too
    assert "timetable.import" in _audit_actions(app)
    grid = _text(client.get(f"/timetable/{school}/grid", query_string={"target": "room:310"}))
    assert "Chemistry" in grid and "Novikova" in grid


def test_an_asc_export_imports(app: Flask, client: FlaskClient, world: World,
                               auth: AuthActions) -> None:
    import io

    from tests.content.test_timetable_import import ASC

    auth.login(SD)
    school = world.ids["a"]
    r = client.post(f"/timetable/{school}/import",
                    data={"file": (io.BytesIO(ASC.encode()), "export.xml")},
                    content_type="multipart/form-data")
    html = _text(r)
    # The export names 8А and 7Б, which the school has, and periods 1-3 within its bells.
    assert r.status_code == 200, html[:3000]
    token = re.search(r'name="token" value="([0-9a-f]{64})"', html)
    assert token
    client.post(f"/timetable/{school}/import/apply", data={"token": token[1]})
    assert _count(app, LessonRow, org_id=school) == 4


def test_the_calendar_feed_parses_and_carries_the_day_s_changes(
        client: FlaskClient, world: World, auth: AuthActions) -> None:
    url = f"/ical/{world.tt['feed_token_a']}.ics"
    r = client.get(url)
    assert r.status_code == 200
    assert r.mimetype == "text/calendar"
    body = r.get_data()
    cal = icalendar.Calendar.from_ical(body)
    events = [c for c in cal.walk("VEVENT")]
    monday = next_monday()
    moved = [e for e in events if e.decoded("dtstart").date() == monday
             and str(e.get("summary")) == "Russian"]
    assert len(moved) == 1
    assert str(moved[0].get("location")) == "303"
    assert "205 is being painted" in str(moved[0].get("description"))
    assert "room 303 instead of 205" in str(moved[0].get("description"))
    assert any(str(e.get("summary")) == "Concert A" for e in events)
    # A second, independent parser reads the same feed.
    parsed = vobject.readOne(body.decode("utf-8"))
    assert len(parsed.vevent_list) == len(events)
    assert {v.uid.value for v in parsed.vevent_list} == {str(e.get("uid")) for e in events}
    # Revoked, the link is dead; an unknown token was never alive.
    auth.login(SD)
    r = client.post(f"/timetable/{world.ids['a']}/feeds/{world.tt['feed_a']}/revoke")
    assert r.status_code == 302
    assert client.get(url).status_code == 404
    assert client.get("/ical/not-a-token.ics").status_code == 404


def test_a_new_feed_link_is_shown_once(client: FlaskClient, world: World,
                                       auth: AuthActions) -> None:
    auth.login(SD)
    r = client.post(f"/timetable/{world.ids['a']}/feeds",
                    data={"target_kind": "teacher", "target_key": "Petrov"})
    assert r.status_code == 201
    link = re.search(r'data-testid="feed-url"|value="(http[^"]+\.ics)"', _text(r))
    found = re.findall(r'value="(http[^"]+/ical/([^"]+)\.ics)"', _text(r))
    assert link and found
    token = found[0][1]
    assert client.get(f"/ical/{token}.ics").status_code == 200
    listing = _text(client.get(f"/timetable/{world.ids['a']}/feeds"))
    assert token not in listing
    r = client.post(f"/timetable/{world.ids['a']}/feeds",
                    data={"target_kind": "room", "target_key": "999"})
    assert r.status_code == 422


def test_bells_classes_and_settings(app: Flask, client: FlaskClient, world: World,
                                    auth: AuthActions) -> None:
    auth.login(SD)
    school = world.ids["a"]
    r = client.post(f"/timetable/{school}/setup/bells", data={
        "key": "short", "name": "Shortened", "periods": "1 08:30-09:00\n2 9.05-8.50"})
    assert r.status_code == 422
    assert "Line 2: the period ends before it starts." in _text(r)
    r = client.post(f"/timetable/{school}/setup/bells", data={
        "key": "short", "name": "Shortened", "periods": "1 08:30-09:00\n2 09:10-09:40"})
    assert r.status_code == 302
    r = client.post(f"/timetable/{school}/setup/calendar", data={
        "kind": "bells", "first": next_monday().isoformat(), "bells": "short"})
    assert r.status_code == 302
    day = _text(client.get(f"/timetable/{school}/changes",
                           query_string={"date": next_monday().isoformat()}))
    assert "09:10" in day
    r = client.post(f"/timetable/{school}/setup/bells/short/delete", follow_redirects=True)
    assert "This bell schedule is in use" in _text(r)
    r = client.post(f"/timetable/{school}/setup/classes", data={"classes": "9В, 9В/1 zz"})
    assert r.status_code == 422 and "Not a class: ZZ" in _text(r)
    r = client.post(f"/timetable/{school}/setup/classes", data={"classes": "9в 9В/1"},
                    follow_redirects=True)
    assert "Classes added: 9В, 9В/1" in _text(r)
    r = client.post(f"/timetable/{school}/setup/classes/{world.tt['group_a']}/delete",
                    follow_redirects=True)
    assert "7Б still has lessons or subgroups." in _text(r)
    r = client.post(f"/timetable/{school}/setup/settings", data={
        "school_weekdays": ["0", "1", "2", "3", "4", "5"], "week_a": "2026-09-07",
        "default_bells": "normal", "bells_5": "short", "bells_4": "short"})
    assert r.status_code == 302
    page = _text(client.get(f"/timetable/{school}/setup"))
    assert 'value="2026-09-07"' in page
    assert page.count('<option value="short" selected>') == 2
    r = client.post(f"/timetable/{school}/setup/settings", data={
        "school_weekdays": ["0"], "default_bells": "normal", "bells_2": "nope"})
    assert r.status_code == 422 and "No bell schedule “nope”." in _text(r)


def test_bulk_edit_of_lessons_and_its_undo(app: Flask, client: FlaskClient, world: World,
                                           auth: AuthActions) -> None:
    auth.login(SD)
    school = world.ids["a"]
    with app.app_context():
        ids = [str(i) for i in db.session.scalars(select(LessonRow.id).where(
            LessonRow.org_id == school))]
    r = client.post(f"/timetable/{school}/lessons/bulk", data={
        "ids": ids[:2], "action": "set", "room": "101"}, follow_redirects=True)
    assert "2 lessons changed." in _text(r)
    grid = _text(client.get(f"/timetable/{school}/grid", query_string={"target": "room:101"}))
    assert grid.count('class="slot slot-') >= 1
    client.post(f"/timetable/{school}/undo")
    grid = _text(client.get(f"/timetable/{school}/grid", query_string={"target": "room:101"}))
    assert 'class="slot slot-' not in grid
    r = client.post(f"/timetable/{school}/lessons/bulk", data={"action": "set"},
                    follow_redirects=True)
    assert r.status_code == 200 and "alert-error" in _text(r)


def test_screen_data_and_door_sign(client: FlaskClient, world: World,
                                   auth: AuthActions) -> None:
    auth.login("viewer")
    data = client.get(f"/timetable/{world.ids['a']}/screen.json",
                      query_string={"target": "room:204"}).get_json()
    assert data["target"] == {"kind": "room", "key": "204"}
    assert len(data["days"]) == 2 and data["days"][0]["bells"] or \
        not data["days"][0]["school_day"]
    page = _text(client.get(f"/timetable/{world.ids['a']}/screens"))
    assert 'data-testid="door-sign"' in page and 'data-testid="changes-board"' in page
    bad = client.get(f"/timetable/{world.ids['a']}/screen.json", query_string={"target": "x"})
    assert bad.status_code == 422


def test_a_viewer_sees_but_cannot_change(client: FlaskClient, world: World,
                                         auth: AuthActions) -> None:
    auth.login("viewer")
    page = _text(client.get(f"/timetable/{world.ids['a']}/changes"))
    assert 'data-testid="quick-change"' not in page
    assert client.post(f"/timetable/{world.ids['a']}/changes").status_code == 403


def test_every_timetable_page_speaks_russian(client: FlaskClient, world: World,
                                             auth: AuthActions) -> None:
    auth.login(SD)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    s = world.ids["a"]
    pages = {
        f"/timetable/{s}/": "Классы",
        f"/timetable/{s}/changes": "Что происходит",
        f"/timetable/{s}/grid?target=class:7Б": "Уроки на неделе",
        f"/timetable/{s}/setup": "Расписания звонков",
        f"/timetable/{s}/events": "Мероприятия",
        f"/timetable/{s}/import": "Проверить файл",
        f"/timetable/{s}/feeds": "Ссылки для календаря",
        f"/timetable/{s}/screens": "Табло замен",
        f"/timetable/{s}/lessons/new": "Добавить урок",
    }
    for url, word in pages.items():
        r = client.get(url)
        assert r.status_code == 200, url
        assert word in _text(r), url


def test_dates_in_the_past_still_open(client: FlaskClient, world: World,
                                      auth: AuthActions) -> None:
    auth.login(SD)
    r = client.get(f"/timetable/{world.ids['a']}/changes",
                   query_string={"date": (date.today() - timedelta(days=3000)).isoformat()})
    assert r.status_code == 200
    assert 'data-testid="day-off"' in _text(r)


def test_the_timetable_api(client: FlaskClient, world: World) -> None:
    from tests.conftest import bearer

    school = world.ids["a"]
    headers = bearer(world.tokens[SD])
    monday = next_monday().isoformat()
    day = client.get(f"/api/v1/timetable/{school}/day",
                     query_string={"target": "class:7Б", "date": monday}, headers=headers)
    assert day.status_code == 200
    slots = day.get_json()["slots"]
    assert [(s["period"], s["subject"], s["room"], s["status"]) for s in slots] == [
        (1, "Maths", "204", "normal"), (2, "Russian", "303", "changed")]
    r = client.post(f"/api/v1/timetable/{school}/changes", headers=headers, json={
        "date": monday, "kind": "substitution", "group": "8А", "period": 1,
        "teacher": "Ivanova"})
    assert r.status_code == 201
    assert r.get_json()["conflicts"] == [
        "Ivanova is double-booked in period 1: 7Б (Maths, 204), 8А (History, 301)"]
    listed = client.get(f"/api/v1/timetable/{school}/changes", query_string={"date": monday},
                        headers=headers).get_json()
    assert [c["kind"] for c in listed] == ["room_move", "substitution"]
    bad = client.post(f"/api/v1/timetable/{school}/changes", headers=headers, json={
        "date": monday, "kind": "room_move", "group": "7Б", "period": 1, "room": "999"})
    assert bad.status_code == 422
    assert bad.get_json()["fields"] == [{"field": "room",
                                         "reason": "No room 999 in this school."}]
    assert client.delete(f"/api/v1/timetable/{school}/changes/{r.get_json()['id']}",
                         headers=headers).status_code == 204
    now = client.get(f"/api/v1/timetable/{school}/now", query_string={"target": "room:204"},
                     headers=headers)
    assert now.status_code == 200 and now.get_json()["phase"] in (
        "no_school", "no_lessons", "before_lessons", "lesson", "break", "after_school")


def test_a_teacher_away_all_day_is_covered_in_one_go_and_undone_in_one(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login(SD)
    school = world.ids["a"]
    monday = next_monday().isoformat()
    page = _text(client.get(f"/timetable/{school}/absence",
                            query_string={"teacher": "Ivanova", "date": monday}))
    # Ivanova has 7Б maths in period 1; Petrov and Smith are free then, Sidorova is not.
    choices = re.findall(r'<option value="sub:([^"]+)">', page)
    assert "Petrov" in choices and "Smith" in choices and "Sidorova" not in choices
    before = _count(app, ChangeRow)
    r = client.post(f"/timetable/{school}/absence", data={
        "teacher": "Ivanova", "date": monday, "rows": "1", "group_0": "7Б", "period_0": "1",
        "choice_0": "sub:Smith", "note": "Ivanova is ill"}, follow_redirects=True)
    assert "Saved 1 change for Ivanova" in _text(r)
    assert _count(app, ChangeRow) == before + 1
    client.post(f"/timetable/{school}/undo")
    assert _count(app, ChangeRow) == before
    r = client.post(f"/timetable/{school}/absence", data={
        "teacher": "Ivanova", "date": monday, "rows": "1", "group_0": "7Б", "period_0": "1",
        "choice_0": "sub:Nobody"})
    assert r.status_code == 422 and "No teacher called “Nobody”" in _text(r)
    assert _count(app, ChangeRow) == before
    page = _text(client.get(f"/timetable/{school}/absence", query_string={"teacher": "Zed"}))
    assert "No teacher called “Zed” in this school." in page
