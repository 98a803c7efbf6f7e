"""Readers of the school register and the card system's card list (CSV or XLSX).

Columns are found by their usual Russian and English names and synonyms; anything
else is named by a saved column mapping (header → field). Every problem is collected,
with file, row and column, and reported together: a file with any problem yields no
records at all, so nothing is ever half-read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import itemgetter

from sync.bulk import collector_paused
from sync.records import Card, Consent, Pupil, Source
from sync.rest import records_as_csv
from sync.tables import Problem, ReadError, Table, read_table

REGISTER_COLUMNS: dict[str, tuple[str, ...]] = {
    "register_id": ("id", "register id", "pupil id", "student id", "sourcedid", "guid",
                    "идентификатор", "ид", "id ученика", "ид ученика", "код ученика",
                    "код", "уид", "личный номер"),
    "full_name": ("фио", "ф.и.о.", "ф. и. о.", "full name", "name"),
    "surname": ("фамилия", "last name", "lastname", "surname", "family name", "familyname"),
    "first_name": ("имя", "first name", "firstname", "given name", "givenname"),
    "patronymic": ("отчество", "patronymic", "middle name", "middlename"),
    "birth_date": ("дата рождения", "д.р.", "др", "birth date", "birthdate",
                   "date of birth", "dob"),
    "class_name": ("класс", "класс/группа", "class", "grade", "group", "form"),
    "school": ("школа", "оу", "образовательная организация", "school", "org"),
    "status": ("статус", "состояние", "status"),
    "enrolled_on": ("дата зачисления", "зачислен", "enrolled", "enrolment date",
                    "enrollment date", "start date"),
    "left_on": ("дата выбытия", "выбыл", "дата отчисления", "left", "leaving date",
                "end date"),
    "consent": ("согласие на фото", "согласие", "photo consent", "consent"),
    "consent_on": ("дата согласия", "consent date"),
}
CARD_COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("номер карты", "карта", "№ карты", "uid карты", "card number", "card",
               "card no", "card id"),
    "pupil_id": ("id ученика", "ид ученика", "код ученика", "pupil id", "register id",
                 "student id", "holder id"),
    "status": ("статус", "статус карты", "status", "card status"),
    "issued_on": ("дата выдачи", "выдана", "issued", "issue date", "issued on"),
    "full_name": REGISTER_COLUMNS["full_name"],
    "surname": REGISTER_COLUMNS["surname"],
    "first_name": REGISTER_COLUMNS["first_name"],
    "patronymic": REGISTER_COLUMNS["patronymic"],
    "birth_date": REGISTER_COLUMNS["birth_date"],
    "class_name": REGISTER_COLUMNS["class_name"],
    "photo": ("фото", "фотография", "photo", "photo file"),
}
PUPIL_STATUS = {"": "enrolled", "обучается": "enrolled", "учится": "enrolled",
                "зачислен": "enrolled", "enrolled": "enrolled", "active": "enrolled",
                "выбыл": "left", "выбыла": "left", "отчислен": "left", "отчислена": "left",
                "left": "left", "inactive": "left", "tobedeleted": "left"}
CARD_STATUS = {"": "active", "active": "active", "активна": "active", "действует": "active",
               "действительна": "active", "blocked": "blocked", "заблокирована": "blocked",
               "блок": "blocked", "lost": "lost", "утеряна": "lost", "потеряна": "lost",
               "expired": "expired", "истекла": "expired", "просрочена": "expired"}
YES = {"да", "yes", "y", "true", "1", "+", "есть", "получено"}
NO = {"", "нет", "no", "n", "false", "0", "-", "отозвано"}
_DATE_DOTS = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?$")
#: A row longer than this many characters in one cell is refused (not a register).
MAX_CELL = 500


@lru_cache(maxsize=65536)
def parse_date(raw: str) -> date:
    """dd.mm.yyyy, d.m.yyyy, dd/mm/yyyy or ISO yyyy-mm-dd; ValueError otherwise. (A
    school's birth dates repeat: remembered, a register reads several times faster.)"""
    text = raw.strip()
    m = _DATE_DOTS.match(text)
    if m:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = _DATE_ISO.match(text)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(raw)


@lru_cache(maxsize=4096)
def normalise_class(raw: str) -> str:
    """"7 б" → "7Б", "7-Б" → "7Б"."""
    if " " in raw or "-" in raw:
        raw = raw.replace(" ", "").replace("-", "")
    return raw.upper()


@dataclass
class _Row:
    """One row's cells by field, and the problems found in it."""

    table: Table
    number: int
    cells: dict[str, str]
    problems: list[Problem]

    def get(self, name: str) -> str:
        return self.cells.get(name, "")

    def problem(self, name: str, message: str) -> None:
        self.problems.append(Problem(self.table.file, self.number,
                                     self.table.header_names.get(name, name), message))

    def day(self, name: str, required: bool = False) -> date | None:
        raw = self.cells.get(name, "")
        if not raw:
            if required:
                self.problem(name, "Empty; a date is needed here.")
            return None
        try:
            return parse_date(raw)
        except ValueError:
            self.problem(name, f"“{raw[:40]}” is not a date (dd.mm.yyyy or yyyy-mm-dd).")
            return None


def _columns(table: Table, known: dict[str, tuple[str, ...]],
             mapping: Mapping[str, str]) -> tuple[dict[str, int], list[Problem]]:
    """Which column holds which field: the saved mapping first, then the synonyms."""
    found: dict[str, int] = {}
    names: dict[str, str] = {}
    problems: list[Problem] = []
    wanted = {k.strip().lower(): v for k, v in mapping.items()}
    for position, title in enumerate(table.header):
        key = title.strip().lower().replace("ё", "е")
        target = wanted.get(key) or next(
            (f for f, synonyms in known.items() if key in synonyms), None)
        if target is None:
            continue
        if target in found:
            problems.append(Problem(table.file, 1, title, f"A second column for “{target}” "
                                    f"(the first is “{table.header[found[target]]}”)."))
            continue
        found[target] = position
        names[target] = title
    table.header_names = names
    return found, problems


def _rows(table: Table, columns: dict[str, int]) -> list[_Row]:
    """The rows with each wanted cell's spaces tidied (runs of spaces made one)."""
    out = []
    wanted = list(columns.items())
    names = [name for name, _ in wanted]
    getter = itemgetter(*(position for _, position in wanted))
    # (itemgetter of one position gives the cell itself, of several a tuple)
    pick: Callable[[list[str]], tuple[str, ...]] = (
        (lambda cells: (getter(cells),)) if len(wanted) == 1 else getter)
    strip = str.strip
    width = len(table.header)
    for number, cells in table.rows:
        count = len(cells)
        if count >= width:
            values = dict(zip(names, map(strip, pick(cells)), strict=True))
        else:
            values = {name: cells[position].strip() if position < count else ""
                      for name, position in wanted}
        row = _Row(table, number, values, [])
        joined = "\x00".join(values.values())
        if "  " in joined or len(joined) > MAX_CELL:      # rare: look closer
            for name, value in values.items():
                if "  " in value:
                    value = " ".join(value.split())
                if len(value) > MAX_CELL:
                    row.problem(name, f"Longer than {MAX_CELL} characters.")
                    value = ""
                values[name] = value
        if count < width and "".join(cells).strip():
            missing = table.header[len(cells)]
            row.problems.append(Problem(table.file, number, missing,
                                        f"The row ends early: {len(cells)} of "
                                        f"{len(table.header)} columns (a cut file?)."))
        out.append(row)
    return out


def _names(row: _Row) -> tuple[str, str, str]:
    cells = row.cells
    surname = cells.get("surname", "")
    first, patronymic = cells.get("first_name", ""), cells.get("patronymic", "")
    if not surname and cells.get("full_name"):
        parts = cells["full_name"].split(" ")
        surname = parts[0]
        first = parts[1] if len(parts) > 1 else ""
        patronymic = " ".join(parts[2:])
    return surname, first, patronymic


def _read(data: bytes, file: str, known: dict[str, tuple[str, ...]],
          mapping: Mapping[str, str], required: tuple[tuple[str, ...], ...],
          make: Callable[[_Row], object | None], id_field: str, what: str) -> list[object]:
    # A REST source's records (a JSON list) read like a file: row N is record N - 1.
    data = records_as_csv(data, file) or data
    table = read_table(data, file)
    return _records(table, known, mapping, required, make, id_field, what)


def _records(table: Table, known: dict[str, tuple[str, ...]], mapping: Mapping[str, str],
             required: tuple[tuple[str, ...], ...], make: Callable[[_Row], object | None],
             id_field: str, what: str) -> list[object]:
    file = table.file
    columns, problems = _columns(table, known, mapping)
    for need in required:
        if not any(n in columns for n in need):
            names = " / ".join(f"“{known[n][0]}”" for n in need)
            problems.append(Problem(file, 1, "", f"No column for {names}; the header has: "
                                    f"{', '.join(table.header)[:300]}. Name it in the column "
                                    "mapping, or check the file's encoding."))
    if problems:
        raise ReadError(problems)
    if not table.rows:
        raise ReadError([Problem(file, 0, "", f"The file holds only its header, no {what}.")])
    records: list[object] = []
    seen: dict[str, int] = {}
    for row in _rows(table, columns):
        record = make(row)
        key = row.get(id_field)
        if key and key in seen:
            row.problem(id_field, f"“{key}” is on row {seen[key]} too.")
        elif key:
            seen[key] = row.number
        problems.extend(row.problems)
        if record is not None:
            records.append(record)
    if problems:
        raise ReadError(problems)
    return records


def _pupil(row: _Row) -> Pupil | None:
    cells = row.cells
    rid = cells.get("register_id", "")
    if not rid:
        row.problem("register_id", "Empty; every pupil needs the register's ID.")
    surname, first, patronymic = _names(row)
    if not surname:
        row.problem("surname", "Empty; the surname is needed.")
    status_raw = cells.get("status", "").lower()
    status = PUPIL_STATUS.get(status_raw)
    if status is None:
        row.problem("status", f"“{status_raw}” is not a status (обучается / выбыл, "
                    "enrolled / left).")
    consent = None
    if "consent" in cells:
        raw = cells["consent"].lower()
        if raw in YES:
            consent = Consent(True, row.day("consent_on"), "register")
        elif raw not in NO:
            row.problem("consent", f"“{raw}” is not yes or no (да / нет).")
    birth = row.day("birth_date")
    enrolled, left = row.day("enrolled_on"), row.day("left_on")
    if left is not None and status == "enrolled" and not status_raw:
        status = "left"
    if row.problems or status is None:
        return None
    return Pupil(rid, surname, first, patronymic, birth,
                 normalise_class(cells.get("class_name", "")), cells.get("school", ""),
                 status, enrolled, left, consent, Source(row.table.file, row.number))


def _card(row: _Row) -> Card | None:
    number = row.get("number")
    if not number:
        row.problem("number", "Empty; every card has a number.")
    status_raw = row.get("status").lower()
    status = CARD_STATUS.get(status_raw)
    if status is None:
        row.problem("status", f"“{status_raw}” is not a card status (активна / "
                    "заблокирована / утеряна / истекла).")
    surname, first, patronymic = _names(row)
    issued, birth = row.day("issued_on"), row.day("birth_date")
    if row.problems or status is None:
        return None
    return Card(number, row.get("pupil_id") or None, status, issued, surname, first,
                patronymic, birth, normalise_class(row.get("class_name")), row.get("photo"),
                Source(row.table.file, row.number))


_REGISTER = (REGISTER_COLUMNS, (("register_id",), ("surname", "full_name")), _pupil,
             "register_id", "pupils")
_CARDS = (CARD_COLUMNS, (("number",),), _card, "number", "cards")


def read_register(data: bytes, file: str = "register.csv",
                  mapping: Mapping[str, str] | None = None) -> list[Pupil]:
    """The pupils of a register export; ReadError with every problem if any."""
    with collector_paused():
        found = _read(data, file, _REGISTER[0], mapping or {}, *_REGISTER[1:])
    return [p for p in found if isinstance(p, Pupil)]


def read_cards(data: bytes, file: str = "cards.csv",
               mapping: Mapping[str, str] | None = None) -> list[Card]:
    """The cards of a card system's list; ReadError with every problem if any."""
    with collector_paused():
        found = _read(data, file, _CARDS[0], mapping or {}, *_CARDS[1:])
    return [c for c in found if isinstance(c, Card)]


def read_rows(what: str, table: Table, mapping: Mapping[str, str] | None = None
              ) -> list[Pupil] | list[Card]:
    """Some rows of a register ("register") or a card list ("cards") under their header,
    each read as the whole file's reader would; ReadError with every problem if any."""
    known, required, make, id_field, name = _REGISTER if what == "register" else _CARDS
    if not table.rows:
        return []
    with collector_paused():
        found = _records(table, known, mapping or {}, required, make, id_field, name)
    return [r for r in found if isinstance(r, Pupil | Card)]  # type: ignore[return-value]


def id_position(what: str, header: list[str], mapping: Mapping[str, str] | None = None
                ) -> int | None:
    """Which column holds a register's IDs or a card list's card numbers."""
    known, _required, _make, id_field, _name = _REGISTER if what == "register" else _CARDS
    columns, _problems = _columns(Table("", header), known, mapping or {})
    return columns.get(id_field)
