"""Request and response shapes of content items (API and UI forms)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from server.schemas import Id, Input, Output

Kind = Literal["news", "alert", "poll", "link", "qa", "media"]
Severity = Literal["info", "warning", "critical"]
Fit = Literal["contain", "cover"]
ItemState = Literal["draft", "review", "scheduled", "published", "expired", "archived"]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Group = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40,
                                         pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _aware(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive_datetime")
    return value


Moment = Annotated[datetime | None, AfterValidator(_aware)]


def _http_url(value: str) -> str:
    value = value.strip()
    if not value.lower().startswith(("http://", "https://")) or " " in value:
        raise ValueError("bad_url")
    return value


class QaEntry(BaseModel):
    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=300)]
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=2000)]


class ItemFields(Input):
    """Everything an author sets on an item (kind-specific fields are checked by kind)."""

    title: Title
    body: Annotated[str, StringConstraints(max_length=100_000)] = ""
    severity: Severity = "info"
    url: Annotated[str, StringConstraints(max_length=2000),
                   AfterValidator(_http_url)] | None = None
    qa: list[QaEntry] = Field(default_factory=list, max_length=50)
    options: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                   max_length=120)]] = Field(
        default_factory=list, max_length=12)
    media_id: Id | None = None
    fit: Fit = "contain"
    zone: Literal["main", "ticker"] = Field(
        default="main", description="Where a news item or link plays: the main area, or the "
                                    "running line at the bottom of the screen.")
    starts_at: Moment = None
    ends_at: Moment = None
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(default_factory=list,
                                                              max_length=7)
    daily_start: time | None = None
    daily_end: time | None = None
    priority: int = Field(default=0, ge=-100, le=100)
    duration: int = Field(default=10, ge=3, le=600)
    during: Annotated[str, StringConstraints(
        pattern=r"^(|lessons|breaks|big_break|period:[1-9][0-9]?)$")] = Field(
        default="", description="Only in part of the school day, by its bells: lessons, "
                                "breaks, big_break or period:N; empty for any time.")
    target_org_ids: list[Id] = Field(default_factory=list, max_length=500)
    target_groups: list[Group] = Field(default_factory=list, max_length=50)
    target_mode: Literal["any", "all"] = "any"

    @field_validator("target_groups")
    @classmethod
    def _unique_groups(cls, v: list[str]) -> list[str]:
        return sorted(set(v))


class ItemCreate(ItemFields):
    kind: Kind
    org_id: Id = Field(description="The organisation the item belongs to.")


class ItemUpdate(ItemFields):
    pass


class AlertRaise(Input):
    org_id: Id
    title: Title
    body: Annotated[str, StringConstraints(max_length=2000)] = ""
    severity: Severity = "critical"
    target_org_ids: list[Id] = Field(default_factory=list, max_length=500)
    target_groups: list[Group] = Field(default_factory=list, max_length=50)
    ends_at: Moment = None


class RejectIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                             max_length=500)]


class BulkIn(Input):
    ids: list[Id] = Field(min_length=1, max_length=500)
    action: Literal["expire", "archive"]


class BulkOut(Output):
    changed: int


class MediaUpload(Input):
    org_id: Id = Field(description="The organisation the file belongs to.")


class ContentQuery(Input):
    state: ItemState | None = None
    kind: Kind | None = None
    org_id: Id | None = None
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    date: Annotated[str, StringConstraints(max_length=10)] | None = Field(
        default=None, description="Only items on screen some time that day (YYYY-MM-DD).")
    page: int = Field(default=1, ge=1, le=100000)


class PollOptionOut(Output):
    id: int
    label: str
    votes: int = 0


class MediaOut(Output):
    id: int
    sha256: str
    kind: str
    size: int
    width: int | None
    height: int | None
    original_name: str
    url: str


class ItemOut(Output):
    id: int
    org_id: int
    kind: Kind
    state: ItemState
    title: str
    body: str
    severity: Severity
    url: str | None
    qa: list[QaEntry]
    options: list[PollOptionOut]
    media: MediaOut | None
    fit: Fit
    zone: Literal["main", "ticker"]
    starts_at: datetime | None
    ends_at: datetime | None
    weekdays: list[int]
    daily_start: time | None
    daily_end: time | None
    priority: int
    duration: int
    target_org_ids: list[int]
    target_groups: list[str]
    target_mode: Literal["any", "all"]
    review_note: str | None
    vote_url: str | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None


def item_fields_from(raw: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values a form sends for fields it does not use."""
    return {k: v for k, v in raw.items() if v not in ("", None)}
