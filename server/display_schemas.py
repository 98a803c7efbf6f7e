"""Request shapes of displays (the admin's pairing form and edits)."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator

from server.schemas import Id, Input

Group = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1,
                                         max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


class DisplayIn(Input):
    """Where a display hangs and how it plays."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    org_id: Id
    floor: Annotated[int, Field(ge=-5, le=100)] | None = None
    room: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] = ""
    groups: list[Group] = Field(default_factory=list, max_length=20)
    orientation: Literal["landscape", "portrait"] = "landscape"
    layout: Literal["standard", "fullscreen", "portrait", "timetable"] = "standard"
    locale: Literal["ru", "en"] = "ru"
    width: Annotated[int, Field(ge=320, le=7680)] = 1920
    height: Annotated[int, Field(ge=240, le=4320)] = 1080
    power_on: time | None = None
    power_off: time | None = None
    off_when_no_school: bool = False
    transition: Literal["fade", "slide", "none"] = "fade"
    touch: bool = False
    timetable_target: Annotated[str, StringConstraints(
        strip_whitespace=True, max_length=120,
        pattern=r"^$|^(school|building|class|group|teacher|room):.*$")] = ""

    @field_validator("groups")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        return sorted(set(v))


class PairIn(DisplayIn):
    """The code a new display shows, and where to place it."""

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=12)]
