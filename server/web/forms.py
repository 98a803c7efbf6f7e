"""Reading HTML forms into the same validated shapes the API uses."""

from __future__ import annotations

import typing
from typing import Any, TypeVar

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError

from server.errors import FieldError, Invalid
from server.schemas import field_errors

M = TypeVar("M", bound=BaseModel)

_IGNORED = frozenset({"csrf_token", "submit"})


def _is_bool(annotation: Any) -> bool:
    return annotation is bool or bool in typing.get_args(annotation)


def parse_form(model: type[M], *, fields: tuple[str, ...] | None = None) -> M:
    """Validate request.form against model; empty optional fields become None.

    Checkboxes are read as booleans (absent means false). Raises Invalid listing
    every field that is wrong.
    """
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if fields is not None and name not in fields:
            continue
        if _is_bool(info.annotation):
            data[name] = name in request.form
            continue
        if name not in request.form:
            continue
        value = request.form.get(name, "")
        if value.strip() == "" and not info.is_required():
            data[name] = None
            continue
        data[name] = value
    unknown = set(request.form) - set(model.model_fields) - _IGNORED
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None
    if unknown:
        raise Invalid([FieldError(name, _("Unknown field.")) for name in sorted(unknown)])
    return parsed


def errors_by_field(exc: Invalid) -> dict[str, str]:
    """Map each field to its first reason, for showing next to the input."""
    out: dict[str, str] = {}
    for e in exc.errors:
        out.setdefault(e.field or "_", e.reason)
    return out


def parse_args(model: type[M]) -> M:
    """Validate the query string against model; empty values count as absent."""
    try:
        return model.model_validate({k: v for k, v in request.args.items() if v != ""})
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None
