"""The `vitrina` command: thin click wrappers over the services."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask
from pydantic import ValidationError

from server import config
from server.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class State:
    """What the commands share: the instance folder and, once built, the app."""

    instance: str | None = None
    app: Flask | None = field(default=None, repr=False)

    @property
    def instance_path(self) -> Path:
        """The resolved instance folder."""
        return config.resolve_instance_path(self.instance)

    def get_app(self) -> Flask:
        """Build the app for the instance (creating the folder and secret key if needed)."""
        if self.app is None:
            from server.app import create_app

            if not os.environ.get("VITRINA_SECRET_KEY"):
                config.ensure_instance(self.instance_path)
            self.app = create_app(instance_path=str(self.instance_path))
        return self.app


def _set_instance(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.ensure_object(State).instance = value


def instance_option(fn: F) -> F:
    """Accept --instance DIR on this command too (also accepted before the command)."""
    return click.option(
        "--instance", metavar="DIR", expose_value=False, callback=_set_instance,
        is_eager=True, help="Instance folder (default: $VITRINA_INSTANCE or ./instance).",
    )(fn)


pass_state = click.make_pass_decorator(State, ensure=True)


def fail(message: str, code: int = 1) -> None:
    """Print message to stderr and exit with code."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def describe_error(exc: Exception) -> str:
    """A one-line description of a domain or validation error."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                         for e in exc.errors())
    return str(exc)


@click.group()
@click.option("--instance", metavar="DIR", envvar="VITRINA_INSTANCE",
              help="Instance folder (default: $VITRINA_INSTANCE or ./instance).")
@click.version_option(package_name="vitrina")
@click.pass_context
def main(ctx: click.Context, instance: str | None) -> None:
    """Vitrina: a school's screens and pupil-card back office."""
    state = ctx.ensure_object(State)
    if instance and not state.instance:
        state.instance = instance


def run_in_app(state: State, fn: Callable[[], Any]) -> Any:
    """Run fn inside the app context, turning domain errors into a clean exit."""
    app = state.get_app()
    lang = "ru" if os.environ.get("LANG", "").startswith("ru") else "en"
    with app.app_context(), app.test_request_context(headers={"Accept-Language": lang}):
        try:
            return fn()
        except (DomainError, ValidationError) as exc:
            fail(describe_error(exc))
    return None


def _register() -> None:
    # Command modules attach themselves to `main`; imported here, not at package import.
    from server.commands import (  # noqa: F401
        backup_cmd,
        content_cmd,
        db_cmd,
        demo_cmd,
        displays_cmd,
        jobs_cmd,
        orgs_cmd,
        photos_cmd,
        serve_cmd,
        sync_cmd,
        users_cmd,
    )


_register()
