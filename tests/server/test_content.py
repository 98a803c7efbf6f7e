"""Content publishing through the UI and the API: drafts, review, targeting, expiry, alerts,
polls and votes, bulk actions, and the school A / school B boundary."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.content_schemas import ItemCreate
from server.extensions import db
from server.models.audit import AuditEvent
from server.models.base import utcnow
from server.models.content import ContentItem
from server.models.orgs import Organisation
from server.schemas import GrantCreate, TokenCreate, UserCreate
from server.services import content, tokens, users
from server.services.context import system_ctx
from tests.conftest import PASSWORD, AuthActions, World, bearer, png_bytes

CM = "content_manager"


def _cm_token(world: World) -> dict[str, str]:
    return bearer(world.tokens[CM])


def _news(world: World, **extra: Any) -> dict[str, Any]:
    body = {"kind": "news", "org_id": world.ids["a"], "title": "Concert on Friday",
            "body": "<p>Hall, <b>18:00</b></p>", "target_org_ids": [world.ids["a"]]}
    body.update(extra)
    return body


def _make_person(app: Flask, name: str, role: str, org_id: int) -> str:
    """A person with role on org; returns an API token."""
    with app.test_request_context():
        ctx = system_ctx(db.session, "test")
        user = users.create_user(ctx, UserCreate(username=name, display_name=name,
                                                 password=PASSWORD, org_id=org_id))
        users.add_grant(ctx, user.id, GrantCreate(org_id=org_id, role=role))
        _, secret = tokens.create_token(ctx, user, TokenCreate(name="t"))
        db.session.commit()
    return secret


def _state(client: FlaskClient, world: World, item_id: int) -> str:
    r = client.get(f"/api/v1/content/{item_id}", headers=_cm_token(world))
    assert r.status_code == 200
    return str(r.get_json()["state"])


# --- the UI ---------------------------------------------------------------------------------

def test_news_with_image_from_form_to_screen(client: FlaskClient, world: World,
                                             auth: AuthActions) -> None:
    auth.login(CM)
    r = client.post("/content/new", data={
        "kind": "news", "org_id": world.ids["a"], "title": "Winter fair",
        "body": "<p>Bring <b>mittens</b></p><script>alert(1)</script>",
        "target_org_ids": [world.ids["a"]], "target_groups": "Lobby, canteen",
        "target_mode": "any", "duration": "12", "priority": "1",
        "file": (__import__("io").BytesIO(png_bytes((800, 600))), "fair.png"),
    }, content_type="multipart/form-data")
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Winter fair" in html and "Draft" in html
    item_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    assert client.post(f"/content/{item_id}/publish").status_code == 302
    listing = client.get("/content/?state=published").get_data(as_text=True)
    assert "Winter fair" in listing
    preview = client.get(f"/content/{item_id}/preview").get_data(as_text=True)
    assert "<b>mittens</b>" in preview and "<script" not in preview
    src = re.search(r'class="news-image" src="([^"]+)"', preview)
    assert src, preview
    image = client.get(src.group(1))
    image.close()
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    out = client.get(f"/api/v1/content/{item_id}", headers=_cm_token(world)).get_json()
    assert out["target_groups"] == ["canteen", "lobby"]
    assert out["duration"] == 12 and out["state"] == "published"


def test_form_errors_are_shown_next_to_fields(app: Flask, client: FlaskClient, world: World,
                                              auth: AuthActions) -> None:
    auth.login(CM)
    r = client.post("/content/new", data={
        "kind": "link", "org_id": world.ids["a"], "title": "", "url": "javascript:alert(1)",
        "starts_at": "2026-13-45T99:00", "duration": "1"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    for field in ("title", "url", "starts_at", "duration"):
        assert f'id="err-{field}"' in html, field
    with app.app_context():
        assert db.session.query(ContentItem).filter_by(kind="link").count() == 0


def test_every_kind_can_be_written_in_the_ui(client: FlaskClient, world: World,
                                             auth: AuthActions) -> None:
    auth.login(CM)
    a = world.ids["a"]
    forms: dict[str, dict[str, Any]] = {
        "poll": {"title": "Which club?", "options": ["Chess", "Robots", ""]},
        "link": {"title": "School site", "url": "https://school9.example.ru/"},
        "qa": {"title": "FAQ", "qa_question": ["When is lunch?", ""],
               "qa_answer": ["12:40", ""]},
        "media": {"title": "Poster", "fit": "cover", "caption": None},
    }
    for kind, fields in forms.items():
        data = {"kind": kind, "org_id": a, "target_org_ids": [a], **fields}
        data.pop("caption", None)
        if kind == "media":
            data["file"] = (__import__("io").BytesIO(png_bytes((320, 200))), "p.png")
        r = client.post("/content/new", data=data, content_type="multipart/form-data")
        assert r.status_code == 302, (kind, r.get_data(as_text=True)[:3000])
        show = client.get(r.headers["Location"])
        assert show.status_code == 200
    link = client.get("/content/?kind=link").get_data(as_text=True)
    assert "School site" in link and "Which club?" not in link


def test_qr_code_for_a_link_is_an_svg(client: FlaskClient, world: World) -> None:
    h = _cm_token(world)
    r = client.post("/api/v1/content", headers=h, json={
        "kind": "link", "org_id": world.ids["a"], "title": "Menu",
        "url": "https://example.org/menu", "target_org_ids": [world.ids["a"]]})
    assert r.status_code == 201
    AuthActions(client).login(CM)
    qr = client.get(f"/content/{r.get_json()['id']}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    # a standalone SVG document (an <img> shows nothing without the namespace)
    assert qr.data.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"') and b"<path" in qr.data


def test_a_news_line_runs_in_the_ticker(app: Flask, client: FlaskClient, world: World,
                                        auth: AuthActions) -> None:
    auth.login(CM)
    a = world.ids["a"]
    form = {"kind": "news", "org_id": a, "target_org_ids": [a], "zone": "ticker",
            "title": "Canteen closes at 15:00 today"}
    r = client.post("/content/new", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    item_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    edit = client.get(f"/content/{item_id}/edit").get_data(as_text=True)
    assert '<option value="ticker" selected>' in edit
    h = _cm_token(world)
    assert client.get(f"/api/v1/content/{item_id}", headers=h).get_json()["zone"] == "ticker"
    client.post(f"/api/v1/content/{item_id}/publish", headers=h)
    with app.test_request_context():
        from server.models.displays import Display
        from server.services import displays

        screen = db.session.get(Display, world.tt["display_a"])
        assert screen is not None
        doc = displays.build_for(db.session, screen, utcnow())
    assert [(i["title"], i["zone"]) for i in doc["items"] if i["id"] == item_id] == [
        ("Canteen closes at 15:00 today", "ticker")]
    # Only text runs along the bottom: a poll in the ticker is refused at its field.
    r = client.post("/api/v1/content", headers=h, json={
        "kind": "poll", "org_id": a, "title": "Club?", "options": ["A", "B"], "zone": "ticker",
        "target_org_ids": [a]})
    assert r.status_code == 422 and r.get_json()["fields"][0]["field"] == "zone"


# --- review ---------------------------------------------------------------------------------

def _require_review(app: Flask, org_id: int) -> None:
    with app.app_context():
        org = db.session.get(Organisation, org_id)
        assert org is not None
        org.requires_review = True
        db.session.commit()


def test_review_required_above_the_author_waits_for_approval(
        app: Flask, client: FlaskClient, world: World) -> None:
    _require_review(app, world.ids["muni"])
    muni_cm = {"Authorization": f"Bearer {_make_person(app, 'muni-cm', CM, world.ids['muni'])}",
               "Accept-Language": "en"}
    h = _cm_token(world)
    item_id = client.post("/api/v1/content", headers=h, json=_news(world)).get_json()["id"]
    assert client.post(f"/api/v1/content/{item_id}/publish", headers=h).get_json()[
        "state"] == "review"
    # the school's manager cannot approve their own item
    assert client.post(f"/api/v1/content/{item_id}/approve", headers=h).status_code == 403
    r = client.post(f"/api/v1/content/{item_id}/reject", headers=muni_cm,
                    json={"reason": "Say which hall"})
    assert r.status_code == 200 and r.get_json()["state"] == "draft"
    assert r.get_json()["review_note"] == "Say which hall"
    client.post(f"/api/v1/content/{item_id}/publish", headers=h)
    r = client.post(f"/api/v1/content/{item_id}/approve", headers=muni_cm)
    assert r.get_json()["state"] == "published" and r.get_json()["review_note"] is None
    # changing a published item without the right to publish sends it back to review
    r = client.put(f"/api/v1/content/{item_id}", headers=h,
                   json={k: v for k, v in _news(world, title="Concert moved").items()
                         if k not in ("kind", "org_id")})
    assert r.get_json()["state"] == "review"
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert {"content.submit", "content.reject", "content.approve"} <= set(actions)


def test_without_review_the_manager_publishes_directly(client: FlaskClient,
                                                       world: World) -> None:
    h = _cm_token(world)
    item_id = client.post("/api/v1/content", headers=h, json=_news(world)).get_json()["id"]
    assert client.post(f"/api/v1/content/{item_id}/publish", headers=h).get_json()[
        "state"] == "published"


# --- targeting and scope --------------------------------------------------------------------

def test_school_manager_cannot_reach_outside_the_school(client: FlaskClient,
                                                        world: World) -> None:
    h = _cm_token(world)
    r = client.post("/api/v1/content", headers=h, json=_news(world, target_org_ids=[
        world.ids["a"], world.ids["b"]]))
    assert r.status_code == 422
    assert r.get_json()["fields"][0]["field"] == "target_org_ids"
    r = client.post("/api/v1/content", headers=h, json=_news(world, org_id=world.ids["b"],
                                                             target_org_ids=[world.ids["b"]]))
    assert r.status_code == 403
    titles = [i["title"] for i in client.get("/api/v1/content", headers=h).get_json()["items"]]
    assert "News of school A" in titles and "News of school B" not in titles
    r = client.post("/api/v1/content", headers=h, json={
        **_news(world, kind="media"), "media_id": None})
    assert r.status_code == 422
    # media of school B cannot be put on an item of school A
    b_news = client.get(f"/api/v1/content/{world.items['news_a']}", headers=h).get_json()
    assert b_news["media"]["sha256"] == world.media["media_a"]


def test_media_of_another_school_cannot_be_used(app: Flask, client: FlaskClient,
                                                world: World) -> None:
    with app.app_context():
        b_item = db.session.get(ContentItem, world.items["news_b"])
        assert b_item is not None
        b_media = b_item.media_id
    r = client.post("/api/v1/content", headers=_cm_token(world),
                    json=_news(world, media_id=b_media))
    assert r.status_code == 422 and r.get_json()["fields"][0]["field"] == "media_id"


def test_municipal_manager_targets_every_school_at_once(app: Flask, client: FlaskClient,
                                                        world: World) -> None:
    muni = {"Authorization": f"Bearer {_make_person(app, 'muni-cm', CM, world.ids['muni'])}",
            "Accept-Language": "en"}
    r = client.post("/api/v1/content", headers=muni, json=_news(
        world, org_id=world.ids["muni"], target_org_ids=[world.ids["muni"]]))
    assert r.status_code == 201
    item_id = r.get_json()["id"]
    from content.publication import Display, targets_display
    with app.app_context():
        item = db.session.get(ContentItem, item_id)
        assert item is not None
        rule = content.to_rule_item(item)
        paths = {k: db.session.get(Organisation, world.ids[k]).path  # type: ignore[union-attr]
                 for k in ("a1", "b1")}
    for key in ("a1", "b1"):
        assert targets_display(rule, Display(paths[key], frozenset(), "Asia/Yekaterinburg"))
    # the school's manager sees the municipality's item nowhere in their list
    titles = [i["title"] for i in client.get("/api/v1/content", headers=_cm_token(world))
              .get_json()["items"]]
    assert "Concert on Friday" not in titles


def test_groups_and_organisations_intersected(client: FlaskClient, world: World) -> None:
    r = client.post("/api/v1/content", headers=_cm_token(world), json=_news(
        world, target_groups=["canteen"], target_mode="all"))
    assert r.status_code == 201 and r.get_json()["target_mode"] == "all"
    r = client.post("/api/v1/content", headers=_cm_token(world), json=_news(
        world, target_org_ids=[], target_groups=["canteen"], target_mode="all"))
    assert r.status_code == 422 and r.get_json()["fields"][0]["field"] == "target_mode"


# --- windows, expiry, archive, bulk ----------------------------------------------------------

def test_items_expire_by_themselves(client: FlaskClient, world: World) -> None:
    h = _cm_token(world)
    now = datetime.now(UTC)
    item_id = client.post("/api/v1/content", headers=h, json=_news(
        world, starts_at=(now - timedelta(hours=2)).isoformat(),
        ends_at=(now + timedelta(seconds=1)).isoformat())).get_json()["id"]
    client.post(f"/api/v1/content/{item_id}/publish", headers=h)
    later = client.post("/api/v1/content", headers=h, json=_news(
        world, title="Next week", starts_at=(now + timedelta(days=7)).isoformat())
    ).get_json()["id"]
    client.post(f"/api/v1/content/{later}/publish", headers=h)
    assert _state(client, world, later) == "scheduled"
    import time
    time.sleep(1.2)
    assert _state(client, world, item_id) == "expired"
    expired = client.get("/api/v1/content?state=expired", headers=h).get_json()["items"]
    assert [i["id"] for i in expired] == [item_id]


def test_naive_times_are_refused(client: FlaskClient, world: World) -> None:
    r = client.post("/api/v1/content", headers=_cm_token(world),
                    json=_news(world, starts_at="2026-11-25T08:00:00"))
    assert r.status_code == 422 and r.get_json()["fields"][0]["field"] == "starts_at"


def test_bulk_is_all_or_nothing(client: FlaskClient, world: World) -> None:
    h = _cm_token(world)
    ids = [world.items["alert_a"], world.items["poll_a"]]
    r = client.post("/api/v1/content/bulk", headers=h,
                    json={"ids": [*ids, world.items["poll_b"]], "action": "expire"})
    assert r.status_code == 403
    assert _state(client, world, world.items["poll_a"]) == "published"
    r = client.post("/api/v1/content/bulk", headers=h, json={"ids": ids, "action": "expire"})
    assert r.get_json() == {"changed": 2}
    assert _state(client, world, world.items["poll_a"]) == "expired"
    r = client.post("/api/v1/content/bulk", headers=h,
                    json={"ids": [*ids, world.items["news_a"]], "action": "archive"})
    assert r.get_json() == {"changed": 3}
    assert client.get("/api/v1/content", headers=h).get_json()["total"] == 0
    assert client.get("/api/v1/content?state=archived", headers=h).get_json()["total"] == 3


def test_bulk_in_the_ui(client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login(CM)
    r = client.post("/content/bulk", data={"ids": [world.items["poll_a"]], "action": "archive",
                                           "next": "https://evil.example/"})
    assert r.status_code == 302 and r.headers["Location"] == "/content/"
    assert "1 item(s) changed" in client.get("/content/").get_data(as_text=True)
    assert _state(client, world, world.items["poll_a"]) == "archived"


def test_duplicate_makes_a_new_draft(client: FlaskClient, world: World) -> None:
    h = _cm_token(world)
    r = client.post(f"/api/v1/content/{world.items['poll_a']}/duplicate", headers=h)
    assert r.status_code == 201
    copy = r.get_json()
    assert copy["state"] == "draft" and copy["title"].endswith("(copy)")
    assert [o["label"] for o in copy["options"]] == ["Yes", "No"]
    assert all(o["votes"] == 0 for o in copy["options"])
    assert copy["vote_url"] and copy["id"] != world.items["poll_a"]


def test_archived_items_cannot_change(client: FlaskClient, world: World) -> None:
    h = _cm_token(world)
    client.post(f"/api/v1/content/{world.items['news_a']}/archive", headers=h)
    r = client.put(f"/api/v1/content/{world.items['news_a']}", headers=h,
                   json={k: v for k, v in _news(world).items() if k not in ("kind", "org_id")})
    assert r.status_code == 422


# --- alerts -----------------------------------------------------------------------------------

def test_raise_and_withdraw_an_alert_is_one_step_each_and_audited(
        app: Flask, client: FlaskClient, world: World, auth: AuthActions) -> None:
    auth.login(CM)
    r = client.post("/content/alerts", data={
        "org_id": world.ids["a"], "title": "Fire drill at 11:00", "severity": "warning"})
    assert r.status_code == 302
    page = client.get("/content/alerts").get_data(as_text=True)
    assert "Fire drill at 11:00" in page
    h = _cm_token(world)
    active = client.get("/api/v1/alerts", headers=h).get_json()
    drill = next(a for a in active if a["title"] == "Fire drill at 11:00")
    assert drill["state"] == "published" and drill["target_org_ids"] == [world.ids["a"]]
    r = client.post(f"/content/{drill['id']}/expire", data={"next": "/content/alerts"})
    assert r.headers["Location"] == "/content/alerts"
    assert "Fire drill at 11:00" not in client.get("/content/alerts").get_data(as_text=True)
    with app.app_context():
        actions = [e.action for e in db.session.query(AuditEvent)
                   .where(AuditEvent.action.like("alert.%"))]
    assert actions.count("alert.raise") == 3 and actions.count("alert.withdraw") == 1


def test_alert_raised_under_review_still_goes_out_at_once(app: Flask, client: FlaskClient,
                                                         world: World) -> None:
    _require_review(app, world.ids["muni"])
    r = client.post("/api/v1/alerts", headers=_cm_token(world),
                    json={"org_id": world.ids["a"], "title": "School closed today"})
    assert r.status_code == 201 and r.get_json()["state"] == "published"
    r = client.post(f"/api/v1/alerts/{world.items['news_a']}/withdraw",
                    headers=_cm_token(world))
    assert r.status_code == 422


# --- polls and votes --------------------------------------------------------------------------

def test_vote_once_per_phone_and_live_results(client: FlaskClient, world: World,
                                              app: Flask) -> None:
    key = world.poll_keys["poll_a"]
    page = client.get(f"/vote/{key}")
    assert page.status_code == 200 and "Poll of school A" in page.get_data(as_text=True)
    option = int(re.findall(r'name="option_id" value="(\d+)"', page.get_data(as_text=True))[0])
    r = client.post(f"/vote/{key}", data={"option_id": option})
    assert r.status_code == 302
    assert "your vote has been counted" in client.get(f"/vote/{key}").get_data(as_text=True)
    again = client.post(f"/vote/{key}", data={"option_id": option})
    assert again.status_code == 422
    assert "voted in this poll already" in again.get_data(as_text=True)
    other_phone = app.test_client()
    other_phone.get(f"/vote/{key}")
    assert other_phone.post(f"/vote/{key}", data={"option_id": option}).status_code == 302
    out = client.get(f"/api/v1/content/{world.items['poll_a']}",
                     headers=_cm_token(world)).get_json()
    assert [o["votes"] for o in out["options"]] == [2, 0]
    AuthActions(client).login(CM)
    live = client.get(f"/content/{world.items['poll_a']}/results").get_json()
    assert live["total"] == 2


def test_a_closed_poll_takes_no_votes(client: FlaskClient, world: World) -> None:
    client.post(f"/api/v1/content/{world.items['poll_a']}/expire", headers=_cm_token(world))
    key = world.poll_keys["poll_a"]
    page = client.get(f"/vote/{key}").get_data(as_text=True)
    assert "This poll is closed" in page and 'name="option_id"' not in page
    assert client.post(f"/vote/{key}", data={"option_id": 1}).status_code == 422
    assert client.get("/vote/no-such-key").status_code == 404


@pytest.mark.parametrize("app_config", [{"VOTES_PER_ADDRESS": 2}])
def test_votes_from_one_address_are_rate_limited(app: Flask, world: World) -> None:
    key = world.poll_keys["poll_a"]
    statuses = []
    for _ in range(3):
        phone = app.test_client()
        html = phone.get(f"/vote/{key}").get_data(as_text=True)
        option = re.findall(r'name="option_id" value="(\d+)"', html)[0]
        statuses.append(phone.post(f"/vote/{key}", data={"option_id": option}).status_code)
    assert statuses == [302, 302, 429]


def test_poll_answers_are_fixed_once_people_voted(client: FlaskClient, world: World) -> None:
    key = world.poll_keys["poll_a"]
    html = client.get(f"/vote/{key}").get_data(as_text=True)
    client.post(f"/vote/{key}", data={"option_id": re.findall(
        r'name="option_id" value="(\d+)"', html)[0]})
    r = client.put(f"/api/v1/content/{world.items['poll_a']}", headers=_cm_token(world), json={
        "title": "Poll", "options": ["Yes", "No", "Maybe"], "target_org_ids": [world.ids["a"]]})
    assert r.status_code == 422 and r.get_json()["fields"][0]["field"] == "options"


def test_service_layer_refuses_unknown_organisation(app: Flask, world: World) -> None:
    with app.test_request_context():
        ctx = system_ctx(db.session, "test")
        from server.errors import Invalid
        with pytest.raises(Invalid):
            content.create_item(ctx, ItemCreate(kind="news", org_id=999_999, title="x",
                                                target_org_ids=[999_999]))


def test_every_content_page_speaks_russian(client: FlaskClient, world: World,
                                           auth: AuthActions) -> None:
    auth.login(CM)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "ru"
    pages = {
        "/content/": "Контент",
        "/content/alerts": "Объявить тревогу",
        "/content/media": "Картинки и видео",
        f"/content/{world.items['news_a']}": "Опубликовать",
        f"/content/{world.items['news_a']}/edit": "Полужирный",
        f"/content/{world.items['poll_a']}": "Результаты",
        f"/content/{world.items['poll_a']}/preview": "Наведите камеру",
        f"/content/{world.items['alert_a']}/preview": "Чрезвычайная ситуация",
        f"/vote/{world.poll_keys['poll_a']}": "Один голос с телефона",
    }
    for kind, word in (("news", "Полужирный"), ("poll", "Варианты ответа"),
                       ("link", "QR-кодом"), ("qa", "Вопросы и ответы"),
                       ("media", "Размещение на экране")):
        pages[f"/content/new?kind={kind}"] = word
    for url, word in pages.items():
        r = client.get(url)
        assert r.status_code == 200, url
        assert word in r.get_data(as_text=True), url


def test_items_can_follow_the_school_bells(client: FlaskClient, world: World,
                                           auth: AuthActions) -> None:
    r = client.post("/api/v1/content", json=_news(world, during="big_break"),
                    headers=_cm_token(world))
    assert r.status_code == 201, r.get_json()
    item_id = r.get_json()["id"]
    with client.application.app_context():
        item = db.session.get(ContentItem, item_id)
        assert item is not None
        assert content.to_rule_item(item).during == "big_break"
    auth.login(CM)
    page = client.get(f"/content/{item_id}").get_data(as_text=True)
    assert 'data-testid="during">in the big break<' in page
    form = client.get(f"/content/{item_id}/edit").get_data(as_text=True)
    assert '<option value="big_break" selected>' in form
    bad = client.post("/api/v1/content", json=_news(world, during="lunch"),
                      headers=_cm_token(world))
    assert bad.status_code == 422
    assert any(e["field"] == "during" for e in bad.get_json()["fields"])
