"""Alembic environment: runs migrations on the engine Vitrina passes in."""

from alembic import context

from server.models import (  # noqa: F401
    audit,
    content,
    displays,
    jobs,
    media,
    orgs,
    pupils,
    timetable,
    users,
)
from server.models.base import Base

target_metadata = Base.metadata
config = context.config


def run_migrations_online() -> None:
    """Run migrations on the engine given by server.migrate."""
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
