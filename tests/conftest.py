"""Shared fixtures: a migrated database per test (SQLite or PostgreSQL), app, client, world."""

from __future__ import annotations

import copy
import io
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import Integer, create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from server.app import create_app
from server.content_schemas import AlertRaise, ItemCreate
from server.extensions import db
from server.migrate import upgrade
from server.models.base import Base
from server.schemas import GrantCreate, OrgCreate, TokenCreate, UserCreate
from server.services import content, displays, media, orgs, tokens, users
from server.services import timetable as tts
from server.services.context import system_ctx
from server.timetable_schemas import (
    BellsIn,
    CalendarEntryIn,
    ChangeIn,
    EventIn,
    FeedIn,
    LessonIn,
    RoomIn,
)

PG_URL = os.environ.get("VITRINA_TEST_DATABASE_URL", "")
PASSWORD = "correct-horse-1"
ROLES = ("admin", "content_manager", "schedule_dispatcher", "card_admin", "viewer")

BASE_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    # Argon2 at its cheapest: tests hash many passwords; production uses the defaults.
    "PASSWORD_TIME_COST": 1,
    "PASSWORD_MEMORY_COST": 1024,
    "DEFAULT_LOCALE": "en",
}


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _pg_worker_url() -> str:
    url = make_url(PG_URL)
    name = f"{url.database}_{_worker()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\''))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated database: a SQLite file to copy, or a PostgreSQL URL."""
    if PG_URL:
        url = _pg_worker_url()
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade(engine)
        engine.dispose()
        return url
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return str(path)


_PG_ENGINES: dict[str, Any] = {}


def _empty_pg(url: str) -> None:
    """Every table emptied and every sequence back at 1: DELETE, not TRUNCATE, which costs
    far more per table than the few rows a test leaves."""
    engine = _PG_ENGINES.get(url)
    if engine is None:
        engine = _PG_ENGINES[url] = create_engine(url, pool_size=1)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
        conn.execute(text(
            "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'S' AND n.nspname = 'public'"))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for engine in _PG_ENGINES.values():
        engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> Iterator[str]:
    """An empty, migrated database for one test."""
    if PG_URL:
        _empty_pg(database_template)
        yield database_template
        return
    target = tmp_path / "vitrina.db"
    shutil.copyfile(database_template, target)
    yield f"sqlite:///{target}"


