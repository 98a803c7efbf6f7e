"""The dependency audit's verdict from PyPI's project document."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

spec = importlib.util.spec_from_file_location(
    "audit_deps", Path(__file__).resolve().parents[1] / "scripts" / "audit_deps.py")
assert spec is not None and spec.loader is not None
audit_deps = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_deps)


def _project(version: str, *advisories: dict[str, Any]) -> dict[str, Any]:
    return {"info": {"version": version}, "vulnerabilities": list(advisories)}


ADVISORY = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001"], "fixed_in": ["2.0.1"],
            "withdrawn": None, "link": "https://osv.dev/vulnerability/PYSEC-2099-1"}


def test_a_package_at_its_latest_release_with_an_open_advisory_is_vulnerable() -> None:
    assert audit_deps.findings("2.0.0", _project("2.0.0", ADVISORY)) == (True, [ADVISORY])


def test_withdrawn_or_already_fixed_advisories_do_not_count() -> None:
    withdrawn = {**ADVISORY, "withdrawn": "2099-02-01T00:00:00Z"}
    assert audit_deps.findings("2.0.0", _project("2.0.0", withdrawn)) == (True, [])
    fixed = {**ADVISORY, "fixed_in": ["2.0.0"]}
    assert audit_deps.findings("2.0.0", _project("2.0.0", fixed)) == (True, [])


def test_an_older_release_is_not_audited_rather_than_passed() -> None:
    assert audit_deps.findings("1.9.0", _project("2.0.0")) == (False, [])
    assert audit_deps.findings("1.0", {}) == (False, [])
