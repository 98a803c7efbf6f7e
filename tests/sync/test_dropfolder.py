"""Drop folders: files are handed over only once settled; refusals are moved aside with
their reason; failures are retried; a real watchdog observer notices new files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from sync.dropfolder import DropFolder, DropRejected


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _folder(tmp_path: Path, handle, clock: Clock) -> DropFolder:  # type: ignore[no-untyped-def]
    (tmp_path / "7-School").mkdir()
    return DropFolder(tmp_path, handle, settle=2.0, clock=clock)


def test_a_file_still_being_written_is_not_imported(tmp_path: Path) -> None:
    got: list[tuple[str, bytes]] = []
    clock = Clock()
    folder = _folder(tmp_path, lambda owner, p: got.append((owner, p.read_bytes())), clock)
    path = tmp_path / "7-School" / "poster.jpg"
    path.write_bytes(b"first half")
    assert folder.process() == []
    clock.now += 5
    with path.open("ab") as fh:  # the copy goes on
        fh.write(b" second half")
    assert folder.process() == []  # changed since the last look: wait again
    clock.now += 1
    assert folder.process() == []  # not settled for long enough yet
    clock.now += 1.5
    outcomes = folder.process()
    assert [o.status for o in outcomes] == ["imported"]
    assert got == [("7-School", b"first half second half")]
    assert not path.exists()


def test_refused_files_move_to_rejected_with_the_reason(tmp_path: Path) -> None:
    def refuse(owner: str, path: Path) -> None:
        raise DropRejected("“page.jpg”: The file is not a JPEG, PNG or WebP image.")

    clock = Clock()
    folder = _folder(tmp_path, refuse, clock)
    for _ in range(2):  # the same name twice: the second gets its own name in rejected/
        (tmp_path / "7-School" / "page.jpg").write_bytes(b"<html>")
        folder.process()
        clock.now += 3
        assert [o.status for o in folder.process()] == ["rejected"]
    rejected = tmp_path / "7-School" / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == [
        "page (1).jpg", "page (1).jpg.reason.txt", "page.jpg", "page.jpg.reason.txt"]
    reason = (rejected / "page.jpg.reason.txt").read_text(encoding="utf-8")
    assert "not a JPEG" in reason
    assert folder.candidates() == []  # rejected files are not looked at again


def test_a_failing_import_is_retried_and_the_file_kept(tmp_path: Path) -> None:
    calls: list[Path] = []

    def flaky(owner: str, path: Path) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise ConnectionError("database unreachable")

    clock = Clock()
    folder = _folder(tmp_path, flaky, clock)
    path = tmp_path / "7-School" / "a.png"
    path.write_bytes(b"x")
    folder.process()
    clock.now += 3
    assert [o.status for o in folder.process()] == ["retry"]
    assert path.exists()
    folder.process()
    clock.now += 3
    assert [o.status for o in folder.process()] == ["imported"]
    assert len(calls) == 2 and not path.exists()


@pytest.mark.parametrize("name", ["clip.mp4.part", "photo.jpg.crdownload", ".hidden.jpg",
                                  "Thumbs.db", "README.txt"])
def test_partial_and_system_files_are_left_alone(tmp_path: Path, name: str) -> None:
    clock = Clock()
    folder = _folder(tmp_path, lambda owner, p: None, clock)
    (tmp_path / "7-School" / name).write_bytes(b"x")
    (tmp_path / "stray.jpg").write_bytes(b"x")  # not in an owner's folder
    assert folder.candidates() == []


def test_the_watcher_notices_a_dropped_file(tmp_path: Path) -> None:
    done = threading.Event()
    got: list[str] = []

    def handle(owner: str, path: Path) -> None:
        got.append(path.name)
        done.set()

    (tmp_path / "7-School").mkdir()
    folder = DropFolder(tmp_path, handle, settle=0.2)
    stop = threading.Event()
    thread = threading.Thread(target=folder.run, args=(stop,), kwargs={"tick": 0.1,
                                                                       "rescan": 60})
    thread.start()
    try:
        time.sleep(0.3)  # the observer is up
        (tmp_path / "7-School" / "news.png").write_bytes(b"png")
        assert done.wait(10), "the dropped file was not picked up"
    finally:
        stop.set()
        thread.join(10)
    assert got == ["news.png"] and not thread.is_alive()
