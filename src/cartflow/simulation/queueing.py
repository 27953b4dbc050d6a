"""Analytic queueing values the simulator is checked against (the "physical limit" of sched §4).

- Erlang C, M/M/c: probability that an arrival waits, and the mean wait
  Wq = C(c, a) / (c*mu - lambda) with offered load a = lambda / mu
  (Gross, Shortle, Thompson & Harris, Fundamentals of Queueing Theory, 4th ed., section 2.3,
  eq. 2.31-2.34). C is computed from the Erlang B recursion B(k) = a*B(k-1) / (k + a*B(k-1)),
  which stays accurate for large c, and C = c*B / (c - a*(1 - B)).
- Allen-Cunneen, M/G/c (two-moment approximation): Wq ~ Wq(M/M/c) * (c_a^2 + c_s^2) / 2
  (Allen, Probability, Statistics and Queueing Theory, 2nd ed., 1990; used in sched §4).
- Non-preemptive priority M/M/c with a common service rate (Cobham 1954; Gross et al. section
  3.4.2, eq. 3.35): class k, where class 1 is the most urgent, waits
  W_k = [C(c, a) / (c*mu)] / ((1 - sigma_{k-1}) (1 - sigma_k)), where
  sigma_k = sum_{i<=k} lambda_i / (c*mu).
- Fluid bound: with c servers and offered load a > c, at most c/a of the demand is served,
  whatever the policy (sched §4 item 1).

These are hand-written: scipy and the installed queueing tools provide none of them. Each is a few
lines, and the tests pin them to the worked values in sched §2.3 and §4.
"""

from __future__ import annotations

from collections.abc import Sequence


def erlang_b(c: int, a: float) -> float:
    if c < 0 or a < 0:
        raise ValueError("need c >= 0 and a >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival must wait in M/M/c with offered load a (needs a < c)."""
    if not 0 <= a < c:
        raise ValueError("Erlang C needs 0 <= a < c (a stable queue)")
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def mmc_mean_wait(arrival_rate: float, mean_service: float, c: int) -> float:
    """Mean wait in queue Wq of M/M/c (time units of `mean_service`)."""
    a = arrival_rate * mean_service
    return erlang_c(c, a) / (c / mean_service - arrival_rate)


def allen_cunneen_wait(
    arrival_rate: float, mean_service: float, c: int, service_cv2: float, arrival_cv2: float = 1.0
) -> float:
    """Allen-Cunneen approximation of Wq for G/G/c (Poisson arrivals: arrival_cv2 = 1)."""
    return mmc_mean_wait(arrival_rate, mean_service, c) * (arrival_cv2 + service_cv2) / 2.0


def mmc_priority_waits(arrival_rates: Sequence[float], mean_service: float, c: int) -> list[float]:
    """Mean wait of each class (most urgent first) in non-preemptive priority M/M/c."""
    total = sum(arrival_rates)
    capacity = c / mean_service
    w0 = erlang_c(c, total * mean_service) / capacity
    waits: list[float] = []
    sigma_prev = 0.0
    for lam in arrival_rates:
        sigma = sigma_prev + lam / capacity
        waits.append(w0 / ((1.0 - sigma_prev) * (1.0 - sigma)))
        sigma_prev = sigma
    return waits


def fluid_served_fraction(c: int, offered_load: float) -> float:
    """Largest long-run share of demand that c servers can serve: min(1, c / a)."""
    if offered_load <= 0:
        return 1.0
    return min(1.0, c / offered_load)
