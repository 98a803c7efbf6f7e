"""Pupils, their cards, and the sync runs that keep the card system in line with the register.

Pupil data is personal data: only what the cards need (names, birth date, class,
status with dates, consent), kept per school, changed only by sync runs (each audited),
and removed when its retention ends. The rules live in sync.plan.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime, utcnow
from sync import stored


class PupilRow(Base):
    """A pupil of a school as the last applied register said."""

    __tablename__ = "pupils"
    __table_args__ = (UniqueConstraint("school_id", "register_id", name="pupil_school_rid"),
                      Index("pupil_school_match_key", "school_id", "match_key"),
                      # (what a sync run's state stamp and plan count, from the index alone)
                      Index("pupil_school_updated", "school_id", "updated_at"),
                      Index("pupil_school_status", "school_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    register_id: Mapped[str] = mapped_column(String(64))
    surname: Mapped[str] = mapped_column(String(100))
    first_name: Mapped[str] = mapped_column(String(100), default="")
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date())
    class_name: Mapped[str] = mapped_column(String(16), default="")
    #: The school's name as the register writes it (kept to see what changed).
    school_name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="enrolled", index=True)
    enrolled_on: Mapped[date | None] = mapped_column(Date())
    left_on: Mapped[date | None] = mapped_column(Date())
    consent_given: Mapped[bool | None] = mapped_column(Boolean)
    consent_on: Mapped[date | None] = mapped_column(Date())
    consent_source: Mapped[str] = mapped_column(String(100), default="")
    #: Whether the last applied register listed the pupil (else known from earlier ones),
    #: and their name and birth date as matching compares them (sync.names.match_key):
    #: what lets the next run plan only what changed (sync.incremental).
    listed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    match_key: Mapped[str | None] = mapped_column(String(250))
    #: The pupil's row in that register (None if not listed): where an unchanged row is
    #: in the next export, without reading it all (sync.incremental).
    register_row: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CardRow(Base):
    """A card as the card system's last list said (a mirror; changes go out by export)."""

    __tablename__ = "cards"
    __table_args__ = (UniqueConstraint("school_id", "number", name="card_school_number"),
                      Index("card_school_pupil", "school_id", "pupil_register_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    number: Mapped[str] = mapped_column(String(64))
    pupil_register_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    issued_on: Mapped[date | None] = mapped_column(Date())
    surname: Mapped[str] = mapped_column(String(100), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    patronymic: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date())
    class_name: Mapped[str] = mapped_column(String(16), default="")
    photo: Mapped[str] = mapped_column(String(200), default="")
    #: The card's row in that list (see PupilRow.register_row).
    list_row: Mapped[int | None] = mapped_column(Integer)


class SyncRun(Base):
    """One reconcile of a school: its inputs, the plan, and (once applied) the result."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: "planned", "applied" or "discarded".
    status: Mapped[str] = mapped_column(String(10), default="planned")
    #: [{"role": "register", "name": …, "sha256": …, "size": …}, …]
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Counts of the plan's actions by kind.
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: The plan's actions, stored compactly (sync.stored); `plan` lists them.
    plan_data: Mapped[Any] = mapped_column("plan", JSON, default=list, deferred=True)
    #: Whether the person confirmed a register missing many known pupils.
    confirm_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    #: What the plan was made from: {"stamp": digest of the school's sync state, "waiting":
    #: keys of card changes sent earlier and still needed}. Apply reuses the plan when the
    #: stamp still holds, instead of planning again.
    plan_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: Once applied: its plan less what applying it did (stored as the plan is), where
    #: the next run's plan starts from (sync.incremental).
    rest: Mapped[Any | None] = mapped_column(JSON, deferred=True)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What apply did: counts of writes and the actions left for a person, with why.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


    @property
    def plan(self) -> list[dict[str, Any]]:
        """The plan's actions as dictionaries (what the UI lists; see sync.stored)."""
        data = self.plan_data
        cached = self.__dict__.get("_plan_of")
        if cached is None or cached[0] is not data:
            cached = (data, stored.actions_of(data))
            self.__dict__["_plan_of"] = cached
        return cached[1]


class SyncInput(Base):
    """The bytes of a run's input file (kept to apply and re-plan; removed by retention)."""

    __tablename__ = "sync_inputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"),
                                        index=True)
    role: Mapped[str] = mapped_column(String(10))   # "register" or "cards"
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class SyncExport(Base):
    """The files an applied run hands to the card system."""

    __tablename__ = "sync_exports"

    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    changes_csv: Mapped[bytes] = mapped_column(LargeBinary)
    photos_zip: Mapped[bytes] = mapped_column(LargeBinary)


class SyncAction(Base):
    """A card change applied and exported, pending until the card system's list shows it."""

    __tablename__ = "sync_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"),
                                        index=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    pupil_register_id: Mapped[str | None] = mapped_column(String(64))
    card_number: Mapped[str | None] = mapped_column(String(64))
    #: "pending" or "done" (the card list reflects it).
    state: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MatchDecision(Base):
    """What a card administrator decided about a proposed match or a possible duplicate."""

    __tablename__ = "match_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    #: "confirmed" / "rejected" (card_number + register_id) or "distinct" (two IDs).
    verdict: Mapped[str] = mapped_column(String(10))
    card_number: Mapped[str] = mapped_column(String(64), default="")
    register_id: Mapped[str] = mapped_column(String(64))
    other_register_id: Mapped[str] = mapped_column(String(64), default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncSettings(Base):
    """A school's saved column mappings (header, as its exports write it → field), and
    where an applied run's export is sent, if the card system takes it over HTTP."""

    __tablename__ = "sync_settings"

    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    register_mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    cards_mapping: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    push_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: "Header: value" sent with the push (e.g. "Authorization: Bearer …"); never shown.
    push_auth: Mapped[str] = mapped_column(String(500), default="", server_default="")


class PupilPhoto(Base):
    """A photo of a pupil (card-ready JPEG in the photo store); one is current, the rest
    are the history."""

    __tablename__ = "pupil_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id", ondelete="CASCADE"),
                                          index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    #: "upload", "batch" or "drop".
    source: Mapped[str] = mapped_column(String(10), default="upload")
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    taken_on: Mapped[date] = mapped_column(Date())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))


class PhotoBatch(Base):
    """Photos for many pupils at once (a ZIP, a folder, the drop folder): which file is for
    whom, each checked by the pipeline into a staging folder; nothing reaches the pupils
    until a card administrator confirms."""

    __tablename__ = "photo_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
    created_by_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: "upload", "drop" (single pictures from the drop folder) or "drop_zip".
    source: Mapped[str] = mapped_column(String(10), default="upload")
    name: Mapped[str] = mapped_column(String(255), default="")
    #: "checking", "ready", "applied" or "discarded".
    status: Mapped[str] = mapped_column(String(10), default="checking")
    #: One per file: {"n", "name", "register_id", "by", "problem", "others", "state"
    #: ("skipped", "waiting", "ok", "rejected"), "error" (a refusal's code), "warnings",
    #: "sha256"}.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What confirming did: {"added": n, "same": n, "skipped": n}.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
