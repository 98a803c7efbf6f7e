"""The reconcile plan: what must change so the card system matches the school register.

`plan_sync` is a pure function of the register, the card list, the pupils Vitrina
already knows, the actions already applied and waiting for the card system, the
decisions people made (confirmed or rejected matches, pupils confirmed distinct), the
photos held, the rules and `today`. Each action says why. Matching is by stable IDs;
a match by name and birth date is only ever proposed, and a person confirms it.
Nothing that would take a card away is planned on a guess: an unknown card or a
doubtful duplicate is a conflict for a person, not a block.

Every action has a key derived from what it does; an action whose key is pending
(applied, exported, not yet reflected in the card list) is left out, so the same
inputs applied twice change nothing the second time.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cached_property

from sync.names import normalize_name, person_key
from sync.records import Card, PhotoInfo, Pupil, Source

#: Action kinds in the order a plan lists them.
KINDS = (
    "conflict", "duplicate_pupil", "duplicate_cards", "propose_match",
    "issue_card", "unblock_card", "block_card", "update_card",
    "photo_missing", "photo_outdated",
    "pupil_new", "pupil_update", "pupil_left", "pupil_back",
)
#: Kinds that change the card system (exported).
CARD_KINDS = frozenset({"issue_card", "unblock_card", "block_card", "update_card"})
#: Kinds that change Vitrina's own copy of the pupils (done once the run is applied).
PUPIL_KINDS = frozenset({"pupil_new", "pupil_update", "pupil_left", "pupil_back"})
#: Kinds a person must settle; the plan applies none of them by itself.
PERSON_KINDS = frozenset({"conflict", "duplicate_pupil", "duplicate_cards", "propose_match"})
#: The holder data a card carries, compared with the register.
CARD_FIELDS = ("surname", "first_name", "patronymic", "birth_date", "class_name")


class PlanError(ValueError):
    """The inputs cannot be planned on (e.g. one register ID on two rows)."""


@dataclass(frozen=True)
class Rules:
    """A school's settings for the plan."""

    #: A left pupil's card is blocked this many days after the leaving date.
    grace_days: int = 14
    #: A photo older than this many days is outdated.
    photo_max_age_days: int = 3 * 365
    #: A register missing more than this share of the enrolled pupils Vitrina knows is
    #: refused as a partial export, unless a person confirms (then 1.0).
    max_missing_share: float = 0.1
    #: The check above starts at this many known pupils.
    missing_check_from: int = 20


@dataclass(frozen=True)
class Decisions:
    """What people decided in earlier runs."""

    #: (card number, register ID) pairs confirmed as the same child.
    confirmed: frozenset[tuple[str, str]] = frozenset()
    #: (card number, register ID) pairs rejected as a match.
    rejected: frozenset[tuple[str, str]] = frozenset()
    #: Pairs of register IDs confirmed to be two different children.
    distinct: frozenset[frozenset[str]] = frozenset()


@dataclass(frozen=True)
class Action:
    """One thing the plan does or asks a person to settle, and why."""

    kind: str
    reason: str
    pupil_id: str | None = None
    card_number: str | None = None
    #: (field, old, new) for data changes.
    changes: tuple[tuple[str, str, str], ...] = ()
    #: Other register IDs or card numbers involved (duplicates, candidates).
    others: tuple[str, ...] = ()
    sources: tuple[Source, ...] = field(default=(), compare=False)

    @cached_property
    def key(self) -> str:
        """A stable identity: the same action on the same data has the same key."""
        text = "|".join([self.kind, self.pupil_id or "", self.card_number or "",
                         repr(self.changes), ",".join(self.others)])
        return self.kind + ":" + hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def needs_person(self) -> bool:
        return self.kind in PERSON_KINDS


@dataclass(frozen=True)
class SyncPlan:
    """The actions, in the order of KINDS, then by pupil and card."""

    actions: tuple[Action, ...]
    #: Numbers of the cards not linked to a pupil by a stable ID.
    unplaced: frozenset[str] = field(default=frozenset(), compare=False)

    def counts(self) -> dict[str, int]:
        """How many actions of each kind (kinds without any left out)."""
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.kind] = out.get(a.kind, 0) + 1
        return out

    def of(self, kind: str) -> list[Action]:
        return [a for a in self.actions if a.kind == kind]

    @property
    def empty(self) -> bool:
        return not self.actions


