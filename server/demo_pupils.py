"""Demo pupils: each demo school's register and card list, with the usual problems planted.

Last month's register and card list are applied (Vitrina knows the pupils); today's
register and card list are planned as a dry run the card administrator opens first:
pupils who left with their cards still active, a surname change, a class transfer,
newcomers without cards, one child entered twice, one child with two active cards,
a card without a register ID whose holder has a Latin letter in the name, a card
naming an ID nobody has. The files are also written to the instance folder
(`demo-sync/<school>/`), one register in Windows-1251, to try an upload by hand.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from server.models.orgs import Organisation
from server.services import pupil_sync
from server.services.context import Ctx

MALE = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов",
        "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев",
        "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев"]
BOYS = ["Александр", "Дмитрий", "Максим", "Иван", "Артём", "Михаил", "Даниил", "Кирилл",
        "Егор", "Матвей", "Тимофей", "Лев", "Марк", "Илья", "Роман"]
GIRLS = ["Мария", "Анна", "Софья", "Алиса", "Виктория", "Полина", "Елизавета", "Варвара",
         "Ксения", "Дарья", "Вероника", "Василиса", "Ева", "Милана", "Ульяна"]
REGISTER_HEADER = ["ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Статус",
                   "Дата выбытия", "Согласие на фото"]
CARD_HEADER = ["Номер карты", "ID ученика", "Статус", "Дата выдачи", "Фамилия", "Имя",
               "Отчество", "Дата рождения", "Класс"]


#: Fathers' names and the patronymics they give a son and a daughter.
FATHERS = {"Александр": ("Александрович", "Александровна"),
           "Сергей": ("Сергеевич", "Сергеевна"), "Андрей": ("Андреевич", "Андреевна"),
           "Алексей": ("Алексеевич", "Алексеевна"), "Дмитрий": ("Дмитриевич", "Дмитриевна"),
           "Игорь": ("Игоревич", "Игоревна"), "Олег": ("Олегович", "Олеговна"),
           "Павел": ("Павлович", "Павловна"), "Денис": ("Денисович", "Денисовна"),
           "Евгений": ("Евгеньевич", "Евгеньевна"), "Владимир": ("Владимирович",
                                                                 "Владимировна"),
           "Николай": ("Николаевич", "Николаевна")}


def _register(rng: random.Random, prefix: str, count: int, today: date) -> list[list[str]]:
    rows = []
    for n in range(count):
        girl = rng.random() < 0.5
        surname = rng.choice(MALE) + ("а" if girl else "")
        grade = rng.randrange(1, 12)
        birth = date(today.year - grade - 7, 1, 1) + timedelta(days=rng.randrange(365))
        rows.append([f"{prefix}-{n + 1:04d}", surname, rng.choice(GIRLS if girl else BOYS),
                     FATHERS[rng.choice(sorted(FATHERS))][1 if girl else 0],
                     birth.strftime("%d.%m.%Y"),
                     f"{grade}{rng.choice('АБВ')}", "обучается", "",
                     "да" if rng.random() < 0.8 else "нет"])
    return rows


def _card_of(row: list[str], number: str, issued: date) -> list[str]:
    return [number, row[0], "активна", issued.strftime("%d.%m.%Y"), *row[1:6]]


def _csv(header: list[str], rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def seed_pupils(session: Session, ctx: Ctx, schools: list[Organisation],
                folder: Path | None = None, today: date | None = None,
                first: int = 0) -> list[int]:
    """Apply last month's files and plan today's for each school (the first school of the
    demo is number 0); return the planned runs."""
    today = today or date.today()
    runs = []
    for index, school in enumerate(schools, start=first):
        rng = random.Random(41 + index)
        prefix = "G9" if index == 0 else "S41"
        before = _register(rng, prefix, 420 if index == 0 else 300, today)
        issued = today - timedelta(days=80)
        cards_before = [_card_of(r, f"{index + 1}{n:06d}", issued) for n, r in enumerate(before)]
        for row in before[-12:]:              # newcomers of last month, without cards yet
            cards_before = [c for c in cards_before if c[1] != row[0]]
        encoding = "cp1251" if index == 0 else "utf-8-sig"
        first = pupil_sync.plan_run(ctx, school.id,
                                    ("register-last-month.csv",
                                     _csv(REGISTER_HEADER, before, encoding)),
                                    ("cards-last-month.csv",
                                     _csv(CARD_HEADER, cards_before, "utf-8-sig")))
        session.flush()
        pupil_sync.apply_run(ctx, first.id)
        session.flush()
        now = [list(r) for r in before]
        left_on = (today - timedelta(days=30)).strftime("%d.%m.%Y")
        for row in now[:5]:                   # left a month ago; cards still active
            row[6], row[7] = "выбыл", left_on
        now[10][1] = "Орлова" if now[10][1].endswith("а") else "Орлов"   # a new surname
        now[11][5] = "9Б" if now[11][5] != "9Б" else "9А"                # a class transfer
        twin = list(now[20])                                              # entered twice
        twin[0] = f"{prefix}-{len(now) + 1:04d}"
        twin[1] = twin[1].upper()
        now.append(twin)
        newcomers = _register(rng, prefix + "N", 6, today)
        now.extend(newcomers)
        cards_now = [list(c) for c in cards_before]
        cards_now.append(_card_of(now[30], f"{index + 1}900001", today - timedelta(days=3)))
        stray = _card_of(newcomers[0], f"{index + 1}900002", today - timedelta(days=2))
        stray[1] = ""                                                     # no register ID …
        stray[4] = stray[4].replace("о", "o", 1)                          # … and a Latin "o"
        cards_now.append(stray)
        ghost = [f"{index + 1}900003", f"{prefix}-9999", "активна",
                 issued.strftime("%d.%m.%Y"), "Неизвестный", "Пётр", "", "01.01.2012", "5А"]
        cards_now.append(ghost)
        register_now = _csv(REGISTER_HEADER, now, encoding)
        cards_data = _csv(CARD_HEADER, cards_now, "utf-8-sig")
        run = pupil_sync.plan_run(ctx, school.id, ("register.csv", register_now),
                                  ("cards.csv", cards_data))
        runs.append(run.id)
        if folder is not None:
            target = folder / "demo-sync" / prefix
            target.mkdir(parents=True, exist_ok=True)
            (target / "register.csv").write_bytes(register_now)
            (target / "cards.csv").write_bytes(cards_data)
    return runs
