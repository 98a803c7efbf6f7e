"""Audit the installed Python packages for known vulnerabilities with PyPI's advisory data.

pip-audit asks PyPI for each package's own version (`/pypi/<name>/<version>/json`); where
only the project document (`/pypi/<name>/json`) is served, as on the CI machine, it audits
nothing. This asks for the project document, whose `vulnerabilities` are those of the
latest release (PyPI takes them from the same advisory database, OSV): for a package
installed at its latest release that is its audit; any other is listed as not audited.
Exit status 1 when an installed package has a known vulnerability, 2 when PyPI cannot be
reached at all, else 0.

    python scripts/audit_deps.py [--json]
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import distributions
from typing import Any

import requests

INDEX = "https://pypi.org/pypi"
#: Our own package (installed from the checkout, not from PyPI).
SKIP = {"vitrina"}


def findings(version: str, project: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """(audited, open advisories) of `version` given the project's PyPI document."""
    if project.get("info", {}).get("version") != version:
        return False, []
    advisories = [v for v in project.get("vulnerabilities") or []
                  if not v.get("withdrawn") and version not in (v.get("fixed_in") or [])]
    return True, advisories


def _project(name: str) -> dict[str, Any] | None:
    answer = requests.get(f"{INDEX}/{name}/json", timeout=20)
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    data: dict[str, Any] = answer.json()
    return data


def main() -> int:
    installed = sorted({(d.metadata["Name"].lower(), d.version) for d in distributions()
                        if d.metadata["Name"] and d.metadata["Name"].lower() not in SKIP})
    try:
        with ThreadPoolExecutor(8) as pool:
            projects = list(pool.map(lambda p: _project(p[0]), installed))
    except requests.RequestException as exc:
        print(f"PyPI cannot be reached: {exc}", file=sys.stderr)
        return 2
    vulnerable, unaudited = [], []
    for (name, version), project in zip(installed, projects, strict=True):
        audited, found = findings(version, project or {})
        if not audited:
            latest = (project or {}).get("info", {}).get("version", "not on PyPI")
            unaudited.append(f"{name} {version} (latest {latest})")
        for advisory in found:
            ids = ", ".join([advisory.get("id", "?"), *advisory.get("aliases", [])])
            vulnerable.append(f"{name} {version}: {ids}; fixed in "
                              f"{', '.join(advisory.get('fixed_in') or []) or 'no release yet'}"
                              f" — {advisory.get('link', '')}")
    if "--json" in sys.argv:
        print(json.dumps({"packages": len(installed), "vulnerable": vulnerable,
                          "not_audited": unaudited}, indent=1))
    else:
        print(f"{len(installed) - len(unaudited)} of {len(installed)} packages audited "
              f"(installed at their latest release); {len(vulnerable)} known "
              "vulnerabilities.")
        for line in vulnerable:
            print(f"VULNERABLE {line}")
        if unaudited:
            print("Not audited (not at their latest release): " + "; ".join(unaudited))
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
