"""The package boundaries of DESIGN.md, checked on every import statement."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "content": {"flask", "flask_babel", "flask_login", "flask_wtf", "sqlalchemy", "alembic",
                "requests", "server", "sync", "kiosk_client", "watchdog", "PIL", "gunicorn"},
    "sync": {"flask", "flask_babel", "flask_login", "flask_wtf", "sqlalchemy", "alembic",
             "server", "kiosk_client", "gunicorn"},
    "kiosk_client": {"flask", "flask_babel", "flask_login", "flask_wtf", "sqlalchemy",
                     "alembic", "server", "sync", "gunicorn"},
    "server": {"kiosk_client"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_stay_inside_its_boundary(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no Python files"
    problems = [f"{f.relative_to(ROOT)} imports {name}"
                for f in files for name in sorted(_imports(f) & FORBIDDEN[package])]
    assert problems == []


def test_the_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom sqlalchemy.orm import Session\nimport flask.json\n")
    assert _imports(bad) & FORBIDDEN["content"] == {"sqlalchemy", "flask"}
