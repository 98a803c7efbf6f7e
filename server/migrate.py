"""Alembic migrations run from code: upgrade, and check that a database is current."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at Vitrina's migrations (and engine, if given)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


@dataclass(frozen=True)
class SchemaStatus:
    """The database's revision, the code's head, and whether they agree."""

    database: str | None
    code: str

    @property
    def current(self) -> bool:
        """Whether the database is at the code's head revision."""
        return self.database == self.code


def code_head() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def schema_status(engine: Engine) -> SchemaStatus:
    """Read the database's revision (None if it was never migrated)."""
    with engine.connect() as conn:
        database = MigrationContext.configure(conn).get_current_revision()
    return SchemaStatus(database=database, code=code_head())


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to revision."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database schema back to revision."""
    command.downgrade(alembic_config(engine), revision)


class SchemaOutOfDate(RuntimeError):
    """The database schema is not the one this code needs."""


def require_current_schema(engine: Engine, instance: str) -> None:
    """Raise SchemaOutOfDate, naming the command that fixes it, unless the schema is current."""
    status = schema_status(engine)
    if status.current:
        return
    if status.database is None:
        what = "The database is empty"
    else:
        what = f"The database schema is at revision {status.database}"
    raise SchemaOutOfDate(
        f"{what}, but this version of Vitrina needs revision {status.code}. "
        f"Run: vitrina --instance {instance} db upgrade"
    )
