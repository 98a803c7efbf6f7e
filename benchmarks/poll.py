"""Display polls under gunicorn with the production config, measured in one run.

(a) a bare WSGI app returning 2 KB of JSON (the baseline: what gunicorn and this
    machine can do at all), (b) unchanged manifest polls answered 304 and (c) full
    manifests (200) for 1,000 displays, each with requests/s and p50/p99 latency and
    the ratios b/a and c/a; then (d) publish-to-screen: 1,000 displays long-poll,
    an item is published, and the time until each display has its new manifest is
    measured (p50/p95/max). Targets (issue 5): b/a ≥ 0.8, publish-to-screen p95 < 2 s.

The load generator runs on loopback in this process (threads with keep-alive
connections), so the figures are conservative for a 2-core machine.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DISPLAYS = int(os.environ.get("BENCH_DISPLAYS", "1000"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(instance: Path) -> tuple[list[str], int, int]:
    """An instance with a school, published news and DISPLAYS displays; their tokens."""
    sys.path.insert(0, str(ROOT))
    from server.app import create_app
    from server.config import ensure_instance
    from server.content_schemas import ItemCreate
    from server.extensions import db
    from server.migrate import upgrade
    from server.schemas import OrgCreate
    from server.services import content, displays, orgs
    from server.services.context import system_ctx

    ensure_instance(instance)
    app = create_app(instance_path=str(instance))
    tokens = []
    with app.test_request_context():
        upgrade(db.engine)
        ctx = system_ctx(db.session, "bench")
        region = orgs.create_root(ctx, "municipality", "City", "Europe/Moscow", "ru")
        school = orgs.create_org(ctx, OrgCreate(parent_id=region.id, kind="school",
                                                name="School", timezone="Europe/Moscow"))
        for n in range(8):
            item = content.create_item(ctx, ItemCreate(
                kind="news", org_id=school.id, title=f"News {n}",
                body="<p>" + "Lorem ipsum dolor sit amet. " * 20 + "</p>",
                target_org_ids=[school.id]))
            content.publish_item(ctx, item.id)
        draft = content.create_item(ctx, ItemCreate(kind="news", org_id=school.id,
                                                    title="Breaking news",
                                                    target_org_ids=[school.id]))
        for n in range(DISPLAYS):
            _d, token = displays.create_with_token(ctx, {"org_id": school.id,
                                                         "name": f"Screen {n}"})
            tokens.append(token)
        db.session.commit()
        return tokens, draft.id, school.id


def publish(instance: Path, item_id: int) -> None:
    """Publish an item through the services, as a content manager would."""
    from server.app import create_app
    from server.extensions import db
    from server.services import content
    from server.services.context import system_ctx

    app = create_app(instance_path=str(instance))
    with app.test_request_context():
        content.publish_item(system_ctx(db.session, "bench"), item_id)
        db.session.commit()


def start_gunicorn(app_spec: str, port: int, threads: int,
                   instance: Path | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, VITRINA_BIND=f"127.0.0.1:{port}", VITRINA_ACCESS_LOG="",
               VITRINA_THREADS=str(threads), VITRINA_LOG_LEVEL="warning",
               PYTHONPATH=str(ROOT))
    if instance is not None:
        env["VITRINA_INSTANCE"] = str(instance)
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c",
                             "python:server.gunicorn_conf", app_spec], env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz" if instance else "/")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def hammer(port: int, make_request: Callable[[int], tuple[str, dict[str, str]]],
           expect: int) -> tuple[float, float, float]:
    """Requests/s, p50 and p99 latency (ms) of CLIENTS threads for SECONDS."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS
    errors = [0]

    def client(seed_: int) -> None:
        rng = random.Random(seed_)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < stop:
            path, headers = make_request(rng.randrange(1 << 30))
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - t0)
            if r.status != expect:
                errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    if errors[0]:
        raise SystemExit(f"{errors[0]} answers were not {expect}")
    q = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, q[49] * 1000, q[98] * 1000


