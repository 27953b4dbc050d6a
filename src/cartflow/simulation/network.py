"""A scenario compiled to index-based arrays for the event loop, and each replication's patients.

The engines work on integers (site 0, center 2, product 1) rather than identifiers, and draw every
random quantity a patient can need before the clock starts: arrival times of each Poisson stream,
eligibility, work-up time, the unit-exponential "dropout clock", bridging, and for every possible
manufacturing attempt its device time, QC time, failure and out-of-specification outcome. Drawing
up front in a fixed order gives common random numbers: the same seed yields the same patients
whatever the device count or policy, which makes sweeps and policy comparisons far less noisy, and
the same patient table drives both the fast engine and the SimPy baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from cartflow.simulation.scenario import Scenario

DAYS_PER_YEAR = 365.0


@dataclass(frozen=True)
class Network:
    scenario: Scenario
    horizon: float  # days simulated, warm-up included
    warmup: float  # days discarded before statistics are collected
    site_ids: list[str]
    site_devices: list[int]
    site_releases: list[int | None]
    center_ids: list[str]
    center_chairs: list[int | None]
    center_lead: list[int]
    center_beds: list[int | None]
    transit: list[list[float]]  # [center][site], days each way
    product_ids: list[str]
    product_site: list[int]
    product_fail: list[float]
    product_oos: list[float]
    product_oos_remake: list[bool]
    product_attempts: list[int]
    product_reapheresis: list[bool]
    product_ld: list[float]
    product_stay: list[float]
    product_mean_days: list[float]
    indication_ids: list[str]
    indication_hazard: list[float]
    indication_priority: list[int]
    indication_bridge_hr: list[float]
    stream_center: list[int]
    stream_indication: list[int]
    stream_product: list[int]

    @property
    def max_attempts(self) -> int:
        return max(self.product_attempts)

    @property
    def window_years(self) -> float:
        return (self.horizon - self.warmup) / DAYS_PER_YEAR


def compile_network(
    scenario: Scenario, *, years: float | None = None, warmup_years: float | None = None
) -> Network:
    years = scenario.years if years is None else years
    warm = scenario.warmup_years if warmup_years is None else warmup_years
    site_ix = {s.id: i for i, s in enumerate(scenario.sites)}
    prod_ix = {p.id: i for i, p in enumerate(scenario.products)}
    ind_ix = {x.id: i for i, x in enumerate(scenario.indications)}
    cen_ix = {c.id: i for i, c in enumerate(scenario.centers)}
    transit = [[c.transit_days.get(s.id, 0.0) for s in scenario.sites] for c in scenario.centers]
    return Network(
        scenario=scenario,
        horizon=(years + warm) * DAYS_PER_YEAR,
        warmup=warm * DAYS_PER_YEAR,
        site_ids=[s.id for s in scenario.sites],
        site_devices=[s.devices for s in scenario.sites],
        site_releases=[s.releases_per_day for s in scenario.sites],
        center_ids=[c.id for c in scenario.centers],
        center_chairs=[c.apheresis_chairs for c in scenario.centers],
        center_lead=[c.apheresis_lead_days for c in scenario.centers],
        center_beds=[c.infusion_beds for c in scenario.centers],
        transit=transit,
        product_ids=[p.id for p in scenario.products],
        product_site=[site_ix[p.site] for p in scenario.products],
        product_fail=[p.failure_probability for p in scenario.products],
        product_oos=[p.oos_probability for p in scenario.products],
        product_oos_remake=[p.oos_action == "remanufacture" for p in scenario.products],
        product_attempts=[p.max_attempts for p in scenario.products],
        product_reapheresis=[p.remanufacture_needs_apheresis for p in scenario.products],
        product_ld=[p.lymphodepletion_days for p in scenario.products],
        product_stay=[p.stay_days for p in scenario.products],
        product_mean_days=[p.device_days.mean for p in scenario.products],
        indication_ids=[x.id for x in scenario.indications],
        indication_hazard=[x.dropout_hazard_per_day for x in scenario.indications],
        indication_priority=[x.priority for x in scenario.indications],
        indication_bridge_hr=[x.bridging_hazard_ratio for x in scenario.indications],
        stream_center=[cen_ix[r.center] for r in scenario.referrals],
        stream_indication=[ind_ix[r.indication] for r in scenario.referrals],
        stream_product=[prod_ix[r.product] for r in scenario.referrals],
    )


@dataclass(frozen=True)
class PatientTable:
    """Everything random about one replication's patients, one row per referral (numpy arrays).

    Attempt-level arrays have one column per possible manufacturing attempt.
    """

    arrival: NDArray[np.float64]
    stream: NDArray[np.int64]
    eligible: NDArray[np.bool_]
    workup: NDArray[np.float64]
    drop_delay: NDArray[np.float64]  # days to dropout at the base hazard (inf if it is zero)
    bridged: NDArray[np.bool_]
    device_days: NDArray[np.float64]
    qc_days: NDArray[np.float64]
    failed: NDArray[np.bool_]
    oos: NDArray[np.bool_]

    @property
    def attempts(self) -> int:
        return int(self.device_days.shape[1])

    def __len__(self) -> int:
        return int(self.arrival.size)


def draw_patients(net: Network, rng: np.random.Generator) -> PatientTable:
    sc = net.scenario
    horizon = net.horizon
    times: list[np.ndarray] = []
    streams: list[np.ndarray] = []
    for k, ref in enumerate(sc.referrals):
        n = int(rng.poisson(ref.per_year / DAYS_PER_YEAR * horizon))
        # Given their number, Poisson arrival times are i.i.d. uniform on the horizon.
        times.append(np.sort(rng.uniform(0.0, horizon, size=n)))
        streams.append(np.full(n, k, dtype=np.int64))
    arrival = np.concatenate(times) if times else np.empty(0)
    stream = np.concatenate(streams) if streams else np.empty(0, dtype=np.int64)
    order = np.argsort(arrival, kind="stable")
    arrival, stream = arrival[order], stream[order]
    n = arrival.size

    elig_p = np.array([r.eligible_fraction for r in sc.referrals])
    eligible = rng.random(n) < elig_p[stream] if n else np.zeros(0, dtype=bool)
    workup = np.zeros(n)
    for k, ref in enumerate(sc.referrals):
        idx = np.flatnonzero(stream == k)
        if idx.size:
            workup[idx] = ref.workup_days.sample(rng, idx.size)

    ind = np.array(net.stream_indication, dtype=np.int64)[stream] if n else stream
    hazard = np.array(net.indication_hazard)[ind] if n else np.zeros(0)
    unit = rng.exponential(1.0, size=n)
    with np.errstate(divide="ignore", over="ignore"):  # a tiny hazard means "never": inf
        drop_delay = np.where(hazard > 0, unit / np.where(hazard > 0, hazard, 1.0), math.inf)
    bridge_p = np.array([x.bridging_probability for x in sc.indications])
    bridged = rng.random(n) < (bridge_p[ind] if n else np.zeros(0))

    attempts = net.max_attempts
    prod = np.array(net.stream_product, dtype=np.int64)[stream] if n else stream
    device = np.zeros((n, attempts))
    qc = np.zeros((n, attempts))
    for j, product in enumerate(sc.products):
        idx = np.flatnonzero(prod == j)
        if idx.size:
            device[idx] = product.device_days.sample(rng, idx.size * attempts).reshape(-1, attempts)
            qc[idx] = product.qc_days.sample(rng, idx.size * attempts).reshape(-1, attempts)
    fail_p = np.array(net.product_fail)[prod][:, None] if n else np.zeros((0, 1))
    oos_p = np.array(net.product_oos)[prod][:, None] if n else np.zeros((0, 1))
    failed = rng.random((n, attempts)) < fail_p
    oos = rng.random((n, attempts)) < oos_p
    return PatientTable(
        arrival=arrival,
        stream=stream,
        eligible=eligible,
        workup=workup,
        drop_delay=drop_delay,
        bridged=bridged,
        device_days=device,
        qc_days=qc,
        failed=failed,
        oos=oos,
    )
