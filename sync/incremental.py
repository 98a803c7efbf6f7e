"""Planning only what changed since the last applied run: the same plan, a tenth of the work.

After a run is applied and nothing else has changed, the database holds exactly that
run's register and card list, and that run's plan — less what applying it did — is the
plan of those files now. A new export differs from it by a few rows (`sync.lines`), so
the new plan is that plan with the actions of the changed pupils and cards planned
again. Which pupils and cards those are is the subtle part: a pupil's actions depend on
more than their row. The scope planned again is therefore closed over every link the
planner follows:

- the pupils on changed rows (added, removed, changed), and the pupils the changed card
  rows name, before and after;
- every pupil of the register with the same name and birth date as one in scope, before
  or after the change (one of them may be a duplicate of the other, or the one a card
  without an ID is proposed for);
- every card of a pupil in scope; every card not linked by an ID (its conflict or
  proposal depends on the namesakes; a person's confirmed match links it), with the
  pupils it names or is confirmed for, and their namesakes again.

`plan_sync` plans that scope exactly as it plans a whole school, and its actions replace
the old ones of the scope; everything outside it keeps its actions, moved to its new
row numbers. The property test in tests/server/test_incremental_sync.py holds this equal
to planning everything again, on many generated schools and changes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import date
from itertools import compress
from operator import truth
from typing import Any, Protocol

from sync import stored
from sync.names import match_key
from sync.plan import CARD_KINDS, PUPIL_KINDS, Decisions, Rules, check_missing, plan_sync
from sync.records import Card, PhotoInfo, Pupil, Source


@dataclass(frozen=True, slots=True)
class Known:
    """A pupil as the database holds them, with what the last applied register said."""

    pupil: Pupil
    #: Whether the last applied register listed them (else: known from earlier ones).
    listed: bool
    #: Their `match_key` as that register had it (None if not listed, or no birth date).
    key: str | None
    #: Their row in that register, if known.
    row: int | None = None


class State(Protocol):
    """The school's state as the last applied run left it (the database, in Vitrina)."""

    def pupils(self, ids: Collection[str]) -> dict[str, Known]: ...

    def listed_with(self, keys: Collection[str]) -> set[str]:
        """IDs of the pupils the last register listed whose `match_key` is one of keys."""

    def cards_of(self, ids: Collection[str]) -> list[Card]:
        """The cards naming one of these register IDs. (Each card's source: its row in
        the last applied list, if known; the file name does not matter.)"""

    def cards(self, numbers: Collection[str]) -> list[Card]: ...

    def photos(self, ids: Collection[str]) -> dict[str, PhotoInfo]: ...

    def enrolled(self) -> int:
        """How many known pupils are enrolled."""

    def pending(self) -> list[tuple[str, str | None, str | None]]:
        """The card changes sent and not yet shown by the card list: key, pupil, card."""


@dataclass(frozen=True)
class Baseline:
    """The last applied run: what it left planned (stored), file names, unplaced cards."""

    plan: dict[str, Any]
    register_file: str
    cards_file: str
    unplaced: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """The new files as far as they differ, read (see sync.lines)."""

    register_file: str
    cards_file: str
    #: The register rows added or changed, and the IDs on rows removed or changed.
    register: list[Pupil]
    register_gone: set[str]
    #: The card rows added or changed, and those removed or changed (as they were).
    cards: list[Card]
    cards_gone: list[Card]
    #: The new row of an unchanged pupil's or card's row (by register ID / card number,
    #: and the row it had, if known).
    register_row: Callable[[str, int | None], int | None]
    card_row: Callable[[str, int | None], int | None]
    #: Where an unchanged row of the old register / card list is in the new one.
    register_moved: Callable[[int], int] | None
    cards_moved: Callable[[int], int] | None


@dataclass(frozen=True)
class Planned:
    """The new plan, stored (sync.stored), and what the run keeps of how it was made."""

    plan: dict[str, Any]
    counts: dict[str, int]
    waiting: list[str]
    unplaced: list[str]
    #: How many pupils were planned again (the rest kept their actions).
    scope: int


#: Kinds the last run's plan no longer lists once applied (it did them).
_SETTLED = frozenset(stored.KIND_INDEX[k] for k in CARD_KINDS | PUPIL_KINDS)
#: Kinds whose "others" are card numbers (the rest list register IDs).
_OTHER_CARDS = frozenset({stored.KIND_INDEX["duplicate_cards"]})


class _GiveUp(Exception):
    """The change is one only reading the whole file reports right (e.g. an ID twice)."""


