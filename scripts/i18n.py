"""Maintain the translations: extract strings, merge them into each catalog, compile.

    .venv/bin/python scripts/i18n.py            # extract + update + compile
    .venv/bin/python scripts/i18n.py --check    # exit 1 if a string lacks a translation

Translate new entries in server/translations/<lang>/LC_MESSAGES/messages.po, then run
it again to compile. tests/server/test_i18n.py runs the same check.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "server" / "translations"
LANGUAGES = ("ru",)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = [("server/**.py", "python"), ("server/templates/**.html", "jinja2")]


def extract() -> Catalog:
    """Every translatable string in the server's code and templates."""
    template = Catalog(project="vitrina", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map=METHODS, keywords=KEYWORDS, options_map={}
    ):
        if filename.startswith(("tests", ".venv")):
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments,
                     context=context)
    return template


def po_path(lang: str) -> Path:
    """Where the catalog of lang lives."""
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def missing(lang: str, template: Catalog) -> list[str]:
    """Strings of the template with no (or a fuzzy) translation in lang's catalog."""
    with po_path(lang).open("rb") as fh:
        catalog = read_po(fh)
    out = []
    for msg in template:
        if not msg.id:
            continue
        have = catalog.get(msg.id, context=msg.context)
        if have is None or not have.string or have.fuzzy or (
                isinstance(have.string, tuple) and not all(have.string)):
            out.append(msg.id if isinstance(msg.id, str) else msg.id[0])
    return out


def update_and_compile(template: Catalog) -> None:
    """Merge the template into every catalog and write the compiled .mo files."""
    for lang in LANGUAGES:
        path = po_path(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            with path.open("rb") as fh:
                catalog = read_po(fh, locale=lang)
        else:
            catalog = Catalog(locale=lang, project="vitrina", charset="utf-8")
        catalog.update(template, no_fuzzy_matching=True)
        buf = io.BytesIO()
        write_po(buf, catalog, width=100, omit_header=False, ignore_obsolete=True)
        path.write_bytes(buf.getvalue())
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        with path.with_suffix(".mo").open("wb") as fh:
            write_mo(fh, catalog)


def main() -> int:
    """Run the chosen step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report missing strings")
    args = parser.parse_args()
    template = extract()
    if not args.check:
        update_and_compile(template)
    bad = 0
    for lang in LANGUAGES:
        for msgid in missing(lang, template):
            print(f"{lang}: untranslated: {msgid!r}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
