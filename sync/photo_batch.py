"""A batch of photos (the photographer's ZIP, a folder) and which pupil each file is for.

Files are named by the pupil's register ID, a card number, or "Surname Name" (with
spaces, underscores, dots or hyphens between the words, ё/е and case as they come). A
file matches when exactly one of those names one pupil; anything else is listed with the
reason, and two files for one pupil are both held back for a person to sort out. Reading
a ZIP trusts none of its headers: members are counted, read with a byte limit (a zip
bomb stops at the limit), and named by their last path part only.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

from sync.names import normalize_name

#: Extensions of the pictures a batch may hold (others are listed as "not a photo").
PHOTO_EXTENSIONS = frozenset({".jpg", ".jpeg", ".jpe", ".png", ".webp", ".heic", ".heif",
                              ".gif", ".bmp", ".tif", ".tiff"})
_SEPARATORS = re.compile(r"[\s_.]+")


class BatchError(ValueError):
    """The batch as a whole cannot be read: code says why (for translation, with params),
    the message in English."""

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Member:
    """One file of a batch: its name as the person sees it (path inside the ZIP or the
    folder) and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Person:
    """What a file name can be matched against: a pupil of the school."""

    register_id: str
    surname: str
    first_name: str
    patronymic: str = ""
    card_numbers: tuple[str, ...] = ()
    enrolled: bool = True


@dataclass(frozen=True)
class Match:
    """Which pupil a file is for, how it was found, or why it is left out."""

    name: str
    register_id: str | None = None
    #: "register_id", "card" or "name" when matched.
    by: str = ""
    #: "not_a_photo", "no_match", "ambiguous", "left" or "several_files" when not.
    problem: str = ""
    #: The other pupils or files a problem is about (register IDs or file names).
    others: tuple[str, ...] = field(default=())


def is_hidden(name: str) -> bool:
    """System litter: macOS resource forks and .DS_Store, Windows Thumbs.db, dot files."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    return any(p.startswith(".") or p == "__MACOSX" for p in parts) or \
        parts[-1].lower() in ("thumbs.db", "desktop.ini")


def stem_of(name: str) -> str:
    """The file name without folders and extension."""
    base = PureWindowsPath(name.replace("/", "\\")).name
    return base.rsplit(".", 1)[0] if "." in base else base


def extension_of(name: str) -> str:
    base = PureWindowsPath(name.replace("/", "\\")).name
    return "." + base.rsplit(".", 1)[1].lower() if "." in base else ""


def read_zip(data: bytes, max_members: int = 5000, max_member_bytes: int = 30 * 2**20,
             max_total_bytes: int = 2 * 2**30) -> Iterator[Member]:
    """The files of a ZIP, in the archive's order, read with limits; BatchError when it is
    not a ZIP, is damaged, encrypted, or holds too many or too large files."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise BatchError("not_a_zip", "The file is not a ZIP archive, or it is damaged."
                         ) from None
    if len(infos) > max_members:
        raise BatchError("too_many_files", f"The archive holds {len(infos)} files; at most "
                         f"{max_members} are taken at once.", count=len(infos),
                         limit=max_members)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise BatchError("encrypted", f"“{info.filename}” is encrypted; pack the photos "
                             "without a password.", name=info.filename)
        if is_hidden(info.filename):
            continue
        if extension_of(info.filename) not in PHOTO_EXTENSIONS:
            yield Member(info.filename, b"")        # listed, never read
            continue
        try:
            with archive.open(info) as stream:
                body = stream.read(max_member_bytes + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                RuntimeError):
            raise BatchError("unreadable", f"“{info.filename}” cannot be read from the "
                             "archive: it is damaged or packed in a way that is not "
                             "supported.", name=info.filename) from None
        if len(body) > max_member_bytes:
            raise BatchError("file_too_large", f"“{info.filename}” is larger than "
                             f"{max_member_bytes // 2**20} MB.", name=info.filename,
                             mb=max_member_bytes // 2**20)
        total += len(body)
        if total > max_total_bytes:
            raise BatchError("too_large", f"The archive unpacks to more than "
                             f"{max_total_bytes // 2**20} MB.", mb=max_total_bytes // 2**20)
        yield Member(info.filename, body)


def _name_keys(p: Person) -> set[str]:
    keys = {normalize_name(f"{p.surname} {p.first_name}")}
    if p.patronymic:
        keys.add(normalize_name(f"{p.surname} {p.first_name} {p.patronymic}"))
    return keys


def _name_key(stem: str) -> str:
    return normalize_name(_SEPARATORS.sub(" ", stem))


def match_files(names: Iterable[str], people: Iterable[Person]) -> list[Match]:
    """Which pupil each file is for (see the module's rules), in the files' order."""
    people = list(people)
    by_id = {p.register_id.casefold(): p for p in people}
    by_card: dict[str, Person] = {}
    for p in people:
        for number in p.card_numbers:
            by_card[number.strip().casefold()] = p
    by_name: dict[str, list[Person]] = {}
    for p in people:
        for key in _name_keys(p):
            by_name.setdefault(key, []).append(p)
    matches: list[Match] = []
    for name in names:
        if is_hidden(name):
            continue
        if extension_of(name) not in PHOTO_EXTENSIONS:
            matches.append(Match(name, problem="not_a_photo"))
            continue
        stem = stem_of(name).strip()
        found, by = by_id.get(stem.casefold()), "register_id"
        if found is None:
            found, by = by_card.get(stem.casefold()), "card"
        if found is None:
            named = by_name.get(_name_key(stem), [])
            if len(named) > 1:
                matches.append(Match(name, problem="ambiguous",
                                     others=tuple(sorted(p.register_id for p in named))))
                continue
            found, by = (named[0], "name") if named else (None, "")
        if found is None:
            matches.append(Match(name, problem="no_match"))
        elif not found.enrolled:
            matches.append(Match(name, found.register_id, by, problem="left"))
        else:
            matches.append(Match(name, found.register_id, by))
    files_of: dict[str, list[str]] = {}
    for m in matches:
        if m.register_id and not m.problem:
            files_of.setdefault(m.register_id, []).append(m.name)
    return [Match(m.name, m.register_id, m.by, "several_files",
                  tuple(n for n in files_of[m.register_id] if n != m.name))
            if m.register_id and not m.problem and len(files_of[m.register_id]) > 1 else m
            for m in matches]
