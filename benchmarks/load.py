"""Load test: 1,000 displays long-poll one node for 5 minutes while a content manager
publishes through the API every 10 seconds.

Each display is a thread with its own keep-alive connection, long-polling
`/api/device/v1/manifest?wait=30` with its ETag, as the player does. Printed: answered
polls per second, the latency of every answer (p50/p99: unchanged ones wait for a change
or the 30 s timeout), errors (any answer but 200/304, or a failed connection), changes
seen / published (every display must see every published item), and publish-to-screen
delay (p50/p99/max) against the same delay with one display, measured first in the same
run (the baseline: what the path costs without load). Targets (issue 9): zero errors,
every display sees every change.

BENCH_DISPLAYS (1000), BENCH_LOAD_SECONDS (300), BENCH_PUBLISH_EVERY (10). The load
generator runs on the same machine, so the figures are conservative.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.poll import free_port, start_gunicorn  # noqa: E402

DISPLAYS = int(os.environ.get("BENCH_DISPLAYS", "1000"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "300"))
EVERY = float(os.environ.get("BENCH_PUBLISH_EVERY", "10"))
WAIT = 30


def seed(instance: Path, displays: int) -> tuple[list[str], str, int]:
    """A school with a few items, `displays` displays and a content manager's API token."""
    from server.app import create_app
    from server.config import ensure_instance
    from server.content_schemas import ItemCreate
    from server.extensions import db
    from server.migrate import upgrade
    from server.schemas import GrantCreate, OrgCreate, TokenCreate, UserCreate
    from server.services import content, orgs, tokens, users
    from server.services import displays as display_service
    from server.services.context import system_ctx

    ensure_instance(instance)
    app = create_app(instance_path=str(instance),
                     test_config={"PASSWORD_TIME_COST": 1, "PASSWORD_MEMORY_COST": 1024})
    screens = []
    with app.test_request_context():
        upgrade(db.engine)
        ctx = system_ctx(db.session, "bench")
        city = orgs.create_root(ctx, "municipality", "City", "Europe/Moscow", "ru")
        school = orgs.create_org(ctx, OrgCreate(parent_id=city.id, kind="school",
                                                name="School", timezone="Europe/Moscow"))
        for n in range(5):
            item = content.create_item(ctx, ItemCreate(
                kind="news", org_id=school.id, title=f"Standing news {n}",
                body="<p>" + "Lorem ipsum dolor sit amet. " * 20 + "</p>",
                target_org_ids=[school.id]))
            content.publish_item(ctx, item.id)
        manager = users.create_user(ctx, UserCreate(
            username="editor", display_name="Editor", password="long-enough-password-1",
            org_id=school.id))
        users.add_grant(ctx, manager.id, GrantCreate(org_id=school.id, role="content_manager"))
        _row, secret = tokens.create_token(ctx, manager, TokenCreate(name="bench"))
        for n in range(displays):
            _d, token = display_service.create_with_token(ctx, {"org_id": school.id,
                                                                "name": f"Screen {n}"})
            screens.append(token)
        db.session.commit()
        return screens, secret, school.id


class Run:
    """What the displays saw during one run."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.published: dict[str, float] = {}       # title → when its publish returned
        self.delays: list[float] = []
        self.seen = 0
        self.answers = 0                           # answered polls, all displays
        self.window = (0.0, 0.0)                   # when the load began and ended
        self.stop = threading.Event()


def display(port: int, token: str, run: Run, ready: threading.Barrier) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT + 30)
    etag = ""
    seen: set[str] = set()
    latencies: list[float] = []
    ready.wait()
    while not run.stop.is_set():
        headers = {"Authorization": f"Bearer {token}"}
        if etag:
            headers["If-None-Match"] = etag
        started = time.perf_counter()
        try:
            conn.request("GET", f"/api/device/v1/manifest?wait={WAIT}", headers=headers)
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException) as exc:
            with run.lock:
                run.errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT + 30)
            time.sleep(1)
            continue
        now = time.monotonic()
        latencies.append(time.perf_counter() - started)
        with run.lock:
            run.answers += 1
        if r.status == 200:
            etag = r.getheader("ETag") or ""
            titles = {i["title"] for i in json.loads(body)["items"]}
            with run.lock:
                for title in titles - seen:
                    if title in run.published:
                        run.delays.append(now - run.published[title])
                        run.seen += 1
                        seen.add(title)
        elif r.status != 304:
            with run.lock:
                run.errors.append(str(r.status))
    with run.lock:
        run.latencies.extend(latencies)


def publish(port: int, secret: str, school_id: int, title: str, run: Run) -> None:
    """Create and publish an item through the API, as a content manager's script would."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    auth = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    conn.request("POST", "/api/v1/content", body=json.dumps({
        "kind": "news", "org_id": school_id, "title": title, "body": "<p>Now.</p>",
        "target_org_ids": [school_id]}), headers=auth)
    r = conn.getresponse()
    item = json.loads(r.read())
    if r.status != 201:
        raise SystemExit(f"creating {title!r}: {r.status} {item}")
    with run.lock:      # from now a display may see it
        run.published[title] = time.monotonic()
    conn.request("POST", f"/api/v1/content/{item['id']}/publish", headers=auth)
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        raise SystemExit(f"publishing {title!r}: {r.status}")
    with run.lock:
        run.published[title] = time.monotonic()
    conn.close()


