"""The pupil-card sync at municipal scale, measured in one run.

A generated register of BENCH_PUPILS pupils (100,000 by default) and a card list with a
card for each, then the same files with 1 % changes (class transfers, surname changes,
leavers, newcomers). Measured: reading both files, planning, applying (first import
and the 1 % change, on SQLite in a fresh instance), and a no-change re-run (which must
write nothing). The baseline, in the same run: merely parsing the same two files with
the `csv` module. The parse and the plans are timed three times each (the median
shown): timings on a shared machine vary by a third from one run to the next. Targets
(issue 7): plan+apply of the change under 10 s, the no-change re-run under 3 s with zero
writes, the plan within 3x of the bare parse.
"""

from __future__ import annotations

import csv
import gc
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PUPILS = int(os.environ.get("BENCH_PUPILS", "100000"))

SURNAMES = ["Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов",
            "Михайлов", "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев"]
FIRST = ["Александр", "Мария", "Дмитрий", "Анна", "Максим", "Софья", "Иван", "Алиса",
         "Артём", "Виктория", "Михаил", "Полина", "Даниил", "Елизавета"]
PATRONYMIC = ["Сергеевич", "Андреевна", "Игоревич", "Олеговна", "Павлович", "Денисовна"]


def generate(n: int, seed: int = 7) -> tuple[list[list[str]], list[list[str]]]:
    rng = random.Random(seed)
    pupils, cards = [], []
    for i in range(n):
        birth = date(2008, 1, 1) + timedelta(days=rng.randrange(11 * 365))
        row = [f"R{i:06d}", rng.choice(SURNAMES) + ("а" if i % 2 else ""), rng.choice(FIRST),
               rng.choice(PATRONYMIC), birth.strftime("%d.%m.%Y"),
               f"{rng.randrange(1, 12)}{rng.choice('АБВГ')}", "обучается"]
        pupils.append(row)
        cards.append([f"{i:08d}", row[0], "активна", row[1], row[2], row[3], row[4], row[5]])
    return pupils, cards


def change(pupils: list[list[str]], share: float = 0.01, seed: int = 8) -> list[list[str]]:
    rng = random.Random(seed)
    out = [list(r) for r in pupils]
    k = int(len(out) * share)
    for r in rng.sample(out, k):
        what = rng.randrange(3)
        if what == 0:
            r[5] = f"{rng.randrange(1, 12)}{rng.choice('АБВГ')}"
        elif what == 1:
            r[1] = r[1] + "-Петрова"
        else:
            r[6] = "выбыл"
    for j in range(k // 3):
        out.append([f"N{j:06d}", "Новиков", "Лев", "Павлович", "01.09.2016", "3А",
                    "обучается"])
    return out


def to_csv(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode(encoding)


REGISTER_HEADER = ["ID", "Фамилия", "Имя", "Отчество", "Дата рождения", "Класс", "Статус"]
CARD_HEADER = ["Номер карты", "ID ученика", "Статус", "Фамилия", "Имя", "Отчество",
               "Дата рождения", "Класс"]


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - t0


def median_of(runs: int, fn):  # type: ignore[no-untyped-def]
    """The last value of fn and its median time over runs (this machine's timings vary
    by a third from one run to the next)."""
    times = []
    for _ in range(runs):
        value, took = timed(fn)
        times.append(took)
    return value, statistics.median(times)


def main() -> None:
    from sqlalchemy import event

    from server.app import create_app
    from server.config import ensure_instance
    from server.extensions import db
    from server.migrate import upgrade
    from server.schemas import OrgCreate
    from server.services import orgs, pupil_sync
    from server.services.context import system_ctx
    from sync.readers import read_cards, read_register

    print(f"generating {PUPILS:,} pupils and cards …", flush=True)
    pupils, cards = generate(PUPILS)
    register0 = to_csv(REGISTER_HEADER, pupils, "cp1251")
    cards0 = to_csv(CARD_HEADER, cards)
    register1 = to_csv(REGISTER_HEADER, change(pupils), "cp1251")
    size = (len(register1) + len(cards0)) / 2**20
    # The generated rows are the harness's, not Vitrina's: kept out of the collector's
    # way, as a server's heap would not hold them.
    gc.collect()
    gc.freeze()

    def bare() -> int:
        n = 0
        for data, enc in ((register1, "cp1251"), (cards0, "utf-8")):
            n += sum(1 for _ in csv.reader(io.StringIO(data.decode(enc)), delimiter=";"))
        return n

    _, t_bare = median_of(3, bare)
    _, t_read = timed(lambda: (read_register(register1), read_cards(cards0)))

    with tempfile.TemporaryDirectory() as tmp:
        inst = Path(tmp) / "inst"
        ensure_instance(inst)
        app = create_app(instance_path=str(inst))
        with app.test_request_context():
            upgrade(db.engine)
            ctx = system_ctx(db.session, "bench")
            city = orgs.create_root(ctx, "municipality", "City", "Europe/Moscow", "ru")
            school = orgs.create_org(ctx, OrgCreate(parent_id=city.id, kind="school",
                                                    name="School", timezone="Europe/Moscow"))
            db.session.commit()
            writes = {"n": 0}

            def count(conn, cursor, statement, params, context, many):  # type: ignore[no-untyped-def]
                words = statement.split()
                head = words[0].upper()
                table = {"INSERT": words[2], "UPDATE": words[1],
                         "DELETE": words[2]}.get(head, "") if len(words) > 2 else ""
                if table.strip('"') in ("pupils", "cards", "sync_actions"):
                    writes["n"] += len(params) if many else 1

            def run(register: bytes, cards_data: bytes, plans: int = 1) -> tuple[float, float]:
                # (A dry run changes nothing: planned again, it does the same work.)
                planned, took = median_of(plans, lambda: pupil_sync.plan_run(
                    ctx, school.id, ("register.csv", register), ("cards.csv", cards_data),
                    True))
                t1 = time.perf_counter()
                pupil_sync.apply_run(ctx, planned.id)
                db.session.commit()
                return took, time.perf_counter() - t1

            print("first import …", flush=True)
            first_plan, first_apply = run(register0, cards0)
            print("1 % changes …", flush=True)
            change_plan, change_apply = run(register1, cards0, plans=3)
            event.listen(db.engine, "before_cursor_execute", count)
            print("no-change re-run …", flush=True)
            same_plan, same_apply = run(register1, cards0, plans=3)
            event.remove(db.engine, "before_cursor_execute", count)

    print()
    print(f"{PUPILS:,} pupils and cards ({size:.1f} MB of CSV)")
    print(f"  bare csv parse (baseline)  {t_bare:6.2f} s")
    print(f"  read (both files)          {t_read:6.2f} s   ratio {t_read / t_bare:4.1f}×")
    print(f"  first import: plan {first_plan:6.2f} s, apply {first_apply:6.2f} s")
    print(f"  1 % changes:  plan {change_plan:6.2f} s, apply {change_apply:6.2f} s, "
          f"total {change_plan + change_apply:6.2f} s   target < 10 s;  plan/parse "
          f"{change_plan / t_bare:4.1f}×   target ≤ 3×")
    print(f"  no change:    plan {same_plan:6.2f} s, apply {same_apply:6.2f} s, "
          f"total {same_plan + same_apply:6.2f} s   target < 3 s;  writes to pupils, cards "
          f"and card actions: {writes['n']}   target 0")


if __name__ == "__main__":
    main()
