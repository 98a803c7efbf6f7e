"""Configuration sources, the embedded SQLite default, and the migration guard."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from server import migrate
from server.app import create_app
from server.cli import main
from server.config import ensure_instance
from server.extensions import db
from server.models.base import Base
from server.wsgi import make_app


def test_defaults_need_no_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VITRINA_INSTANCE", raising=False)
    ensure_instance(tmp_path / "instance")
    app = create_app()
    assert app.instance_path == str(tmp_path / "instance")
    assert app.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'instance' / 'vitrina.db'}"
    assert app.config["MEDIA_DIR"] == str(tmp_path / "instance" / "media")
    assert app.config["PHOTO_DIR"] != app.config["MEDIA_DIR"]
    with app.app_context():
        conn = db.session.connection()
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    ensure_instance(tmp_path)
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    ensure_instance(tmp_path)
    assert key_file.read_text() == first and len(first) >= 40
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert create_app(instance_path=str(tmp_path)).secret_key == first


def test_instance_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ensure_instance(tmp_path)
    (tmp_path / "vitrina.toml").write_text(
        'DEFAULT_TIMEZONE = "Asia/Vladivostok"\nPUBLIC_BASE_URL = "https://a.example"\n'
        'MEDIA_DIR = "/srv/media"\n')
    monkeypatch.setenv("VITRINA_PUBLIC_BASE_URL", "https://b.example")
    monkeypatch.setenv("VITRINA_SESSION_HOURS", "8")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["DEFAULT_TIMEZONE"] == "Asia/Vladivostok"
    assert app.config["MEDIA_DIR"] == "/srv/media"
    assert app.config["PUBLIC_BASE_URL"] == "https://b.example"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.permanent_session_lifetime.total_seconds() == 8 * 3600


def test_missing_secret_key_is_explained(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="db upgrade"):
        create_app(instance_path=str(tmp_path / "nowhere"))


def test_app_refuses_out_of_date_schema_and_names_the_fix(tmp_path: Path) -> None:
    ensure_instance(tmp_path)
    with pytest.raises(migrate.SchemaOutOfDate, match=r"Run: vitrina --instance .* db upgrade"):
        make_app(str(tmp_path))
    result = CliRunner().invoke(main, ["--instance", str(tmp_path), "serve"])
    assert result.exit_code == 1
    assert "db upgrade" in result.output


def test_readyz_reports_pending_migrations(tmp_path: Path) -> None:
    ensure_instance(tmp_path)
    app = create_app(instance_path=str(tmp_path))
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    assert "code needs" in r.get_json()["checks"]["migrations"]
    result = CliRunner().invoke(main, ["db", "upgrade", "--instance", str(tmp_path)])
    assert result.exit_code == 0, result.output
    r = app.test_client().get("/readyz")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"
    assert app.test_client().get("/healthz").get_json() == {"status": "ok"}


def test_migrations_match_the_models(database_template: str, tmp_path: Path) -> None:
    """What the models declare is exactly what the migrations build."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    url = database_template if "://" in database_template else f"sqlite:///{database_template}"
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_nothing_and_back(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert migrate.schema_status(engine).database is None
    migrate.upgrade(engine)
    assert migrate.schema_status(engine).current
    engine.dispose()
