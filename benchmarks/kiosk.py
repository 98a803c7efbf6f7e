"""The kiosk agent's footprint, measured in one run against a real server under gunicorn.

(1) Idle: the agent long-polls an unchanged manifest for BENCH_IDLE_SECONDS (60 by
    default): resident memory, CPU time and bytes received. (2) Sync: 200 news items,
    each with its own picture, are published at once; the time until the agent plays
    the new manifest with every medium cached, its peak memory and CPU time.
The baselines, measured in the same run: a bare Python process that has imported
`requests` (memory), and a plain `requests` loop fetching the same 200 media
(time and CPU). Targets (issue 6): < 60 MB RSS, ~0 % CPU idle, 0 bytes for an
unchanged manifest.
"""

from __future__ import annotations

import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IDLE = float(os.environ.get("BENCH_IDLE_SECONDS", "60"))
MEDIA = int(os.environ.get("BENCH_MEDIA", "200"))
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def picture(n: int) -> bytes:
    from PIL import Image

    rng = random.Random(n)
    img = Image.new("RGB", (640, 400), (rng.randrange(256), rng.randrange(256), 90))
    for _ in range(400):
        img.putpixel((rng.randrange(640), rng.randrange(400)), (255, 255, 255))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


def seed(instance: Path) -> tuple[str, list[int], int]:
    """A school with one published news item, MEDIA drafts with pictures, and a display."""
    sys.path.insert(0, str(ROOT))
    from server.app import create_app
    from server.config import ensure_instance
    from server.content_schemas import ItemCreate
    from server.extensions import db
    from server.migrate import upgrade
    from server.schemas import OrgCreate
    from server.services import content, displays, media, orgs
    from server.services.context import system_ctx

    ensure_instance(instance)
    app = create_app(instance_path=str(instance))
    with app.test_request_context():
        upgrade(db.engine)
        ctx = system_ctx(db.session, "bench")
        city = orgs.create_root(ctx, "municipality", "City", "Europe/Moscow", "ru")
        school = orgs.create_org(ctx, OrgCreate(parent_id=city.id, kind="school",
                                                name="School", timezone="Europe/Moscow"))
        first = content.create_item(ctx, ItemCreate(kind="news", org_id=school.id,
                                                    title="Welcome", target_org_ids=[school.id]))
        content.publish_item(ctx, first.id)
        drafts = []
        for n in range(MEDIA):
            asset = media.upload(ctx, school.id, f"poster-{n}.png", picture(n))
            drafts.append(content.create_item(ctx, ItemCreate(
                kind="news", org_id=school.id, title=f"Poster {n}", media_id=asset.id,
                target_org_ids=[school.id])).id)
        _display, token = displays.create_with_token(ctx, {"org_id": school.id,
                                                           "name": "Kiosk"})
        db.session.commit()
        return token, drafts, school.id


def publish_all(instance: Path, ids: list[int]) -> None:
    from server.app import create_app
    from server.extensions import db
    from server.services import content
    from server.services.context import system_ctx

    app = create_app(instance_path=str(instance))
    with app.test_request_context():
        ctx = system_ctx(db.session, "bench")
        for item_id in ids:
            content.publish_item(ctx, item_id)
        db.session.commit()


def wait_http(url: str, timeout: float = 30) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def status(state: Path) -> dict[str, object]:
    try:
        value: dict[str, object] = json.loads((state / "status.json").read_text())
        return value
    except (FileNotFoundError, ValueError):
        return {}


def watch(pid: int, seconds: float, until: object = None) -> tuple[float, float]:
    """Peak RSS (MB) over the span, sampled every 0.1 s; stop early when until() holds."""
    peak = 0.0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        peak = max(peak, rss_mb(pid))
        if callable(until) and until():
            break
        time.sleep(0.1)
    return peak, time.monotonic()


def baseline_rss() -> float:
    proc = subprocess.Popen([sys.executable, "-c", "import requests, time; time.sleep(30)"])
    time.sleep(1.5)
    value = rss_mb(proc.pid)
    proc.terminate()
    proc.wait()
    return value


