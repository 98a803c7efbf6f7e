"""Reading whole timetables: Vitrina's CSV and the aSc Timetables XML export.

Pure: bytes in, an `ImportResult` out, with every problem named by its row
(the CSV line, or the XML line) and field. Nothing is half-read: the caller
writes the lessons only when `problems` is empty. `check_against` adds what
only the school knows (its classes and periods).

The CSV format is documented in docs/timetable-csv.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import time
from xml.sax import SAXException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import Locator

from defusedxml import DefusedXmlException
from defusedxml.sax import parseString

from content.timetable import Period, groups_overlap

MAX_ROWS = 20_000
MAX_BYTES = 10 * 1024 * 1024

COLUMNS: dict[str, tuple[str, ...]] = {
    "weekday": ("weekday", "day", "день", "день недели"),
    "period": ("period", "lesson", "урок", "номер урока", "№ урока"),
    "group": ("class", "group", "класс", "группа"),
    "subject": ("subject", "предмет"),
    "teacher": ("teacher", "учитель", "преподаватель"),
    "room": ("room", "кабинет", "аудитория"),
    "week": ("week", "неделя"),
    "building": ("building", "корпус", "здание"),
    "floor": ("floor", "этаж"),
}
REQUIRED = ("weekday", "period", "group", "subject")

WEEKDAYS: dict[str, int] = {}
for _i, _names in enumerate((
        ("1", "пн", "понедельник", "mon", "mo", "monday"),
        ("2", "вт", "вторник", "tue", "tu", "tuesday"),
        ("3", "ср", "среда", "wed", "we", "wednesday"),
        ("4", "чт", "четверг", "thu", "th", "thursday"),
        ("5", "пт", "пятница", "fri", "fr", "friday"),
        ("6", "сб", "суббота", "sat", "sa", "saturday"),
        ("7", "вс", "воскресенье", "sun", "su", "sunday"))):
    for _n in _names:
        WEEKDAYS[_n] = _i
WEEK_NAMES = {"": "", "*": "", "every": "", "каждая": "", "все": "", "a": "A", "а": "A",
              "1": "A", "b": "B", "б": "B", "2": "B"}
#: "7Б", "11А", "7Б/1", "10А/англ-2": a year, letters, optionally a subgroup after "/".
CLASS_KEY = re.compile(r"^(?:[1-9]|1[0-2])[A-ZА-ЯЁ]{0,3}(?:/[\w.+-]{1,16})?$")


@dataclass(frozen=True)
class ImportProblem:
    """What is wrong and where: row (file line), column, a code, its details, and a sentence."""

    row: int
    column: str
    code: str
    message: str
    params: dict[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ImportedLesson:
    """A weekly lesson read from a file, with the row it came from."""

    row: int
    weekday: int
    period: int
    group: str
    subject: str
    teacher: str = ""
    room: str = ""
    week: str = ""


@dataclass(frozen=True)
class ImportedRoom:
    """A room read from a file, with its building's name and floor if given."""

    key: str
    building: str = ""
    floor: int | None = None


