"""A plan as Vitrina stores it: compact, JSON-ready data.

A big school's plan holds 100,000 actions (a photo missing for each pupil, say). Stored
as one JSON object per action that is 25 MB and a quarter of a second to write and again
to read. Stored here, an action is a short list — its kind and reason by their index in
the plan's tables, the pupil, the card, the changes, the others, and the rows it comes
from as flat (file index, row) pairs — a sixth of the size, and several times faster
both ways. `actions_of` gives the plan back as the dictionaries the UI, the API and the
CLI list (`as_dict` is one of them).

    {"v": 2, "files": ["register.csv", "cards.csv"], "reasons": ["New in the register.", …],
     "actions": [[kind index, reason index, pupil ID, card number, changes, others,
                  [file index, row, file index, row, …]], …]}

A plan stored before this format (a list of those dictionaries) still reads.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sync.plan import CARD_KINDS, KINDS, PERSON_KINDS, Action
from sync.records import Source

VERSION = 2
#: Where each field sits in a stored action.
KIND, REASON, PUPIL, CARD, CHANGES, OTHERS, ROWS = range(7)
KIND_INDEX = {k: i for i, k in enumerate(KINDS)}
_CARD_KIND_INDEXES = frozenset(KIND_INDEX[k] for k in CARD_KINDS)


class Tables:
    """The file names and reasons of a stored plan, indexed as its actions refer to them."""

    def __init__(self, files: Sequence[str] = (), reasons: Sequence[str] = ()) -> None:
        self.files = list(files)
        self.reasons = list(reasons)
        self._file_at = {f: i for i, f in enumerate(self.files)}
        self._reason_at = {r: i for i, r in enumerate(self.reasons)}

    def file(self, name: str) -> int:
        at = self._file_at.get(name)
        if at is None:
            at = self._file_at[name] = len(self.files)
            self.files.append(name)
        return at

    def reason(self, text: str) -> int:
        at = self._reason_at.get(text)
        if at is None:
            at = self._reason_at[text] = len(self.reasons)
            self.reasons.append(text)
        return at

    def entry(self, action: Action) -> list[Any]:
        """One action, stored."""
        rows: list[int] = []
        for s in action.sources:
            rows += (self.file(s.file), s.row)
        return [KIND_INDEX[action.kind], self.reason(action.reason), action.pupil_id,
                action.card_number, [list(c) for c in action.changes], list(action.others),
                rows]

    def stored(self, entries: list[list[Any]]) -> dict[str, Any]:
        return {"v": VERSION, "files": self.files, "reasons": self.reasons,
                "actions": entries}


def sort_key(entry: list[Any]) -> tuple[int, str, str]:
    """The plan's order: by kind (as KINDS lists them), then pupil, then card."""
    return entry[KIND], entry[PUPIL] or "", entry[CARD] or ""


def merged(entries: list[list[Any]], more: list[list[Any]]) -> list[list[Any]]:
    """Two lists of stored actions, each in the plan's order, as one in that order (the
    few of `more` put into the many of `entries` where they belong)."""
    if not more:
        return entries
    more = sorted(more, key=sort_key)
    at = [bisect_right(entries, sort_key(e), key=sort_key) for e in more]
    out: list[list[Any]] = []
    start = 0
    for position, entry in zip(at, more, strict=True):
        out += entries[start:position]
        out.append(entry)
        start = position
    out += entries[start:]
    return out


def encode(actions: Iterable[Action]) -> dict[str, Any]:
    """A plan's actions (in the plan's order), stored."""
    tables = Tables()
    return tables.stored([tables.entry(a) for a in actions])


def is_stored(data: Any) -> bool:
    return isinstance(data, dict) and data.get("v") == VERSION


def counts(data: Any) -> dict[str, int]:
    """How many actions of each kind (kinds without any left out), in KINDS order."""
    if not is_stored(data):
        out: dict[str, int] = {}
        for d in data or ():
            out[d["kind"]] = out.get(d["kind"], 0) + 1
        return out
    tally = Counter(map(itemgetter(KIND), data["actions"]))
    return {KINDS[i]: tally[i] for i in range(len(KINDS)) if tally[i]}


def action_of(entry: list[Any], tables: Tables) -> Action:
    """A stored action back as the planner made it (its rows as sources)."""
    rows = entry[ROWS]
    return Action(KINDS[entry[KIND]], tables.reasons[entry[REASON]], entry[PUPIL],
                  entry[CARD], tuple(tuple(c) for c in entry[CHANGES]), tuple(entry[OTHERS]),
                  tuple(Source(tables.files[rows[i]], rows[i + 1])
                        for i in range(0, len(rows), 2)))


def tables_of(data: dict[str, Any]) -> Tables:
    return Tables(data["files"], data["reasons"])


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
    if not is_stored(data):
        return list(data or ())
    tables = tables_of(data)
    files, reasons = tables.files, tables.reasons
    out = []
    for e in data["actions"]:
        kind, rows = KINDS[e[KIND]], e[ROWS]
        key = action_of(e, tables).key if e[KIND] in _CARD_KIND_INDEXES else None
        out.append({"kind": kind, "reason": reasons[e[REASON]], "pupil_id": e[PUPIL],
                    "card_number": e[CARD], "key": key, "changes": e[CHANGES],
                    "others": e[OTHERS], "needs_person": kind in PERSON_KINDS,
                    "rows": [f"{files[rows[i]]}, row {rows[i + 1]}"
                             for i in range(0, len(rows), 2)]})
    return out


def card_kind(entry: list[Any]) -> bool:
    return entry[KIND] in _CARD_KIND_INDEXES
