"""The kiosk agent against the real server under gunicorn, over real HTTP: it pairs, plays,
follows an update, carries on with the server stopped and catches up when it returns,
replaces a rotten cached file, resumes a cut download without ever using a partial file,
and keeps the old content when the disk is full."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from kiosk_client.agent import MAX_PENDING_ERRORS, Agent, Backoff
from kiosk_client.cache import sha256_of
from kiosk_client.local import LocalServer
from tests.kiosk.conftest import Vitrina, kiosk_config, paired_agent

pytestmark = pytest.mark.slow


def titles(agent: Agent) -> list[str]:
    assert agent.playing is not None
    return [i["title"] for i in agent.playing.manifest["items"]]


def test_pair_play_and_update(server: Vitrina, tmp_path: Path) -> None:
    state = tmp_path / "kiosk"
    agent, display_id = paired_agent(server, state)
    # The token is the agent's alone: owner-only file in an owner-only folder.
    assert stat.S_IMODE(os.stat(state / "token").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o700
    assert titles(agent) == ["Science week"]
    (medium,) = agent.playing.manifest["media"]  # type: ignore[union-attr]
    cached = agent.cache.path(medium["sha256"])
    assert sha256_of(cached) == medium["sha256"]
    # An unchanged manifest costs no bytes at all.
    before = agent.cache.downloaded
    assert agent.sync_once(wait=0) == "unchanged"
    assert agent.cache.downloaded == before
    # A publication reaches a waiting agent within a second, media first.
    done: list[tuple[str, float]] = []

    def poll() -> None:
        started = time.monotonic()
        done.append((agent.sync_once(wait=20), time.monotonic() - started))

    waiter = threading.Thread(target=poll)
    waiter.start()
    time.sleep(1.0)
    server.publish_news("Chess club", "#aa3322", priority=5)
    published = time.monotonic()
    waiter.join(30)
    ((result, _),) = done
    assert result == "updated" and time.monotonic() - published < 2.0
    assert titles(agent) == ["Chess club", "Science week"]
    assert all(agent.cache.valid(m["sha256"]) for m in agent.playing.manifest["media"])  # type: ignore[union-attr]
    # The heartbeat tells the fleet page what the kiosk shows.
    agent.heartbeat_once()
    shown = server.display(display_id)
    assert shown.last_etag == agent.playing.etag  # type: ignore[union-attr]
    assert shown.client_version.startswith("kiosk-") and shown.cache_size > 0


def test_the_server_away_and_back(server: Vitrina, tmp_path: Path) -> None:
    agent, display_id = paired_agent(server, tmp_path / "kiosk")
    local = LocalServer(agent, port=0)
    local.start()
    try:
        base = local.url.removesuffix("/player/")
        server.stop()
        assert agent.sync_once(wait=0) == "offline"
        for n in range(3 * MAX_PENDING_ERRORS):
            agent.error(f"screenshot: the command failed ({n})")
        for _ in range(3 * MAX_PENDING_ERRORS):
            assert agent.heartbeat_once() == []
        assert len(agent.errors) == MAX_PENDING_ERRORS      # bounded, however long it lasts
        assert agent.errors["heartbeat: ConnectionError"][1] == 3 * MAX_PENDING_ERRORS
        # The screen keeps playing from the agent, and says since when it is cut off.
        r = requests.get(f"{base}/api/device/v1/manifest", timeout=5,
                         headers={"Authorization": "Bearer local"})
        assert r.status_code == 200 and r.json()["items"][0]["title"] == "Science week"
        assert int(r.headers["X-Vitrina-Stale-Since"]) > 0
        sha = r.json()["media"][0]["sha256"]
        assert requests.get(f"{base}/api/device/v1/media/{sha}", timeout=5).content == \
            agent.cache.path(sha).read_bytes()
        # News published while the server process was down arrives with one poll.
        server.publish_news("Snow day tomorrow", priority=9)
        server.start()
        assert agent.sync_once(wait=0) == "updated"
        assert titles(agent)[0] == "Snow day tomorrow"
        r = requests.get(f"{base}/api/device/v1/manifest", timeout=5)
        assert "X-Vitrina-Stale-Since" not in r.headers
        # The errors of the outage reach the fleet page once, with the next heartbeat.
        agent.heartbeat_once()
        reported = server.display(display_id).last_error or ""
        assert f"heartbeat: ConnectionError (×{3 * MAX_PENDING_ERRORS})" in reported
        assert "command failed (59)" in reported and "command failed (0)" not in reported
        assert len(agent.errors) == 0
    finally:
        local.shutdown()
        local.server_close()


def test_backoff_spreads_the_retries() -> None:
    ceilings: list[float] = []
    backoff = Backoff(base=1, cap=60, rand=lambda low, high: ceilings.append(high) or high)
    for _ in range(9):
        backoff.next_delay()
    assert ceilings == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    backoff.reset()
    draws = {Backoff().next_delay() for _ in range(50)}
    assert len(draws) > 40 and all(0 <= d <= 1 for d in draws)   # kiosks do not retry in step


def test_a_rotten_cached_file_is_fetched_again(server: Vitrina, tmp_path: Path) -> None:
    state = tmp_path / "kiosk"
    agent, _ = paired_agent(server, state)
    sha = agent.playing.manifest["media"][0]["sha256"]  # type: ignore[union-attr]
    good = agent.cache.path(sha).read_bytes()
    damaged = bytearray(good)
    damaged[len(damaged) // 2] ^= 0xFF
    agent.cache.path(sha).write_bytes(bytes(damaged))
    # The local player will not hand out the damaged file.
    local = LocalServer(agent, port=0)
    local.start()
    try:
        base = local.url.removesuffix("/player/")
        assert requests.get(f"{base}/api/device/v1/media/{sha}", timeout=5).status_code == 404
    finally:
        local.shutdown()
        local.server_close()
    # A restarted agent checks its cache and fetches the file again.
    again = Agent(kiosk_config(server, state))
    assert again.check_media() is True
    assert again.cache.path(sha).read_bytes() == good
    assert again.cache.downloaded == len(good)


def test_a_cut_download_resumes_and_no_partial_file_is_used(server: Vitrina,
                                                            tmp_path: Path) -> None:
    state = tmp_path / "kiosk"
    agent, _ = paired_agent(server, state)
    server.publish_news("Big poster", "#228844", priority=3)
    sha_size = {}

    # Cut the first transfer halfway: the connection drops after half the bytes.
    real_fetch = agent.cache.fetch

    def cut_once(session, url, sha, size, headers, keep, timeout=30.0, progress=None):  # type: ignore[no-untyped-def]
        if sha_size or agent.cache.valid(sha):
            return real_fetch(session, url, sha, size, headers, keep, timeout, progress)
        sha_size[sha] = size
        got = 0

        def count(n: int) -> None:
            nonlocal got
            got += n
            if got >= size // 2:
                raise requests.ConnectionError("cable pulled")

        return real_fetch(session, url, sha, size, headers, keep, timeout, count)

    agent.cache.fetch = cut_once  # type: ignore[method-assign]
    agent.cache.chunk = 4096
    assert agent.sync_once(wait=0) == "failed"
    assert "it resumes on the next try" in (agent.last_error or "")
    (sha, size), = sha_size.items()
    part = agent.cache.partial / f"{sha}.part"
    assert 0 < part.stat().st_size < size
    assert not agent.cache.path(sha).exists()          # never a half file in the cache
    assert titles(agent) == ["Science week"]           # the old manifest keeps playing
    had = part.stat().st_size
    before = agent.cache.downloaded
    assert agent.sync_once(wait=0) == "updated"
    assert agent.cache.downloaded - before == size - had   # resumed with Range, not restarted
    assert sha256_of(agent.cache.path(sha)) == sha and not part.exists()
    assert titles(agent) == ["Big poster", "Science week"]


def test_a_partial_file_with_wrong_bytes_is_thrown_away(server: Vitrina,
                                                        tmp_path: Path) -> None:
    agent, _ = paired_agent(server, tmp_path / "kiosk")
    server.publish_news("Gym closed", "#884422", priority=3)
    doc = requests.get(f"{server.url}/api/device/v1/manifest", timeout=5,
                       headers={"Authorization": f"Bearer {agent.token}"}).json()
    new = next(m for m in doc["media"] if not agent.cache.valid(m["sha256"]))
    (agent.cache.partial / f"{new['sha256']}.part").write_bytes(b"\0" * (new["size"] // 2))
    assert agent.sync_once(wait=0) == "failed"
    assert not agent.cache.path(new["sha256"]).exists()
    assert "do not match their hash" in (agent.last_error or "")
    assert agent.sync_once(wait=0) == "updated"
    assert agent.cache.valid(new["sha256"])


def test_a_full_disk_keeps_the_old_content_and_says_so(server: Vitrina,
                                                       tmp_path: Path) -> None:
    state = tmp_path / "kiosk"
    agent, display_id = paired_agent(server, state)
    used = agent.cache.size()
    # The cache may hold what it holds now and a little more: not another poster.
    full = Agent(kiosk_config(server, state, cache_limit_mb=(used + 1000) / 2**20))
    server.publish_news("Open day", "#116688", priority=3)
    assert full.sync_once(wait=0) == "failed"
    assert titles(full) == ["Science week"]
    assert full.playing.etag == agent.playing.etag  # type: ignore[union-attr]
    assert "no room" in (full.last_error or "")
    full.heartbeat_once()
    assert "no room" in (server.display(display_id).last_error or "")
    # Media no manifest needs are evicted to make room, the ones playing never are.
    stale = full.cache.path("f" * 64)
    stale.write_bytes(b"x" * 50)
    assert full.cache.evict(full.needed(), need=10**6) == 50 and not stale.exists()
    assert all(full.cache.valid(s) for s in full.needed())


def test_revoked_it_goes_back_to_pairing(server: Vitrina, tmp_path: Path) -> None:
    from server.extensions import db
    from server.models.displays import Display
    from server.services import displays
    from server.services.context import system_ctx

    agent, display_id = paired_agent(server, tmp_path / "kiosk")
    with server.app.test_request_context():
        displays.revoke(system_ctx(db.session, "test"), db.session.get(Display, display_id))
        db.session.commit()
    assert agent.sync_once(wait=0) == "unpaired"
    assert agent.token is None and agent.playing is None
    assert agent.pair_once() is False and agent.code     # a new code on the screen


def test_remote_actions_and_screenshots(server: Vitrina, tmp_path: Path) -> None:
    from server.extensions import db
    from server.models.displays import Display, DisplayScreenshot
    from server.services import displays
    from server.services.context import system_ctx

    shot = ("import io,sys;from PIL import Image;b=io.BytesIO();"
            "Image.new('RGB',(1280,720),'#123456').save(b,'PNG');sys.stdout.buffer.write(b.getvalue())")
    agent, display_id = paired_agent(server, tmp_path / "kiosk",
                                     screenshot_command=f"{sys.executable} -c \"{shot}\"",
                                     screenshot_every=1)
    assert agent.screenshot_once() is True
    with server.app.app_context():
        kept = db.session.get(DisplayScreenshot, display_id)
        assert kept is not None and (kept.width, kept.height) == (640, 360)
    with server.app.test_request_context():
        displays.request_action(system_ctx(db.session, "test"),
                                db.session.get(Display, display_id), "clear_cache")
        db.session.commit()
    before = agent.cache.downloaded
    actions = agent.heartbeat_once()
    assert [a["action"] for a in actions] == ["clear_cache"]
    # With no player attached the agent's part is the whole action: the cache was emptied
    # and filled again, and the next heartbeat reports it done.
    assert agent.cache.downloaded > before and agent.done_action == actions[0]["id"]
    assert agent.heartbeat_once() == []
    assert server.display(display_id).action is None


def test_the_status_command(server: Vitrina, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk_client.cli import main

    state = tmp_path / "kiosk"
    agent, _ = paired_agent(server, state)
    agent.write_status()
    config = tmp_path / "kiosk.toml"
    config.write_text(f'server = "{server.url}"\nstate_dir = "{state}"\nport = 18765\n')
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "reachable" in out and "Kiosk in the lobby" in out and "1 items" in out
    assert agent.playing is not None and agent.playing.etag in out
    server.stop()
    assert main(["status", "--config", str(config)]) == 0
    assert "unreachable" in capsys.readouterr().out
    config.write_text('server = "ftp://nowhere"\n')
    assert main(["status", "--config", str(config)]) == 2
    assert "server: must start with http:// or https://" in capsys.readouterr().err
    status = json.loads((state / "status.json").read_text())
    assert status["paired"] is True


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KB file system (tmpfs) for the kiosk's state."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_keeps_the_old_content(server: Vitrina, small_disk: Path) -> None:
    agent, display_id = paired_agent(server, small_disk / "kiosk")
    filler = small_disk / "logs"       # something else on the kiosk filled the disk
    free = shutil.disk_usage(small_disk).free
    filler.write_bytes(b"\0" * max(free - 20_000, 0))
    server.publish_news("Open day", "#116688", priority=3)
    assert agent.sync_once(wait=0) == "failed"
    assert titles(agent) == ["Science week"]
    assert "no room" in (agent.last_error or "")
    assert list(agent.cache.partial.iterdir()) == []          # nothing half-written kept
    agent.heartbeat_once()
    assert "no room" in (server.display(display_id).last_error or "")
    # Room again: the next poll catches up.
    filler.unlink()
    assert agent.sync_once(wait=0) == "updated"
    assert titles(agent) == ["Open day", "Science week"]


def test_the_local_player_gets_the_code_even_before_the_agent_has_it(
        server: Vitrina, tmp_path: Path) -> None:
    agent = Agent(kiosk_config(server, tmp_path / "kiosk"))
    local = LocalServer(agent, port=0)
    local.start()
    try:
        base = local.url.removesuffix("/player/") + "/api/device/v1"
        answers: list[requests.Response] = []
        asking = threading.Thread(target=lambda: answers.append(
            requests.post(f"{base}/pair", json={}, timeout=10)))
        asking.start()              # the browser starts first …
        time.sleep(0.5)
        assert agent.pair_once() is False and agent.code     # … the agent gets its code
        asking.join(10)
        (answer,) = answers
        assert answer.status_code == 201 and answer.json()["code"] == agent.code
        claim = answer.json()["claim"]
        waiting = requests.post(f"{base}/pair/status", json={"claim": claim}, timeout=5)
        assert waiting.status_code == 202
        stale = requests.post(f"{base}/pair/status", json={"claim": "local-OLDCODE"},
                              timeout=5)
        assert stale.status_code == 410          # the player asks for the new code
        server.pair(agent.code)
        assert agent.pair_once() is True
        paired = requests.post(f"{base}/pair/status", json={"claim": claim}, timeout=5)
        assert paired.status_code == 200 and paired.json()["token"] == "local"
    finally:
        agent.stop()
        local.shutdown()
        local.server_close()
