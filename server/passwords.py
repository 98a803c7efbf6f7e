"""Password hashing with Argon2id, its cost taken from the app's configuration."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app

_DUMMY_PASSWORD = "vitrina-timing-equaliser"


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    key = ("vitrina.hasher", cfg["PASSWORD_TIME_COST"], cfg["PASSWORD_MEMORY_COST"])
    hasher = current_app.extensions.get("vitrina.hasher")
    if hasher is None or hasher[0] != key:
        ph = PasswordHasher(time_cost=int(key[1]), memory_cost=int(key[2]))
        current_app.extensions["vitrina.hasher"] = (key, ph, ph.hash(_DUMMY_PASSWORD))
        hasher = current_app.extensions["vitrina.hasher"]
    return hasher[1]


def hash_password(password: str) -> str:
    """Hash a password for storage."""
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check password against stored_hash; takes as long for an unknown user (None)."""
    ph = _hasher()
    if stored_hash is None:
        try:
            ph.verify(current_app.extensions["vitrina.hasher"][2], password + "x")
        except VerificationError:
            pass
        return False
    try:
        return ph.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with other parameters than the current ones."""
    return _hasher().check_needs_rehash(stored_hash)
