"""Finding every translatable string, and every user-visible string that is not translatable.

Used by the completeness test (tests/i18n) and by translators:

    python -m cartflow.i18n.extract missing [PATH ...]   # .po entries still to translate
    python -m cartflow.i18n.extract bare [PATH ...]      # visible text not wrapped in _()

Python strings are found by Babel's extractor (keywords `_`, `gettext`, `ngettext`,
`ngettext_lazy`), templates by Jinja2's (`{{ _() }}`, `{% trans %}`). A "bare" string is text a user
sees that bypasses the catalog: template text outside ``{% trans %}``/``_()``, the visible
attributes of a tag (placeholder, title, aria-label, alt, a button's value), and a plain literal
given to an error, `fail()` or a form error in Python.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.extract import extract_from_file
from jinja2 import Environment

PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = PACKAGE / "web" / "templates"
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
}
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true", "trimmed": "true"}

# Words that read the same in both languages: product and standard names, units, codes.
UNTRANSLATED_WORDS = frozenset(
    [
        "cartflow",
        "ISBT",
        "128",
        "DIN",
        "COI",
        "QC",
        "CRS",
        "ICANS",
        "ICE",
        "ASTCT",
        "CAR-T",
        "CAR-HEMATOTOX",
        "ICAHT",
        "FHIR",
        "CIBMTR",
        "JSON",
        "CSV",
        "PDF",
        "ZPL",
        "API",
        "OpenAPI",
        "UTC",
        "MSK",
        "ID",
        "OK",
        "htmx",
        "B-ALL",
        "B-NHL",
        "IL-6",
        "ECOG",
        "LVEF",
        "SpO2",
        "FiO2",
        "ANC",
        "ALC",
        "CRP",
        "HLA",
        "x",
        "×",
        "°",
        "°C",
        "%",
        "mg",
        "kg",
        "mL",
        "µL",
        "m²",
        "L",
    ]
)


def _untranslated_word(word: str) -> bool:
    word = word.strip(".,;:()[]!?«»\"'")
    return (
        not any(ch.isalpha() for ch in word)
        or word in UNTRANSLATED_WORDS
        or bool(re.fullmatch(r"[A-Z]{1,5}-?\d+[a-z]?", word))
    )


@dataclass(frozen=True)
class Found:
    msgid: str | tuple[str, str]
    path: Path
    line: int

    @property
    def singular(self) -> str:
        return self.msgid if isinstance(self.msgid, str) else self.msgid[0]


def source_files(paths: Iterable[Path] | None = None) -> Iterator[Path]:
    roots = list(paths) if paths else [PACKAGE]
    for root in roots:
        if root.is_file():
            yield root
            continue
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".html") and "migrations" not in path.parts:
                yield path


def extract(paths: Iterable[Path] | None = None) -> list[Found]:
    """Every message id in the given files (default: the whole package)."""
    found: list[Found] = []
    for path in source_files(paths):
        if path.suffix == ".py":
            method = "python"
            options: dict[str, str] = {}
        else:
            method = "jinja2.ext:babel_extract"
            options = JINJA_OPTIONS
        for line, msgid, _comments, _context in extract_from_file(
            method, str(path), keywords=KEYWORDS, options=options, strip_comment_tags=True
        ):
            if msgid and (msgid if isinstance(msgid, str) else msgid[0]):
                ident = msgid if isinstance(msgid, str) else (msgid[0], msgid[1])
                found.append(Found(ident, path, line))
    return found


# -- bare visible text in templates ---------------------------------------------------------------

_VISIBLE_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt", "label", "data-label"}
_SENTINEL = "\x00"


def _letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _is_bare(text: str) -> bool:
    words = text.replace(_SENTINEL, " ").split()
    return not all(_untranslated_word(word) for word in words)


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        for name, value in attrs:
            visible = name in _VISIBLE_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in ("submit", "button")
            )
            if visible and value and _is_bare(value):
                self.found.append((self.getpos()[0], value))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and _is_bare(data):
            self.found.append((self.getpos()[0], data.strip()))


def bare_template_text(path: Path) -> list[tuple[int, str]]:
    """Visible text of a template outside the catalog, as (line, text)."""
    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
    source = path.read_text(encoding="utf-8")
    # Keep only the markup that renders as-is: Jinja expressions and statements become a
    # placeholder, and the inside of {% trans %} blocks and comments disappears.
    pieces: list[str] = []
    in_trans = 0
    statement: list[str] = []
    in_statement = False
    for _lineno, kind, value in env.lex(source):
        if kind == "block_begin":
            in_statement, statement = True, []
        elif kind == "block_end":
            in_statement = False
            if statement[:1] == ["trans"]:
                in_trans += 1
            elif statement[:1] == ["endtrans"]:
                in_trans = max(0, in_trans - 1)
            pieces.append(_SENTINEL)
        elif in_statement and kind == "name":
            statement.append(value)
        elif kind == "variable_begin":
            pieces.append(_SENTINEL)
        if kind == "data" and not in_trans:
            pieces.append(value)
        else:
            # Keep the line count so that reported lines stay right.
            pieces.append("\n" * value.count("\n"))
    parser = _VisibleText()
    parser.feed("".join(pieces))
    parser.close()
    return parser.found


# -- bare literals in Python ----------------------------------------------------------------------

_TRANSLATING_CALLS = {"_", "gettext", "ngettext", "ngettext_lazy", "Message"}


def _is_literal_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _is_bare(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(
            isinstance(part, ast.Constant) and _letters(str(part.value)) for part in node.values
        )
    if isinstance(node, ast.BinOp):
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    return False


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def error_class_names() -> set[str]:
    """Names of every refusal class (subclasses of CartflowError), found by importing them."""
    import importlib
    import pkgutil

    import cartflow
    from cartflow.errors import CartflowError

    for module in pkgutil.walk_packages(cartflow.__path__, "cartflow."):
        if ".migrations" in module.name or module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
    names: set[str] = set()
    pending: list[type] = [CartflowError]
    while pending:
        cls = pending.pop()
        names.add(cls.__name__)
        pending.extend(cls.__subclasses__())
    return names


def bare_python_literals(path: Path, message_calls: set[str]) -> list[tuple[int, str]]:
    """Plain literals given as the message of a refusal or a CLI failure, as (line, text)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or _call_name(node) not in message_calls:
            continue
        # A guard's refusal, Denied(code, message), carries its message second.
        position = 1 if _call_name(node) == "Denied" else 0
        candidates = list(node.args[position : position + 1]) + [
            kw.value for kw in node.keywords if kw.arg in ("message", "detail")
        ]
        for arg in candidates:
            if _is_literal_text(arg):
                found.append((node.lineno, ast.unparse(arg)[:100]))
    return found