_ACTION_DEFAULTS: dict[str, object] = {"pupil_id": None, "card_number": None, "changes": (),
                                       "others": (), "sources": ()}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return " ".join(str(value).split())


def _srcs(*records: Pupil | Card | None) -> tuple[Source, ...]:
    return tuple([r.source for r in records if r is not None and r.source is not None])


def check_missing(enrolled: int, missing: int, rules: Rules) -> None:
    """PlanError if the register lacks too many of the pupils known as enrolled."""
    if enrolled < rules.missing_check_from or not missing:
        return
    share = missing / enrolled
    if share > rules.max_missing_share:
        raise PlanError(
            f"the register lacks {missing} of the {enrolled} pupils known as "
            f"enrolled ({share:.0%}); is the export partial? Check the file, or confirm "
            "that so many pupils have left")


def whole_register(known: Iterable[Pupil], pupils: list[Pupil], delta: bool) -> list[Pupil]:
    """The register to plan on: the file's, or for a delta the known pupils with the
    delta's changes over them. A consent recorded in Vitrina stays when the register says
    nothing about consent."""
    before = {p.register_id: p for p in known}
    pupils = [replace(p, consent=before[p.register_id].consent)
              if p.consent is None and p.register_id in before
              and before[p.register_id].consent is not None else p for p in pupils]
    if not delta:
        return pupils
    merged = dict(before)
    merged.update((p.register_id, p) for p in pupils)
    return list(merged.values())


