"""A plan as Vitrina stores it: compact, JSON-ready columns.

A big school's plan holds 100,000 actions (a photo missing for each pupil, say). Stored
as one JSON object per action that is 25 MB, and a quarter of a second to write and again
to read; as one short list per action it is still 100,000 lists to build, walk and
collect. Stored here, the plan is a few columns, one value per action in each: its kind
and reason by their index in the plan's tables, the pupil, the card, the file and row it
comes from, and "extra" — 0 for most actions, else [changes, others, more rows as flat
(file index, row) pairs]. A few lists of numbers and strings: small, and fast to read,
filter and write. `actions_of` gives the plan back as the dictionaries the UI, the API
and the CLI list (`as_dict` is one of them).

    {"v": 3, "files": ["register.csv", "cards.csv"], "reasons": ["New in the register.", …],
     "kind": [kind index, …], "reason": [reason index, …], "pupil": [ID or null, …],
     "card": [number or null, …], "file": [file index or -1, …], "row": [row, …],
     "extra": [0 or [changes, others, [file index, row, …]], …]}

Plans stored in the earlier forms (version 2: one list per action; before it: a list of
those dictionaries) still read.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import compress
from typing import Any

from sync.plan import CARD_KINDS, KINDS, PERSON_KINDS, Action
from sync.records import Source

VERSION = 3
#: The columns, each with one value per action.
COLUMNS = ("kind", "reason", "pupil", "card", "file", "row", "extra")
#: Where each column's value sits in an entry (one action as a tuple, see Tables.entry).
KIND, REASON, PUPIL, CARD, FILE, ROW, EXTRA = range(7)
#: Where each field sits in an action's "extra".
CHANGES, OTHERS, MORE_ROWS = range(3)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
CARD_KIND_INDEXES = frozenset(KIND_INDEX[k] for k in CARD_KINDS)

Columns = dict[str, list[Any]]


class Tables:
    """The file names and reasons of a stored plan, indexed as its actions refer to them."""

    def __init__(self, files: Sequence[str] = (), reasons: Sequence[str] = ()) -> None:
        self.files = list(files)
        self.reasons = list(reasons)
        self._file_at = {f: i for i, f in enumerate(self.files)}
        self._reason_at = {r: i for i, r in enumerate(self.reasons)}

    def file(self, name: str) -> int:
        return _index(self.files, self._file_at, name)

    def reason(self, text: str) -> int:
        return _index(self.reasons, self._reason_at, text)

    def entry(self, action: Action) -> tuple[Any, ...]:
        """One action as its value in each column."""
        sources = action.sources
        file, row = (self.file(sources[0].file), sources[0].row) if sources else (-1, 0)
        more: list[int] = []
        for s in sources[1:]:
            more += (self.file(s.file), s.row)
        extra: Any = 0
        if action.changes or action.others or more:
            extra = [[list(c) for c in action.changes], list(action.others), more]
        return (KIND_INDEX[action.kind], self.reason(action.reason), action.pupil_id,
                action.card_number, file, row, extra)

    def stored(self, columns: Columns) -> dict[str, Any]:
        return {"v": VERSION, "files": self.files, "reasons": self.reasons, **columns}

    def action(self, data: dict[str, Any], i: int) -> Action:
        """The stored plan's i-th action as the planner made it (its rows as sources)."""
        extra = data["extra"][i]
        changes: tuple[tuple[str, str, str], ...] = ()
        others: tuple[str, ...] = ()
        sources: list[Source] = []
        if data["file"][i] >= 0:
            sources.append(Source(self.files[data["file"][i]], data["row"][i]))
        if extra:
            changes = tuple(tuple(c) for c in extra[CHANGES])
            others = tuple(extra[OTHERS])
            more = extra[MORE_ROWS]
            sources += [Source(self.files[more[j]], more[j + 1])
                        for j in range(0, len(more), 2)]
        return Action(KINDS[data["kind"][i]], self.reasons[data["reason"][i]],
                      data["pupil"][i], data["card"][i], changes, others, tuple(sources))


def _index(values: list[str], at: dict[str, int], value: str) -> int:
    """value's index in values, added at the end if it is not there yet."""
    found = at.get(value)
    if found is None:
        found = at[value] = len(values)
        values.append(value)
    return found


def columns_of(entries: Iterable[tuple[Any, ...]]) -> Columns:
    """Entries (see Tables.entry) as columns."""
    found = list(zip(*entries, strict=True))
    if not found:
        return {c: [] for c in COLUMNS}
    return {c: list(values) for c, values in zip(COLUMNS, found, strict=True)}


def columns(data: dict[str, Any]) -> Columns:
    """A stored plan's columns (the lists themselves, not copies)."""
    return {c: data[c] for c in COLUMNS}


def selected(cols: Columns, keep: Iterable[bool]) -> Columns:
    """The actions whose flag in keep is true (one flag per action)."""
    keep = list(keep)
    return {c: list(compress(values, keep)) for c, values in cols.items()}


def without(data: dict[str, Any], kinds: Collection[int]) -> dict[str, Any]:
    """A stored plan less its actions of these kinds (by index)."""
    return tables_of(data).stored(selected(columns(data),
                                           [k not in kinds for k in data["kind"]]))


