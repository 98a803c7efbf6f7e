"""Configuration: defaults, the instance folder, and VITRINA_* environment variables."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

from flask import Flask

CONFIG_FILE = "vitrina.toml"
SECRET_KEY_FILE = "secret_key"
DEFAULT_INSTANCE = "instance"

#: Every setting Vitrina reads, with its default. Documented in README.md.
DEFAULTS: dict[str, Any] = {
    # Database URL; empty means SQLite in the instance folder.
    "DATABASE_URL": "",
    # Display media store; empty means <instance>/media.
    "MEDIA_DIR": "",
    # Pupil photo store (kept apart from display media); empty means <instance>/photos.
    "PHOTO_DIR": "",
    # Drop folders for display media, one subfolder per organisation; empty means
    # <instance>/drop.
    "DROP_DIR": "",
    # Where schools drop register exports and card lists for a dry run (default under the
    # instance folder).
    "SYNC_DROP_DIR": "",
    # Reverse proxies in front of Vitrina whose X-Forwarded-For / -Proto are trusted (1
    # behind one nginx). 0: the connection's own address counts, and such headers are
    # ignored (anyone could send them).
    "PROXY_COUNT": 0,
    # Base URL users reach Vitrina at; https:// here turns on secure cookies.
    "PUBLIC_BASE_URL": "http://127.0.0.1:8000",
    "DEFAULT_LOCALE": "ru",
    "DEFAULT_TIMEZONE": "Europe/Moscow",
    "SUPPORTED_LOCALES": ["ru", "en"],
    # A signed-in session ends after this many hours.
    "SESSION_HOURS": 12,
    # Failed logins allowed per user name and per address within the window.
    "LOGIN_MAX_FAILURES_PER_USER": 5,
    "LOGIN_MAX_FAILURES_PER_ADDRESS": 30,
    "LOGIN_THROTTLE_MINUTES": 15,
    # Argon2id cost; lower only in tests.
    "PASSWORD_TIME_COST": 3,
    "PASSWORD_MEMORY_COST": 65536,
    # Largest request body accepted, in bytes.
    "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,
    # Display media uploads: size limits, and the largest screen they are scaled down to.
    "MEDIA_MAX_IMAGE_BYTES": 25 * 1024 * 1024,
    "MEDIA_MAX_VIDEO_BYTES": 60 * 1024 * 1024,
    "MEDIA_MAX_PIXELS": 50_000_000,
    "MEDIA_MAX_WIDTH": 3840,
    "MEDIA_MAX_HEIGHT": 2160,
    # Votes one network address may cast in one poll within ten minutes (a school's
    # pupils often share one address).
    "VOTES_PER_ADDRESS": 300,
    # "json": one JSON line per request on stderr (request ID, route, status, time, who).
    "LOG_FORMAT": "text",
    # Who may read /metrics: these networks (the monitoring server's), or a request with
    # "Authorization: Bearer <METRICS_TOKEN>" if set; everyone else gets 404.
    "METRICS_ALLOW_FROM": ["127.0.0.0/8", "::1/128"],
    "METRICS_TOKEN": "",
    # Rows per page in lists (people, audit log) in the UI and the API.
    "PAGE_SIZE": 50,
    # Pupil-card sync: a left pupil's card is blocked this many days after leaving; a
    # photo older than this is outdated; a left pupil's data and photos are removed this
    # many days after leaving; a run's input files are kept this many days.
    "SYNC_GRACE_DAYS": 14,
    "SYNC_PHOTO_MAX_AGE_DAYS": 3 * 365,
    "PUPIL_RETENTION_DAYS": 365,
    "SYNC_INPUT_RETENTION_DAYS": 30,
    # Bulk photo imports: the largest upload (a photographer's ZIP or a folder of photos),
    # and how many days unconfirmed photos wait in staging before they are removed.
    # The card printer's photo: size in pixels (its shape is the crop frame's), JPEG
    # quality, and the largest JPEG it takes (quality is lowered to fit).
    "PHOTO_CARD_WIDTH": 450,
    "PHOTO_CARD_HEIGHT": 600,
    "PHOTO_JPEG_QUALITY": 90,
    "PHOTO_MAX_OUTPUT_BYTES": 200_000,
    "PHOTO_BATCH_MAX_BYTES": 1024 * 1024 * 1024,
    "PHOTO_BATCH_RETENTION_DAYS": 7,
    # Backups (`vitrina backup --prune`): how many to keep, the newest of each of the last
    # days, weeks and quarters; the admins' start page warns when the newest is older than
    # BACKUP_MAX_AGE_HOURS.
    "BACKUP_KEEP_DAILY": 7,
    "BACKUP_KEEP_WEEKLY": 5,
    "BACKUP_KEEP_QUARTERLY": 12,
    # 0: the backup job's interval (BACKUP_EVERY_HOURS) and two hours' grace, else 26.
    "BACKUP_MAX_AGE_HOURS": 0,
    # Where backups go (`vitrina backup` without --to, and the backup job); empty means
    # <instance>/backups. On several nodes, a folder they share.
    "BACKUP_DIR": "",
    # Background jobs (`vitrina jobs run`, once across all nodes): hours between scheduled
    # backups (0: none; then back up some other way), and jobs this node never runs.
    "BACKUP_EVERY_HOURS": 24,
    "JOBS_DISABLED": [],
}


def resolve_instance_path(instance_path: str | os.PathLike[str] | None = None) -> Path:
    """Return the absolute instance folder: argument, else VITRINA_INSTANCE, else ./instance."""
    chosen = instance_path or os.environ.get("VITRINA_INSTANCE") or DEFAULT_INSTANCE
    return Path(chosen).expanduser().resolve()


def ensure_instance(instance_path: Path) -> None:
    """Create the instance folder and its secret key file if they are missing."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / SECRET_KEY_FILE
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill app.config from defaults, the instance file, the environment and test_config."""
    app.config.from_mapping(DEFAULTS)
    instance = Path(app.instance_path)
    config_file = instance / CONFIG_FILE
    if config_file.exists():
        app.config.from_file(str(config_file), load=tomllib.load, text=False)
    app.config.from_prefixed_env("VITRINA")
    if test_config:
        app.config.from_mapping(test_config)

    if not app.config.get("SECRET_KEY"):
        key_file = instance / SECRET_KEY_FILE
        if key_file.exists():
            app.config["SECRET_KEY"] = key_file.read_text().strip()
        else:
            raise RuntimeError(
                f"No secret key: set VITRINA_SECRET_KEY or run 'vitrina --instance {instance} "
                "db upgrade' to create the instance folder."
            )
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'vitrina.db'}"
    if not app.config["MEDIA_DIR"]:
        app.config["MEDIA_DIR"] = str(instance / "media")
    if not app.config["DROP_DIR"]:
        app.config["DROP_DIR"] = str(instance / "drop")
    if not app.config["SYNC_DROP_DIR"]:
        app.config["SYNC_DROP_DIR"] = str(instance / "sync-drop")
    if not app.config["PHOTO_DIR"]:
        app.config["PHOTO_DIR"] = str(instance / "photos")

    secure = str(app.config["PUBLIC_BASE_URL"]).startswith("https://")
    app.config.update(
        SESSION_COOKIE_NAME="vitrina_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        PERMANENT_SESSION_LIFETIME=int(float(app.config["SESSION_HOURS"]) * 3600),
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=secure,
        BABEL_DEFAULT_LOCALE=app.config["DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE="UTC",
    )
