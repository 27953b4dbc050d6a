"""What one replication counts, and the part of the pathway that needs no event loop.

`RawResult` is shared by the fast engine and the SimPy baseline so that both go through the same
`metrics.replication_metrics`. Whole-run counts obey the conservation invariant
referred = ineligible + infused + dropped + failed + in_system. The per-event lists hold only
events inside the statistics window (after warm-up).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cartflow.simulation.network import Network, PatientTable

# Where a patient was when the dropout clock ran out (index into STAGES).
WORKUP, WAITING, BOOKED, PRODUCTION, BED_WAIT = range(5)
STAGES = ("workup", "waiting_slot", "booked", "production", "waiting_bed")


@dataclass
class RawResult:
    referred: int = 0
    ineligible: int = 0
    infused: int = 0
    dropped: int = 0
    failed: int = 0
    in_system: int = 0
    # Wait for the first slot, per indication, for slots booked in the window.
    waits: list[list[float]] = field(default_factory=list)
    v2v: list[float] = field(default_factory=list)  # first apheresis to infusion
    infused_by_center: list[int] = field(default_factory=list)  # infusions in the window
    runs: int = 0  # device runs ending in the window
    released: int = 0  # products released (in spec or by exception) in the window
    drop_stage: list[int] = field(default_factory=list)
    drop_indication: list[int] = field(default_factory=list)
    window_failed: int = 0
    device_days: list[float] = field(default_factory=list)  # busy days in window, per site
    chair_days: list[float] = field(default_factory=list)  # booked chair-days, per center
    bed_days: list[float] = field(default_factory=list)  # occupied bed-days, per center

    @classmethod
    def empty(cls, net: Network) -> RawResult:
        return cls(
            waits=[[] for _ in net.indication_ids],
            infused_by_center=[0] * len(net.center_ids),
            device_days=[0.0] * len(net.site_ids),
            chair_days=[0.0] * len(net.center_ids),
            bed_days=[0.0] * len(net.center_ids),
        )


@dataclass(frozen=True)
class Joins:
    """Eligible patients who reach the waiting list within the horizon, by time of joining."""

    time: list[float]
    drop_at: list[float]
    row: list[int]  # index into the PatientTable
    stream: list[int]


def resolve_workup(net: Network, tab: PatientTable, res: RawResult) -> Joins:
    """Settle eligibility and work-up for all referrals at once.

    Eligibility and work-up involve no shared resource, so they can be settled as vectors:
    referrals, ineligible patients, dropouts during work-up, and patients still in work-up at
    the horizon. The rest join the waiting list.
    """
    horizon, w0 = net.horizon, net.warmup
    res.referred = len(tab)
    res.ineligible = int(np.count_nonzero(~tab.eligible))
    ready = tab.arrival + tab.workup
    drop_at = tab.arrival + tab.drop_delay
    lost = tab.eligible & (drop_at <= ready)
    dropped = lost & (drop_at <= horizon)
    joins = tab.eligible & ~lost & (ready <= horizon)
    res.dropped += int(np.count_nonzero(dropped))
    res.in_system += int(np.count_nonzero(tab.eligible)) - int(np.count_nonzero(joins | dropped))
    seen = dropped & (drop_at >= w0)
    res.drop_stage.extend([WORKUP] * int(np.count_nonzero(seen)))
    indication = np.asarray(net.stream_indication, dtype=np.int64)
    res.drop_indication.extend(indication[tab.stream[seen]].tolist())
    idx = np.flatnonzero(joins)
    idx = idx[np.argsort(ready[idx], kind="stable")]
    return Joins(
        time=ready[idx].tolist(),
        drop_at=drop_at[idx].tolist(),
        row=idx.tolist(),
        stream=tab.stream[idx].tolist(),
    )
