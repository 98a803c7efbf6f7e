"""Tables from files: CSV in the encodings and separators schools produce, and XLSX.

Pure: bytes in, rows of text out, or a `ReadError` saying what is wrong and where.
CSV may be UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), or
Windows-1251; separated by `;`, `,` or tabs, detected from the header line. An XLSX
file is recognised by its content (a ZIP), whatever its name. A cell holding a date
in a spreadsheet becomes an ISO date.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

#: Files larger than this are refused before they are read.
MAX_BYTES = 64 * 1024 * 1024
#: An XLSX file may not unpack to more than this (a "zip bomb" stops here).
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
DELIMITERS = ";,\t"


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: file, 1-based row (0: the whole file), column (or "")."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row else "") + \
            (f", column “{self.column}”" if self.column else "")
        return f"{where}: {self.message}"


class ReadError(ValueError):
    """A file that cannot be read at all, or whose rows have problems (all listed)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(shown + more)


@dataclass
class Table:
    """A header and the rows under it, each row with its 1-based number in the file."""

    file: str
    header: list[str]
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    #: The header's title of each field a reader found (for naming columns in problems).
    header_names: dict[str, str] = field(default_factory=dict)


def _fail(file: str, message: str, row: int = 0, column: str = "") -> ReadError:
    return ReadError([Problem(file, row, column, message)])


def decode(data: bytes, file: str) -> str:
    """The text of a CSV file, or a ReadError naming the trouble."""
    return decoded(data, file)[0]


def decoded(data: bytes, file: str) -> tuple[str, str]:
    """The text of a CSV file and the codec it was in ("utf-8", "utf-8-sig", "utf-16" or
    "cp1251"), or a ReadError naming the trouble."""
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
        try:
            return body.decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise _fail(file, f"The file says it is UTF-8 but byte {exc.start + 3} is not "
                        "UTF-8; save it again as UTF-8 or Windows-1251.") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise _fail(file, "The file says it is UTF-16 but is not; save it again as "
                        "UTF-8.") from None
    if b"\x00" in data[:4096]:
        raise _fail(file, "This is not a text file (it holds NUL bytes): export the "
                    "register as CSV or XLSX.")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
            raise _fail(file, "The file is cut short: it ends in the middle of a "
                        "character. Export it again.") from None
    text = data.decode("cp1251", errors="replace")
    if "\ufffd" in text:
        raise _fail(file, "The file is neither UTF-8 nor Windows-1251 text; save it again "
                    "in one of them.")
    return text, "cp1251"


def delimiter_of(text: str) -> str:
    """The separator a CSV text uses: of ; , and tab, the one its first line holds most."""
    head = text[:65536]
    lines = head.splitlines()
    if len(head) < len(text):
        lines = lines[:-1]      # (the last may be cut at the 64 KB)
    header_line = next((ln for ln in lines if ln.strip()), None)
    if header_line is None:
        header_line = next((ln for ln in text.splitlines() if ln.strip()), "")
    return max(DELIMITERS, key=header_line.count)


def read_table(data: bytes, file: str) -> Table:
    """The table in a CSV or XLSX file (the first sheet), header first."""
    if len(data) > MAX_BYTES:
        raise _fail(file, f"The file is larger than {MAX_BYTES // 2**20} MB.")
    if not data.strip():
        raise _fail(file, "The file is empty.")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, file)
    text = decode(data, file)
    delimiter = delimiter_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table: Table | None = None
    try:
        for row in reader:
            if not "".join(row).strip():
                continue
            if table is None:
                table = Table(file, [c.strip() for c in row])
            else:
                table.rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise _fail(file, f"The file is not valid CSV: {exc} (a quote left open? the file "
                    "may be cut short)", reader.line_num) from None
    if table is None:
        raise _fail(file, "The file is empty.")
    return table


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_xlsx(data: bytes, file: str) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile:
        raise _fail(file, "The file looks like XLSX but is damaged (cut short?).") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise _fail(file, "The spreadsheet unpacks to more than "
                    f"{MAX_XLSX_UNPACKED // 2**20} MB; export it as CSV.")
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:   # openpyxl raises many kinds on a damaged file
        raise _fail(file, f"The spreadsheet cannot be read: {exc.__class__.__name__}.") \
            from None
    try:
        sheet = book.worksheets[0]
        table: Table | None = None
        rows: Iterator[tuple[object, ...]] = sheet.iter_rows(values_only=True)
        for number, values in enumerate(rows, start=1):
            cells = [_cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if table is None:
                table = Table(file, [c.strip() for c in cells])
            else:
                table.rows.append((number, cells))
    finally:
        book.close()
    if table is None:
        raise _fail(file, "The spreadsheet is empty.")
    return table
