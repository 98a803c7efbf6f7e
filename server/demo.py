"""Realistic demo data: a region, a municipality, two schools, one person per role, their
content, timetables, pupils and cards."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from server.demo_content import seed_content
from server.demo_pupils import seed_pupils
from server.demo_timetable import seed_timetable
from server.models.orgs import Organisation
from server.schemas import GrantCreate, OrgCreate, UserCreate
from server.services import orgs, users
from server.services.context import Ctx, principal_for, system_ctx

DEMO_PASSWORD = "vitrina-demo"


@dataclass(frozen=True)
class DemoLogin:
    """A demo account to print: who, with which role, where."""

    username: str
    password: str
    role: str
    org_name: str


@dataclass
class DemoTree:
    """The nodes the demo creates, for later issues to hang their data on."""

    region: Organisation
    municipality: Organisation
    schools: list[Organisation]
    buildings: list[Organisation]


def seed_orgs(session: Session) -> DemoTree:
    """Create the demo organisation tree."""
    ctx = system_ctx(session, "demo")
    tz = "Asia/Yekaterinburg"
    region = orgs.create_root(ctx, "region", "Свердловская область", tz, "ru")
    city = orgs.create_org(ctx, OrgCreate(parent_id=region.id, kind="municipality",
                                          name="Екатеринбург", timezone=tz, locale="ru"))
    gym = orgs.create_org(ctx, OrgCreate(parent_id=city.id, kind="school",
                                         name="Гимназия № 9", timezone=tz, locale="ru"))
    school = orgs.create_org(ctx, OrgCreate(parent_id=city.id, kind="school",
                                            name="Школа № 41", timezone=tz, locale="ru"))
    buildings = [
        orgs.create_org(ctx, OrgCreate(parent_id=gym.id, kind="building",
                                       name="Главный корпус", timezone=tz, locale="ru")),
        orgs.create_org(ctx, OrgCreate(parent_id=gym.id, kind="building",
                                       name="Начальная школа", timezone=tz, locale="ru")),
        orgs.create_org(ctx, OrgCreate(parent_id=school.id, kind="building",
                                       name="Корпус на Ленина", timezone=tz, locale="ru")),
    ]
    return DemoTree(region, city, [gym, school], buildings)


def seed_demo(session: Session) -> list[DemoLogin]:
    """Create the demo tree and one account per role; returns the logins to print."""
    ctx = system_ctx(session, "demo")
    tree = seed_orgs(session)
    gym = tree.schools[0]
    people = [
        ("admin", "Ирина Петровна Соколова", "admin", tree.region),
        ("content", "Алексей Игоревич Новиков", "content_manager", gym),
        ("dispatcher", "Марина Сергеевна Ковалёва", "schedule_dispatcher", gym),
        ("cards", "Ольга Викторовна Лебедева", "card_admin", gym),
        ("viewer", "Дмитрий Андреевич Морозов", "viewer", tree.municipality),
    ]
    logins = []
    author = dispatcher = cards = None
    for username, name, role, org in people:
        user = users.create_user(ctx, UserCreate(username=username, display_name=name,
                                                 password=DEMO_PASSWORD, org_id=org.id))
        users.add_grant(ctx, user.id, GrantCreate(org_id=org.id, role=role))
        logins.append(DemoLogin(username, DEMO_PASSWORD, role, org.name))
        if role == "content_manager":
            author = principal_for(session, user)
        if role == "schedule_dispatcher":
            dispatcher = principal_for(session, user)
        if role == "card_admin":
            cards = principal_for(session, user)
    session.flush()
    author_ctx = Ctx(session=session, principal=author, actor_name="content")
    seed_content(session, author_ctx, gym, [b for b in tree.buildings if b.parent_id == gym.id])
    dispatcher_ctx = Ctx(session=session, principal=dispatcher, actor_name="dispatcher")
    for school in tree.schools:
        seed_timetable(dispatcher_ctx if school is gym else ctx, school,
                       [b for b in tree.buildings if b.parent_id == school.id])
    cards_ctx = Ctx(session=session, principal=cards, actor_name="cards")
    seed_pupils(session, cards_ctx, [gym], Path(current_app.instance_path))
    seed_pupils(session, ctx, tree.schools[1:], Path(current_app.instance_path), first=1)
    session.commit()
    return logins
