"""Pieces of clinical messages that render in the reader's language: numbers with the locale's
decimal sign, moments in a center's local time, and lists of rules joined by a separator.

The grading reasons are built from these so that one rule table yields the English reason the
`cartflow grade` contract fixes (`Message.render("en")`) and the Russian text the pages show,
with no second copy of the rules to drift.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from babel.numbers import get_decimal_symbol

from cartflow.i18n import Message, format_datetime, use_locale


def _text(value: object, locale: str) -> str:
    return value.render(locale) if isinstance(value, Message) else str(value)


class Number(Message):
    """A number shown with `digits` decimals (`.` in English, `,` in Russian); `digits=None`
    drops trailing zeros like the `:g` format."""

    __slots__ = ("digits", "value")

    def __init__(self, value: float, digits: int | None = 1) -> None:
        super().__init__("")
        self.value = value
        self.digits = digits

    def render(self, locale: str) -> str:
        # Python's own rounding (not Babel's decimal one), so that English keeps the exact text
        # of the contract; only the decimal sign follows the locale.
        text = f"{self.value:g}" if self.digits is None else f"{self.value:.{self.digits}f}"
        return text.replace(".", get_decimal_symbol(locale))

    def __repr__(self) -> str:
        return f"Number({self.value!r}, {self.digits!r})"


class Joined(Message):
    """Messages joined by a separator, each in the reader's language."""

    __slots__ = ("parts", "separator")

    def __init__(self, parts: Sequence[object], separator: object) -> None:
        super().__init__("")
        self.parts = tuple(parts)
        self.separator = separator

    def render(self, locale: str) -> str:
        separator = _text(self.separator, locale)
        return separator.join(_text(part, locale) for part in self.parts)

    def __repr__(self) -> str:
        return f"Joined({self.parts!r}, {self.separator!r})"


def english(value: object) -> str:
    """The English text of a message: what records and the grading contract keep."""
    return _text(value, "en")


class When(Message):
    """A stored UTC moment in a center's local time with the zone named, in the reader's style
    (`2026-03-02 12:15 MSK`, `02.03.2026 12:15 МСК`)."""

    __slots__ = ("moment", "timezone")

    def __init__(self, moment: dt.datetime, timezone: str | None) -> None:
        super().__init__("")
        self.moment = moment
        self.timezone = timezone

    def render(self, locale: str) -> str:
        with use_locale(locale):
            return format_datetime(self.moment, self.timezone)

    def __repr__(self) -> str:
        return f"When({self.moment!r}, {self.timezone!r})"
