"""Rates with exact intervals, toxicity rates and the median/quartiles of vein-to-vein time.

- Response rates and grade >= 3 CRS/ICANS rates are binomial proportions with the exact
  Clopper-Pearson interval (Clopper CJ, Pearson ES. Biometrika 1934;26:404-413), computed by
  `scipy.stats.binomtest(...).proportion_ci(method="exact")`. Newcombe RG (Stat Med 1998;17:857-872,
  Table II, method 5) gives worked examples used in the tests.
- Grades are the ASTCT consensus grades for CRS and ICANS (Lee DW et al., Biol Blood Marrow
  Transplant 2019;25:625-638), 1-4, with 5 for death from the toxicity as CTCAE counts it; a
  patient without the toxicity has grade 0. Patients whose grade was not reported are left out of
  the denominator and counted separately, as registries report them (e.g. "16 % ICANS not
  reported" in the CIBMTR tisa-cel analysis).
- Quartiles use R's default `quantile(type = 7)` (Hyndman RJ, Fan Y. Am Stat 1996;50:361-365),
  which is numpy's default "linear" method.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from cartflow.errors import InvalidInput
from cartflow.i18n import _

INPUT_ERROR_CODE = "REGISTRY-BAD-RATE-DATA"

LUGANO_RESPONDERS = frozenset({"CR", "PR"})
"""Lugano 2014 (Cheson et al., JCO 2014;32:3059): overall response = CR + PR."""
LUGANO_COMPLETE = frozenset({"CR"})
IMWG_RESPONDERS = frozenset({"sCR", "CR", "VGPR", "PR"})
"""IMWG 2016 (Kumar et al., Lancet Oncol 2016;17:e328): ORR = PR or better; CR rate = CR + sCR."""
IMWG_COMPLETE = frozenset({"sCR", "CR"})
ALL_RESPONDERS = frozenset({"CR", "CRi"})
"""B-ALL (ELIANA primary endpoint): overall remission = CR + CRi; complete = CR."""
ALL_COMPLETE = frozenset({"CR"})


@dataclass(frozen=True)
class Proportion:
    """`successes` of `n`, with the exact two-sided `conf_level` interval."""

    successes: int
    n: int
    estimate: float
    ci_lower: float
    ci_upper: float
    conf_level: float


@dataclass(frozen=True)
class GradeRate:
    """Share of patients with grade >= `threshold` among those whose grade is known."""

    threshold: int
    rate: Proportion
    not_reported: int


@dataclass(frozen=True)
class ResponseRates:
    overall: Proportion
    complete: Proportion
    not_evaluable: int


@dataclass(frozen=True)
class QuartileSummary:
    """n, minimum, lower quartile, median, upper quartile, maximum (R type 7 quantiles)."""

    n: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float


def clopper_pearson(successes: int, n: int, *, conf_level: float = 0.95) -> Proportion:
    """Proportion `successes / n` with its exact Clopper-Pearson interval."""
    if n <= 0:
        raise InvalidInput(
            _("a rate needs at least one patient in the denominator"),
            code=INPUT_ERROR_CODE,
            field="n",
        )
    if not 0 <= successes <= n:
        raise InvalidInput(
            _(
                "successes must be between 0 and n={total}, got {successes}",
                total=n,
                successes=successes,
            ),
            code=INPUT_ERROR_CODE,
            field="successes",
        )
    if not 0 < conf_level < 1:
        raise InvalidInput(
            _("confidence level must be between 0 and 1, got {level}", level=conf_level),
            code=INPUT_ERROR_CODE,
            field="conf_level",
        )
    interval = binomtest(successes, n).proportion_ci(confidence_level=conf_level, method="exact")
    return Proportion(
        successes=successes,
        n=n,
        estimate=successes / n,
        ci_lower=float(interval.low),
        ci_upper=float(interval.high),
        conf_level=conf_level,
    )


def grade_rate(
    grades: Sequence[int | None], *, threshold: int = 3, conf_level: float = 0.95
) -> GradeRate:
    """Rate of maximum grade >= `threshold` (default: grade 3 or higher); None = not reported."""
    for position, grade in enumerate(grades):
        if grade is not None and not 0 <= grade <= 5:
            raise InvalidInput(
                _(
                    "grade at position {position} is {grade}: grades run from 0 to 5",
                    position=position,
                    grade=grade,
                ),
                code=INPUT_ERROR_CODE,
                field="grade",
            )
    known = [g for g in grades if g is not None]
    severe = sum(1 for g in known if g >= threshold)
    return GradeRate(
        threshold=threshold,
        rate=clopper_pearson(severe, len(known), conf_level=conf_level),
        not_reported=len(grades) - len(known),
    )


def response_rates(
    best_responses: Sequence[str | None],
    *,
    responders: Collection[str] = LUGANO_RESPONDERS,
    complete: Collection[str] = LUGANO_COMPLETE,
    conf_level: float = 0.95,
) -> ResponseRates:
    """Overall and complete response rates among evaluable patients (None = not evaluable).

    Intention-to-treat rates are obtained by passing a non-responding category (e.g. "NI" for
    not infused) instead of None for patients who dropped out.
    """
    evaluable = [r for r in best_responses if r is not None]
    overall = sum(1 for r in evaluable if r in responders)
    full = sum(1 for r in evaluable if r in complete)
    return ResponseRates(
        overall=clopper_pearson(overall, len(evaluable), conf_level=conf_level),
        complete=clopper_pearson(full, len(evaluable), conf_level=conf_level),
        not_evaluable=len(best_responses) - len(evaluable),
    )


def median_quartiles(values: Sequence[float]) -> QuartileSummary:
    """Median and quartiles (e.g. vein-to-vein days, apheresis to infusion)."""
    data = np.asarray(values, dtype=np.float64)
    if data.shape[0] == 0:
        raise InvalidInput(_("no values to summarise"), code=INPUT_ERROR_CODE, field="values")
    if not np.all(np.isfinite(data)):
        position = int(np.flatnonzero(~np.isfinite(data))[0])
        raise InvalidInput(
            _("value at position {position} is not a finite number", position=position),
            code=INPUT_ERROR_CODE,
            field="values",
        )
    q1, median, q3 = np.quantile(data, [0.25, 0.5, 0.75], method="linear")
    return QuartileSummary(
        n=int(data.shape[0]),
        minimum=float(data.min()),
        q1=float(q1),
        median=float(median),
        q3=float(q3),
        maximum=float(data.max()),
    )
