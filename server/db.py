"""The database extension: one engine per app, one session per app context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from flask import Flask, Response, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

EXTENSION_KEY = "vitrina.db"


@dataclass
class _State:
    engine: Engine
    sessions: sessionmaker[Session]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _json_text(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


#: JSON columns are written and read with orjson: a big sync run's plan (100,000 actions)
#: takes a tenth of the time the json module needs, each way.
_JSON = {"json_serializer": _json_text, "json_deserializer": orjson.loads}


def make_engine(url: str) -> Engine:
    """Create an engine for url, with SQLite set to WAL mode and foreign keys on."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 10}, **_JSON)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, **_JSON)


class Database:
    """Unbound database extension; attach with init_app(app)."""

    def init_app(self, app: Flask) -> None:
        """Create the app's engine; a request's work is committed when it succeeds.

        Services add and change objects without committing; a request that ends
        with a status below 400 commits them, any other ends in a rollback when
        the session closes with the app context.
        """
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions[EXTENSION_KEY] = _State(engine, sessionmaker(engine, expire_on_commit=False))
        app.after_request(self._commit_on_success)
        app.teardown_appcontext(self._close_session)

    @staticmethod
    def _commit_on_success(response: Response) -> Response:
        session = g.get("db_session")
        if session is not None and response.status_code < 400:
            session.commit()
        return response

    @staticmethod
    def _state() -> _State:
        state: _State = current_app.extensions[EXTENSION_KEY]
        return state

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self._state().engine

    @property
    def session(self) -> Session:
        """The session of the current app context, opened on first use."""
        if "db_session" not in g:
            g.db_session = self._state().sessions()
        session: Session = g.db_session
        return session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