class EnglishClient(FlaskClient):
    """A test client whose browser asks for English unless a test says otherwise."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")


def make_app(database_url: str, tmp_path: Path, **overrides: Any) -> Flask:
    """A test app on database_url with an instance folder under tmp_path."""
    instance = tmp_path / "instance"
    instance.mkdir(exist_ok=True)
    cfg = {**BASE_CONFIG, "DATABASE_URL": database_url,
           "MEDIA_DIR": str(instance / "media"), "PHOTO_DIR": str(instance / "photos"),
           **overrides}
    application = create_app(test_config=cfg, instance_path=str(instance))
    application.test_client_class = EnglishClient
    return application


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Overrides of the test configuration; tests redefine this fixture to change it."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    """A Vitrina app on a fresh database."""
    application = make_app(database_url, tmp_path, **app_config)
    yield application
    application.extensions["vitrina.manifests"].watcher.stop()
    application.extensions["vitrina.db"].engine.dispose()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve app over real HTTP on a free loopback port for the length of one test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    server.server_close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    """A CLI runner of app."""
    return app.test_cli_runner()


@dataclass
class World:
    """A small tree with one person per role in school A, a region admin, and a viewer
    in each school (member_a, member_b) to be the object of user routes.

    region R ─ municipality M ─┬ school A ─ building A1
                               └ school B ─ building B1
    """

    ids: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    grants: dict[str, int] = field(default_factory=dict)
    token_ids: dict[str, int] = field(default_factory=dict)
    #: Content of each school: news_a/news_b (drafts with an image), poll_a/poll_b and
    #: alert_a/alert_b (on screen); media_a/media_b are the images' SHA-256.
    items: dict[str, int] = field(default_factory=dict)
    media: dict[str, str] = field(default_factory=dict)
    poll_keys: dict[str, str] = field(default_factory=dict)
    #: Timetable of each school (bells, a term, 7Б with lessons, 8А, a change, an event, a
    #: calendar entry, a feed): lesson_a, change_a, event_a, entry_a, feed_a (ids) and
    #: feed_token_a / feed_token_b.
    tt: dict[str, Any] = field(default_factory=dict)


def build_world(app: Flask) -> World:
    """Create the World's organisations, people, grants and API tokens."""
    w = World()
    with app.app_context(), app.test_request_context():
        s = db.session
        ctx = system_ctx(s, "test")
        tz = "Asia/Yekaterinburg"
        region = orgs.create_root(ctx, "region", "Region R", tz, "ru")
        muni = orgs.create_org(ctx, OrgCreate(parent_id=region.id, kind="municipality",
                                              name="Municipality M", timezone=tz))
        a = orgs.create_org(ctx, OrgCreate(parent_id=muni.id, kind="school", name="School A",
                                           timezone=tz))
        b = orgs.create_org(ctx, OrgCreate(parent_id=muni.id, kind="school", name="School B",
                                           timezone=tz))
        a1 = orgs.create_org(ctx, OrgCreate(parent_id=a.id, kind="building", name="Building A1",
                                            timezone=tz))
        b1 = orgs.create_org(ctx, OrgCreate(parent_id=b.id, kind="building", name="Building B1",
                                            timezone=tz))
        w.ids = {"region": region.id, "muni": muni.id, "a": a.id, "b": b.id, "a1": a1.id,
                 "b1": b1.id}
        people = [(role, role, a.id) for role in ROLES] + [
            ("root_admin", "admin", region.id),
            ("member_a", "viewer", a.id), ("member_b", "viewer", b.id)]
        for name, role, org_id in people:
            user = users.create_user(ctx, UserCreate(
                username=username_of(name), display_name=f"{name} person",
                password=PASSWORD, org_id=org_id))
            w.users[name] = user.id
            grant = users.add_grant(ctx, user.id, GrantCreate(org_id=org_id, role=role))
            w.grants[name] = grant.id
            token, secret = tokens.create_token(ctx, user, TokenCreate(name="test"))
            w.tokens[name] = secret
            w.token_ids[name] = token.id
        for side, school in (("a", a), ("b", b)):
            _school_content(ctx, w, side, school.id)
            _school_timetable(ctx, w, side, school)
            _school_pupils(ctx, w, side, school.id)
        s.commit()
    return w


