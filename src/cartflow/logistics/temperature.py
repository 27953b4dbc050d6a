"""Cold-chain rules and the data logger's temperature file (pure functions, no database).

File contract: CSV, one reading per line, `timestamp,celsius`; an optional header line; the
timestamp in ISO 8601 with its UTC offset (`2026-03-01T08:00:00+03:00` or `...Z`), strictly later
than the line before; the temperature a decimal number with a dot. Any line that breaks this
refuses the whole file with its line number: a cold-chain record is kept whole or not at all.
The standard library's `csv` reads the lines; the checks are ours because no logger format is
standard (every logger vendor exports its own).

Limits per material (shared/reference/clinical.md):
- fresh apheresis: 2-8 °C (§4.4 [V], Yakoub-Agha et al., Haematologica 2020;105:297), and at most
  the product's `fresh_apheresis_max_hours` from the end of collection to receipt at the site
  (§4.4 [M]: product-specific, roughly 24-72 h; kept per product);
- cryopreserved apheresis: at or below -150 °C, LN2 vapour phase (§4.4 [V]);
- cryopreserved product: at or below the product's storage temperature (label, §4.5 [M]);
- transit of frozen material: at most the dry shipper's qualified static hold, at least 10 days
  (§4.5 [V]); a shipment may set a stricter maximum, never a looser one.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from cartflow.i18n import SOURCE_LOCALE, Message, _, ngettext_lazy
from cartflow.logistics.errors import MalformedTemperatureFile
from cartflow.models.logistics_shipment import ShipmentMaterial

FRESH_MIN_C: Final = 2.0
FRESH_MAX_C: Final = 8.0
VAPOUR_PHASE_MAX_C: Final = -150.0
DRY_SHIPPER_HOLD_HOURS: Final = 240
MAX_READINGS: Final = 500_000
_PLAUSIBLE_C: Final = (-273.15, 100.0)


@dataclass(frozen=True)
class Reading:
    line: int
    recorded_at: dt.datetime
    celsius: float


@dataclass(frozen=True)
class ColdChainLimits:
    min_celsius: float | None
    max_celsius: float
    max_transit_hours: int


FINDING_LABELS: Final[dict[str, Message]] = {
    "TEMP-NO-DATA": _("no temperature record of the transit"),
    "TEMP-HIGH": _("temperature above the limit in transit"),
    "TEMP-LOW": _("temperature below the limit in transit"),
    "TRANSIT-TIME": _("too long in transit"),
    "FRESH-TIME-LIMIT": _("too long since collection for fresh apheresis"),
    "TEMP-AT-RECEIPT": _("temperature out of range at receipt"),
}
"""What each finding's rule means, in the reader's language; the finding's own text (with its
figures) is stored in the source language with the quarantine."""


def finding_label(rule: str) -> Message | str:
    return FINDING_LABELS.get(rule, rule)


@dataclass(frozen=True)
class Finding:
    """An excursion. `text` reads in the reader's language; the stored record (`as_dict`, the
    quarantine's reason) keeps the source language, like every record the whole network reads."""

    rule: str
    text: Message

    @property
    def message(self) -> str:
        return str(self.text)

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "message": self.text.render(SOURCE_LOCALE)}


def limits_for(
    material: ShipmentMaterial,
    *,
    storage_max_c: float,
    fresh_max_hours: int | None,
    max_transit_hours: int | None = None,
) -> ColdChainLimits:
    """The limits a shipment of `material` is held to; `max_transit_hours` may only tighten."""
    if material is ShipmentMaterial.FRESH_APHERESIS:
        if fresh_max_hours is None:
            raise ValueError(_("the product takes cryopreserved apheresis, not fresh"))
        base = ColdChainLimits(FRESH_MIN_C, FRESH_MAX_C, fresh_max_hours)
    elif material is ShipmentMaterial.CRYOPRESERVED_APHERESIS:
        base = ColdChainLimits(None, VAPOUR_PHASE_MAX_C, DRY_SHIPPER_HOLD_HOURS)
    else:
        base = ColdChainLimits(None, storage_max_c, DRY_SHIPPER_HOLD_HOURS)
    if max_transit_hours is not None:
        if not 0 < max_transit_hours <= base.max_transit_hours:
            raise ValueError(
                _(
                    "max_transit_hours must be 1 to {maximum} for {material}",
                    maximum=base.max_transit_hours,
                    material=material.value,
                )
            )
        return ColdChainLimits(base.min_celsius, base.max_celsius, max_transit_hours)
    return base


