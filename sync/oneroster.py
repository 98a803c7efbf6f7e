"""OneRoster 1.1 / 1.2 CSV bundles (a ZIP with manifest.csv, users.csv, orgs.csv,
classes.csv, enrollments.csv and, in 1.2, demographics.csv) read as the register.

Students become pupils: `sourcedId` is the register ID; family, given and middle name
the names; the birth date comes from demographics.csv; the class is the title of the
homeroom class the pupil is enrolled in (else the first class); a user marked
`tobedeleted`, disabled, or whose enrolment has ended has left. The manifest says
whether the bundle is `bulk` (the whole register) or `delta` (changes only, merged by
the caller with what it knows).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from datetime import date

from sync.readers import parse_date
from sync.records import Pupil, Source
from sync.tables import MAX_XLSX_UNPACKED, Problem, ReadError, Table, read_table

REQUIRED_FILES = ("manifest.csv", "users.csv")


@dataclass(frozen=True)
class Roster:
    """The pupils of a bundle, and whether it holds them all ("bulk") or changes ("delta")."""

    pupils: list[Pupil]
    mode: str


def is_oneroster(data: bytes) -> bool:
    """Whether data is a ZIP holding a OneRoster manifest."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except zipfile.BadZipFile:
        return False
    return any(n.rsplit("/", 1)[-1].lower() == "manifest.csv" for n in names)


def _files(data: bytes, file: str) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    if sum(i.file_size for i in archive.infolist()) > MAX_XLSX_UNPACKED:
        raise ReadError([Problem(file, 0, "", "The bundle unpacks to more than "
                                 f"{MAX_XLSX_UNPACKED // 2**20} MB.")])
    return {i.filename.rsplit("/", 1)[-1].lower(): archive.read(i) for i in archive.infolist()
            if not i.is_dir()}


def _rows(table: Table) -> list[tuple[int, dict[str, str]]]:
    names = [h.strip() for h in table.header]
    return [(n, {names[i]: (cells[i].strip() if i < len(cells) else "")
                 for i in range(len(names))}) for n, cells in table.rows]


def _table(files: dict[str, bytes], name: str, bundle: str) -> list[tuple[int, dict[str, str]]]:
    if name not in files:
        return []
    try:
        return _rows(read_table(files[name], f"{bundle}/{name}"))
    except ReadError as exc:
        if "only its header" in str(exc) or "empty" in str(exc):
            return []
        raise


def read_oneroster(data: bytes, file: str = "oneroster.zip", today: date | None = None
                   ) -> Roster:
    """The students of a OneRoster CSV bundle as pupils; ReadError with every problem."""
    today = today or date.today()
    files = _files(data, file)
    missing = [n for n in REQUIRED_FILES if n not in files]
    if missing:
        raise ReadError([Problem(file, 0, "", f"The bundle has no {', '.join(missing)}.")])
    manifest = {r.get("propertyName", ""): r.get("value", "").lower()
                for _n, r in _table(files, "manifest.csv", file)}
    mode = manifest.get("file.users", "bulk")
    if mode not in ("bulk", "delta"):
        raise ReadError([Problem(f"{file}/manifest.csv", 0, "file.users",
                                 f"“{mode}”: the bundle carries no users.")])
    problems: list[Problem] = []
    orgs = {r.get("sourcedId", ""): r.get("name", "") for _n, r in _table(files, "orgs.csv", file)}
    classes = {r.get("sourcedId", ""): r for _n, r in _table(files, "classes.csv", file)}
    births: dict[str, date] = {}
    for n, r in _table(files, "demographics.csv", file):
        raw = r.get("birthDate", "")
        if raw:
            try:
                births[r.get("sourcedId", "")] = parse_date(raw)
            except ValueError:
                problems.append(Problem(f"{file}/demographics.csv", n, "birthDate",
                                        f"“{raw}” is not a date."))
    homeroom: dict[str, tuple[str, date | None]] = {}
    for n, r in _table(files, "enrollments.csv", file):
        if r.get("role", "student").lower() != "student" or r.get("status") == "tobedeleted":
            continue
        cls = classes.get(r.get("classSourcedId", ""))
        if cls is None:
            continue
        end = None
        if r.get("endDate"):
            try:
                end = parse_date(r["endDate"])
            except ValueError:
                problems.append(Problem(f"{file}/enrollments.csv", n, "endDate",
                                        f"“{r['endDate']}” is not a date."))
        user = r.get("userSourcedId", "")
        if user not in homeroom or cls.get("classType", "").lower() == "homeroom":
            homeroom[user] = (cls.get("title", ""), end)
    pupils: list[Pupil] = []
    seen: dict[str, int] = {}
    for n, r in _table(files, "users.csv", file):
        if r.get("role", "").lower() not in ("student", "pupil"):
            continue
        sid = r.get("sourcedId", "")
        where = f"{file}/users.csv"
        if not sid:
            problems.append(Problem(where, n, "sourcedId", "Empty; every user has one."))
            continue
        if sid in seen:
            problems.append(Problem(where, n, "sourcedId", f"“{sid}” is on row {seen[sid]} "
                                                           "too."))
            continue
        seen[sid] = n
        if not r.get("familyName"):
            problems.append(Problem(where, n, "familyName", "Empty; the surname is needed."))
            continue
        title, end = homeroom.get(sid, ("", None))
        left = (r.get("status") == "tobedeleted" or r.get("enabledUser", "true").lower()
                == "false" or (end is not None and end < today))
        school = ",".join(orgs.get(o, o) for o in r.get("orgSourcedIds", "").split(",") if o)
        pupils.append(Pupil(sid, r["familyName"], r.get("givenName", ""),
                            r.get("middleName", ""), births.get(sid),
                            title.replace(" ", "").upper(), school,
                            "left" if left else "enrolled", None,
                            (end or today) if left else None, None, Source(where, n)))
    if problems:
        raise ReadError(problems)
    if not pupils and mode == "bulk":
        raise ReadError([Problem(f"{file}/users.csv", 0, "", "The bundle holds no students.")])
    return Roster(pupils, mode)
