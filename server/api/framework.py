"""Declaring API operations once: route, access rule, validation, serialisation, OpenAPI.

An operation's request and response shapes are pydantic models; the same
declaration validates the request, shapes the answer and writes the OpenAPI
document, so the document cannot drift from what the routes do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, TypeAdapter, ValidationError

from server.access import AccessRule
from server.errors import FieldError, Invalid
from server.schemas import field_errors

EXTENSION_KEY = "vitrina.api"


class BadRequest(Invalid):
    """The body is not JSON at all; answered with 400 rather than 422."""

    status = 400


@dataclass
class Operation:
    """One API route: what it accepts, what it answers, and who may call it."""

    endpoint: str
    rule: str
    method: str
    summary: str
    tag: str
    access: AccessRule
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    path_params: list[str] = field(default_factory=list)
    #: Form fields of a multipart/form-data upload whose file part is named "file".
    upload: type[BaseModel] | None = None


def _parse_body(model: type[BaseModel]) -> BaseModel:
    raw = request.get_data(cache=True)
    if not raw.strip():
        payload: Any = {}
    else:
        if not request.is_json:
            raise BadRequest(_("Send the body as JSON (Content-Type: application/json)."))
        try:
            payload = request.get_json(force=True)
        except Exception:  # noqa: BLE001 - werkzeug raises several kinds here
            raise BadRequest(_("The body is not valid JSON.")) from None
    if not isinstance(payload, dict):
        raise Invalid([FieldError("", _("The body must be a JSON object."))])
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


def _parse_upload(model: type[BaseModel]) -> tuple[BaseModel, Any]:
    if not request.mimetype.startswith("multipart/form-data"):
        raise BadRequest(_("Send the file as multipart/form-data with a part named “file”."))
    errors: list[FieldError] = []
    try:
        form = model.model_validate(request.form.to_dict())
    except ValidationError as exc:
        errors.extend(field_errors(exc))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors.append(FieldError("file", _("This field is required.")))
    if errors:
        raise Invalid(errors)
    return form, upload


def _parse_query(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise Invalid(field_errors(exc)) from None


class Api:
    """A blueprint of API operations sharing a tag."""

    def __init__(self, name: str, tag: str) -> None:
        self.tag = tag
        self.blueprint = Blueprint(f"api_{name}", __name__, url_prefix="/api/v1")
        self.operations: list[Operation] = []
        self.blueprint.record_once(self._register)

    def _register(self, state: Any) -> None:
        state.app.extensions.setdefault(EXTENSION_KEY, []).extend(self.operations)

    def operation(
        self,
        rule: str,
        method: str,
        *,
        summary: str,
        access: Callable[[Any], Any],
        body: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        guard: Callable[..., Any] | None = None,
        upload: type[BaseModel] | None = None,
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register fn as the handler of method on rule (relative to /api/v1).

        guard, if given, is called with the path parameters before the body is
        read, so a caller outside the object's subtree learns 403, not what is
        wrong with their body.
        """

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            adapter = TypeAdapter(response) if response is not None else None

            def view(**kwargs: Any) -> Any:
                if guard is not None:
                    guard(**kwargs)
                if upload is not None:
                    kwargs["form"], kwargs["file"] = _parse_upload(upload)
                elif body is not None:
                    kwargs["body"] = _parse_body(body)
                elif request.get_data(cache=True).strip() and method in ("POST", "PUT", "PATCH",
                                                                          "DELETE"):
                    raise Invalid(_("This operation takes no body."))
                if query is not None:
                    kwargs["query"] = _parse_query(query)
                elif request.args:
                    raise Invalid([FieldError(k, _("Unknown field.")) for k in request.args])
                result = fn(**kwargs)
                if adapter is None:
                    return Response(status=204)
                value = adapter.validate_python(result, from_attributes=True)
                return jsonify(adapter.dump_python(value, mode="json")), status

            view.__name__ = fn.__name__
            view.__doc__ = fn.__doc__
            guarded = access(view)
            self.blueprint.add_url_rule(rule, endpoint=fn.__name__, view_func=guarded,
                                        methods=[method])
            params = re.findall(r"<(?:\w+:)?(\w+)>", rule)
            self.operations.append(Operation(
                endpoint=f"{self.blueprint.name}.{fn.__name__}", rule=f"/api/v1{rule}",
                method=method, summary=summary, tag=self.tag,
                access=guarded.access_rule, body=body, query=query, response=response,
                status=status if adapter is not None else 204, path_params=params,
                upload=upload))
            return fn

        return decorate


def operations() -> list[Operation]:
    """Every API operation registered on the current app."""
    ops: list[Operation] = current_app.extensions.get(EXTENSION_KEY, [])
    return ops