def _timestamp(text: str, line: int) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise MalformedTemperatureFile(
            _("timestamp {text!r} is not ISO 8601 (e.g. 2026-03-01T08:00:00+03:00)", text=text),
            line=line,
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MalformedTemperatureFile(
            _("timestamp {text!r} has no UTC offset; add +03:00 or Z", text=text), line=line
        )
    return moment.astimezone(dt.UTC)


def _celsius(text: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise MalformedTemperatureFile(
            _("temperature {text!r} is not a number (use a dot for decimals)", text=text),
            line=line,
        ) from None
    low, high = _PLAUSIBLE_C
    if not math.isfinite(value) or not low <= value <= high:
        raise MalformedTemperatureFile(
            _("temperature {text!r} °C is not a physical reading", text=text), line=line
        )
    return value


def _is_header(row: Sequence[str]) -> bool:
    return len(row) == 2 and not any(char.isdigit() for char in row[0])


def parse_temperature_csv(text: str) -> list[Reading]:
    """Every reading of the file, or `MalformedTemperatureFile` naming the first bad line."""
    readings: list[Reading] = []
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if not readings and line == 1 and _is_header(cells):
                continue
            if len(cells) != 2:
                raise MalformedTemperatureFile(
                    _("expected 2 fields (timestamp, celsius), found {found}", found=len(cells)),
                    line=line,
                )
            reading = Reading(line, _timestamp(cells[0], line), _celsius(cells[1], line))
            if readings and reading.recorded_at <= readings[-1].recorded_at:
                raise MalformedTemperatureFile(
                    _(
                        "timestamp {text!r} is not after line {previous}'s",
                        text=cells[0],
                        previous=readings[-1].line,
                    ),
                    line=line,
                )
            readings.append(reading)
            if len(readings) > MAX_READINGS:
                raise MalformedTemperatureFile(
                    _("more than {limit} readings", limit=MAX_READINGS), line=line
                )
    except csv.Error as error:
        raise MalformedTemperatureFile(
            _("not a readable CSV line: {reason}", reason=str(error)), line=reader.line_num
        ) from None
    if not readings:
        raise MalformedTemperatureFile(_("the file holds no readings"))
    return readings


def _fmt(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def temperature_findings(
    readings: Sequence[Reading],
    limits: ColdChainLimits,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> list[Finding]:
    """Excursions among the readings taken in transit (between `start` and `end` when known)."""
    window = [
        r
        for r in readings
        if (start is None or r.recorded_at >= start) and (end is None or r.recorded_at <= end)
    ]
    if not window:
        return [
            Finding("TEMP-NO-DATA", _("no reading covers the transit: the cold chain is unproven"))
        ]
    findings: list[Finding] = []
    high = [r for r in window if r.celsius > limits.max_celsius]
    if high:
        worst = max(high, key=lambda r: r.celsius)
        findings.append(
            Finding(
                "TEMP-HIGH",
                ngettext_lazy(
                    "{n} reading above {limit} °C, the highest {worst} °C at {at} (line {line})",
                    "{n} readings above {limit} °C, the highest {worst} °C at {at} (line {line})",
                    len(high),
                    limit=f"{limits.max_celsius:g}",
                    worst=f"{worst.celsius:g}",
                    at=_fmt(worst.recorded_at),
                    line=worst.line,
                ),
            )
        )
    if limits.min_celsius is not None:
        low = [r for r in window if r.celsius < limits.min_celsius]
        if low:
            worst = min(low, key=lambda r: r.celsius)
            findings.append(
                Finding(
                    "TEMP-LOW",
                    ngettext_lazy(
                        "{n} reading below {limit} °C, the lowest {worst} °C at {at} (line {line})",
                        "{n} readings below {limit} °C, the lowest {worst} °C at {at} "
                        "(line {line})",
                        len(low),
                        limit=f"{limits.min_celsius:g}",
                        worst=f"{worst.celsius:g}",
                        at=_fmt(worst.recorded_at),
                        line=worst.line,
                    ),
                )
            )
    return findings


def transit_findings(
    limits: ColdChainLimits,
    *,
    departed_at: dt.datetime,
    arrived_at: dt.datetime,
    collected_at: dt.datetime | None = None,
    fresh: bool = False,
) -> list[Finding]:
    """Too long on the road; for fresh apheresis, too long since the end of collection."""
    findings: list[Finding] = []
    limit = dt.timedelta(hours=limits.max_transit_hours)
    if arrived_at - departed_at > limit:
        hours = (arrived_at - departed_at) / dt.timedelta(hours=1)
        findings.append(
            Finding(
                "TRANSIT-TIME",
                _(
                    "{hours} h in transit, over the {limit} h maximum",
                    hours=f"{hours:.1f}",
                    limit=limits.max_transit_hours,
                ),
            )
        )
    if fresh and collected_at is not None and arrived_at - collected_at > limit:
        hours = (arrived_at - collected_at) / dt.timedelta(hours=1)
        findings.append(
            Finding(
                "FRESH-TIME-LIMIT",
                _(
                    "received {hours} h after collection, over the product's {limit} h limit "
                    "for fresh apheresis",
                    hours=f"{hours:.1f}",
                    limit=limits.max_transit_hours,
                ),
            )
        )
    return findings


def reading_at_handoff(limits: ColdChainLimits, celsius: float) -> list[Finding]:
    """A temperature read by hand at a receipt, held to the same limits."""
    if celsius > limits.max_celsius or (
        limits.min_celsius is not None and celsius < limits.min_celsius
    ):
        if limits.min_celsius is not None:
            text = _(
                "{celsius} °C read at receipt, outside {low} to {high} °C",
                celsius=f"{celsius:g}",
                low=f"{limits.min_celsius:g}",
                high=f"{limits.max_celsius:g}",
            )
        else:
            text = _(
                "{celsius} °C read at receipt, outside at most {high} °C",
                celsius=f"{celsius:g}",
                high=f"{limits.max_celsius:g}",
            )
        return [Finding("TEMP-AT-RECEIPT", text)]
    return []
