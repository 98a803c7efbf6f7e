"""The display media store: files named by their SHA-256, written atomically, stored once."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from sync.imaging import EXTENSIONS


class MediaStore:
    """A folder of content-addressed files: <root>/<first two hex>/<sha256>.<ext>."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, kind: str) -> Path:
        """Where the file with this hash and kind lives."""
        return self.root / sha256[:2] / f"{sha256}.{EXTENSIONS[kind]}"

    def put(self, data: bytes, kind: str) -> str:
        """Store data (once) and return its SHA-256; never leaves a partial file behind."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_for(digest, kind)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def files(self) -> list[Path]:
        """Every stored file (for checks and backups)."""
        if not self.root.exists():
            return []
        return sorted(p for p in self.root.rglob("*") if p.is_file())
