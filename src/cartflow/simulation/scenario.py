"""Scenario files: the network, its products and demand, validated by Pydantic.

A scenario is a YAML mapping with `indications`, `products`, `sites` (manufacturing), `centers`
(apheresis chairs, infusion beds, transit days to each site) and `referrals` (Poisson streams per
center, indication and product). Every identifier a record refers to must exist, and every center
must state its transit days to the site of each product it refers to: a silent default of zero
days would hide a logistics assumption. Unknown keys are refused so that a misspelt field is named
instead of ignored. The parameter values and their published sources live in the bundled YAML
files (`scenarios/*.yaml`) and in docs/simulation.md, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cartflow.errors import InvalidInput
from cartflow.i18n import _
from cartflow.simulation.distributions import Duration, Fixed

SCENARIO_DIR = Path(__file__).parent / "scenarios"
PolicyName = Literal["fcfs", "priority", "rolling-wspt", "optimiser", "optimiser-greedy"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Indication(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    # Exponential hazard of progression or death that removes a patient before infusion.
    dropout_hazard_per_day: float = Field(ge=0)
    # Clinical urgency rank for the priority policy: 1 is served first.
    priority: int = Field(default=1, ge=1)
    bridging_probability: float = Field(default=0.0, ge=0, le=1)
    # Multiplies the hazard after apheresis for bridged patients (1.0 means no effect).
    bridging_hazard_ratio: float = Field(default=1.0, ge=0)


class Product(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    site: str
    device_days: Duration
    failure_probability: float = Field(default=0.0, ge=0, lt=1)
    oos_probability: float = Field(default=0.0, ge=0, lt=1)
    # What an out-of-specification product leads to: a new run, or release under exception.
    oos_action: Literal["remanufacture", "release"] = "remanufacture"
    max_attempts: int = Field(default=2, ge=1, le=5)
    remanufacture_needs_apheresis: bool = False
    qc_days: Duration = Fixed(value=0.0)
    lymphodepletion_days: float = Field(default=5.0, ge=0)
    stay_days: float = Field(default=14.0, ge=0)


class Site(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    devices: int = Field(ge=1)
    releases_per_day: int | None = Field(default=None, ge=1)


class Center(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    apheresis_chairs: int | None = Field(default=None, ge=1)
    apheresis_lead_days: int = Field(default=1, ge=0)
    infusion_beds: int | None = Field(default=None, ge=1)
    transit_days: dict[str, float] = Field(default_factory=dict)


class Referral(_Model):
    center: str
    indication: str
    product: str
    per_year: float = Field(ge=0)
    eligible_fraction: float = Field(default=1.0, ge=0, le=1)
    workup_days: Duration = Fixed(value=0.0)


class Scenario(_Model):
    name: str
    description: str = ""
    years: float = Field(default=5.0, gt=0)
    warmup_years: float = Field(default=1.0, ge=0)
    replications: int = Field(default=10, ge=2)
    seed: int = Field(default=1, ge=0)
    policy: PolicyName = "fcfs"
    replan_every_days: float = Field(default=7.0, gt=0)
    indications: list[Indication] = Field(min_length=1)
    products: list[Product] = Field(min_length=1)
    sites: list[Site] = Field(min_length=1)
    centers: list[Center] = Field(min_length=1)
    referrals: list[Referral] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        for field in ("indications", "products", "sites", "centers"):
            seen: set[str] = set()
            for i, item in enumerate(getattr(self, field)):
                if item.id in seen:
                    raise ValueError(f"{field}.{i}.id: duplicate id {item.id!r}")
                seen.add(item.id)
        sites = {s.id for s in self.sites}
        products = {p.id: p for p in self.products}
        indications = {x.id for x in self.indications}
        centers = {c.id: c for c in self.centers}
        for i, p in enumerate(self.products):
            if p.site not in sites:
                raise ValueError(f"products.{i}.site: unknown site {p.site!r}")
        for i, c in enumerate(self.centers):
            for site_id, days in c.transit_days.items():
                if site_id not in sites:
                    raise ValueError(f"centers.{i}.transit_days: unknown site {site_id!r}")
                if days < 0:
                    raise ValueError(f"centers.{i}.transit_days.{site_id}: must be >= 0")
        for i, r in enumerate(self.referrals):
            if r.center not in centers:
                raise ValueError(f"referrals.{i}.center: unknown center {r.center!r}")
            if r.indication not in indications:
                raise ValueError(f"referrals.{i}.indication: unknown indication {r.indication!r}")
            if r.product not in products:
                raise ValueError(f"referrals.{i}.product: unknown product {r.product!r}")
            site = products[r.product].site
            if site not in centers[r.center].transit_days:
                raise ValueError(
                    f"centers.{r.center}.transit_days: no transit days to site {site!r} "
                    f"(needed by referrals.{i})"
                )
        return self

    def with_devices(self, site_id: str, devices: int) -> Scenario:
        """A copy with another device count at one site (the capacity sweep's lever)."""
        sites = [
            s.model_copy(update={"devices": devices}) if s.id == site_id else s for s in self.sites
        ]
        return self.model_copy(update={"sites": sites})


class ScenarioError(InvalidInput):
    """The scenario file cannot be read or breaks the schema; the message names the field."""

    code = "SIMULATION-SCENARIO"


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(part) for part in err["loc"])
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{loc}: {msg}" if loc else msg


def parse_scenario(data: object, *, source: str = "scenario") -> Scenario:
    """Validate a decoded YAML/JSON mapping; raise ScenarioError naming the first bad field."""
    if not isinstance(data, dict):
        raise ScenarioError(_("{source}: expected a mapping at the top level", source=source))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(f"{source}: {_first_error(exc)}") from exc


def bundled_scenarios() -> dict[str, Path]:
    """Scenario files shipped with the package, by stem (e.g. `demo_network`)."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.yaml"))}


def load_scenario(path_or_name: str | Path) -> Scenario:
    """Load a scenario from a YAML file, or a bundled one by name (`demo_network`)."""
    path = Path(path_or_name)
    if not path.is_file():
        bundled = bundled_scenarios().get(str(path_or_name))
        if bundled is None:
            names = ", ".join(bundled_scenarios()) or "none"
            raise ScenarioError(
                _(
                    "{path}: no such file (bundled scenarios: {names})",
                    path=str(path_or_name),
                    names=names,
                )
            )
        path = bundled
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(
            _("{path}: cannot read ({reason})", path=str(path), reason=str(exc))
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(
            _("{path}: not valid YAML at line {line}", path=str(path), line=mark.line + 1)
            if mark is not None
            else _("{path}: not valid YAML", path=str(path))
        ) from exc
    return parse_scenario(data, source=path.name)
