"""The OpenAPI 3.1 document, generated from the declared API operations."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, jsonify
from pydantic import BaseModel, TypeAdapter

from server.access import public
from server.api.framework import Operation, operations
from server.schemas import ErrorOut

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class _Schemas:
    """Collects component schemas and hands out references to them."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def ref(self, tp: Any, mode: str) -> dict[str, Any]:
        schema = TypeAdapter(tp).json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
        for name, sub in schema.pop("$defs", {}).items():
            self.components[name] = sub
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            name = _SAFE.sub("_", tp.__name__)
            if mode == "validation" and name in self.components and \
                    self.components[name] != schema:
                name = f"{name}Input"
            self.components[name] = schema
            return {"$ref": REF.format(model=name)}
        return schema


def _path(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _operation(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    errors = {"$ref": REF.format(model="ErrorOut")}
    out: dict[str, Any] = {
        "operationId": op.endpoint.replace(".", "_"),
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [
            {"name": p, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 0}}
            for p in op.path_params
        ],
        "responses": {},
    }
    if op.access.kind != "public":
        out["security"] = [{"bearer": []}]
        out["responses"]["401"] = {"description": "No valid API token",
                                   "content": {"application/json": {"schema": errors}}}
        out["responses"]["403"] = {"description": "Not allowed on this node",
                                   "content": {"application/json": {"schema": errors}}}
    if op.path_params:
        out["responses"]["404"] = {"description": "No such object",
                                   "content": {"application/json": {"schema": errors}}}
    if op.query is not None:
        qschema = op.query.model_json_schema(ref_template=REF)
        required = set(qschema.get("required", []))
        for name, prop in qschema.get("properties", {}).items():
            out["parameters"].append({"name": name, "in": "query", "required": name in required,
                                      "schema": prop})
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": schemas.ref(op.body, "validation")}}}
        out["responses"]["400"] = {"description": "The body is not JSON",
                                   "content": {"application/json": {"schema": errors}}}
    if op.upload is not None:
        form = op.upload.model_json_schema(ref_template=REF)
        form["properties"]["file"] = {"type": "string", "format": "binary",
                                      "description": "The file itself."}
        form["required"] = [*form.get("required", []), "file"]
        form.pop("title", None)
        out["requestBody"] = {"required": True, "content": {"multipart/form-data": {
            "schema": form}}}
        out["responses"]["400"] = {"description": "The body is not multipart/form-data",
                                   "content": {"application/json": {"schema": errors}}}
        out["responses"]["413"] = {"description": "The file is larger than the server takes",
                                   "content": {"application/json": {"schema": errors}}}
    out["responses"]["422"] = {"description": "A field is not valid",
                               "content": {"application/json": {"schema": errors}}}
    if op.response is None:
        out["responses"]["204"] = {"description": "Done"}
    else:
        out["responses"][str(op.status)] = {"description": "OK", "content": {
            "application/json": {"schema": schemas.ref(op.response, "serialization")}}}
    return out


def build_openapi() -> dict[str, Any]:
    """The OpenAPI document of the current app's API."""
    schemas = _Schemas()
    schemas.ref(ErrorOut, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for op in sorted(operations(), key=lambda o: (o.rule, o.method)):
        paths.setdefault(_path(op.rule), {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vitrina API",
            "version": "1",
            "description": "Manage a school's organisations, people and rights. Authenticate "
                           "with a personal API token: `Authorization: Bearer vit_…`.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@bp.get("/api/openapi.json")
@public
def openapi_json() -> Any:
    """Serve the OpenAPI document."""
    return jsonify(build_openapi())