def run_load(port: int, tokens: list[str], secret: str, school_id: int, seconds: float,
             every: float, label: str) -> Run:
    run = Run()
    ready = threading.Barrier(len(tokens) + 1)
    threading.stack_size(256 * 1024)
    threads = [threading.Thread(target=display, args=(port, t, run, ready), daemon=True)
               for t in tokens]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(3)                       # every display has its first manifest and waits
    with run.lock:
        first = run.answers
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < seconds - 5:
        n += 1
        publish(port, secret, school_id, f"{label} {n}", run)
        time.sleep(max(0.0, started + n * every - time.monotonic()))
    time.sleep(5)                       # the last change reaches everyone
    with run.lock:
        run.answers -= first
    run.window = (started, time.monotonic())
    run.stop.set()
    for t in threads:
        t.join(WAIT + 40)
    run.latencies.sort()
    return run


def quantiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v, v
    q = statistics.quantiles(values, n=100)
    return q[49], q[98], max(values)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        print(f"seeding {DISPLAYS} displays …", flush=True)
        tokens, secret, school_id = seed(instance, DISPLAYS)
        port = free_port()
        # Every long-polling display holds a thread: size the pool for all of them.
        server = start_gunicorn("server.wsgi:make_app()", port, DISPLAYS // 2 + 50, instance)
        try:
            print("baseline: one display, 3 publishes …", flush=True)
            alone = run_load(port, tokens[:1], secret, school_id, 3 * EVERY / 2 + 5,
                             EVERY / 2, "Baseline news")
            print(f"load: {DISPLAYS} displays for {SECONDS:.0f} s, a publish every "
                  f"{EVERY:.0f} s …", flush=True)
            run = run_load(port, tokens, secret, school_id, SECONDS, EVERY, "Load news")
        finally:
            server.terminate()
            server.wait()
    published = len(run.published)
    expected = published * DISPLAYS
    p50, p99, _top = quantiles(run.latencies)
    d50, d99, dmax = quantiles(sorted(run.delays))
    b50, b99, _bmax = quantiles(sorted(alone.delays))
    elapsed = run.window[1] - run.window[0]
    print(f"answered polls: {run.answers} in {elapsed:.0f} s = "
          f"{run.answers / elapsed:.0f} req/s")
    print(f"poll answer latency: p50 {p50:.2f} s   p99 {p99:.2f} s "
          f"(unchanged polls wait up to {WAIT} s for a change)")
    print(f"errors: {len(run.errors)}" + (f" ({', '.join(sorted(set(run.errors)))})"
                                          if run.errors else ""))
    print(f"changes seen / published: {run.seen} / {expected} "
          f"({published} publishes × {DISPLAYS} displays)")
    print(f"publish-to-screen: p50 {d50:.2f} s   p99 {d99:.2f} s   max {dmax:.2f} s; "
          f"one display alone (baseline): p50 {b50:.2f} s   p99 {b99:.2f} s; "
          f"ratio p99 {d99 / b99 if b99 else float('nan'):.1f}×")
    ok = not run.errors and run.seen == expected
    print("targets (zero errors, every display sees every change):",
          "met" if ok else "NOT met")
    print(json.dumps({"displays": DISPLAYS, "seconds": round(elapsed), "polls":
                      run.answers, "errors": len(run.errors), "seen": run.seen,
                      "expected": expected, "p99_poll_s": round(p99, 3),
                      "p99_publish_to_screen_s": round(d99, 3)}))


if __name__ == "__main__":
    main()
