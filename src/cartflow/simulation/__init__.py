"""Network capacity simulation: seeded, deterministic, free of any database (docs/simulation.md).

How a run works: a scenario (`scenario.py`, YAML validated by Pydantic) is compiled into a
`network.Network`. Each replication draws its patients (`network.draw_patients`), and the fast
event loop (`engine.py`) walks them through the pathway under a slot policy (`policies.py`).
`metrics.py` turns each replication into measures and gives 95% intervals across replications.
`runner.py` spreads the replications over processes, and `sweep.py` repeats everything over a
range of device counts.

Invariants:
- The same scenario, seed and options give identical results, whatever the number of worker
  processes.
- In every replication, referred = ineligible + infused + dropped + failed + still in the system.
- Utilisations lie in [0, 1].
- With the pathway stripped down to one queue, the engine reproduces Erlang C,
  Allen-Cunneen, Cobham's priority formula and the fluid bound (`queueing.py`,
  tests/simulation/test_validation.py).
"""
