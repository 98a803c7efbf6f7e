"""The agent: pairs the kiosk, keeps its manifest and media current, reports, and obeys
remote actions. It speaks the device protocol of DESIGN.md over plain HTTP.

A new manifest is played only once every medium it names is in the cache, so the
screen never shows a picture that is not there. When the server is away the agent
retries with exponential backoff and full jitter (a school's kiosks coming back
together do not hammer it in step), and the screen keeps playing what it has.
"""

from __future__ import annotations

import json
import logging
import random
import shlex
import shutil
import subprocess
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from kiosk_client import __version__
from kiosk_client.cache import CacheError, MediaCache
from kiosk_client.config import Config
from kiosk_client.state import Playing, StateDir

log = logging.getLogger("vitrina.kiosk")

API = "/api/device/v1"
#: Different errors kept for the next heartbeat while the server is away (a repeated one
#: is counted, not repeated; the oldest go first).
MAX_PENDING_ERRORS = 20
#: A screenshot larger than this is not sent.
MAX_SCREENSHOT = 4 * 1024 * 1024


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Backoff:
    """Exponential backoff with full jitter: 1 s, 2 s, 4 s … up to a minute, each drawn at
    random below its ceiling."""

    def __init__(self, base: float = 1.0, cap: float = 60.0,
                 rand: Callable[[float, float], float] = random.uniform) -> None:
        self.base, self.cap, self.rand = base, cap, rand
        self.failures = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * 2 ** self.failures)
        self.failures += 1
        return self.rand(0.0, ceiling)

    def reset(self) -> None:
        self.failures = 0


