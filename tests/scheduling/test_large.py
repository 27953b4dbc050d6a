"""A year of referrals: the load-sized generator, the column-generation bound and the
large-neighbourhood search that the exact method uses when the full MILP is too big."""

from __future__ import annotations

import time
from datetime import date, timedelta

from cartflow.scheduling.solver import BatchFailed, Center, Product, replan, solve, validate
from cartflow.scheduling.solver.bounds import relax
from cartflow.scheduling.solver.fcfs import fcfs_bookings
from cartflow.scheduling.solver.generate import NetworkShape, generate_year, offered_load
from cartflow.scheduling.solver.greedy import plan_cost, to_plan
from cartflow.scheduling.solver.lns import improve
from cartflow.scheduling.solver.milp import solve_milp
from cartflow.scheduling.solver.network import Network
from cartflow.scheduling.solver.solve import FULL_MILP_COLUMNS, full_columns

SHAPE = NetworkShape(
    site="S",
    device_prefix="S",
    centers=(Center("C1", 2, 3, {"S": 1}, {"S": 1}), Center("C2", 1, 2, {"S": 0}, {"S": 0})),
    products=(Product("P", ("S",), 12, 7),),
    qc_releases_per_day=2,
    orders_per_year=100,
)
START = date(2027, 1, 4)


def test_devices_are_sized_to_the_offered_load() -> None:
    """100 referrals x 12 device-days / 0.8 = 1,500 device-days = 4 devices all year (1,460)
    plus one commissioned for the last 40 days (idle on days 0..324): offered load 1,200 /
    (5 x 365 - 325) = 0.8. Four of the five devices (0.8 of them) already run a batch."""
    inst = generate_year(100, 0.8, 1, shape=SHAPE, start_date=START)
    site = inst.sites[0]
    assert site.devices == ("S-01", "S-02", "S-03", "S-04", "S-05")
    (outage,) = inst.device_outages
    assert (outage.device, outage.first_date) == ("S-05", START)
    assert outage.last_date == START + timedelta(days=324)
    assert offered_load(inst) == 0.8
    assert inst.horizon_days == 365 + 70
    referrals = [o for o in inst.orders if o.fixed_manufacturing is None]
    running = [o for o in inst.orders if o.fixed_manufacturing is not None]
    assert len(referrals) == 100
    assert all(START <= o.ready_date < START + timedelta(days=365) for o in referrals)
    assert len({o.fixed_manufacturing.device for o in running if o.fixed_manufacturing}) == 4
    assert all(o.fixed_manufacturing.start < START for o in running if o.fixed_manufacturing)


def test_centers_and_qc_scale_with_demand_and_seeds_repeat() -> None:
    inst = generate_year(300, 0.9, 2, shape=SHAPE, start_date=START)
    assert [c.id for c in inst.centers] == ["C1", "C2", "C1-2", "C2-2", "C1-3", "C2-3"]
    assert inst.sites[0].qc_releases_per_day == 6
    assert abs(offered_load(inst) - 0.9) < 1 / 365
    assert inst == generate_year(300, 0.9, 2, shape=SHAPE, start_date=START)
    assert inst != generate_year(300, 0.9, 3, shape=SHAPE, start_date=START)


def test_column_generation_reaches_the_full_lp() -> None:
    """Overloaded, so episodes wait far beyond a one-day first window: column generation from
    one start day per episode must end at the value of the LP with every column present."""
    net = Network(generate_year(100, 1.2, 4, shape=SHAPE, start_date=START))
    full = relax(net, time_limit=60, window=10_000)
    generated = relax(net, time_limit=60, window=0)
    assert full is not None and generated is not None
    assert abs(full.bound - generated.bound) <= 1e-6 * full.bound
    assert max(m for starts in generated.starts.values() for m, _ in starts) > 60
    cut_short = relax(net, time_limit=0.01, window=0)
    assert cut_short is None or cut_short.bound <= full.bound + 1e-6


def test_exact_on_a_year_searches_blocks_and_stays_between_bound_and_baselines() -> None:
    inst = generate_year(100, 0.95, 5, shape=SHAPE, start_date=START)
    net = Network(inst)
    assert full_columns(net) > FULL_MILP_COLUMNS
    started = time.perf_counter()
    exact = solve(inst, method="exact", time_limit=8, seed=1)
    assert time.perf_counter() - started < 8 + 2
    assert "MILP blocks" in exact.message
    assert validate(inst, exact).feasible
    fcfs = solve(inst, method="fcfs")
    assert exact.lower_bound is not None
    assert net.trivial_bound() <= exact.lower_bound <= exact.objective <= fcfs.objective


def test_block_search_never_worsens_a_plan_and_pinned_blocks_keep_it() -> None:
    inst = generate_year(100, 0.9, 6, shape=SHAPE, start_date=START)
    net = Network(inst)
    start = fcfs_bookings(net)
    same = solve_milp(net, time_limit=10, seed=0, start=start, held=start)
    assert same.bookings is not None
    assert sorted((b.episode, b.start, b.infusion) for b in same.bookings) == sorted(
        (b.episode, b.start, b.infusion) for b in start
    )
    assert same.objective == plan_cost(net, start)
    search = improve(net, start, deadline=time.perf_counter() + 4, seed=0)
    assert search.cost == plan_cost(net, search.bookings) <= plan_cost(net, start)
    plan = to_plan(net, search.bookings, method="exact", status="feasible", lower_bound=None,
                   started=0.0)  # fmt: skip
    assert validate(inst, plan).feasible


def test_replan_of_a_year_plan_validates() -> None:
    inst = generate_year(100, 0.9, 7, shape=SHAPE, start_date=START)
    plan = solve(inst, method="fcfs")
    on = START + timedelta(days=180)
    running = sorted(
        a.order for a in plan.assignments if a.manufacturing_start < on <= a.release_date
    )
    result = replan(inst, plan, BatchFailed(running[0], on), method="exact", time_limit=3)
    assert validate(result.instance, result.plan).feasible
    assert result.failed == (running[0],)