def bare(paths: Iterable[Path] | None = None) -> list[tuple[Path, int, str]]:
    calls = error_class_names() | {"fail", "HTTPException", "FormError", "PageRefusal", "Denied"}
    out: list[tuple[Path, int, str]] = []
    for path in source_files(paths):
        if path.suffix == ".html":
            out.extend(
                (path, line, text.replace(_SENTINEL, "{…}"))
                for line, text in bare_template_text(path)
            )
        elif path.suffix == ".py" and "i18n" not in path.parts:
            out.extend((path, line, text) for line, text in bare_python_literals(path, calls))
    return out


def missing(paths: Iterable[Path] | None = None, locale: str = "ru") -> list[Found]:
    from cartflow.i18n.catalog import merged_catalog

    catalog = merged_catalog(locale)
    seen: set[str] = set()
    out = []
    for item in extract(paths):
        message = catalog.get(item.msgid if isinstance(item.msgid, str) else item.msgid[0])
        translated = message is not None and (
            all(message.string) if isinstance(message.string, tuple) else bool(message.string)
        )
        if not translated and item.singular not in seen:
            seen.add(item.singular)
            out.append(item)
    return out


def _po_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("missing", "bare"):
        sys.stderr.write("usage: python -m cartflow.i18n.extract missing|bare [PATH ...]\n")
        return 2
    paths = [Path(p).resolve() for p in argv[1:]] or None
    if argv[0] == "bare":
        for path, line, text in bare(paths):
            print(f"{path.relative_to(PACKAGE.parent.parent)}:{line}: {text}")
        return 0
    for item in missing(paths):
        print(f"#: {item.path.relative_to(PACKAGE.parent.parent)}:{item.line}")
        if isinstance(item.msgid, tuple):
            print(f'msgid "{_po_escape(item.msgid[0])}"')
            print(f'msgid_plural "{_po_escape(item.msgid[1])}"')
            for index in range(3):
                print(f'msgstr[{index}] ""')
        else:
            print(f'msgid "{_po_escape(item.msgid)}"')
            print('msgstr ""')
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