def baseline_fetch(base: str, token: str, shas: list[str]) -> tuple[float, float]:
    """Seconds and CPU seconds of a plain requests loop fetching the same media (a fresh
    process: its start and imports are in the figures)."""
    code = (
        "import sys, requests\n"
        "s = requests.Session()\n"
        "h = {'Authorization': 'Bearer ' + sys.argv[2]}\n"
        "for sha in sys.argv[3:]:\n"
        "    s.get(sys.argv[1] + '/api/device/v1/media/' + sha, headers=h).content\n")
    before = os.times()
    t0 = time.monotonic()
    subprocess.run([sys.executable, "-c", code, base, token, *shas], check=True,
                   capture_output=True)
    elapsed = time.monotonic() - t0
    after = os.times()
    return elapsed, (after.children_user + after.children_system
                     - before.children_user - before.children_system)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        instance, state = Path(tmp) / "instance", Path(tmp) / "kiosk"
        print(f"seeding a school with {MEDIA} posters …", flush=True)
        token, drafts, _school = seed(instance)
        port, local_port = free_port(), free_port()
        base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, VITRINA_BIND=f"127.0.0.1:{port}", VITRINA_ACCESS_LOG="",
                   VITRINA_LOG_LEVEL="warning", VITRINA_INSTANCE=str(instance),
                   PYTHONPATH=str(ROOT))
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c",
                                   "python:server.gunicorn_conf", "server.wsgi:make_app()"],
                                  env=env, cwd=ROOT)
        state.mkdir(mode=0o700)
        (state / "token").write_text(token)
        agent = None
        try:
            wait_http(f"{base}/healthz")
            agent_env = dict(os.environ, VITRINA_KIOSK_CONFIG=os.devnull,
                             VITRINA_KIOSK_SERVER=base, VITRINA_KIOSK_STATE_DIR=str(state),
                             VITRINA_KIOSK_PORT=str(local_port), VITRINA_KIOSK_WAIT="25",
                             VITRINA_KIOSK_HEARTBEAT_EVERY="10", VITRINA_KIOSK_MIN_FREE_MB="0",
                             PYTHONPATH=str(ROOT))
            agent = subprocess.Popen([sys.executable, "-m", "kiosk_client.cli", "run"],
                                     env=agent_env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            wait_http(f"http://127.0.0.1:{local_port}/player/")
            deadline = time.monotonic() + 30
            while not status(state).get("etag") and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(11)     # one heartbeat round, so the status holds its counters
            before = status(state).get("received") or {}
            cpu0 = cpu_seconds(agent.pid)
            print(f"idle-polling for {IDLE:.0f} s …", flush=True)
            idle_peak, _ = watch(agent.pid, IDLE)
            idle_cpu = cpu_seconds(agent.pid) - cpu0
            time.sleep(11)
            after = status(state).get("received") or {}
            idle_bytes = sum(int(after.get(k, 0)) - int(before.get(k, 0))  # type: ignore[union-attr]
                             for k in ("manifests", "media"))

            print(f"publishing {MEDIA} posters …", flush=True)
            old = status(state).get("etag")
            cpu1 = cpu_seconds(agent.pid)
            publish_all(instance, drafts)
            t0 = time.monotonic()
            sync_peak, t1 = watch(agent.pid, 300, lambda: status(state).get("etag") != old
                                  and status(state).get("items") == MEDIA + 1)
            sync_seconds = t1 - t0
            sync_cpu = cpu_seconds(agent.pid) - cpu1
            media_bytes = int((status(state).get("received") or {}).get("media", 0))  # type: ignore[union-attr]
            shas = sorted(p.name for p in (state / "cache" / "media").iterdir())
            bare_rss = baseline_rss()
            fetch_seconds, fetch_cpu = baseline_fetch(base, token, shas)
        finally:
            if agent is not None:
                agent.terminate()
                agent.wait()
            server.terminate()
            server.wait()

    print()
    print(f"idle  ({IDLE:.0f} s long-polling an unchanged manifest)")
    print(f"  resident memory   {idle_peak:6.1f} MB   baseline (python + requests) "
          f"{bare_rss:5.1f} MB   ratio {idle_peak / bare_rss:4.2f}   target < 60 MB")
    print(f"  CPU time          {idle_cpu:6.2f} s    = {100 * idle_cpu / IDLE:5.2f} % of one core"
          f"   target ~0 %")
    print(f"  bytes received    {idle_bytes:6d}      target 0")
    print(f"sync  ({MEDIA} new posters, {media_bytes / 2**20:.1f} MB)")
    print(f"  until playing     {sync_seconds:6.2f} s    baseline (plain requests loop) "
          f"{fetch_seconds:5.2f} s   ratio {sync_seconds / fetch_seconds:4.2f}")
    print(f"  CPU time          {sync_cpu:6.2f} s    baseline {fetch_cpu:5.2f} s   ratio "
          f"{sync_cpu / max(fetch_cpu, 0.01):4.2f}")
    print(f"  peak memory       {sync_peak:6.1f} MB   target < 60 MB")


if __name__ == "__main__":
    main()
