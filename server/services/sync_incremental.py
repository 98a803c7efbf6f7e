"""Planning a sync run from what changed since the last applied one (sync.incremental),
with the database as the state that run left.

Used only when it answers exactly as planning everything would: the last applied run
still describes the school (its "after" stamp holds: nothing changed since, same day,
same rules and mappings), both runs are plain CSV files comparable line by line, and
the last run's plan is stored in the current form. Otherwise, or when the change is
one only a whole read reports right (an ID on two rows), the caller plans everything.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator
from datetime import date
from typing import Any

from sqlalchemy import func, select

from server.models.pupils import CardRow, PupilRow, SyncAction, SyncInput, SyncRun
from server.services import photos as photo_service
from sync import stored
from sync.incremental import Baseline, Change, Known, Planned, plan_changes
from sync.lines import LineDiff, diff_lines
from sync.oneroster import is_oneroster
from sync.plan import Decisions, Rules
from sync.readers import id_position, read_rows
from sync.records import Card, Consent, PhotoInfo, Pupil, Source
from sync.tables import ReadError, Table

#: Rows queried per statement: well under the bound-parameter limit (PostgreSQL 65,535;
#: SQLite 32,766 since 3.32, 999 before).
_CHUNK = 5000 if sqlite3.sqlite_version_info >= (3, 32) else 500


def _chunks(values: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


class DatabaseState:
    """sync.incremental.State over a school's rows."""

    def __init__(self, session: Any, school_id: int) -> None:
        self.conn = session.connection()
        self.session = session
        self.school_id = school_id

    def pupils(self, ids: Collection[str]) -> dict[str, Known]:
        t = PupilRow.__table__
        out: dict[str, Known] = {}
        for chunk in _chunks(ids):
            for r in self.conn.execute(select(
                    t.c.register_id, t.c.surname, t.c.first_name, t.c.patronymic,
                    t.c.birth_date, t.c.class_name, t.c.school_name, t.c.status,
                    t.c.enrolled_on, t.c.left_on, t.c.consent_given, t.c.consent_on,
                    t.c.consent_source, t.c.listed, t.c.match_key, t.c.register_row).where(
                    t.c.school_id == self.school_id, t.c.register_id.in_(chunk))):
                consent = Consent(bool(r[10]), r[11], r[12]) if r[10] is not None else None
                out[r[0]] = Known(Pupil(*r[:10], consent), bool(r[13]), r[14], r[15])
        return out

    def listed_with(self, keys: Collection[str]) -> set[str]:
        t = PupilRow.__table__
        found: set[str] = set()
        for chunk in _chunks(keys):
            found.update(self.conn.scalars(select(t.c.register_id).where(
                t.c.school_id == self.school_id, t.c.listed.is_(True),
                t.c.match_key.in_(chunk))))
        return found

    def _cards(self, column: Any, values: Collection[str]) -> list[Card]:
        t = CardRow.__table__
        out = []
        for chunk in _chunks(values):
            out += [Card(*r[:10], source=None if r[10] is None else Source("", r[10]))
                    for r in self.conn.execute(select(
                        t.c.number, t.c.pupil_register_id, t.c.status, t.c.issued_on,
                        t.c.surname, t.c.first_name, t.c.patronymic, t.c.birth_date,
                        t.c.class_name, t.c.photo, t.c.list_row)
                        .where(t.c.school_id == self.school_id, column.in_(chunk)))]
        return out

    def cards_of(self, ids: Collection[str]) -> list[Card]:
        return self._cards(CardRow.__table__.c.pupil_register_id, ids)

    def cards(self, numbers: Collection[str]) -> list[Card]:
        return self._cards(CardRow.__table__.c.number, numbers)

    def photos(self, ids: Collection[str]) -> dict[str, PhotoInfo]:
        out: dict[str, PhotoInfo] = {}
        for chunk in _chunks(ids):
            out.update(photo_service.current_photos(self.session, self.school_id, chunk))
        return out

    def enrolled(self) -> int:
        return int(self.conn.scalar(select(func.count()).select_from(PupilRow).where(
            PupilRow.school_id == self.school_id, PupilRow.status == "enrolled")) or 0)

    def pending(self) -> list[tuple[str, str | None, str | None]]:
        return [(k, p, c) for k, p, c in self.conn.execute(select(
            SyncAction.key, SyncAction.pupil_register_id, SyncAction.card_number).where(
            SyncAction.school_id == self.school_id, SyncAction.state == "pending"))]


def _input_files(session: Any, run_id: int) -> dict[str, tuple[str, bytes]]:
    return {role: (name, data) for role, name, data in session.execute(
        select(SyncInput.role, SyncInput.name, SyncInput.data).where(
            SyncInput.run_id == run_id))}


def _read_changed(what: str, diff: LineDiff, file: str, old_file: str,
                  mapping: dict[str, str]) -> tuple[list[Any], list[Any]]:
    """The added rows read, and the removed ones (as the old file had them)."""
    header = diff.new.header
    added = read_rows(what, Table(file, header, diff.added), mapping)
    removed = read_rows(what, Table(old_file, header, diff.removed), mapping)
    return added, removed


def plan_from_last(session: Any, school_id: int, last: SyncRun,
                   register: tuple[str, bytes], cards: tuple[str, bytes],
                   mappings: tuple[dict[str, str], dict[str, str]], *, today: date,
                   decisions: Decisions, rules: Rules) -> Planned | None:
    """The plan of these files from the last applied run's (see the module's note), or
    None if it cannot be made so. PlanError as plan_sync raises it."""
    state = last.plan_state or {}
    if not stored.is_stored(last.rest) or "unplaced" not in state \
            or is_oneroster(register[1]) or is_oneroster(cards[1]):
        return None
    before = _input_files(session, last.id)
    if set(before) != {"register", "cards"} or is_oneroster(before["register"][1]):
        return None
    diffs = (diff_lines(before["register"][1], register[1], before["register"][0],
                        register[0]),
             diff_lines(before["cards"][1], cards[1], before["cards"][0], cards[0]))
    reg_diff, card_diff = diffs
    if reg_diff is None or card_diff is None:
        return None
    try:
        pupils, pupils_gone = _read_changed("register", reg_diff, register[0],
                                            before["register"][0], mappings[0])
        found, cards_gone = _read_changed("cards", card_diff, cards[0], before["cards"][0],
                                          mappings[1])
    except ReadError:
        return None     # the whole read says what is wrong, and where
    id_at = id_position("register", reg_diff.new.header, mappings[0])
    number_at = id_position("cards", card_diff.new.header, mappings[1])
    if id_at is None or number_at is None:
        return None
    change = Change(
        register_file=register[0], cards_file=cards[0], register=pupils,
        register_gone={p.register_id for p in pupils_gone}, cards=found,
        cards_gone=cards_gone,
        register_row=lambda pid, was: reg_diff.row_of(pid, id_at, was),
        card_row=lambda number, was: card_diff.row_of(number, number_at, was),
        register_moved=None if reg_diff.same_rows else reg_diff.new_row,
        cards_moved=None if card_diff.same_rows else card_diff.new_row)
    baseline = Baseline(last.rest, before["register"][0], before["cards"][0],
                        tuple(state["unplaced"]))
    return plan_changes(change, baseline, DatabaseState(session, school_id), today=today,
                        decisions=decisions, rules=rules)
