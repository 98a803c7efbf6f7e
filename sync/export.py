"""The export for the card system: a CSV of changes and a ZIP of photos.

The format is documented in docs/card-export.md. Every cell that a spreadsheet could
take for a formula (starting with = + - @, a tab or a carriage return) is written with
a leading apostrophe, so a name typed as `=HYPERLINK(…)` stays text in Excel and
LibreOffice. Photos go in only for pupils whose consent is recorded; each is named by
the card number, or by the register ID for a card still to be issued.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from sync.plan import CARD_KINDS, Action
from sync.records import Pupil

COLUMNS = ("action", "card_number", "register_id", "surname", "first_name", "patronymic",
           "birth_date", "class", "school", "changes", "photo", "reason")
ACTION_NAMES = {"issue_card": "issue", "block_card": "block", "unblock_card": "unblock",
                "update_card": "update"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will show as text, never run as a formula."""
    if value.startswith(_FORMULA_START) or value.lstrip().startswith(_FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Export:
    """The two files handed to the card system, and how many photos went in or not."""

    changes_csv: bytes
    photos_zip: bytes
    photos: int
    photos_without_consent: int


def build_export(actions: Iterable[Action], pupils: Mapping[str, Pupil],
                 photo_of: Callable[[str], bytes | None]) -> Export:
    """The changes CSV (UTF-8 with BOM, `;`, CRLF: what Excel opens right) and the photos
    ZIP for the card actions of a plan."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    archive = io.BytesIO()
    photos = without_consent = 0
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for action in actions:
            if action.kind not in CARD_KINDS:
                continue
            pupil = pupils.get(action.pupil_id or "")
            photo_name = ""
            if pupil is not None and action.kind in ("issue_card", "update_card",
                                                     "unblock_card"):
                if pupil.consent is not None and pupil.consent.given:
                    data = photo_of(pupil.register_id)
                    if data is not None:
                        photo_name = f"{action.card_number or pupil.register_id}.jpg"
                        zf.writestr(photo_name, data)
                        photos += 1
                else:
                    without_consent += 1
            changes = "; ".join(f"{f}: {old} → {new}" for f, old, new in action.changes)
            row = [ACTION_NAMES[action.kind], action.card_number or "", action.pupil_id or "",
                   pupil.surname if pupil else "", pupil.first_name if pupil else "",
                   pupil.patronymic if pupil else "",
                   pupil.birth_date.isoformat() if pupil and pupil.birth_date else "",
                   pupil.class_name if pupil else "", pupil.school if pupil else "",
                   changes, photo_name, action.reason]
            writer.writerow([safe_cell(str(v)) for v in row])
    return Export(("\ufeff" + out.getvalue()).encode("utf-8"), archive.getvalue(), photos,
                  without_consent)