def spliced(cols: Columns, drop: Sequence[tuple[int, int]], more: list[tuple[Any, ...]]
            ) -> Columns:
    """Columns of actions in the plan's order (by kind as KINDS lists them, then pupil,
    then card) less those in the [start, end) index spans of drop, with a few more
    entries put where they belong in that order. (Runs of the columns are copied whole.)"""
    if not drop and not more:
        return cols
    more = sorted(more, key=lambda e: (e[KIND], e[PUPIL] or "", e[CARD] or ""))
    kinds, pupils, cards = cols["kind"], cols["pupil"], cols["card"]

    def key(i: int) -> tuple[int, str, str]:
        return kinds[i], pupils[i] or "", cards[i] or ""

    # (index, 0, entry): put the entry before index; (start, 1, end): leave those out.
    cuts: list[tuple[int, int, Any]] = []
    for e in more:
        # Within the actions of its kind (found without the key), by pupil and card.
        lo, hi = bisect_left(kinds, e[KIND]), bisect_right(kinds, e[KIND])
        cuts.append((bisect_right(range(len(kinds)), (e[KIND], e[PUPIL] or "", e[CARD] or ""),
                                  lo, hi, key=key), 0, e))
    cuts += [(start, 1, end) for start, end in drop]
    cuts.sort(key=lambda c: c[:2])
    out: Columns = {}
    for position, name in enumerate(COLUMNS):
        values = cols[name]
        column: list[Any] = []
        start = 0
        for at, leave, what in cuts:
            column += values[start:at]
            if leave:
                start = max(start, what)
            else:       # (one due inside a span left out goes where the span ends)
                column.append(what[position])
                start = max(start, at)
        column += values[start:]
        out[name] = column
    return out


def encode(actions: Iterable[Action]) -> dict[str, Any]:
    """A plan's actions (in the plan's order), stored."""
    tables = Tables()
    return tables.stored(columns_of(tables.entry(a) for a in actions))


def is_stored(data: Any) -> bool:
    """Whether data is a plan stored in the current form."""
    return isinstance(data, dict) and data.get("v") == VERSION


def current(data: Any) -> dict[str, Any] | None:
    """A plan stored in version 2 or 3 in the current form (None for the oldest)."""
    if is_stored(data):
        return data     # type: ignore[no-any-return]
    if not isinstance(data, dict) or data.get("v") != 2:
        return None
    tables = Tables(data["files"], data["reasons"])
    entries = []
    for kind, reason, pupil, card, changes, others, rows in data["actions"]:
        extra = [changes, others, rows[2:]] if changes or others or len(rows) > 2 else 0
        entries.append((kind, reason, pupil, card, rows[0] if rows else -1,
                        rows[1] if rows else 0, extra))
    return tables.stored(columns_of(entries))


def counts(data: Any) -> dict[str, int]:
    """How many actions of each kind (kinds without any left out), in KINDS order."""
    found = current(data)
    if found is None:
        out: dict[str, int] = {}
        for d in data or ():
            out[d["kind"]] = out.get(d["kind"], 0) + 1
        return out
    tally = Counter(found["kind"])
    return {KINDS[i]: tally[i] for i in range(len(KINDS)) if tally[i]}


def tables_of(data: dict[str, Any]) -> Tables:
    return Tables(data["files"], data["reasons"])


def actions(data: dict[str, Any], kinds: Collection[str] | None = None) -> Iterator[Action]:
    """A stored plan's actions (of these kinds only, if given), in the plan's order."""
    tables = tables_of(data)
    if kinds is None:
        at: Iterable[int] = range(len(data["kind"]))
    else:
        wanted = {KIND_INDEX[k] for k in kinds}
        at = [i for i, k in enumerate(data["kind"]) if k in wanted]
    for i in at:
        yield tables.action(data, i)


def as_dict(action: Action) -> dict[str, Any]:
    """An action as the UI, the API and the CLI list it."""
    return {"kind": action.kind, "reason": action.reason, "pupil_id": action.pupil_id,
            "card_number": action.card_number,
            # Only card changes are tracked by key (until the card system shows them).
            "key": action.key if action.kind in CARD_KINDS else None,
            "changes": [list(c) for c in action.changes], "others": list(action.others),
            "needs_person": action.kind in PERSON_KINDS,
            "rows": [str(s) for s in action.sources]}


def actions_of(data: Any) -> list[dict[str, Any]]:
    """A stored plan's actions as dictionaries (see `as_dict`)."""
    found = current(data)
    if found is None:
        return list(data or ())
    tables = tables_of(found)
    files, reasons = tables.files, tables.reasons
    out = []
    for i, (k, reason, pupil, card, file, row, extra) in enumerate(zip(
            *(found[c] for c in COLUMNS), strict=True)):
        kind = KINDS[k]
        rows = [f"{files[file]}, row {row}"] if file >= 0 else []
        changes: list[Any] = []
        others: list[Any] = []
        if extra:
            changes, others, more = extra
            rows += [f"{files[more[j]]}, row {more[j + 1]}" for j in range(0, len(more), 2)]
        key = tables.action(found, i).key if k in CARD_KIND_INDEXES else None
        out.append({"kind": kind, "reason": reasons[reason], "pupil_id": pupil,
                    "card_number": card, "key": key, "changes": changes, "others": others,
                    "needs_person": kind in PERSON_KINDS, "rows": rows})
    return out
