"""Russian and English: the language of the request, lazy messages and locale-aware dates.

Every user-visible string in Python goes through `_` (lazy: translated when it is shown, so a
message raised in a service reaches the API, the page and the CLI each in its reader's language) or
`gettext` (translated now, where a plain `str` is needed). Parameters use `str.format` names:
``_("Container {din} is for another patient", din=din)``; the English text is the message id and
the Russian catalogs under `locale/ru/LC_MESSAGES/` plus the clinical glossary (`glossary.csv`)
hold the translations. Templates use Jinja2's i18n extension (``{{ _("...") }}``, ``{% trans %}``).

The language of a request is chosen once, in `LocaleMiddleware`, and kept in a context variable:
pages take the user's profile choice (a cookie set at log-in), then the browser's Accept-Language;
the API takes Accept-Language; the CLI takes CARTFLOW_LANG, then the POSIX LC_ALL/LC_MESSAGES/LANG.
Machine-readable codes (error codes, states, ISBT 128 identifiers) are never translated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime

from cartflow.i18n.catalog import translations

LOCALES: Final = ("ru", "en")
DEFAULT_LOCALE: Final = "en"
# The language the catalogs translate into; English is the message id itself.
SOURCE_LOCALE: Final = "en"

_current_locale: ContextVar[str] = ContextVar("cartflow_locale", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _current_locale.get()


@contextlib.contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Run a block in `locale` (a supported one; anything else falls back to the default)."""
    token = _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current_locale.reset(token)


def set_locale(locale: str) -> None:
    """Set the language for the rest of this context (the CLI sets it once at start)."""
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def supported(tag: str | None) -> str | None:
    """The supported locale a language tag names (``ru-RU`` -> ``ru``), or None."""
    if not tag:
        return None
    primary = tag.strip().replace("_", "-").split("-")[0].split(".")[0].lower()
    return primary if primary in LOCALES else None


def negotiate(accept_language: str | None) -> str | None:
    """The best supported locale of an Accept-Language header (RFC 9110 §12.5.4), or None."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        locale = supported(tag)
        if locale is not None and quality > 0:
            ranked.append((-quality, position, locale))
    return min(ranked)[2] if ranked else None


def locale_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The CLI's language: CARTFLOW_LANG, then POSIX LC_ALL, LC_MESSAGES, LANG; else English."""
    env = os.environ if environ is None else environ
    for name in ("CARTFLOW_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return supported(value) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def _render(value: object, locale: str) -> object:
    return value.render(locale) if isinstance(value, Message) else value


class Message:
    """A message translated when it is turned into text, in the language current at that moment."""

    __slots__ = ("msgid", "n", "params", "plural")

    def __init__(
        self, msgid: str, /, *, plural: str | None = None, n: int | None = None, **params: Any
    ) -> None:
        self.msgid = msgid
        self.plural = plural
        self.n = n
        self.params = params

    def render(self, locale: str) -> str:
        catalog = translations(locale)
        if self.plural is not None and self.n is not None:
            text = catalog.ngettext(self.msgid, self.plural, self.n)
        else:
            text = catalog.gettext(self.msgid)
        if not self.params and self.n is None:
            return text
        values = {name: _render(value, locale) for name, value in self.params.items()}
        if self.n is not None:
            values.setdefault("n", self.n)
        return text.format(**values)

    def __str__(self) -> str:
        return self.render(current_locale())

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {self.params!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return (self.msgid, self.plural, self.n, self.params) == (
                other.msgid,
                other.plural,
                other.n,
                other.params,
            )
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.msgid, self.plural, self.n))

    def __add__(self, other: object) -> str:
        return str(self) + str(other)

    def __radd__(self, other: object) -> str:
        return str(other) + str(self)


def _(msgid: str, /, **params: Any) -> Message:
    """A message to be shown later, in the reader's language."""
    return Message(msgid, **params)


def ngettext_lazy(singular: str, plural: str, n: int, /, **params: Any) -> Message:
    """A counted message (Russian has three plural forms); ``{n}`` is the count."""
    return Message(singular, plural=plural, n=n, **params)


def gettext(msgid: str, /, **params: Any) -> str:
    """A message translated now, into the current language."""
    return Message(msgid, **params).render(current_locale())


def ngettext(singular: str, plural: str, n: int, /, **params: Any) -> str:
    return Message(singular, plural=plural, n=n, **params).render(current_locale())


def text(value: object) -> str:
    """Any message-or-string as text in the current language."""
    return str(value)


# -- dates and times ----------------------------------------------------------------------------

UTC_ZONE: Final = "UTC"
_RUSSIAN_ZONE_NAMES: Final = {"MSK": "МСК"}


def zone(name: str | None) -> dt.tzinfo:
    if not name:
        return dt.UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def format_datetime(
    value: dt.datetime | None, tz: str | None = None, *, with_zone: bool = True
) -> str:
    """A moment in the site's or center's local time, in the current language's style.

    Stored times are UTC; a naive value is taken to be UTC. The zone is named (``MSK``,
    ``UTC+5``) where a reader in another city must not mistake it for their own.
    """
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone(zone(tz))
    locale = current_locale()
    text_ = _babel_format_datetime(
        local, "dd.MM.yyyy HH:mm" if locale == "ru" else "yyyy-MM-dd HH:mm", locale=locale
    )
    if with_zone:
        text_ = f"{text_} {zone_label(local)}"
    return text_


def zone_label(local: dt.datetime) -> str:
    """A short zone name: the abbreviation where one is customary (MSK), else the UTC offset."""
    abbreviation = local.tzname() or ""
    if abbreviation and abbreviation[0].isalpha():
        # Russian readers write Moscow time as МСК.
        return (
            _RUSSIAN_ZONE_NAMES.get(abbreviation, abbreviation)
            if current_locale() == "ru"
            else abbreviation
        )
    offset = local.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_date(value: dt.date | dt.datetime | None, tz: str | None = None) -> str:
    """A calendar date in the current language (a moment is first moved into `tz`)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(zone(tz)).date()
    locale = current_locale()
    return _babel_format_date(
        value, "dd.MM.yyyy" if locale == "ru" else "yyyy-MM-dd", locale=locale
    )
