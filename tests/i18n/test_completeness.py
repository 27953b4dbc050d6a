"""Completeness of the Russian translation (issue #12, item 5).

Fails when a user-visible string in a template or a message bypasses the catalog, when a message
in the code has no Russian translation, when a translation drops or invents a placeholder, or when
the catalog keeps entries the code no longer uses. Run one file's checks with
``pytest tests/i18n -k <file name>``; ``python -m cartflow.i18n.extract missing|bare PATH`` prints
what is left to do.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from cartflow.i18n.catalog import glossary, merged_catalog, read_catalogs
from cartflow.i18n.extract import PACKAGE, bare, extract, missing, source_files

SOURCES = list(source_files())
ROOT = PACKAGE.parent.parent


def _id(path: Path) -> str:
    return str(path.relative_to(PACKAGE))


@pytest.mark.parametrize("path", SOURCES, ids=_id)
def test_every_message_has_a_russian_translation(path: Path) -> None:
    untranslated = [f"{item.line}: {item.singular!r}" for item in missing([path])]
    assert not untranslated, (
        "no Russian translation (python -m cartflow.i18n.extract missing):\n"
        + ("\n".join(untranslated))
    )


@pytest.mark.parametrize("path", SOURCES, ids=_id)
def test_no_visible_text_bypasses_the_catalog(path: Path) -> None:
    found = [f"{line}: {text!r}" for _p, line, text in bare([path])]
    assert not found, "visible text not wrapped in _() or {% trans %}:\n" + "\n".join(found)


_BRACE = re.compile(r"(?<!\{)\{(\w+)[^{}]*\}(?!\})")
_PERCENT = re.compile(r"%\((\w+)\)[sd]")


def _placeholders(text: str) -> set[str]:
    return set(_BRACE.findall(text)) | set(_PERCENT.findall(text))


def test_translations_keep_the_placeholders() -> None:
    catalog = merged_catalog("ru")
    wrong = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set().union(*(_placeholders(i) for i in ids)) - {"n", "num"}
        for string in strings:
            got = _placeholders(string) - {"n", "num"}
            if got != wanted:
                wrong.append(f"{ids[0]!r}: {sorted(wanted)} != {sorted(got)} in {string!r}")
    assert not wrong, "\n".join(wrong)


def test_no_catalog_entry_is_stale() -> None:
    used = {item.singular for item in extract()}
    stale = [
        f"{path.name}: {message.id!r}"
        for path, catalog in read_catalogs("ru")
        for message in catalog
        if message.id and (message.id if isinstance(message.id, str) else message.id[0]) not in used
    ]
    assert not stale, "catalog entries no code uses:\n" + "\n".join(stale)


def test_a_message_has_one_translation() -> None:
    """Areas are translated in separate files; the same English must read the same in each, and
    a glossary term is translated only by the glossary."""
    places: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path, catalog in read_catalogs("ru"):
        for message in catalog:
            if message.id:
                key = message.id if isinstance(message.id, str) else message.id[0]
                places[key][str(message.string)].append(path.name)
    terms = {term.english: term.russian for term in glossary()}
    disagree = {msgid: dict(found) for msgid, found in places.items() if len(found) > 1}
    assert not disagree, f"translated differently in different files: {disagree}"
    shadowed = {msgid: dict(places[msgid]) for msgid in terms if msgid in places}
    assert not shadowed, f"glossary terms translated again in a .po file: {shadowed}"


def test_glossary_is_complete_and_sourced() -> None:
    terms = glossary()
    assert terms
    for term in terms:
        assert term.english.strip() and term.russian.strip(), term
        assert any("а" <= ch.lower() <= "я" or ch in "ёЁ" for ch in term.russian), term
