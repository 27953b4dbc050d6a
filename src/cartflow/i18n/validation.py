"""Pydantic's validation messages in the reader's language (the error `type` stays the key).

Pydantic writes its messages in English only; the API shows them with the field named, so a
Russian reader gets the same sentence from our catalog, keyed by the error type and filled from its
context. A type we do not know keeps Pydantic's own English text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cartflow.i18n import Message, _, current_locale

_BY_TYPE: dict[str, Callable[[Mapping[str, Any]], Message]] = {
    "missing": lambda c: _("Field required"),
    "extra_forbidden": lambda c: _("Unknown field"),
    "string_type": lambda c: _("Must be text"),
    "string_too_short": lambda c: _(
        "Must have at least {min_length} characters", min_length=c.get("min_length", "")
    ),
    "string_too_long": lambda c: _(
        "Must have at most {max_length} characters", max_length=c.get("max_length", "")
    ),
    "string_pattern_mismatch": lambda c: _(
        "Must match the pattern {pattern}", pattern=c.get("pattern", "")
    ),
    "too_short": lambda c: _(
        "Must have at least {min_length} items", min_length=c.get("min_length", "")
    ),
    "too_long": lambda c: _(
        "Must have at most {max_length} items", max_length=c.get("max_length", "")
    ),
    "int_type": lambda c: _("Must be a whole number"),
    "int_parsing": lambda c: _("Must be a whole number"),
    "int_from_float": lambda c: _("Must be a whole number"),
    "float_type": lambda c: _("Must be a number"),
    "float_parsing": lambda c: _("Must be a number"),
    "decimal_parsing": lambda c: _("Must be a number"),
    "finite_number": lambda c: _("Must be a finite number"),
    "bool_type": lambda c: _("Must be true or false"),
    "bool_parsing": lambda c: _("Must be true or false"),
    "greater_than": lambda c: _("Must be greater than {gt}", gt=c.get("gt", "")),
    "greater_than_equal": lambda c: _("Must be greater than or equal to {ge}", ge=c.get("ge", "")),
    "less_than": lambda c: _("Must be less than {lt}", lt=c.get("lt", "")),
    "less_than_equal": lambda c: _("Must be less than or equal to {le}", le=c.get("le", "")),
    "enum": lambda c: _("Must be one of {expected}", expected=c.get("expected", "")),
    "literal_error": lambda c: _("Must be one of {expected}", expected=c.get("expected", "")),
    "date_type": lambda c: _("Must be a date (YYYY-MM-DD)"),
    "date_parsing": lambda c: _("Must be a date (YYYY-MM-DD)"),
    "date_from_datetime_parsing": lambda c: _("Must be a date (YYYY-MM-DD)"),
    "date_from_datetime_inexact": lambda c: _("Must be a date without a time of day"),
    "datetime_type": lambda c: _("Must be a date and time (ISO 8601)"),
    "datetime_parsing": lambda c: _("Must be a date and time (ISO 8601)"),
    "datetime_from_date_parsing": lambda c: _("Must be a date and time (ISO 8601)"),
    "timezone_aware": lambda c: _("Must name its time zone (for example +03:00)"),
    "timezone_naive": lambda c: _("Must not name a time zone"),
    "time_parsing": lambda c: _("Must be a time of day (HH:MM)"),
    "uuid_type": lambda c: _("Must be an identifier (UUID)"),
    "uuid_parsing": lambda c: _("Must be an identifier (UUID)"),
    "list_type": lambda c: _("Must be a list"),
    "dict_type": lambda c: _("Must be an object"),
    "model_type": lambda c: _("Must be an object"),
    "model_attributes_type": lambda c: _("Must be an object"),
    "json_invalid": lambda c: _("The body is not valid JSON"),
    "json_type": lambda c: _("The body is not valid JSON"),
    "value_error": lambda c: _("Invalid value: {reason}", reason=c.get("error", "")),
    "assertion_error": lambda c: _("Invalid value: {reason}", reason=c.get("error", "")),
}


def validation_message(error: Mapping[str, Any]) -> str:
    """One Pydantic error's message in the current language."""
    english = str(error.get("msg", ""))
    if current_locale() == "en":
        return english
    make = _BY_TYPE.get(str(error.get("type", "")))
    if make is None:
        return english
    return str(make(error.get("ctx") or {}))