class Agent:
    """One kiosk's agent. `run` starts it; the *_once methods are its steps."""

    def __init__(self, config: Config, session: requests.Session | None = None) -> None:
        self.config = config
        self.state = StateDir(config.state_dir)
        self.cache = MediaCache(config.state_dir / "cache", int(config.min_free_mb * 2**20),
                                int(config.cache_limit_mb * 2**20))
        self.http = session or requests.Session()
        self.http.headers["User-Agent"] = f"vitrina-kiosk/{__version__}"
        self.started = time.monotonic()
        self.playing: Playing | None = self.state.playing()
        self.code: str | None = None
        self.server_ok: bool | None = None
        self.last_ok: str | None = self.state.status().get("last_ok")
        self.last_error: str | None = None
        #: Errors since the last heartbeat got through: message → (first seen, times).
        self.errors: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self.done_action = int(self.state.status().get("done_action", 0))
        #: A remote action the local player still has to carry out (reload, clear_cache).
        self.player_action: dict[str, Any] | None = None
        self.player_seen = 0.0
        self.changed = threading.Condition()
        self.generation = 0
        self.stop_event = threading.Event()
        self.backoff = Backoff()
        #: Manifest bytes received by this process (media are counted by the cache).
        self.manifest_bytes = 0

    # --- bookkeeping ---------------------------------------------------------------------

    @property
    def token(self) -> str | None:
        return self.state.token()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def _notify(self) -> None:
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def _reached(self) -> None:
        was = self.server_ok
        self.server_ok = True
        self.last_ok = now_iso()
        self.backoff.reset()
        if was is not True:
            self._notify()

    def _unreachable(self, why: str) -> None:
        was = self.server_ok
        self.server_ok = False
        self.error(why)
        if was is not False:
            self._notify()

    def error(self, message: str) -> None:
        """Note an error for the status and the next heartbeat."""
        log.warning("%s", message)
        self.last_error = message
        first, times = self.errors.pop(message, (now_iso(), 0))
        self.errors[message] = (first, times + 1)
        while len(self.errors) > MAX_PENDING_ERRORS:
            self.errors.popitem(last=False)
        self.write_status()

    def error_report(self) -> str:
        """The errors to send: each once, with how often and since when."""
        return "\n".join(f"{first} {message}" + (f" (×{times})" if times > 1 else "")
                         for message, (first, times) in self.errors.items())[-2000:]

    def write_status(self) -> None:
        """Write the status file (a full disk loses the status, not the agent)."""
        playing = self.playing
        try:
            self._write_status(playing)
        except OSError as exc:
            log.warning("status: cannot write the status file: %s", exc)

    def _write_status(self, playing: Playing | None) -> None:
        self.state.save_status({
            "paired": self.token is not None, "code": self.code,
            "display": playing.manifest["display"]["name"] if playing else None,
            "etag": playing.etag if playing else None,
            "since": playing.since if playing else None,
            "items": len(playing.manifest["items"]) if playing else 0,
            "server": self.config.server, "server_ok": self.server_ok,
            "last_ok": self.last_ok, "last_error": self.last_error,
            "cache_size": self.cache.size(), "local_url": self.config.local_url,
            "done_action": self.done_action, "version": __version__,
            "received": {"manifests": self.manifest_bytes, "media": self.cache.downloaded},
            "updated": now_iso(),
        })

    # --- pairing -------------------------------------------------------------------------

    def pair_once(self) -> bool:
        """One pairing step: get a code to show, or ask whether it was entered. True once
        the token is kept."""
        if self.token:
            return True
        pending = self.state.pairing()
        try:
            if pending is None:
                r = self.http.post(self.config.server + API + "/pair", json={},
                                   timeout=self.config.timeout)
                if r.status_code != 201:
                    self.error(f"pairing: the server answered {r.status_code}")
                    return False
                pending = {"code": r.json()["code"], "claim": r.json()["claim"]}
                self.state.save_pairing(pending)
            if self.code != str(pending["code"]):
                self.code = str(pending["code"])
                self._notify()      # the local player shows the new code
            r = self.http.post(self.config.server + API + "/pair/status",
                               json={"claim": pending["claim"]}, timeout=self.config.timeout)
        except (requests.RequestException, ValueError, KeyError) as exc:
            self._unreachable(f"pairing: {exc.__class__.__name__}: {exc}")
            return False
        self._reached()
        if r.status_code == 200:
            self.state.save_token(r.json()["token"])
            self.state.save_pairing(None)
            self.code = None
            log.info("paired as %s", r.json().get("display", {}).get("name"))
            self._notify()
            self.write_status()
            return True
        if r.status_code == 410:   # expired: a new code next time
            self.state.save_pairing(None)
        self.write_status()
        return False

    def unpaired(self) -> None:
        """The server turned the token away (revoked, or asked to pair again)."""
        log.warning("the server no longer knows this kiosk's token: pairing again")
        self.state.forget_token()
        self.playing = None
        self.code = None
        self._notify()
        self.write_status()

    # --- the manifest --------------------------------------------------------------------

    def sync_once(self, wait: float | None = None) -> str:
        """Poll the manifest once; on a new one fetch its media, then play it.

        Returns "unchanged", "updated", "unpaired", "offline" or "failed"."""
        if not self.token:
            return "unpaired"
        wait = self.config.wait if wait is None else wait
        headers = self._auth()
        if self.playing is not None:
            headers["If-None-Match"] = self.playing.etag
        try:
            r = self.http.get(f"{self.config.server}{API}/manifest?wait={wait:g}",
                              headers=headers, timeout=wait + self.config.timeout)
        except requests.RequestException as exc:
            self._unreachable(f"manifest: {exc.__class__.__name__}")
            return "offline"
        if r.status_code == 401:
            self._reached()
            self.unpaired()
            return "unpaired"
        self.manifest_bytes += len(r.content)
        if r.status_code == 304:
            self._reached()
            return "unchanged"
        if r.status_code != 200:
            self._unreachable(f"manifest: the server answered {r.status_code}")
            return "offline"
        self._reached()
        try:
            manifest = r.json()
            etag = r.headers["ETag"]
            media = list(manifest["media"])
        except (ValueError, KeyError, TypeError):
            self.error("manifest: the server sent something that is not a manifest")
            return "failed"
        if not self.fetch_media(media):
            return "failed"
        self.playing = Playing(manifest, etag, now_iso())
        try:
            self.state.save_playing(self.playing)
        except OSError as exc:   # it plays; after a restart the manifest before comes back
            self.error(f"state: cannot keep the new manifest on disk: {exc.strerror}")
        log.info("playing manifest %s (%d items)", etag, len(manifest.get("items", [])))
        self._notify()
        self.write_status()
        return "updated"

    def check_media(self) -> bool:
        """Check the cached media of what plays now (each is re-hashed when its file
        changed, and once after every start); fetch again what rotted. False if any is
        still missing."""
        if self.playing is None:
            return True
        media = self.playing.manifest["media"]
        if all(self.cache.valid(m["sha256"]) for m in media):
            return True
        self.error("media: a cached file was damaged; fetching it again")
        return self.fetch_media(media)

    def needed(self) -> set[str]:
        """The media of the manifest played now (kept when the disk runs low)."""
        return {m["sha256"] for m in (self.playing.manifest["media"] if self.playing else [])}

    def fetch_media(self, media: list[dict[str, Any]]) -> bool:
        """Get every medium listed into the cache; False (with the error noted) if any fails,
        and then the old manifest keeps playing."""
        keep = self.needed() | {m["sha256"] for m in media}
        for m in media:
            try:
                self.cache.fetch(self.http, f"{self.config.server}{API}/media/{m['sha256']}",
                                 m["sha256"], int(m["size"]), self._auth(), keep,
                                 timeout=max(self.config.timeout, 30.0))
            except CacheError as exc:
                self.error(f"media: {exc}")
                return False
            except requests.RequestException as exc:
                self._unreachable(f"media: {exc.__class__.__name__}; it resumes on the next try")
                return False
        return True

    # --- heartbeats and remote actions -----------------------------------------------------

    def heartbeat_once(self) -> list[dict[str, Any]]:
        """Report what the kiosk shows and how it is; carry out the actions in the reply."""
        if not self.token:
            return []
        free = shutil.disk_usage(self.cache.root).free
        report: dict[str, Any] = {
            "etag": self.playing.etag if self.playing else None,
            "client_version": f"kiosk-{__version__}",
            "uptime": int(time.monotonic() - self.started),
            "free_disk": free,
            "cache_size": self.cache.size(),
            "done_action": self.done_action,
        }
        if free < self.cache.min_free:
            freed = self.cache.evict(self.needed())
            if freed:
                log.info("the disk runs low: evicted %d bytes of media no manifest needs", freed)
        if self.errors:
            report["error"] = self.error_report()
        try:
            r = self.http.post(self.config.server + API + "/heartbeat", json=report,
                               headers=self._auth(), timeout=self.config.timeout)
        except requests.RequestException as exc:
            self._unreachable(f"heartbeat: {exc.__class__.__name__}")
            return []
        if r.status_code == 401:
            self.unpaired()
            return []
        if r.status_code != 200:
            self.error(f"heartbeat: the server answered {r.status_code}")
            return []
        self._reached()
        self.errors.clear()
        actions: list[dict[str, Any]] = r.json().get("actions", [])
        for action in actions:
            if int(action.get("id", 0)) > self.done_action:
                self.carry_out(action)
        self.write_status()
        return actions

    def carry_out(self, action: dict[str, Any]) -> None:
        """A remote action: the agent does its part; the player reloads if one is showing."""
        kind = action.get("action")
        log.info("remote action %s", kind)
        if kind == "clear_cache":
            self.cache.clear()
            if self.playing is not None and not self.fetch_media(self.playing.manifest["media"]):
                self.error("clear_cache: the media could not be fetched again yet")
        if kind in ("reload", "clear_cache") and time.monotonic() - self.player_seen < 300:
            self.player_action = {"id": int(action["id"]), "action": kind}
            self._notify()
        else:
            self.action_done(int(action["id"]))

    def action_done(self, action_id: int) -> None:
        if action_id > self.done_action:
            self.done_action = action_id
            self.player_action = None
            self.write_status()

    def player_report(self, report: dict[str, Any]) -> list[dict[str, Any]]:
        """The local player's heartbeat: note it, and hand it the action waiting for it."""
        self.player_seen = time.monotonic()
        done = report.get("done_action")
        if isinstance(done, int) and self.player_action and done >= self.player_action["id"]:
            self.action_done(done)
        return [self.player_action] if self.player_action else []

    def screenshot_once(self) -> bool:
        """Take a picture of the screen with the configured command and send it."""
        if not self.config.screenshot_command or not self.token:
            return False
        try:
            done = subprocess.run(shlex.split(self.config.screenshot_command),
                                  capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.error(f"screenshot: {exc}")
            return False
        if done.returncode != 0 or not done.stdout:
            self.error(f"screenshot: the command failed ({done.returncode}): "
                       f"{done.stderr.decode('utf-8', 'replace')[:200]}")
            return False
        if len(done.stdout) > MAX_SCREENSHOT:
            self.error("screenshot: larger than 4 MB; not sent")
            return False
        try:
            r = self.http.post(self.config.server + API + "/screenshot", data=done.stdout,
                               headers={**self._auth(), "Content-Type": "application/octet-stream"},
                               timeout=self.config.timeout)
        except requests.RequestException as exc:
            self._unreachable(f"screenshot: {exc.__class__.__name__}")
            return False
        if r.status_code != 201:
            self.error(f"screenshot: the server answered {r.status_code}: {r.text[:200]}")
            return False
        return True

    def forward_vote(self, body: bytes) -> tuple[int, bytes]:
        """A vote from the touch screen, passed on to the server as this display."""
        try:
            r = self.http.post(self.config.server + API + "/vote", data=body,
                               headers={**self._auth(), "Content-Type": "application/json"},
                               timeout=self.config.timeout)
        except requests.RequestException:
            return 503, json.dumps({"message": "The server cannot be reached."}).encode()
        return r.status_code, r.content

    # --- the loops -----------------------------------------------------------------------

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless stopped; True when stopped."""
        return self.stop_event.wait(seconds)

    def sync_loop(self) -> None:
        self.check_media()
        while not self.stop_event.is_set():
            if not self.token:
                if self.pair_once():
                    continue
                if self._sleep(3.0 if self.server_ok else self.backoff.next_delay()):
                    return
                continue
            result = self.sync_once()
            if result == "unchanged" and not self.check_media():
                result = "failed"
            if result in ("offline", "failed"):
                if self._sleep(self.backoff.next_delay()):
                    return
            elif result == "unchanged" and self.config.wait == 0:
                if self._sleep(5.0):
                    return

    def heartbeat_loop(self) -> None:
        last_shot = 0.0
        while not self.stop_event.is_set():
            self.heartbeat_once()
            every = self.config.screenshot_every
            if every and time.monotonic() - last_shot >= every:
                last_shot = time.monotonic()
                self.screenshot_once()
            if self._sleep(self.config.heartbeat_every):
                return

    def run(self) -> None:
        """Run until stop() (the local player is served by kiosk_client.local)."""
        self.write_status()
        threads = [threading.Thread(target=self.sync_loop, name="sync", daemon=True),
                   threading.Thread(target=self.heartbeat_loop, name="heartbeat", daemon=True)]
        for t in threads:
            t.start()
        self.stop_event.wait()
        for t in threads:
            t.join(5)

    def stop(self) -> None:
        self.stop_event.set()
        self._notify()
