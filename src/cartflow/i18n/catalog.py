"""Loading the translations: every `.po` file of a locale, then the clinical glossary on top.

The catalogs are plain `.po` files in the package (one per area, so that areas are translated and
reviewed separately) and are read at first use; there is no compiled `.mo` to forget to rebuild.
The glossary (`glossary.csv`) is the one place the established Russian clinical wording lives; where
a `.po` file translates a glossary term too, the completeness test requires the two to agree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
GLOSSARY = Path(__file__).parent / "glossary.csv"


@dataclass(frozen=True)
class GlossaryTerm:
    english: str
    russian: str
    source: str
    note: str


def glossary() -> list[GlossaryTerm]:
    """The clinical glossary, in file order (columns: english, russian, source, note)."""
    with GLOSSARY.open(encoding="utf-8", newline="") as handle:
        return [
            GlossaryTerm(row["english"], row["russian"], row["source"], row.get("note") or "")
            for row in csv.DictReader(handle)
        ]


def po_files(locale: str) -> list[Path]:
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))


def read_catalogs(locale: str) -> list[tuple[Path, Catalog]]:
    catalogs = []
    for path in po_files(locale):
        with path.open("rb") as handle:
            catalogs.append((path, read_po(handle, locale=locale)))
    return catalogs


def merged_catalog(locale: str) -> Catalog:
    """All of a locale's `.po` files and, for Russian, the glossary, as one catalog."""
    merged = Catalog(locale=locale)
    for _path, catalog in read_catalogs(locale):
        for message in catalog:
            if message.id and message.string:
                merged.add(message.id, message.string, flags=message.flags)
    if locale == "ru" and GLOSSARY.exists():
        for term in glossary():
            merged.add(term.english, term.russian)
    return merged


@cache
def translations(locale: str) -> NullTranslations:
    """The gettext object of a locale (English, the source language, translates to itself)."""
    if locale == "en" or not (LOCALE_DIR / locale).exists():
        return NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, merged_catalog(locale))
    buffer.seek(0)
    return Translations(fp=buffer)
