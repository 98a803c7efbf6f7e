"""Domain errors raised by services and loaders; the web layer maps them to HTTP once."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400


@dataclass(frozen=True)
class FieldError:
    """What is wrong with one field of a request ("" when the whole request is wrong)."""

    field: str
    reason: str


class NotFound(DomainError):
    """The object does not exist."""

    status = 404


class Forbidden(DomainError):
    """The principal may not do this here."""

    status = 403


class Unauthorized(DomainError):
    """Nobody is signed in, or the credentials are not valid."""

    status = 401


class Invalid(DomainError):
    """The request is understood but its content is wrong; lists every problem found."""

    status = 422

    def __init__(self, errors: list[FieldError] | FieldError | str, field: str = "") -> None:
        if isinstance(errors, str):
            errors = [FieldError(field, errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.reason}" if e.field else e.reason
                                   for e in errors))


class TooManyAttempts(DomainError):
    """Too many attempts in a short time; try again after retry_after seconds."""

    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
