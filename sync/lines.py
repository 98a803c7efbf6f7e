"""What changed between two exports of the same CSV file, line by line.

A school's register changes by a few rows a day; reading all 100,000 rows again to find
them costs ten times more than comparing the lines. `diff_lines` compares two CSV
exports as text and gives the rows added and removed (with their row numbers, as the
CSV reader numbers them) and where each unchanged row now is. It answers None whenever
a line-by-line comparison could differ from reading the file: not CSV text, another
header, a quoted cell running over several lines, a stray carriage return or NUL, or
a line twice — the caller then reads the whole file, which also reports any problem.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress
from operator import itemgetter, methodcaller, ne

from sync.rest import records_as_csv
from sync.tables import ReadError, decode, delimiter_of

#: What a blank line may hold besides cells' spaces: separators and quotes.
_BLANKISH = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0;,\""


@dataclass
class Lines:
    """One CSV export as lines: the header's row, its cells, and every line."""

    text_lines: list[str]
    delimiter: str
    #: 0-based index of the header's line.
    header_at: int
    #: Whether any line holds a quote (then cells are cut by the csv module).
    quoted: bool = False

    @property
    def header(self) -> list[str]:
        return [c.strip() for c in self.cells(self.text_lines[self.header_at])]

    def cells(self, line: str) -> list[str]:
        if '"' in line:
            return next(csv.reader([line], delimiter=self.delimiter), [])
        return line.split(self.delimiter)

    def blank(self, line: str) -> bool:
        """A line the reader skips (only spaces and separators)."""
        rest = line.strip(_BLANKISH)
        if rest and not rest[0].isspace():
            return False        # a character that is neither lands in a cell
        return not "".join(self.cells(line)).strip()


@dataclass
class LineDiff:
    """Rows of the new export not in the old one and the other way round, each with its
    1-based row number in its file."""

    old: Lines
    new: Lines
    added: list[tuple[int, list[str]]]
    removed: list[tuple[int, list[str]]]
    #: Whether every unchanged row kept its row number.
    same_rows: bool
    _moved: dict[int, int] | None = field(default=None, repr=False)
    _rows_by: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)

    def new_row(self, old_row: int) -> int:
        """Where an unchanged row of the old export is in the new one."""
        if self.same_rows:
            return old_row
        if self._moved is None:
            at = {line: n for n, line in enumerate(self.new.text_lines, start=1)}
            self._moved = {n: at.get(line, 0)
                           for n, line in enumerate(self.old.text_lines, start=1)}
        return self._moved[old_row]

    def rows_by(self, position: int) -> dict[str, int]:
        """The new export's row numbers by the (stripped) cell at `position` of each row
        (e.g. the register ID), for the rows that have it."""
        if position not in self._rows_by:
            new = self.new
            start = new.header_at + 1
            lines = new.text_lines[start:]
            # The cell of each line, cut out in C (a line too short gives "").
            if position == 0:
                cells = list(map(itemgetter(0), map(methodcaller("partition", new.delimiter),
                                                    lines)))
            else:
                parts = map(methodcaller("split", new.delimiter, position + 1), lines)
                cells = [p[position] if len(p) > position else "" for p in parts]
            if new.quoted:
                for i, line in enumerate(lines):
                    if '"' in line:
                        found = new.cells(line)
                        cells[i] = found[position] if len(found) > position else ""
            self._rows_by[position] = dict(zip(map(str.strip, cells),
                                               range(start + 1, start + 1 + len(cells)),
                                               strict=True))
        return self._rows_by[position]


def _lines(data: bytes, file: str) -> Lines | None:
    data = records_as_csv(data, file) or data
    if data.startswith(b"PK\x03\x04") or not data or data.isspace():
        return None
    try:
        text = decode(data, file)
    except ReadError:
        return None
    if "\x00" in text or ("\r" in text and text.count("\r") != text.count("\r\n")):
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    delimiter = delimiter_of(text)
    found = Lines(lines, delimiter, -1, '"' in text)
    if '"' in text and any(line.count('"') % 2 for line in lines if '"' in line):
        return None     # a quoted cell over several lines: only the reader can tell
    found.header_at = next((i for i, line in enumerate(lines) if not found.blank(line)), -1)
    return found if found.header_at >= 0 else None


def _duplicated(lines: Lines, rows: list[str], distinct: int) -> bool:
    if distinct == len(rows):
        return False
    return any(n > 1 and not lines.blank(line) for line, n in Counter(rows).items())


def diff_lines(old: bytes, new: bytes, old_file: str = "old.csv", new_file: str = "new.csv",
               ) -> LineDiff | None:
    """The rows that differ between two exports (see the module's note), or None."""
    before, after = _lines(old, old_file), _lines(new, new_file)
    if before is None or after is None or before.delimiter != after.delimiter or \
            before.text_lines[before.header_at] != after.text_lines[after.header_at]:
        return None
    old_rows = before.text_lines[before.header_at + 1:]
    new_rows = after.text_lines[after.header_at + 1:]
    old_set, new_set = set(old_rows), set(new_rows)
    if _duplicated(after, new_rows, len(new_set)) or _duplicated(before, old_rows,
                                                                  len(old_set)):
        return None

    # Lines that differ at the same index (in C), and the longer file's tail: where the
    # changes are, when rows were changed in place or added at the end (the usual day).
    shorter = min(len(old_rows), len(new_rows))
    moved_at = list(compress(range(shorter), map(ne, old_rows, new_rows)))
    new_at = moved_at + list(range(shorter, len(new_rows)))
    old_at = moved_at + list(range(shorter, len(old_rows)))
    # Every line not added (unchanged rows, blank lines) at its old index: the rows kept
    # their numbers. (Blank lines that moved make this say no: only slower.)
    same_rows = before.header_at == after.header_at and all(
        new_rows[i] not in old_set for i in new_at)

    def changed(lines: Lines, rows: list[str], at: list[int], other: set[str]
                ) -> list[tuple[int, list[str]]]:
        start = lines.header_at + 2
        if len(at) > len(rows) // 4:        # much moved: the whole file, by set
            at = range(len(rows))           # type: ignore[assignment]
        return [(i + start, lines.cells(rows[i])) for i in at
                if rows[i] not in other and not lines.blank(rows[i])]

    added = changed(after, new_rows, new_at, old_set)
    removed = changed(before, old_rows, old_at, new_set)
    return LineDiff(before, after, added, removed, same_rows)
