"""Canonical records of the pupil-card sync: what every reader yields and the planner reads.

Plain frozen data, no database. A record keeps where it came from (`Source`), so any
problem found later still names the file and the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

PUPIL_STATUSES = ("enrolled", "left")
CARD_STATUSES = ("active", "blocked", "lost", "expired")


@dataclass(frozen=True, slots=True)
class Source:
    """Where a record was read: file and 1-based row (the header is row 1)."""

    file: str
    row: int

    def __str__(self) -> str:
        return f"{self.file}, row {self.row}"


@dataclass(frozen=True, slots=True)
class Consent:
    """Consent to use a pupil's photo: given or withdrawn, when, and how we know."""

    given: bool
    on: date | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class Pupil:
    """A pupil as the school register has them."""

    register_id: str
    surname: str
    first_name: str
    patronymic: str = ""
    birth_date: date | None = None
    class_name: str = ""
    school: str = ""
    status: str = "enrolled"
    enrolled_on: date | None = None
    left_on: date | None = None
    consent: Consent | None = None
    source: Source | None = field(default=None, compare=False)

    @property
    def full_name(self) -> str:
        """Surname, first name and patronymic, as a person reads them."""
        return " ".join(p for p in (self.surname, self.first_name, self.patronymic) if p)


@dataclass(frozen=True, slots=True)
class Card:
    """A card as the card system has it, with the holder data printed or stored on it."""

    number: str
    pupil_id: str | None = None
    status: str = "active"
    issued_on: date | None = None
    surname: str = ""
    first_name: str = ""
    patronymic: str = ""
    birth_date: date | None = None
    class_name: str = ""
    #: The card system's reference of its photo (a file name or hash), if any.
    photo: str = ""
    source: Source | None = field(default=None, compare=False)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.surname, self.first_name, self.patronymic) if p)


@dataclass(frozen=True, slots=True)
class PhotoInfo:
    """The newest usable photo Vitrina holds for a pupil."""

    sha256: str
    taken_on: date