def png_bytes(size: tuple[int, int] = (64, 48), color: str = "#3366cc") -> bytes:
    """A small real PNG image."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def _school_content(ctx: Any, w: World, side: str, org_id: int) -> None:
    color = "#3366cc" if side == "a" else "#cc6633"
    asset = media.upload(ctx, org_id, f"picture-{side}.png", png_bytes(color=color))
    w.media[f"media_{side}"] = asset.sha256
    news = content.create_item(ctx, ItemCreate(
        kind="news", org_id=org_id, title=f"News of school {side.upper()}",
        body="<p>Hello</p>", media_id=asset.id, target_org_ids=[org_id]))
    poll = content.create_item(ctx, ItemCreate(
        kind="poll", org_id=org_id, title=f"Poll of school {side.upper()}",
        options=["Yes", "No"], target_org_ids=[org_id]))
    content.publish_item(ctx, poll.id)
    alert = content.raise_alert(ctx, AlertRaise(org_id=org_id, title=f"Alert {side.upper()}"))
    w.items.update({f"news_{side}": news.id, f"poll_{side}": poll.id,
                    f"alert_{side}": alert.id})
    w.poll_keys[f"poll_{side}"] = poll.public_key or ""


#: A small register and card list of each test school.
TEST_REGISTER = ("ID;Фамилия;Имя;Дата рождения;Класс\n"
                 "{s}1;Иванов;Пётр;02.03.2014;7Б\n{s}2;Смирнова;Анна;09.07.2013;8А\n")
TEST_CARDS = "Номер карты;ID ученика;Статус\n{s}-0001;{s}1;активна\n"


def _school_pupils(ctx: Any, w: World, side: str, org_id: int) -> None:
    """A planned (not applied) sync run of the school, and a pupil with a photo."""
    from server.models.pupils import PupilRow
    from server.services import photo_batches, photos, pupil_sync
    from sync.photo_batch import Member

    run = pupil_sync.plan_run(ctx, org_id,
                              ("register.csv", TEST_REGISTER.format(s=side.upper()).encode()),
                              ("cards.csv", TEST_CARDS.format(s=side.upper()).encode()))
    w.tt[f"run_{side}"] = run.id
    pupil = PupilRow(school_id=org_id, register_id=f"{side.upper()}9", surname="Орлова",
                     first_name="Вера", status="enrolled", consent_given=True)
    ctx.session.add(pupil)
    ctx.session.flush()
    w.tt[f"pupil_{side}"] = pupil.id
    w.tt[f"photo_{side}"] = photos.add_photo(ctx, pupil, png_bytes((300, 400))).photo.id
    batch = photo_batches.start_batch(ctx, org_id, "photos.zip", [
        Member(f"{side.upper()}9.png", png_bytes((300, 400))), Member("notes.txt", b"")])
    photo_batches.check(ctx, batch)
    w.tt[f"batch_{side}"] = batch.id


#: Bells of the test schools.
TEST_BELLS = "1 08:30-09:15\n2 09:25-10:10\n3 10:30-11:15\n4 11:25-12:10\n5 12:20-13:05"


def next_monday() -> date:
    """The Monday after today (in any time zone the tests use, a school day)."""
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def _school_timetable(ctx: Any, w: World, side: str, school: Any) -> None:
    """Bells, a long term, 7Б and 8А lessons, a change next Monday, an event and a feed."""
    tts.save_bells(ctx, school, BellsIn(key="normal", name="Normal", periods=TEST_BELLS))
    tts.add_calendar_entry(ctx, school, CalendarEntryIn(
        kind="term", first=date.today() - timedelta(days=400),
        last=date.today() + timedelta(days=400)))
    entry = tts.add_calendar_entry(ctx, school, CalendarEntryIn(
        kind="holiday", first=date.today() + timedelta(days=500), name="Far away"))
    lessons = [
        LessonIn(weekday=0, period=1, group="7Б", subject="Maths", teacher="Ivanova",
                 room="204"),
        LessonIn(weekday=0, period=2, group="7Б", subject="Russian", teacher="Petrov",
                 room="205"),
        LessonIn(weekday=0, period=1, group="8А", subject="History", teacher="Sidorova",
                 room="301"),
        LessonIn(weekday=0, period=2, group="8А", subject="Physics", teacher="Smith",
                 room="302"),
    ]
    tts.add_classes(ctx, school, "7Б, 8А")
    tts.save_room(ctx, school, RoomIn(key="303", name="Spare room", floor=3))
    rows = [tts.save_lesson(ctx, school, lesson) for lesson in lessons]
    change, _conflicts = tts.add_change(ctx, school, ChangeIn(
        date=next_monday(), kind="room_move", group="7Б", period=2, room="303",
        note="205 is being painted"))
    event = tts.add_event(ctx, school, EventIn(
        title=f"Concert {side.upper()}", starts_at=datetime.now(UTC) + timedelta(days=3)))
    feed, token = tts.create_feed(ctx, school, FeedIn(target_kind="class", target_key="7Б"))
    screen, _token = displays.create_with_token(ctx, {
        "org_id": school.id, "name": f"Lobby {side.upper()}", "groups": ["lobby"]})
    w.tt[f"display_{side}"] = screen.id
    w.tt.update({f"group_{side}": rows[0].group_id, f"lesson_{side}": rows[0].id,
                 f"change_{side}": change.id,
                 f"event_{side}": event.id, f"entry_{side}": entry.id,
                 f"feed_{side}": feed.id, f"feed_token_{side}": token})


@dataclass
class WorldSnapshot:
    """The World built once per test process: its database (a SQLite file, or every
    table's rows on PostgreSQL) and its instance files (media, photos)."""

    world: World
    instance: Path
    media: Path
    photos: Path
    db_file: Path | None = None
    rows: dict[str, list[dict[str, Any]]] | None = None


@pytest.fixture(scope="session")
def world_snapshot(database_template: str,
                   tmp_path_factory: pytest.TempPathFactory) -> WorldSnapshot:
    """Building the World takes most of a small test's time (passwords, a sync plan,
    photos); it is built once and copied into each test that asks for it."""
    root = tmp_path_factory.mktemp("world")
    if PG_URL:
        _empty_pg(database_template)
        url = database_template
    else:
        db_file = root / "vitrina.db"
        shutil.copyfile(database_template, db_file)
        url = f"sqlite:///{db_file}"
    application = make_app(url, root)
    built = build_world(application)
    with application.app_context():
        rows = None
        if PG_URL:
            with db.engine.connect() as conn:
                rows = {t.name: [dict(r) for r in conn.execute(t.select()).mappings()]
                        for t in Base.metadata.sorted_tables}
        else:
            with db.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        db.engine.dispose()
    if PG_URL:
        _empty_pg(url)      # the test that asked first restores it into an empty database
    return WorldSnapshot(built, root / "instance", Path(application.config["MEDIA_DIR"]),
                         Path(application.config["PHOTO_DIR"]),
                         None if PG_URL else root / "vitrina.db", rows)




def restore_world(app: Flask, snapshot: WorldSnapshot) -> World:
    """Put the snapshot's database and files into app (whose database is empty)."""
    with app.app_context():
        db.engine.dispose()
        if snapshot.db_file is not None:
            target = Path(make_url(app.config["DATABASE_URL"]).database or "")
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(snapshot.db_file, target)
        else:
            assert snapshot.rows is not None
            with db.engine.begin() as conn:
                for table in Base.metadata.sorted_tables:
                    found = snapshot.rows.get(table.name)
                    if found:
                        conn.execute(table.insert(), found)
                for table in Base.metadata.sorted_tables:
                    if "id" in table.c and isinstance(table.c.id.type, Integer) and \
                            snapshot.rows.get(table.name):
                        # Table names come from our own metadata, not from input.
                        conn.execute(text(
                            f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', "  # noqa: S608
                            f"'id'), (SELECT MAX(id) FROM \"{table.name}\"))"))
            db.engine.dispose()
    for source, target_dir in ((snapshot.media, app.config["MEDIA_DIR"]),
                               (snapshot.photos, app.config["PHOTO_DIR"])):
        if source.exists():
            shutil.copytree(source, target_dir, dirs_exist_ok=True)
    return copy.deepcopy(snapshot.world)


@pytest.fixture
def world(app: Flask, world_snapshot: WorldSnapshot) -> World:
    """The standard tree and people (see World), as built once for the session."""
    return restore_world(app, world_snapshot)


def username_of(role: str) -> str:
    """The World's user name for a role key."""
    return role.replace("_", "-")


class AuthActions:
    """Sign the test client in and out."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, who: str = "admin", password: str = PASSWORD) -> Any:
        """Sign in as the World's person `who` (a role key such as content_manager)."""
        return self._client.post("/login", data={"username": username_of(who),
                                                 "password": password},
                                 headers={"Accept-Language": "en"})

    def logout(self) -> Any:
        """Sign out."""
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Sign-in helper for client."""
    return AuthActions(client)


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for an API token (answers in English)."""
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