class _Planner:
    def __init__(self, register: Sequence[Pupil], cards: Sequence[Card],
                 known: Sequence[Pupil], photos: Mapping[str, PhotoInfo],
                 decisions: Decisions, rules: Rules, today: date) -> None:
        self.today, self.rules, self.decisions, self.photos = today, rules, decisions, photos
        self.actions: list[Action] = []
        self._by_person: dict[tuple[str, str, date | None], list[Pupil]] | None = None
        #: Pupils a card is proposed for: no new card until a person answers.
        self.proposed: set[str] = set()
        #: Cards not linked by a stable ID (placed by a person's decision, or not at all).
        self.unplaced: list[str] = []
        self.register: dict[str, Pupil] = {}
        for p in register:
            if p.register_id in self.register:
                first = self.register[p.register_id].source
                raise PlanError(f"register ID {p.register_id} is on two rows"
                                f" ({first or '?'} and {p.source or '?'})")
            self.register[p.register_id] = p
        self.known = {p.register_id: p for p in known}
        self.cards = list(cards)
        numbers: dict[str, Card] = {}
        for c in self.cards:
            if c.number in numbers:
                raise PlanError(f"card {c.number} is on two rows "
                                f"({numbers[c.number].source or '?'} and {c.source or '?'})")
            numbers[c.number] = c

    def add(self, kind: str, reason: str, **kw: object) -> None:
        # Built without the frozen dataclass's __init__ (one object.__setattr__ per field):
        # a plan of a big school makes ~100,000 of these. Same fields, same defaults.
        action = object.__new__(Action)
        action.__dict__.update(_ACTION_DEFAULTS, kind=kind, reason=reason, **kw)
        self.actions.append(action)

    def run(self) -> list[Action]:
        self._check_missing()
        held = self._duplicates()
        cards_of = self._link_cards()
        for pid, pupil in sorted(self.register.items()):
            self._pupil_record(pupil)
            mine = cards_of.get(pid, [])
            if pupil.status == "left":
                self._left(pupil, pupil.left_on, mine)
            elif pid not in held:
                self._enrolled(pupil, mine)
        for pid, pupil in sorted(self.known.items()):
            if pid in self.register:
                continue
            if pupil.status == "enrolled":
                self.add("pupil_left", "No longer in the register.", pupil_id=pid)
                self._left(pupil, self.today, cards_of.get(pid, []))
            else:
                self._left(pupil, pupil.left_on, cards_of.get(pid, []))
        return self.actions

    def _check_missing(self) -> None:
        enrolled = [p for p in self.known.values() if p.status == "enrolled"]
        check_missing(len(enrolled), sum(1 for p in enrolled
                                         if p.register_id not in self.register), self.rules)

    # --- who is who --------------------------------------------------------------------

    def _people(self) -> dict[tuple[str, str, date | None], list[Pupil]]:
        """Register pupils with a birth date, by name and birth date as matching sees them."""
        if self._by_person is None:
            self._by_person = defaultdict(list)
            norm = normalize_name       # person_key, inlined: run for every pupil
            for p in self.register.values():
                if p.birth_date is not None:
                    self._by_person[(norm(p.surname), norm(p.first_name),
                                     p.birth_date)].append(p)
        return self._by_person

    def _duplicates(self) -> set[str]:
        """Register rows that may be one child twice; their cards wait for a person."""
        by_key = {k: [p for p in group if p.status == "enrolled"]
                  for k, group in self._people().items() if len(group) > 1}
        held: set[str] = set()
        for group in by_key.values():
            ids = sorted(p.register_id for p in group)
            open_pairs = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]
                          if frozenset((a, b)) not in self.decisions.distinct]
            if not open_pairs:
                continue
            involved = sorted({x for pair in open_pairs for x in pair})
            held.update(involved)
            self.add("duplicate_pupil",
                     "Same name and birth date under different register IDs: one child "
                     "twice, or two children? Their cards wait for the answer.",
                     pupil_id=involved[0], others=tuple(involved[1:]),
                     sources=_srcs(*(self.register[x] for x in involved)))
        return held

    def _link_cards(self) -> dict[str, list[Card]]:
        """Cards by the register ID they belong to (stable IDs, then confirmed matches);
        proposals and conflicts for the rest."""
        cards_of: dict[str, list[Card]] = defaultdict(list)
        confirmed = dict(self.decisions.confirmed)
        register, known = self.register, self.known
        for card in self.cards:
            pid = card.pupil_id
            if pid and (pid in register or pid in known):
                cards_of[pid].append(card)
                continue
            self.unplaced.append(card.number)
            if card.number in confirmed and confirmed[card.number] in self.register:
                pid = confirmed[card.number]
                cards_of[pid].append(card)
                self.add("update_card", "A person confirmed whose card this is: link it.",
                         pupil_id=pid, card_number=card.number,
                         changes=(("pupil_id", card.pupil_id or "", pid),), sources=_srcs(card))
                continue
            if card.status != "active":
                continue     # a blocked or lost card nobody can place harms nobody
            if card.pupil_id:
                self.add("conflict", f"The card names register ID {card.pupil_id}, which the "
                         "register does not hold: a typo, or a pupil long gone? Not blocked "
                         "until a person decides.", card_number=card.number,
                         sources=_srcs(card))
                continue
            found = sorted((p for p in self._people().get(
                person_key(card.surname, card.first_name, card.birth_date), [])
                if (card.number, p.register_id) not in self.decisions.rejected),
                key=lambda p: p.register_id)
            if card.birth_date is None or not found:
                self.add("conflict", "An active card with no register ID and no pupil of "
                         "its name and birth date.", card_number=card.number,
                         sources=_srcs(card))
            elif len(found) > 1:
                self.add("conflict", "An active card whose name and birth date fit several "
                         "pupils.", card_number=card.number,
                         others=tuple(sorted(p.register_id for p in found)),
                         sources=_srcs(card, *found))
            else:
                self.proposed.add(found[0].register_id)
                self.add("propose_match", "Same name and birth date: is this the pupil's "
                         "card? A person confirms.", pupil_id=found[0].register_id,
                         card_number=card.number, sources=_srcs(card, found[0]))
        # A pupil's cards by number: the plan does not depend on the rows' order.
        for mine in cards_of.values():
            if len(mine) > 1:
                mine.sort(key=lambda c: c.number)
        return cards_of

    # --- one pupil ---------------------------------------------------------------------

    def _pupil_record(self, pupil: Pupil) -> None:
        """Vitrina's own copy of the pupil follows the register."""
        before = self.known.get(pupil.register_id)
        if before == pupil:
            return      # the usual case: nothing changed
        if before is None:
            self.add("pupil_new", "New in the register.", pupil_id=pupil.register_id,
                     sources=_srcs(pupil))
            return
        if before.status == "left" and pupil.status == "enrolled":
            self.add("pupil_back", "Left, and is in the register again.",
                     pupil_id=pupil.register_id, sources=_srcs(pupil))
        elif before.status == "enrolled" and pupil.status == "left":
            self.add("pupil_left", "The register says the pupil has left.",
                     pupil_id=pupil.register_id, sources=_srcs(pupil))
        fields = ("surname", "first_name", "patronymic", "birth_date", "class_name", "school")
        changes = tuple((f, _text(getattr(before, f)), _text(getattr(pupil, f)))
                        for f in fields if getattr(before, f) != getattr(pupil, f)
                        and _text(getattr(before, f)) != _text(getattr(pupil, f)))
        if changes:
            self.add("pupil_update", "The register has new data.", pupil_id=pupil.register_id,
                     changes=changes, sources=_srcs(pupil))

    def _enrolled(self, pupil: Pupil, cards: list[Card]) -> None:
        pid = pupil.register_id
        active = [c for c in cards if c.status == "active"] if len(cards) != 1 or \
            cards[0].status != "active" else cards
        if len(active) > 1:
            self.add("duplicate_cards", "One pupil, several active cards: which one stays?",
                     pupil_id=pid, card_number=active[0].number,
                     others=tuple(c.number for c in active[1:]), sources=_srcs(pupil, *active))
        elif not active:
            blocked = sorted((c for c in cards if c.status == "blocked"),
                             key=lambda c: (c.issued_on or date.min, c.number))
            if pid in self.proposed:
                pass    # the proposed card may be theirs: a person answers first
            elif blocked:
                self.add("unblock_card", "Enrolled again: the blocked card works again.",
                         pupil_id=pid, card_number=blocked[-1].number,
                         sources=_srcs(pupil, blocked[-1]))
            else:
                note = " The register has no birth date for this pupil." \
                    if pupil.birth_date is None else ""
                self.add("issue_card", "Enrolled, and no card that works." + note,
                         pupil_id=pid, sources=_srcs(pupil))
        else:
            card = active[0]
            if (card.surname, card.first_name, card.patronymic, card.birth_date,
                    card.class_name) == (pupil.surname, pupil.first_name, pupil.patronymic,
                                         pupil.birth_date, pupil.class_name):
                self._photo(pupil)      # the usual case: the card is right
                return
            changes = tuple((f, _text(getattr(card, f)), _text(getattr(pupil, f)))
                            for f in CARD_FIELDS
                            if getattr(card, f) != getattr(pupil, f)
                            and getattr(pupil, f) not in (None, "")
                            and _text(getattr(card, f)) != _text(getattr(pupil, f)))
            if changes:
                self.add("update_card", "The card's holder data differ from the register.",
                         pupil_id=pid, card_number=card.number, changes=changes,
                         sources=_srcs(pupil, card))
        self._photo(pupil)

    def _photo(self, pupil: Pupil) -> None:
        photo = self.photos.get(pupil.register_id)
        consent = pupil.consent is not None and pupil.consent.given
        why = "" if consent else " No consent to use a photo is recorded yet."
        if photo is None:
            self.add("photo_missing", "No photo for the card." + why,
                     pupil_id=pupil.register_id, sources=_srcs(pupil))
        elif photo.taken_on < self.today - timedelta(days=self.rules.photo_max_age_days):
            self.add("photo_outdated", f"The photo is from {photo.taken_on.isoformat()}, older "
                     "than the school allows." + why, pupil_id=pupil.register_id,
                     sources=_srcs(pupil))

    def _left(self, pupil: Pupil, left_on: date | None, cards: list[Card]) -> None:
        since = left_on or self.today
        due = since + timedelta(days=self.rules.grace_days)
        for card in cards:
            if card.status != "active":
                continue
            if self.today >= due:
                self.add("block_card", f"Left on {since.isoformat()}; the {self.rules.grace_days}"
                         "-day grace period is over.", pupil_id=pupil.register_id,
                         card_number=card.number, sources=_srcs(pupil, card))


def plan_sync(register: Iterable[Pupil], cards: Iterable[Card], *, today: date,
              known: Iterable[Pupil] = (), photos: Mapping[str, PhotoInfo] | None = None,
              pending: Iterable[str] = (), decisions: Decisions | None = None,
              rules: Rules | None = None) -> SyncPlan:
    """The plan that brings the card system (and Vitrina's pupils) in line with the
    register, leaving out actions already applied and waiting (pending keys)."""
    planner = _Planner(list(register), list(cards), list(known), photos or {},
                       decisions or Decisions(), rules or Rules(), today)
    skip = set(pending)
    order = {k: i for i, k in enumerate(KINDS)}
    # Only card changes wait for the card system (and are ever pending).
    actions = [a for a in planner.run()
               if not skip or a.kind not in CARD_KINDS or a.key not in skip]
    actions.sort(key=lambda a: (order[a.kind], a.pupil_id or "", a.card_number or ""))
    return SyncPlan(tuple(actions), frozenset(planner.unplaced))
