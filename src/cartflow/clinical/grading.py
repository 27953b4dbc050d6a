"""The grading contract: one JSON object or a JSON list in, a list of {grade, reason} out.

Shared by `cartflow grade crs|icans` and `POST /grading/crs|icans` so both refuse the same
inputs with the same message. The clinical rules live in `crs.py` and `icans.py`; this module only
turns a decoded JSON payload into validated assessments and names the offending field (and list
item) when it cannot.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, JsonValue, ValidationError

from cartflow.clinical.crs import grade_crs
from cartflow.clinical.grading_schemas import CrsAssessment, GradeResult, IcansAssessment
from cartflow.clinical.icans import grade_icans
from cartflow.errors import InvalidInput
from cartflow.i18n import Message, _, current_locale, gettext
from cartflow.i18n.validation import validation_message

__all__ = [
    "FieldError",
    "GradingInputError",
    "grade_crs",
    "grade_crs_payload",
    "grade_icans",
    "grade_icans_payload",
    "parse_assessments",
    "parse_json_text",
]

ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class FieldError:
    """One refusal: where (list index, then field) and why."""

    loc: tuple[int | str, ...]
    message: str | Message

    @property
    def path(self) -> str:
        """`hypotension`, `[2].oxygen`, or `(payload)` when the whole payload is wrong."""
        text = ""
        for part in self.loc:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "(payload)"


class GradingInputError(InvalidInput):
    """A grading payload that does not follow the contract; the message names field and item."""

    code = "GRADING-INVALID-INPUT"

    def __init__(self, kind: str, errors: Sequence[FieldError]) -> None:
        self.errors = tuple(errors)
        detail = "; ".join(f"{e.path}: {e.message}" for e in self.errors)
        first = self.errors[0].path if self.errors else None
        super().__init__(
            _("invalid {kind} assessment: {detail}", kind=kind, detail=detail), field=first
        )


def parse_json_text(text: str, *, kind: str) -> JsonValue:
    """Decode JSON text, refusing invalid JSON and the non-standard NaN/Infinity constants."""

    def _refuse_constant(name: str) -> JsonValue:
        raise ValueError(gettext("{name} is not a number in JSON", name=name))

    try:
        value: JsonValue = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise GradingInputError(
            kind, [FieldError((), _("not valid JSON ({error})", error=str(exc)))]
        ) from exc
    return value


def parse_assessments(payload: JsonValue, model: type[ModelT], *, kind: str) -> list[ModelT]:
    """Validate one object or a list of objects; refuse with every failing field named."""
    single = isinstance(payload, dict)
    if isinstance(payload, list):
        items: list[JsonValue] = payload
    elif isinstance(payload, dict):
        items = [payload]
    else:
        raise GradingInputError(
            kind, [FieldError((), _("expected a JSON object or a JSON list of objects"))]
        )
    parsed: list[ModelT] = []
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        prefix: tuple[int | str, ...] = () if single else (index,)
        if not isinstance(item, dict):
            errors.append(FieldError(prefix, _("expected a JSON object")))
            continue
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            errors.extend(
                FieldError(prefix + tuple(err["loc"]), _message(err))
                for err in exc.errors(include_url=False)
            )
    if errors:
        raise GradingInputError(kind, errors)
    return parsed


def _message(err: Mapping[str, Any]) -> str:
    """Pydantic's message for one field, in the reader's language (English keeps Pydantic's own
    wording, which the contract's refusals have always used)."""
    if current_locale() == "en":
        return str(err["msg"]).removeprefix("Value error, ")
    if err.get("type") == "value_error" and "error" in (err.get("ctx") or {}):
        # Our validators raise with a message already translated (`gettext`).
        return str(err["ctx"]["error"])
    return validation_message(err)


def _grade_payload(
    payload: JsonValue,
    model: type[ModelT],
    grade: Callable[[ModelT], GradeResult],
    *,
    kind: str,
) -> list[GradeResult]:
    return [grade(item) for item in parse_assessments(payload, model, kind=kind)]


def grade_crs_payload(payload: JsonValue) -> list[GradeResult]:
    """Grade CRS for a decoded JSON object or list (contract of issue 6, item 5)."""
    return _grade_payload(payload, CrsAssessment, grade_crs, kind="CRS")


def grade_icans_payload(payload: JsonValue) -> list[GradeResult]:
    """Grade ICANS for a decoded JSON object or list (contract of issue 6, item 5)."""
    return _grade_payload(payload, IcansAssessment, grade_icans, kind="ICANS")