def report(name: str, figures: tuple[float, float, float]) -> None:
    rps, p50, p99 = figures
    print(f"{name:<42} {rps:9.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        print(f"seeding {DISPLAYS} displays …", flush=True)
        tokens, draft_id, _school = seed(instance)
        port = free_port()
        bare = start_gunicorn("benchmarks._bare_wsgi:app", port, 64, None)
        try:
            baseline = hammer(port, lambda r: ("/", {}), 200)
        finally:
            bare.terminate()
            bare.wait()
        port = free_port()
        server = start_gunicorn("server.wsgi:make_app()", port, 64, instance)
        try:
            etags = warm_up(port, tokens)

            def unchanged(n: int) -> tuple[str, dict[str, str]]:
                token = tokens[n % len(tokens)]
                return "/api/device/v1/manifest", {"Authorization": f"Bearer {token}",
                                                   "If-None-Match": etags[token]}

            def full(n: int) -> tuple[str, dict[str, str]]:
                return "/api/device/v1/manifest", {
                    "Authorization": f"Bearer {tokens[n % len(tokens)]}"}

            # A first round lets each worker meet each display (as after a morning of
            # polling); the second is measured.
            hammer(port, unchanged, 304)
            polls = hammer(port, unchanged, 304)
            hammer(port, full, 200)
            manifests = hammer(port, full, 200)
        finally:
            server.terminate()
            server.wait()
        report("(a) bare WSGI, 2 KB JSON", baseline)
        report("(b) unchanged poll (304)", polls)
        report("(c) full manifest (200)", manifests)
        print(f"ratio b/a: {polls[0] / baseline[0]:.2f} (target ≥ 0.8)   "
              f"ratio c/a: {manifests[0] / baseline[0]:.2f}", flush=True)
        # Every display holds a thread while it waits: size the pool for all of them.
        port = free_port()
        server = start_gunicorn("server.wsgi:make_app()", port, DISPLAYS // 2 + 50, instance)
        try:
            etags = warm_up(port, tokens)
            publish_to_screen(port, tokens, etags, instance, draft_id)
        finally:
            server.terminate()
            server.wait()


def warm_up(port: int, tokens: list[str]) -> dict[str, str]:
    """Fetch every manifest a few times on fresh connections, so every worker has built
    it (as after a day of polling); return the ETags."""
    etags: dict[str, str] = {}
    size = 0
    for _round in range(3):
        for token in tokens:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/device/v1/manifest",
                         headers={"Authorization": f"Bearer {token}", "Connection": "close"})
            r = conn.getresponse()
            size = len(r.read())
            etags[token] = r.getheader("ETag") or ""
            conn.close()
    print(f"manifest size: {size} bytes", flush=True)
    return etags


def publish_to_screen(port: int, tokens: list[str], etags: dict[str, str], instance: Path,
                      item_id: int) -> None:
    """Every display long-polls; publish; how long until each has the new manifest."""
    arrived: list[float] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(tokens) + 1)

    def display(token: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        ready.wait()
        conn.request("GET", "/api/device/v1/manifest?wait=30",
                     headers={"Authorization": f"Bearer {token}",
                              "If-None-Match": etags[token]})
        r = conn.getresponse()
        r.read()
        if r.status == 200:
            with lock:
                arrived.append(time.monotonic())

    threading.stack_size(256 * 1024)
    threads = [threading.Thread(target=display, args=(t,), daemon=True) for t in tokens]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(3)   # every display is waiting by now
    started = time.monotonic()
    publish(instance, item_id)
    for t in threads:
        t.join(40)
    delays = sorted(a - started for a in arrived)
    if len(delays) < len(tokens):
        print(f"publish-to-screen: only {len(delays)} of {len(tokens)} displays got it")
    if delays:
        q = statistics.quantiles(delays, n=100) if len(delays) > 1 else [delays[0]] * 99
        print(f"publish-to-screen with {len(tokens)} long-polling displays: "
              f"p50 {q[49]:.2f} s   p95 {q[94]:.2f} s   max {delays[-1]:.2f} s (target p95 < 2 s)")
    print(json.dumps({"displays": len(tokens), "received": len(delays)}))


if __name__ == "__main__":
    main()