@dataclass
class ImportResult:
    """What a file holds, and what is wrong with it."""

    source: str
    format: str
    lessons: list[ImportedLesson] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    rooms: dict[str, ImportedRoom] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file may be written."""
        return not self.problems

    def problem(self, row: int, fld: str, code: str, message: str, **params: str) -> None:
        """Record a problem."""
        self.problems.append(ImportProblem(row, fld, code, message.format(**params), params))


def normalise_class(raw: str) -> str:
    """"7 б" → "7Б", "7-Б/1" → "7Б/1"; Latin look-alikes stay as typed."""
    key = raw.strip().replace(" ", "")
    head, sep, tail = key.partition("/")
    head = head.replace("-", "").upper()
    return head + sep + tail


def _decode(data: bytes, result: ImportResult) -> list[str] | None:
    """The file's lines: UTF-8 (BOM or not), else Windows-1251; undecodable lines are problems."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    raw_lines = data.split(b"\n")
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        pass
    utf8_text_lines = 0
    for line in raw_lines:
        if max(line, default=0) >= 0x80:
            try:
                line.decode("utf-8")
                utf8_text_lines += 1
            except UnicodeDecodeError:
                pass
    if utf8_text_lines == 0:
        try:
            return data.decode("cp1251").split("\n")
        except UnicodeDecodeError:
            pass
    lines: list[str] = []
    for number, line in enumerate(raw_lines, start=1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            result.problem(number, "", "encoding",
                           "The line is not UTF-8 text (save the file as UTF-8 or "
                           "Windows-1251, not both mixed).")
            lines.append("")
    return lines


def _too_big(data: bytes, result: ImportResult) -> bool:
    """Refuse a file over MAX_BYTES before reading any of it."""
    if len(data) <= MAX_BYTES:
        return False
    result.problem(0, "", "too_big", "The file is larger than {limit} MB.",
                   limit=str(MAX_BYTES // 1024 // 1024))
    return True


def read_csv(data: bytes, source: str = "timetable.csv") -> ImportResult:
    """Read a timetable CSV: one lesson a row; see docs/timetable-csv.md."""
    result = ImportResult(source=source, format="csv")
    if _too_big(data, result):
        return result
    lines = _decode(data, result)
    if lines is None:
        return result
    text = "\n".join(lines)
    header_line = next((ln for ln in lines if ln.strip()), "")
    if not header_line:
        result.problem(1, "", "empty", "The file is empty.")
        return result
    delimiter = max(";,\t", key=header_line.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        result.problem(reader.line_num, "", "csv", "The file is not valid CSV: {error}.",
                       error=str(exc))
        return result
    header_index = next(i for i, r in enumerate(rows) if any(c.strip() for c in r))
    header = [c.strip().lower() for c in rows[header_index]]
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        for key, synonyms in COLUMNS.items():
            if name in synonyms and key not in columns:
                columns[key] = position
    missing = [k for k in REQUIRED if k not in columns]
    if missing:
        for key in missing:
            result.problem(header_index + 1, key, "missing_column",
                           "The header has no column for {column} (expected one of: {names}).",
                           column=key, names=", ".join(COLUMNS[key]))
        return result
    if len(rows) - header_index - 1 > MAX_ROWS:
        result.problem(0, "", "too_many_rows", "The file has more than {limit} rows.",
                       limit=str(MAX_ROWS))
        return result
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        number = index + 1
        if not any(c.strip() for c in row):
            continue

        def cell(key: str, row: list[str] = row) -> str:
            pos = columns.get(key)
            return row[pos].strip() if pos is not None and pos < len(row) else ""

        _lesson_from_cells(result, number, cell)
    _check_duplicates(result)
    return result


def _lesson_from_cells(result: ImportResult, number: int, cell: Callable[[str], str]) -> None:
    before = len(result.problems)
    weekday = WEEKDAYS.get(cell("weekday").lower().rstrip("."))
    if weekday is None:
        result.problem(number, "weekday", "weekday",
                       "“{value}” is not a day of the week (Пн … Сб, Mon … Sat or 1 … 7).",
                       value=cell("weekday"))
    period_raw = cell("period")
    period = int(period_raw) if period_raw.isdigit() else None
    if period is None:
        result.problem(number, "period", "period", "“{value}” is not a period number.",
                       value=period_raw)
    group = normalise_class(cell("group"))
    if not CLASS_KEY.match(group):
        result.problem(number, "group", "class_key",
                       "“{value}” is not a class (like 7Б) or a subgroup (like 7Б/1).",
                       value=cell("group"))
    subject = cell("subject")
    if not subject:
        result.problem(number, "subject", "required", "The subject is empty.")
    week = WEEK_NAMES.get(cell("week").lower())
    if week is None:
        result.problem(number, "week", "week",
                       "“{value}” is not a week (empty for every week, A or B).",
                       value=cell("week"))
    floor_raw = cell("floor")
    floor = int(floor_raw) if floor_raw.lstrip("-").isdigit() else None
    if floor_raw and floor is None:
        result.problem(number, "floor", "floor", "“{value}” is not a floor number.",
                       value=floor_raw)
    for key, limit in (("subject", 100), ("teacher", 100), ("room", 32), ("group", 32)):
        if len(cell(key)) > limit:
            result.problem(number, key, "too_long", "The value is longer than {limit} "
                           "characters.", limit=str(limit))
    if len(result.problems) > before:
        return
    room = cell("room")
    if room and (room not in result.rooms or cell("building") or floor is not None):
        known = result.rooms.get(room)
        result.rooms[room] = ImportedRoom(
            room, cell("building") or (known.building if known else ""),
            floor if floor is not None else (known.floor if known else None))
    assert weekday is not None and period is not None and week is not None
    result.lessons.append(ImportedLesson(number, weekday, period, group, subject,
                                         cell("teacher"), room, week))


def _check_duplicates(result: ImportResult) -> None:
    """Two lessons of one class (or overlapping subgroups) in one period and week are a mistake."""
    seen: dict[tuple[int, int, str], list[ImportedLesson]] = defaultdict(list)
    for lesson in result.lessons:
        weeks = ("A", "B") if not lesson.week else (lesson.week,)
        clash = next((other for w in weeks for other in seen[(lesson.weekday, lesson.period, w)]
                      if groups_overlap(other.group, lesson.group)), None)
        if clash is not None:
            result.problem(lesson.row, "group", "duplicate",
                           "{group} already has a lesson then (row {other}).",
                           group=lesson.group, other=str(clash.row))
            continue
        for w in weeks:
            seen[(lesson.weekday, lesson.period, w)].append(lesson)


def check_against(result: ImportResult, classes: Iterable[str], periods: Iterable[int]
                  ) -> None:
    """Add problems only the school can see: unknown classes, periods its bells lack.

    classes: the school's classes ("7Б"); empty means the file may bring new ones.
    periods: period numbers of the school's bells, or of the file's own periods.
    """
    known = set(classes)
    numbers = set(periods) | {p.number for p in result.periods}
    top = max(numbers) if numbers else 0
    for lesson in result.lessons:
        cls = lesson.group.split("/")[0]
        if known and cls not in known:
            result.problem(lesson.row, "group", "unknown_class",
                           "The school has no class {value}.", value=cls)
        if numbers and lesson.period not in numbers:
            result.problem(lesson.row, "period", "period_range",
                           "Period {value} is not in the bell schedule (1 … {top}).",
                           value=str(lesson.period), top=str(top))
        elif not numbers:
            result.problem(lesson.row, "period", "no_bells",
                           "The school has no bell schedule yet: set up the bells first.")
            break
    result.problems.sort(key=lambda p: (p.row, p.column))


# --- aSc Timetables XML ---------------------------------------------------------------

class _Collector(ContentHandler):
    """Collects the elements aSc writes, each with its line."""

    WANTED = frozenset({"period", "subject", "teacher", "class", "group", "classroom",
                        "lesson", "card", "weeksdef", "daysdef"})

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, list[tuple[int, dict[str, str]]]] = {k: [] for k in self.WANTED}
        self.root = ""
        self._locator: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:  # noqa: N802 (SAX API)
        self._locator = locator

    def startElement(self, name: str, attrs: object) -> None:  # noqa: N802 (SAX API)
        if not self.root:
            self.root = name
        if name in self.WANTED:
            line = (self._locator.getLineNumber() or 0) if self._locator else 0
            self.items[name].append((line, dict(attrs.items())))  # type: ignore[attr-defined]


def _clock(raw: str) -> time | None:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return time(int(match[1]), int(match[2]))


def _ids(raw: str) -> list[str]:
    return [i for i in raw.split(",") if i]


def read_asc_xml(data: bytes, source: str = "timetable.xml") -> ImportResult:
    """Read an aSc Timetables XML export (File → Export → aSc XML)."""
    result = ImportResult(source=source, format="asc")
    if _too_big(data, result):
        return result
    handler = _Collector()
    try:
        parseString(data, handler, forbid_dtd=True)
    except (SAXException, DefusedXmlException, ValueError) as exc:
        line = getattr(exc, "getLineNumber", lambda: 0)()
        result.problem(line or 0, "", "xml", "The file is not readable XML: {error}.",
                       error=str(exc).split(":")[-1].strip() or type(exc).__name__)
        return result
    if handler.root != "timetable":
        result.problem(1, "", "not_asc", "This is not an aSc Timetables export "
                       "(its root element is “{root}”, expected “timetable”).",
                       root=handler.root)
        return result
    items = handler.items
    for line, a in items["period"]:
        start, end = _clock(a.get("starttime", "")), _clock(a.get("endtime", ""))
        number = a.get("period", "")
        if not number.isdigit() or start is None or end is None or end <= start:
            result.problem(line, "period", "asc_period",
                           "The period definition is incomplete (period, starttime, endtime).")
            continue
        result.periods.append(Period(int(number), start, end))
    names = {kind: {a.get("id", ""): (a.get("name") or a.get("short") or "").strip()
                    for _, a in items[kind]}
             for kind in ("subject", "teacher", "classroom")}
    classes = {a.get("id", ""): normalise_class(a.get("name") or a.get("short") or "")
               for _, a in items["class"]}
    groups = {a.get("id", ""): a for _, a in items["group"]}
    lessons = {a.get("id", ""): (line, a) for line, a in items["lesson"]}
    weeksdefs = {a.get("id", ""): a.get("weeks", "") for _, a in items["weeksdef"]}
    daysdefs = {a.get("id", ""): a.get("days", "") for _, a in items["daysdef"]}
    for line, card in items["card"]:
        found = lessons.get(card.get("lessonid", ""))
        if found is None:
            result.problem(line, "lessonid", "asc_ref", "The card names lesson “{value}”, "
                           "which the file does not define.", value=card.get("lessonid", ""))
            continue
        _, lesson = found
        before = len(result.problems)
        subject = names["subject"].get(lesson.get("subjectid", ""))
        if not subject:
            result.problem(line, "subject", "asc_subject", "The subject “{value}” is not "
                           "defined in the file.", value=lesson.get("subjectid", ""))
        class_ids = _ids(lesson.get("classids", ""))
        keys: list[str] = []
        for cid in class_ids:
            if cid not in classes:
                result.problem(line, "group", "asc_class", "The lesson names class "
                               "“{value}”, which the file does not define.", value=cid)
                continue
            keys.append(classes[cid])
        if not class_ids:
            result.problem(line, "group", "asc_no_class", "The lesson has no class.")
        for gid in _ids(lesson.get("groupids", "")):
            g = groups.get(gid)
            if g is not None and g.get("entireclass") != "1" and g.get("classid") in classes:
                base = classes[g["classid"]]
                keys = [k if k != base else f"{base}/{g.get('name', gid).strip()}"
                        for k in keys]
        teacher = ", ".join(n for t in _ids(lesson.get("teacherids", ""))
                            if (n := names["teacher"].get(t)))
        rooms = _ids(card.get("classroomids", "")) or _ids(lesson.get("classroomids", ""))
        room = names["classroom"].get(rooms[0], "") if rooms else ""
        days = card.get("days") or daysdefs.get(lesson.get("daysdefid", ""), "")
        weeks = card.get("weeks") or weeksdefs.get(lesson.get("weeksdefid", ""), "")
        weekdays = [i for i, ch in enumerate(days) if ch == "1"]
        if not weekdays:
            result.problem(line, "days", "asc_days", "The card has no day (days=“{value}”).",
                           value=days)
        period_raw = card.get("period", "")
        if not period_raw.isdigit():
            result.problem(line, "period", "period", "“{value}” is not a period number.",
                           value=period_raw)
        span = lesson.get("periodspercard", "1")
        if len(result.problems) > before:
            continue
        week = ""
        if weeks and weeks.count("1") == 1 and len(weeks) == 2:
            week = "A" if weeks == "10" else "B"
        for weekday in weekdays:
            for offset in range(int(span) if span.isdigit() and int(span) > 0 else 1):
                for key in keys:
                    result.lessons.append(ImportedLesson(
                        line, weekday, int(period_raw) + offset, key, subject or "",
                        teacher, room, week))
        if room:
            result.rooms.setdefault(room, ImportedRoom(room))
    if not items["card"]:
        result.problem(0, "", "asc_empty", "The export has no cards (placed lessons): export "
                       "the timetable after generating it.")
    _check_duplicates(result)
    return result


def read_timetable(data: bytes, filename: str) -> ImportResult:
    """Read a timetable file by its content: aSc XML if it is XML, else CSV."""
    head = data[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return read_asc_xml(data, filename)
    return read_csv(data, filename)