def plan_changes(change: Change, baseline: Baseline, state: State, *, today: date,
                 decisions: Decisions, rules: Rules) -> Planned | None:
    """The plan of the new files (see the module's note), or None when only planning
    them whole answers right (an ID on two rows, a row naming an unknown card twice…).
    PlanError as plan_sync raises it."""
    try:
        return _Incremental(change, baseline, state, decisions).plan(today, rules)
    except _GiveUp:
        return None


class _Incremental:
    def __init__(self, change: Change, baseline: Baseline, state: State,
                 decisions: Decisions) -> None:
        self.change, self.baseline, self.state, self.decisions = (change, baseline, state,
                                                                  decisions)
        self.new = {p.register_id: p for p in change.register}
        self.gone = change.register_gone
        self.new_keys: dict[str, list[str]] = {}
        for p in change.register:
            key = match_key(p.surname, p.first_name, p.birth_date)
            if key is not None:
                self.new_keys.setdefault(key, []).append(p.register_id)
        self.dirty_cards = {c.number for c in change.cards} | {c.number
                                                               for c in change.cards_gone}
        self.confirmed = dict(decisions.confirmed)
        self.scope: set[str] = set()
        self.known: dict[str, Known] = {}
        self.cards: dict[str, Card] = {}
        self.keys: set[str] = set()

    # --- the scope ---------------------------------------------------------------------

    def _close(self) -> None:
        change = self.change
        gone_numbers = {c.number for c in change.cards_gone}
        new_numbers = {c.number for c in change.cards}
        if len(new_numbers) != len(change.cards) or len(self.new) != len(change.register):
            raise _GiveUp
        if any(c.number not in gone_numbers
               for c in self.state.cards(new_numbers - gone_numbers)):
            raise _GiveUp       # a card number on a new row and on an unchanged one
        fresh: list[Card] = list(change.cards)
        clean_unplaced = [n for n in self.baseline.unplaced if n not in self.dirty_cards]
        fresh += [self._placed(c) for c in self.state.cards(clean_unplaced)]
        frontier = set(self.new) | self.gone
        keys: set[str] = set()
        for card in change.cards_gone:
            # Whose it was (by ID or a person's word), or whom it was proposed for.
            frontier.update(p for p in (card.pupil_id, self.confirmed.get(card.number)) if p)
            keys.add(match_key(card.surname, card.first_name, card.birth_date) or "")
        while frontier or fresh or keys:
            frontier -= self.scope
            self.scope |= frontier
            got = self.state.pupils(frontier)
            self.known.update(got)
            for pid in frontier:
                was = got.get(pid)
                if pid in self.new:
                    if was is not None and was.listed and pid not in self.gone:
                        raise _GiveUp   # an ID on a new row and on an unchanged one
                    p = self.new[pid]
                    keys.add(match_key(p.surname, p.first_name, p.birth_date) or "")
                if was is not None and was.listed and was.key:
                    keys.add(was.key)        # as the last register had it
            fresh += [self._placed(c) for c in self.state.cards_of(frontier)
                      if c.number not in self.dirty_cards and c.number not in self.cards]
            following: set[str] = set()
            for card in fresh:
                if card.number in self.cards:
                    continue
                self.cards[card.number] = card
                if card.pupil_id:
                    following.add(card.pupil_id)
                if card.number in self.confirmed:
                    following.add(self.confirmed[card.number])
                keys.add(match_key(card.surname, card.first_name, card.birth_date) or "")
            fresh = []
            keys -= self.keys | {""}
            self.keys |= keys
            if keys:
                following |= self.state.listed_with(keys) - self.gone
                following.update(pid for k in keys for pid in self.new_keys.get(k, ()))
            frontier = following - self.scope
            keys = set()

    def _placed(self, card: Card) -> Card:
        """An unchanged card with the row it now has."""
        row = self.change.card_row(card.number, card.source.row if card.source else None)
        if row is None:
            raise _GiveUp
        return replace(card, source=Source(self.change.cards_file, row))

    def _in_register(self, pid: str) -> bool:
        was = self.known.get(pid)
        return pid in self.new or (was is not None and was.listed and pid not in self.gone)

    def _register(self) -> list[Pupil]:
        out = []
        for pid in sorted(self.scope):
            if pid in self.new:
                p, was = self.new[pid], self.known.get(pid)
                if p.consent is None and was is not None and was.pupil.consent is not None:
                    p = replace(p, consent=was.pupil.consent)   # as whole_register does
                out.append(p)
            elif self._in_register(pid):
                row = self.change.register_row(pid, self.known[pid].row)
                if row is None:
                    raise _GiveUp
                out.append(replace(self.known[pid].pupil,
                                   source=Source(self.change.register_file, row)))
        return out

    # --- the plan ----------------------------------------------------------------------

    def plan(self, today: date, rules: Rules) -> Planned:
        self._close()
        register = self._register()
        enrolled = self.state.enrolled()
        check_missing(enrolled, sum(1 for pid in self.gone if pid not in self.new
                                    and pid in self.known
                                    and self.known[pid].pupil.status == "enrolled"), rules)
        sub = plan_sync(register, list(self.cards.values()), today=today,
                        known=[self.known[pid].pupil for pid in sorted(self.scope)
                               if pid in self.known],
                        photos=self.state.photos([p.register_id for p in register]),
                        decisions=self.decisions,
                        rules=replace(rules, max_missing_share=1.0))   # (checked above)
        pending = self.state.pending()
        pending_keys = {k for k, _pid, _card in pending}
        numbers = set(self.cards) | self.dirty_cards
        tables, base = self._placed_base()
        added = [tables.entry(a) for a in sub.actions
                 if a.kind not in CARD_KINDS or a.key not in pending_keys]
        data = tables.stored(stored.spliced(
            base, _dropped(self.baseline.plan, self.scope, numbers), added))
        waiting = {k for k, pid, card in pending
                   if pid not in self.scope and card not in numbers}
        waiting.update(a.key for a in sub.actions
                       if a.kind in CARD_KINDS and a.key in pending_keys)
        unplaced = (set(self.baseline.unplaced) - self.dirty_cards - numbers) | sub.unplaced
        return Planned(data, stored.counts(data), sorted(waiting), sorted(unplaced),
                       len(self.scope))

    def _placed_base(self) -> tuple[stored.Tables, stored.Columns]:
        """The last plan's actions at their rows in the new files."""
        base = self.baseline.plan
        cols = stored.columns(base)
        change, old = self.change, self.baseline
        roles = {old.register_file: (change.register_file, change.register_moved),
                 old.cards_file: (change.cards_file, change.cards_moved)}
        if old.register_file == old.cards_file:
            roles = {}     # one name for both: which row is whose is not known
        same = all(name == name_before and moved is None
                   for name_before, (name, moved) in roles.items())
        if same and len(roles) == 2:
            return stored.Tables(base["files"], base["reasons"]), cols
        tables = stored.Tables((), base["reasons"])
        index: list[tuple[int, Callable[[int], int] | None]] = []
        for name in base["files"]:
            if name not in roles:
                raise _GiveUp       # a row of a file neither role had
            new_name, moved = roles[name]
            index.append((tables.file(new_name), moved))

        def placed(file: int, row: int) -> tuple[int, int]:
            at, moved = index[file]
            return at, moved(row) if moved else row

        files, rows = [], []
        for file, row in zip(cols["file"], cols["row"], strict=True):
            if file >= 0:
                file, row = placed(file, row)
            files.append(file)
            rows.append(row)
        extras: list[Any] = []
        for extra in cols["extra"]:
            if extra and extra[stored.MORE_ROWS]:
                more = extra[stored.MORE_ROWS]
                extra = [extra[stored.CHANGES], extra[stored.OTHERS],
                         [n for j in range(0, len(more), 2)
                          for n in placed(more[j], more[j + 1])]]
            extras.append(extra)
        return tables, {**cols, "file": files, "row": rows, "extra": extras}


