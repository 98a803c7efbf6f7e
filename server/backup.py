"""Backups of a Vitrina instance, and restoring one into an empty instance.

A backup is one tar file:

- `manifest.json`: the format, when, the schema revision, the database's row counts, and
  the SHA-256 of every other member;
- `database/<table>.jsonl`: every row of every table, one JSON object a line, read in one
  transaction (a consistent snapshot while the server runs; on PostgreSQL at REPEATABLE
  READ). Rows, not a database file: a SQLite backup restores into PostgreSQL too;
- `media/…` and `photos/…`: both file stores (content-addressed, so files never change;
  staging folders of unconfirmed photo batches are left out);

followed by a trailer line `#vitrina-sha256:<hex>` with the SHA-256 of everything before
it, so that one flipped byte anywhere (a tar header or padding too) is noticed.

Restoring checks the trailer and every member against the manifest before it touches
anything, refuses a backup from a newer schema than this code knows, and writes only into
an empty instance: the schema is brought to the backup's revision, the rows are loaded,
the files written (each checked again), and the schema upgraded to this code's head.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Date, DateTime, Integer, LargeBinary, Table, Time, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.types import TypeDecorator

from server import migrate
from server.extensions import db
from server.models.base import Base, utcnow

FORMAT = "vitrina-backup/1"
TRAILER = b"\n#vitrina-sha256:"
#: Folders of the photo store that are not kept (unconfirmed batches).
SKIPPED_PHOTO_FOLDERS = ("batches",)


class BackupError(Exception):
    """A backup that cannot be made or restored; the message says why."""


@dataclass(frozen=True)
class Restored:
    """What a restore put back."""

    schema: str
    rows: int
    files: int


# --- values --------------------------------------------------------------------------

def _kind(column_type: Any) -> Any:
    return column_type.impl_instance if isinstance(column_type, TypeDecorator) \
        else column_type


def _encode(value: Any) -> Any:
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column_type: Any) -> Any:
    kind = _kind(column_type)
    if isinstance(kind, DateTime):
        return datetime.fromisoformat
    if isinstance(kind, Date):
        return date.fromisoformat
    if isinstance(kind, Time):
        return time.fromisoformat
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    return None


#: Tables of this installation's own running, not of its data: the background jobs' leases
#: (a backup made by the backup job would otherwise restore that job as running).
NOT_BACKED_UP = ("job_states",)


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_BACKED_UP]


# --- making a backup ------------------------------------------------------------------

def _snapshot(engine: Engine, folder: Path) -> tuple[dict[str, int], str]:
    """Every table's rows as JSON lines in folder, read in one transaction; the counts
    and the schema revision."""
    counts: dict[str, int] = {}
    options = {"isolation_level": "REPEATABLE READ"} \
        if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        if engine.dialect.name == "sqlite":
            # pysqlite opens no transaction for reads: without this, each table would be
            # read at its own moment. In WAL mode writers go on meanwhile.
            conn.exec_driver_sql("BEGIN")
        revision = conn.execute(sql_text("SELECT version_num FROM alembic_version")).scalar()
        for table in _tables():
            path = folder / f"{table.name}.jsonl"
            n = 0
            with path.open("w", encoding="utf-8") as out:
                order = [c for c in table.primary_key.columns]
                for row in conn.execute(select(table).order_by(*order)).mappings():
                    out.write(json.dumps({k: _encode(v) for k, v in row.items()},
                                         ensure_ascii=False, sort_keys=True) + "\n")
                    n += 1
            counts[table.name] = n
    if not revision:
        raise BackupError("The database has no schema yet: nothing to back up.")
    return counts, str(revision)


def _store_files(root: Path, prefix: str, skipped: tuple[str, ...] = ()) -> Iterator[
        tuple[str, Path]]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or (rel.parts and rel.parts[0] in skipped) \
                or path.name.startswith(".incoming"):
            continue
        yield f"{prefix}/{rel.as_posix()}", path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Hashing(io.RawIOBase):
    """A writable file that hashes what passes through it."""

    def __init__(self, target: IO[bytes]) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.position = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def write(self, data: Any) -> int:
        self.digest.update(data)
        self.target.write(data)
        self.position += len(data)
        return len(data)


def make_backup(app: Flask, to: Path | None = None) -> Path:
    """A backup of app's database and both file stores; returns its path."""
    target_dir = Path(to) if to is not None else Path(app.instance_path) / "backups"
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    target = target_dir / f"vitrina-backup-{stamp}.tar"
    n = 1
    while target.exists():
        n += 1
        target = target_dir / f"vitrina-backup-{stamp}-{n}.tar"
    with tempfile.TemporaryDirectory(prefix="vitrina-backup-") as tmp:
        folder = Path(tmp)
        with app.app_context():
            counts, revision = _snapshot(db.engine, folder)
            dialect = db.engine.dialect.name
        members: list[tuple[str, Path]] = [
            (f"database/{p.name}", p) for p in sorted(folder.glob("*.jsonl"))]
        members += list(_store_files(Path(app.config["MEDIA_DIR"]), "media"))
        members += list(_store_files(Path(app.config["PHOTO_DIR"]), "photos",
                                     SKIPPED_PHOTO_FOLDERS))
        manifest = {"format": FORMAT, "created_at": utcnow().isoformat(timespec="seconds"),
                    "schema": revision, "database": {"dialect": dialect, "tables": counts},
                    "files": {name: _sha256_file(path) for name, path in members}}
        partial = target.with_name(target.name + ".partial")
        with partial.open("wb") as raw:
            hashing = _Hashing(raw)
            with tarfile.open(fileobj=hashing, mode="w", format=tarfile.PAX_FORMAT) as tar:
                body = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(body), int(utcnow().timestamp()), 0o600
                tar.addfile(info, io.BytesIO(body))
                for name, path in members:
                    info = tar.gettarinfo(str(path), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mode = 0o600
                    with path.open("rb") as f:
                        tar.addfile(info, f)
            raw.write(TRAILER + hashing.digest.hexdigest().encode() + b"\n")
            raw.flush()
            os.fsync(raw.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, target)
    return target


def back_up(app: Flask, to: Path | None = None, prune_old: bool = False
            ) -> tuple[Path, list[Path]]:
    """Make a backup, remove old ones the retention does not keep (if asked), and audit it;
    returns the backup's path and the removed ones."""
    from server.services import audit
    from server.services.context import system_ctx

    cfg = app.config
    path = make_backup(app, to)
    size = path.stat().st_size
    removed = []
    if prune_old:
        removed = prune(path.parent, int(cfg["BACKUP_KEEP_DAILY"]),
                        int(cfg["BACKUP_KEEP_WEEKLY"]), int(cfg["BACKUP_KEEP_QUARTERLY"]))
    with app.app_context():
        audit.record(system_ctx(db.session, "backup"), "backup.made", ("backup", None), None,
                     f"Backup {path.name} ({size / 2**20:.1f} MB)", path=str(path),
                     size=size, removed=[p.name for p in removed])
        db.session.commit()
    return path, removed


# --- keeping backups -------------------------------------------------------------------

def backup_time(path: Path) -> datetime | None:
    """When a backup was made, from its name (vitrina-backup-YYYYmmdd-HHMMSS[-n].tar)."""
    name = path.name
    if not name.startswith("vitrina-backup-") or not name.endswith(".tar"):
        return None
    try:
        made = datetime.strptime(name[15:30], "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
        # A second backup within the same second is named …-2.tar: a hair newer.
        extra = int(name[31:-4]) if name[30:31] == "-" else 0
    except ValueError:
        return None
    return made + timedelta(microseconds=extra)


def to_keep(times: list[datetime], daily: int, weekly: int, quarterly: int) -> set[datetime]:
    """Which backups a retention keeps: the newest of each of the last `daily` days that
    have one, of the last `weekly` ISO weeks, and of the last `quarterly` quarters (a
    school must keep at least one a quarter). The newest backup is always kept."""
    keep: set[datetime] = set()
    newest = sorted(times, reverse=True)
    if newest:
        keep.add(newest[0])
    for count, period in ((daily, lambda t: t.date()),
                          (weekly, lambda t: t.isocalendar()[:2]),
                          (quarterly, lambda t: (t.year, (t.month - 1) // 3))):
        seen: list[Any] = []
        for t in newest:
            key = period(t)
            if key in seen:
                continue
            if len(seen) == count:
                break
            seen.append(key)
            keep.add(t)
    return keep


def prune(folder: Path, daily: int, weekly: int, quarterly: int) -> list[Path]:
    """Remove the backups in folder the retention does not keep; returns the removed."""
    found = {t: p for p in Path(folder).glob("vitrina-backup-*.tar")
             if (t := backup_time(p)) is not None}
    keep = to_keep(list(found), daily, weekly, quarterly)
    removed = []
    for t, path in sorted(found.items()):
        if t not in keep:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


# --- checking and restoring -----------------------------------------------------------

def _payload(path: Path) -> tuple[int, str]:
    """The length of the tar part and the checksum the trailer gives for it."""
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - 200))
        tail = f.read()
    at = tail.rfind(TRAILER)
    if at < 0 or not tail.endswith(b"\n"):
        raise BackupError(f"{path.name}: not a Vitrina backup, or cut off (no checksum "
                          "at its end).")
    hexdigest = tail[at + len(TRAILER):-1].decode("ascii", "replace")
    return size - len(tail) + at, hexdigest


def verify(path: Path) -> dict[str, Any]:
    """The manifest of a backup whose every byte checks out; BackupError otherwise."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file.")
    length, expected = _payload(path)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        left = length
        while left:
            chunk = f.read(min(1 << 20, left))
            if not chunk:
                break
            digest.update(chunk)
            left -= len(chunk)
    if digest.hexdigest() != expected:
        raise BackupError(f"{path.name}: the checksum does not match: the file is damaged "
                          "or was changed. Nothing was restored.")
    try:
        with tarfile.open(path, mode="r:") as tar:
            first = tar.next()
            if first is None or first.name != "manifest.json":
                raise BackupError(f"{path.name}: no manifest.")
            manifest_file = tar.extractfile(first)
            assert manifest_file is not None
            manifest = json.loads(manifest_file.read())
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{path.name}: an unknown backup format "
                                  f"({manifest.get('format')!r}).")
            files: dict[str, str] = manifest["files"]
            seen: set[str] = set()
            for member in tar:
                if member is first:
                    continue
                if not member.isfile() or member.name not in files or member.name in seen:
                    raise BackupError(f"{path.name}: “{member.name}” is not in the "
                                      "manifest.")
                data = tar.extractfile(member)
                assert data is not None
                sha = hashlib.sha256()
                for chunk in iter(lambda d=data: d.read(1 << 20), b""):  # type: ignore[misc]
                    sha.update(chunk)
                if sha.hexdigest() != files[member.name]:
                    raise BackupError(f"{path.name}: “{member.name}” does not match its "
                                      "checksum.")
                seen.add(member.name)
            missing = sorted(set(files) - seen)
            if missing:
                raise BackupError(f"{path.name}: {len(missing)} files of the manifest are "
                                  f"missing (e.g. “{missing[0]}”).")
    except (tarfile.TarError, ValueError, KeyError, OSError) as exc:
        raise BackupError(f"{path.name}: cannot be read ({exc.__class__.__name__}).") from None
    return manifest


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


#: Tables that hold what people made; a database without rows in them is empty (the
#: migrations themselves seed some bookkeeping rows elsewhere).
DATA_TABLES = ("organisations", "users", "media_assets", "pupils", "content_items")


def _is_empty(conn: Connection) -> bool:
    tables = {t.name: t for t in _tables()}
    return all(conn.execute(select(func.count()).select_from(tables[name])).scalar() == 0
               for name in DATA_TABLES if name in tables)


def restore(app: Flask, path: Path) -> Restored:
    """Restore the backup at path into app's instance, which must be empty."""
    manifest = verify(path)
    schema = str(manifest["schema"])
    if schema not in _known_revisions():
        raise BackupError(f"The backup is from a newer Vitrina (schema {schema}); this "
                          f"version knows up to {migrate.code_head()}. Install a newer "
                          "Vitrina to restore it.")
    stores = {"media": Path(app.config["MEDIA_DIR"]), "photos": Path(app.config["PHOTO_DIR"])}
    for name, root in stores.items():
        if root.is_dir() and any(p.is_file() for p in root.rglob("*")
                                 if p.relative_to(root).parts[0] not in SKIPPED_PHOTO_FOLDERS):
            raise BackupError(f"The {name} store ({root}) is not empty: restore into a new "
                              "instance.")
    with app.app_context():
        engine = db.engine
        status = migrate.schema_status(engine)
        if status.database is not None:
            with engine.connect() as conn:
                if not _is_empty(conn):
                    raise BackupError("The database is not empty: restore into a new "
                                      "instance (an empty database).")
        if status.database is None:
            migrate.upgrade(engine, schema)
        elif status.database != schema:
            if schema in _ancestors(status.database):
                migrate.downgrade(engine, schema)      # an empty database, newer: go back
            else:
                migrate.upgrade(engine, schema)
        rows = _load_rows(engine, path, manifest)
        files = _write_files(path, manifest, stores)
        migrate.upgrade(engine, "head")
    return Restored(schema, rows, files)


def _ancestors(revision: str) -> set[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return {rev.revision for rev in script.iterate_revisions(revision, "base")}


def _load_rows(engine: Engine, path: Path, manifest: dict[str, Any]) -> int:
    tables = {t.name: t for t in _tables()}
    total = 0
    with tarfile.open(path, mode="r:") as tar, engine.begin() as conn:
        for table in reversed(_tables()):       # the migrations' own seed rows make way
            conn.execute(table.delete())
        by_name = {m.name: m for m in tar.getmembers()}
        for name in tables:
            member = by_name.get(f"database/{name}.jsonl")
            if member is None:
                continue        # a table newer than the backup's schema
            table = tables[name]
            decoders = {c.name: _decoder(c.type) for c in table.columns}
            data = tar.extractfile(member)
            assert data is not None
            batch: list[dict[str, Any]] = []
            for line in io.TextIOWrapper(data, encoding="utf-8"):
                row = json.loads(line)
                for key, value in row.items():
                    decode = decoders.get(key)
                    if decode is not None and value is not None:
                        row[key] = decode(value)
                batch.append({k: v for k, v in row.items() if k in table.c})
                if len(batch) == 1000:
                    conn.execute(table.insert(), batch)
                    total += len(batch)
                    batch = []
            if batch:
                conn.execute(table.insert(), batch)
                total += len(batch)
        if engine.dialect.name == "postgresql":
            for table in tables.values():
                if "id" in table.c and isinstance(table.c.id.type, Integer):
                    top = conn.execute(select(func.max(table.c.id))).scalar() or 0
                    conn.execute(sql_text(
                        "SELECT setval(pg_get_serial_sequence(:t, 'id'), :v, false)"),
                        {"t": f'"{table.name}"', "v": top + 1})
    return total


def _write_files(path: Path, manifest: dict[str, Any], stores: dict[str, Path]) -> int:
    written = 0
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            top, _, rel = member.name.partition("/")
            if top not in stores or not member.isfile():
                continue
            target = (stores[top] / rel).resolve()
            if stores[top].resolve() not in target.parents:
                raise BackupError(f"“{member.name}” points outside the {top} store.")
            data = tar.extractfile(member)
            assert data is not None
            body = data.read()
            if hashlib.sha256(body).hexdigest() != manifest["files"][member.name]:
                raise BackupError(f"“{member.name}” changed while it was restored.")
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".incoming-{target.name}")
            tmp.write_bytes(body)
            os.replace(tmp, target)
            written += 1
    return written


__all__ = ["BackupError", "Restored", "make_backup", "restore", "verify"]
