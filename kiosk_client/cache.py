"""A content-addressed media cache: a file is named by the SHA-256 of its bytes.

A download goes to `partial/<sha>.part` (resumed with `Range` after a cut), is
checked against its hash, and only then renamed into `media/<sha>`: the cache
never holds half a file or the wrong bytes under a name. A file that rots on disk
is noticed (its hash is checked again whenever its size or time changes, and on
every start) and fetched again. When the disk runs low, media no manifest needs
are evicted, least recently used first.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

import requests

CHUNK = 256 * 1024


class CacheError(Exception):
    """A medium could not be put in the cache."""


class DiskFull(CacheError):
    """Not enough room for the media a manifest needs (the old content stays)."""


class BadDownload(CacheError):
    """What the server sent does not have the hash it was asked for."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


class MediaCache:
    """Media by SHA-256 under root, with the bytes downloaded so far counted."""

    def __init__(self, root: Path, min_free: int = 0, limit: int = 0) -> None:
        self.root = root
        self.media = root / "media"
        self.partial = root / "partial"
        self.media.mkdir(parents=True, exist_ok=True)
        self.partial.mkdir(parents=True, exist_ok=True)
        self.min_free = min_free
        self.limit = limit
        #: Bytes read from the network at a time.
        self.chunk = CHUNK
        #: Bytes received from the server by this process (what a benchmark watches).
        self.downloaded = 0
        self._verified: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def path(self, sha: str) -> Path:
        return self.media / sha

    def valid(self, sha: str) -> bool:
        """Whether the cache holds sha with the right bytes (re-hashed when it changed)."""
        path = self.path(sha)
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        stamp = (st.st_size, st.st_mtime_ns)
        if self._verified.get(sha) == stamp:
            return True
        if sha256_of(path) == sha:
            self._verified[sha] = stamp
            return True
        path.unlink(missing_ok=True)    # rotten: fetched again
        self._verified.pop(sha, None)
        return False

    def size(self) -> int:
        """Bytes of media held."""
        return sum(p.stat().st_size for p in self.media.iterdir() if p.is_file())

    def clear(self) -> None:
        """Drop every medium and partial download."""
        with self._lock:
            for folder in (self.media, self.partial):
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True, exist_ok=True)
            self._verified.clear()

    def evict(self, keep: Iterable[str], need: int = 0) -> int:
        """Remove media not in keep, least recently used first, until need bytes fit within
        the free-disk floor and the cache limit; return the bytes freed."""
        keep = set(keep)
        freed = 0
        candidates = sorted((p for p in self.media.iterdir()
                             if p.is_file() and p.name not in keep),
                            key=lambda p: p.stat().st_atime)
        for path in candidates:
            if self._room_for(need):
                break
            freed += path.stat().st_size
            path.unlink(missing_ok=True)
            self._verified.pop(path.name, None)
        return freed

    def _room_for(self, need: int) -> bool:
        free = shutil.disk_usage(self.root).free
        if free - need < self.min_free:
            return False
        return not (self.limit and self.size() + need > self.limit)

    def fetch(self, session: requests.Session, url: str, sha: str, size: int,
              headers: dict[str, str], keep: Iterable[str], timeout: float = 30.0,
              progress: Callable[[int], None] | None = None) -> bool:
        """Make sure sha is in the cache; download (or resume) it if not. Return whether
        anything was downloaded. Raise DiskFull, BadDownload or a requests error."""
        if self.valid(sha):
            os.utime(self.path(sha))    # recently used
            return False
        part = self.partial / f"{sha}.part"
        have = part.stat().st_size if part.exists() else 0
        if have > size:
            part.unlink()
            have = 0
        if not self._room_for(size - have):
            self.evict(keep, size - have)
            if not self._room_for(size - have):
                raise DiskFull(f"no room for {sha[:12]}… ({size - have} bytes)")
        ask = dict(headers)
        if have:
            ask["Range"] = f"bytes={have}-"
        with session.get(url, headers=ask, stream=True, timeout=timeout) as r:
            if r.status_code == 416:
                part.unlink(missing_ok=True)
                raise BadDownload(f"{sha[:12]}…: the partial download did not fit; restarting")
            if r.status_code not in (200, 206):
                r.raise_for_status()
                raise CacheError(f"{sha[:12]}…: the server answered {r.status_code}")
            mode = "ab" if r.status_code == 206 and have else "wb"
            try:
                with part.open(mode) as out:
                    for block in r.iter_content(self.chunk):
                        out.write(block)
                        self.downloaded += len(block)
                        if progress is not None:
                            progress(len(block))
                    out.flush()
                    os.fsync(out.fileno())
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    part.unlink(missing_ok=True)
                    raise DiskFull(f"the disk filled up while fetching {sha[:12]}…") from None
                raise
        if part.stat().st_size < size:
            raise CacheError(f"{sha[:12]}…: the download was cut at {part.stat().st_size} "
                             f"of {size} bytes; it resumes on the next try")
        if sha256_of(part) != sha:
            part.unlink(missing_ok=True)
            raise BadDownload(f"{sha[:12]}…: the bytes received do not match their hash")
        os.replace(part, self.path(sha))
        st = self.path(sha).stat()
        self._verified[sha] = (st.st_size, st.st_mtime_ns)
        return True