def _dropped(plan: dict[str, Any], scope: set[str], numbers: set[str]
             ) -> list[tuple[int, int]]:
    """The stored actions of a pupil in scope or of one of these cards, or of a kind
    applying the last run did, as ascending [start, end) index spans. A hundred thousand
    actions, sorted by kind, then pupil: each kind's pupils in scope are found by
    bisection, the cards by a pass in C, and only the few actions naming others are looked
    at in Python."""
    kinds, pupils, cards, extras = plan["kind"], plan["pupil"], plan["card"], plan["extra"]
    n = len(kinds)
    spans: list[tuple[int, int]] = []
    one = set(compress(range(n), map(numbers.__contains__, cards)))
    wanted = sorted(scope)
    lo = 0
    while lo < n:
        kind = kinds[lo]
        hi = bisect_right(kinds, kind, lo)
        if kind in _SETTLED:
            spans.append((lo, hi))
        else:
            start = bisect_left(pupils, True, lo, hi, key=truth)    # (those without first)
            for pid in wanted:
                i = bisect_left(pupils, pid, start, hi)
                end = bisect_right(pupils, pid, i, hi)
                if end > i:
                    spans.append((i, end))
                start = end
            one.update(i for i in compress(range(lo, hi), extras[lo:hi])   # (0 for most)
                       if _touches(kind, extras[i][stored.OTHERS], scope, numbers))
        lo = hi
    spans += [(i, i + 1) for i in one]
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _touches(kind: int, others: list[str], scope: set[str], numbers: set[str]) -> bool:
    if not others:
        return False
    within = numbers if kind in _OTHER_CARDS else scope
    return any(o in within for o in others)
