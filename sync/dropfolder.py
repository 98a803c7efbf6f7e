"""Watched drop folders: a file is handed over only once it has stopped changing.

A drop folder holds one subfolder per owner (e.g. per organisation). A file
dropped into a subfolder is handed to a callback once its size and modification
time have stayed the same for `settle` seconds, so a file still being copied is
never half-imported. The callback decides:

- it returns: the file was imported and is removed from the folder;
- it raises `DropRejected`: the file is moved to `<subfolder>/rejected/` with a
  `<name>.reason.txt` beside it;
- it raises anything else (e.g. the database is away): the file stays and is
  tried again later.

watchdog tells us early that something changed; a periodic rescan catches what
a network share forgot to report.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)

REJECTED = "rejected"
#: Names that belong to copies still in progress, or to the system.
IGNORED_SUFFIXES = (".part", ".partial", ".tmp", ".crdownload", ".download", ".swp",
                    ".reason.txt")
IGNORED_NAMES = frozenset({"Thumbs.db", "desktop.ini", ".DS_Store", "README.txt"})


class DropRejected(Exception):  # noqa: N818 - a verdict on a file
    """The file is refused for good; reason is written next to it for the person who sent it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    """What happened to one file."""

    path: Path
    status: str  # "imported", "rejected" or "retry"
    reason: str = ""


Handler = Callable[[str, Path], None]


def _wanted(path: Path, root: Path) -> bool:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    parts = rel.parts
    return (len(parts) == 2 and not parts[0].startswith(".") and not parts[1].startswith(".")
            and parts[1] not in IGNORED_NAMES
            and not parts[1].lower().endswith(IGNORED_SUFFIXES))


class DropFolder:
    """Hands stable files of `root/<owner>/` to `handle(owner, path)`."""

    def __init__(self, root: str | os.PathLike[str], handle: Handler, settle: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.root = Path(root)
        self.handle = handle
        self.settle = settle
        self.clock = clock
        self._seen: dict[Path, tuple[int, int, float]] = {}
        self._lock = threading.Lock()

    def candidates(self) -> list[Path]:
        """Files waiting in the owners' subfolders (not in rejected/)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.glob("*/*") if p.is_file() and _wanted(p, self.root))

    def _stable(self, path: Path, now: float) -> bool:
        try:
            st = path.stat()
        except FileNotFoundError:
            self._seen.pop(path, None)
            return False
        mark = (st.st_size, st.st_mtime_ns)
        seen = self._seen.get(path)
        if seen is None or seen[:2] != mark:
            self._seen[path] = (*mark, now)
            return False
        return now - seen[2] >= self.settle

    def process(self) -> list[Outcome]:
        """Hand over every file that has settled; returns what happened to each."""
        outcomes = []
        with self._lock:
            now = self.clock()
            for path in self.candidates():
                if self._stable(path, now):
                    outcomes.append(self._hand_over(path))
        return outcomes

    def _hand_over(self, path: Path) -> Outcome:
        owner = path.parent.name
        try:
            self.handle(owner, path)
        except DropRejected as exc:
            self._seen.pop(path, None)
            target = self._reject(path, exc.reason)
            log.warning("drop folder: rejected %s: %s (moved to %s)", path, exc.reason, target)
            return Outcome(path, "rejected", exc.reason)
        except Exception as exc:  # noqa: BLE001 - keep the file and try again later
            log.error("drop folder: could not import %s, will retry: %s", path, exc)
            self._seen.pop(path, None)
            return Outcome(path, "retry", str(exc))
        self._seen.pop(path, None)
        path.unlink(missing_ok=True)
        log.info("drop folder: imported %s", path)
        return Outcome(path, "imported")

    @staticmethod
    def _reject(path: Path, reason: str) -> Path:
        folder = path.parent / REJECTED
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        n = 1
        while target.exists():
            target = folder / f"{path.stem} ({n}){path.suffix}"
            n += 1
        os.replace(path, target)
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n",
                                                                 encoding="utf-8")
        return target

    def run(self, stop: threading.Event, tick: float = 0.5, rescan: float = 30.0) -> None:
        """Watch until stop is set: check on every change, and rescan now and then."""
        wake = threading.Event()

        class _Nudge(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                wake.set()

        self.root.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.schedule(_Nudge(), str(self.root), recursive=True)
        observer.start()
        try:
            last_scan = 0.0
            while not stop.is_set():
                if self._seen or wake.is_set() or self.clock() - last_scan >= rescan:
                    wake.clear()
                    last_scan = self.clock()
                    self.process()
                wake.wait(tick)
        finally:
            observer.stop()
            observer.join(5)
