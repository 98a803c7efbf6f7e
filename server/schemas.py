"""Request and response shapes of the JSON API, also used to parse the UI's forms.

One definition per shape: the API validates with it, the UI parses forms with
it, and the OpenAPI document is generated from it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import available_timezones

from flask_babel import gettext as _
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from server.errors import FieldError
from server.models.orgs import ORG_KINDS
from server.rights import ROLES

_TIMEZONES = frozenset(available_timezones())
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
PASSWORD_MIN = 10


def _check_timezone(value: str) -> str:
    if value not in _TIMEZONES:
        raise ValueError("unknown_timezone")
    return value


def _check_username(value: str) -> str:
    value = value.strip().lower()
    if not USERNAME_RE.match(value):
        raise ValueError("bad_username")
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Timezone = Annotated[str, AfterValidator(_check_timezone)]
Locale = Literal["ru", "en"]
Username = Annotated[str, StringConstraints(max_length=64), AfterValidator(_check_username)]
Password = Annotated[str, StringConstraints(min_length=PASSWORD_MIN, max_length=200)]
OrgKind = Literal["region", "municipality", "school", "building"]
Role = Literal["admin", "content_manager", "schedule_dispatcher", "card_admin", "viewer"]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
]

assert tuple(OrgKind.__args__) == ORG_KINDS  # type: ignore[attr-defined]
assert tuple(Role.__args__) == ROLES  # type: ignore[attr-defined]


#: A row's ID in a request: what an INTEGER column holds (a larger number names no row).
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Input(BaseModel):
    """Base of request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    """Base of response bodies, built from model objects."""

    model_config = ConfigDict(from_attributes=True)


# --- organisations ---------------------------------------------------------


class OrgCreate(Input):
    parent_id: Id = Field(description="The node to create the new one under.")
    kind: OrgKind
    name: Name
    timezone: Timezone = Field(description="IANA time zone, e.g. Asia/Yekaterinburg.")
    locale: Locale = "ru"


class OrgUpdate(Input):
    name: Name | None = None
    timezone: Timezone | None = None
    locale: Locale | None = None
    requires_review: bool | None = Field(
        default=None, description="Content below this node written by someone who may not "
                                  "publish here waits for approval.")


class OrgOut(Output):
    id: int
    parent_id: int | None
    kind: OrgKind
    name: str
    path: str
    timezone: str
    locale: str
    requires_review: bool


# --- users, grants ------------------------------------------------------------


class UserCreate(Input):
    username: Username
    display_name: Name
    email: Email | None = None
    password: Password
    org_id: Id = Field(description="The node the person belongs to.")
    locale: Locale | None = None


class UserUpdate(Input):
    display_name: Name | None = None
    email: Email | None = None
    org_id: Id | None = None
    locale: Locale | None = None
    is_active: bool | None = None


class PasswordSet(Input):
    password: Password


class PasswordChange(Input):
    current_password: Annotated[str, StringConstraints(max_length=200)]
    new_password: Password


class GrantCreate(Input):
    org_id: Id
    role: Role


class GrantOut(Output):
    id: int
    user_id: int
    org_id: int
    role: Role
    org_name: str
    created_at: datetime


class UserOut(Output):
    id: int
    username: str
    display_name: str
    email: str | None
    org_id: int
    locale: str | None
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    grants: list[GrantOut]


class MeOut(UserOut):
    permissions: dict[str, list[int]] = Field(
        description="For each action, the ids of the topmost nodes where it is allowed."
    )


class PreferencesUpdate(Input):
    locale: Locale | None = None


# --- API tokens -----------------------------------------------------------------


class TokenCreate(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(Output):
    id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, never again.")


# --- audit ------------------------------------------------------------------------


class AuditQuery(Input):
    org_id: Id | None = None
    user_id: Id | None = None
    action: Annotated[str, StringConstraints(max_length=64)] | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = Field(default=1, ge=1, le=100000)


class AuditOut(Output):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    address: str | None
    action: str
    object_type: str
    object_id: str | None
    org_id: int | None
    summary: str
    details: dict[str, Any]


class UserQuery(Input):
    q: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    org_id: Id | None = None
    page: int = Field(default=1, ge=1, le=100000)


class EmptyQuery(Input):
    pass


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


class ErrorOut(BaseModel):
    error: str = Field(description="A machine-readable code, e.g. invalid or forbidden.")
    message: str
    fields: list[dict[str, str]] = Field(default_factory=list)


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = Field(default_factory=dict)


# --- turning pydantic's errors into sentences a person reads ----------------------


def _reason(err: Any) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    msg = str(err.get("msg", ""))
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "missing":
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %(n)s characters.", n=ctx.get("max_length"))
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return _("This field is required.")
        return _("At least %(n)s characters.", n=ctx.get("min_length"))
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return _("Must be a whole number.")
    if kind in ("bool_type", "bool_parsing"):
        return _("Must be true or false.")
    if kind in ("string_type",):
        return _("Must be text.")
    if kind in ("date_type", "date_parsing", "date_from_datetime_parsing"):
        return _("Must be a date (YYYY-MM-DD).")
    if kind in ("literal_error", "enum"):
        return _("Must be one of: %(values)s.", values=ctx.get("expected", ""))
    if kind == "string_pattern_mismatch":
        return _("Has the wrong format.")
    if kind in ("greater_than_equal", "greater_than"):
        return _("Must be at least %(n)s.", n=ctx.get("ge", ctx.get("gt")))
    if kind in ("less_than_equal", "less_than"):
        return _("Must be at most %(n)s.", n=ctx.get("le", ctx.get("lt")))
    if kind == "model_type" or kind == "dict_type":
        return _("Must be a JSON object.")
    if "unknown_timezone" in msg:
        return _("Unknown time zone; use a name such as Europe/Moscow.")
    if "bad_username" in msg:
        return _("3–64 characters: Latin letters, digits, dot, dash or underscore.")
    return _("Is not valid.")


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Turn a pydantic ValidationError into translated per-field reasons."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        out.append(FieldError(loc, _reason(err)))
    return out
