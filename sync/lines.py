"""What changed between two exports of the same CSV file, line by line.

A school's register changes by a few rows a day; reading all 100,000 rows again to find
them costs ten times more than comparing the lines. `diff_lines` compares two CSV
exports line by line — as bytes in one encoding (an export in another is re-encoded),
decoding only the lines that differ — and gives the rows added and removed (with their
row numbers, as the CSV reader numbers them) and where each unchanged row now is. It
answers None whenever a line-by-line comparison could differ from reading the file: not
CSV text (or over the size limit), another header, a quoted cell running over several
lines, a stray carriage return or NUL, or a line twice — the caller then reads the whole
file, which also reports any problem.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from itertools import compress
from operator import methodcaller, ne

from sync.rest import records_as_csv
from sync.tables import MAX_BYTES, ReadError, decoded, delimiter_of

#: What a blank line may hold besides cells' spaces: separators and quotes.
_BLANKISH = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0;,\""
#: Codecs whose bytes are compared as they are (others are compared as UTF-8).
_BYTE_CODECS = {"utf-8": "utf-8", "utf-8-sig": "utf-8", "cp1251": "cp1251"}


@dataclass
class Lines:
    """One CSV export as lines of bytes in one codec (compared as they are, decoded
    only where they differ), and where its header is."""

    raw: list[bytes]
    #: The codec of `raw` ("utf-8" or "cp1251").
    codec: str
    delimiter: str
    #: 0-based index of the header's line.
    header_at: int
    #: Whether any line holds a quote (then cells are cut by the csv module).
    quoted: bool = False

    @property
    def header(self) -> list[str]:
        return [c.strip() for c in self.cells(self.line(self.header_at))]

    def line(self, index: int) -> str:
        return self.raw[index].decode(self.codec)

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

    def first_cells(self, start: int) -> list[str]:
        """The first cell of every line from index start on, as far as the first
        separator (cut and decoded in few steps of C)."""
        d = self.delimiter.encode(self.codec)
        firsts = [line.partition(d)[0] for line in self.raw[start:]]
        return b"\n".join(firsts).decode(self.codec).split("\n") if firsts else []


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
            at = {line: n for n, line in enumerate(self.new.raw, start=1)}
            self._moved = {n: at.get(line, 0) for n, line in enumerate(self.old.raw, start=1)}
        return self._moved.get(old_row, 0)

    def row_of(self, key: str, position: int, hint: int | None = None) -> int | None:
        """The new export's row whose (stripped) cell at position is key: where the old
        export's row `hint` is now if that row holds it (checked), else looked up."""
        if hint is not None:
            row = self.new_row(hint)
            new = self.new
            if new.header_at + 1 < row <= len(new.raw):
                cells = new.cells(new.line(row - 1))
                if len(cells) > position and cells[position].strip() == key:
                    return row
        return self.rows_by(position).get(key)

    def rows_by(self, position: int) -> dict[str, int]:
        """The new export's row numbers by the (stripped) cell at `position` of each row
        (e.g. the register ID), for the rows that have it."""
        if position not in self._rows_by:
            new = self.new
            start = new.header_at + 1
            if position == 0:
                cells = new.first_cells(start)
            else:   # cut out in C (a line too short gives "")
                lines = [line.decode(new.codec) for line in new.raw[start:]]
                parts = map(methodcaller("split", new.delimiter, position + 1), lines)
                cells = [p[position] if len(p) > position else "" for p in parts]
            if new.quoted:
                for i, raw in enumerate(new.raw[start:]):
                    if b'"' in raw:
                        found = new.cells(new.line(start + i))
                        cells[i] = found[position] if len(found) > position else ""
            self._rows_by[position] = dict(zip(map(str.strip, cells),
                                               range(start + 1, start + 1 + len(cells)),
                                               strict=True))
        return self._rows_by[position]


def _lines(data: bytes, file: str) -> Lines | None:
    data = records_as_csv(data, file) or data
    if data.startswith(b"PK\x03\x04") or not data or data.isspace() or len(data) > MAX_BYTES:
        return None
    try:
        text, codec = decoded(data, file)
    except ReadError:
        return None
    if codec in _BYTE_CODECS:
        body = data[3:] if codec == "utf-8-sig" else data
    else:
        body = text.encode("utf-8")
    codec = _BYTE_CODECS.get(codec, "utf-8")
    if b"\x00" in body:
        return None
    if b"\r" in body:
        if body.count(b"\r") != body.count(b"\r\n"):
            return None     # a lone CR ends a line for the reader
        body = body.replace(b"\r\n", b"\n")
    raw = body.split(b"\n")
    if raw and raw[-1] == b"":
        raw.pop()
    quoted = b'"' in body
    if quoted and any(line.count(b'"') % 2 for line in raw if b'"' in line):
        return None     # a quoted cell over several lines: only the reader can tell
    found = Lines(raw, codec, delimiter_of(text), -1, quoted)
    found.header_at = next((i for i in range(len(raw)) if not found.blank(found.line(i))),
                           -1)
    return found if found.header_at >= 0 else None


def _in_codec(lines: Lines, codec: str) -> bool:
    """Re-encode lines into codec (False if a line cannot be)."""
    if lines.codec != codec:
        try:
            lines.raw = [line.decode(lines.codec).encode(codec) for line in lines.raw]
        except UnicodeEncodeError:
            return False
        lines.codec = codec
    return True


def _duplicated(lines: Lines, rows: list[bytes], distinct: int) -> bool:
    if distinct == len(rows):
        return False
    return any(n > 1 and not lines.blank(line.decode(lines.codec))
               for line, n in Counter(rows).items())


def diff_lines(old: bytes, new: bytes, old_file: str = "old.csv", new_file: str = "new.csv",
               ) -> LineDiff | None:
    """The rows that differ between two exports (see the module's note), or None."""
    after = _lines(new, new_file)
    before = after if old == new else _lines(old, old_file)     # (the card list, often)
    if before is None or after is None or before.delimiter != after.delimiter or \
            not _in_codec(before, after.codec) or \
            before.raw[before.header_at] != after.raw[after.header_at]:
        return None
    old_rows = before.raw[before.header_at + 1:]
    new_rows = after.raw[after.header_at + 1:]
    new_set = set(new_rows)
    if _duplicated(after, new_rows, len(new_set)):
        return None
    if before is after:
        return LineDiff(before, after, [], [], True)
    old_set = set(old_rows)
    if _duplicated(before, old_rows, len(old_set)):
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

    def changed(lines: Lines, rows: list[bytes], at: list[int], other: set[bytes]
                ) -> list[tuple[int, list[str]]]:
        start = lines.header_at + 2
        if len(at) > len(rows) // 4:        # much moved: the whole file, by set
            at = range(len(rows))           # type: ignore[assignment]
        at = [i for i in at if rows[i] not in other]
        if not at:
            return []
        # Decoded together: one call, not one per line.
        text = b"\n".join([rows[i] for i in at]).decode(lines.codec).split("\n")
        return [(i + start, lines.cells(line)) for i, line in zip(at, text, strict=True)
                if not lines.blank(line)]

    added = changed(after, new_rows, new_at, old_set)
    removed = changed(before, old_rows, old_at, new_set)
    return LineDiff(before, after, added, removed, same_rows)
