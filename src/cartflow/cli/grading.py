"""`cartflow grade crs|icans`: ASTCT grading from JSON (stdin or a file), JSON list out.

The contract (issue 6, item 5): one JSON object or a JSON list of objects in; a JSON list of
{"grade": int, "reason": str} out, in input order. A malformed payload prints one line naming the
field (and the list item) on stderr and exits 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from pydantic import JsonValue

from cartflow.cli.common import fail
from cartflow.clinical.grading import (
    GradingInputError,
    grade_crs_payload,
    grade_icans_payload,
    parse_json_text,
)
from cartflow.clinical.grading_schemas import GradeResult
from cartflow.i18n import _

app = typer.Typer(no_args_is_help=True, help="ASTCT CRS and ICANS grading (Lee et al. 2019).")

InputFile = Annotated[
    Path | None,
    typer.Argument(
        help="JSON file with one assessment object or a list of them; '-' or nothing reads stdin.",
        show_default=False,
    ),
]


def _read(source: Path | None) -> str:
    if source is None or str(source) == "-":
        return sys.stdin.read()
    try:
        return source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(_("cannot read {path}: {error}", path=str(source), error=str(exc)))


def _run(source: Path | None, kind: str, grade: Callable[[JsonValue], list[GradeResult]]) -> None:
    try:
        results = grade(parse_json_text(_read(source), kind=kind))
    except GradingInputError as exc:
        fail(exc.message)
    typer.echo(json.dumps([r.model_dump() for r in results], ensure_ascii=False))


@app.command("crs")
def crs(source: InputFile = None) -> None:
    """Grade cytokine release syndrome.

    Fields: temperature_c, hypotension
    (none|no_vasopressor|one_vasopressor|multiple_vasopressors), oxygen
    (none|low_flow|high_flow|positive_pressure); booleans default to false: fever_other_cause,
    anticytokine_given, hypotension_other_cause, hypoxia_other_cause, died_of_crs.
    """
    _run(source, "CRS", grade_crs_payload)


@app.command("icans")
def icans(source: InputFile = None) -> None:
    """Grade immune effector cell-associated neurotoxicity (ICE from age 12, CAPD under 12).

    Fields: age_years, ice_score (0-10 or null), capd_score (0-32 or null), consciousness
    (alert|awakens_spontaneously|awakens_to_voice|awakens_to_touch|unarousable), seizure
    (none|resolved_rapidly|prolonged_or_repetitive), cerebral_edema (none|focal|diffuse); booleans
    default to false: unable_to_assess, motor_weakness, died_of_icans.
    """
    _run(source, "ICANS", grade_icans_payload)
