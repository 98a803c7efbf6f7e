"""Health checks for load balancers and orchestration."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from sqlalchemy import text

from server.access import public
from server.extensions import db
from server.migrate import schema_status

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> Any:
    """The process is up and answering."""
    return jsonify(status="ok")


@bp.get("/readyz")
@public
def readyz() -> Any:
    """The database is reachable and its schema is current."""
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        status = schema_status(db.engine)
        checks["migrations"] = "ok" if status.current else (
            f"database at {status.database or 'empty'}, code needs {status.code}")
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        checks.setdefault("database", f"unreachable: {type(exc).__name__}")
    ok = all(v == "ok" for v in checks.values()) and len(checks) == 2
    body = {"status": "ok" if ok else "unavailable", "checks": checks}
    return jsonify(body), 200 if ok else 503
