"""SLO attainment from an M/M/c queue on a serving pool (MODEL.md section 2).

A pool serving a workload class is approximated as M/M/c: Poisson arrivals at rate lambda,
c = concurrent request slots, exponential service of mean ``service_s`` (mu = 1/service_s),
offered load a = lambda / mu [Erlang], utilisation rho = a / c. The probability of waiting is
Erlang C, and the waiting time of a FCFS M/M/c queue satisfies

    P(W <= t) = 1 - C(c, a) exp(-(c mu - lambda) t)

(e.g. Kleinrock, *Queueing Systems* vol. 1, 1975, section 3.5; Gross & Harris, *Fundamentals
of Queueing Theory*). The fraction of requests whose queueing delay stays within the SLO's
wait budget is the SLO attainment.

Erlang C is computed from the Erlang B recursion ``B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1))``,
which stays within [0, 1] (no factorials, no overflow) for thousands of servers, then
``C = c B / (c - a (1 - B))``.

All functions are valid numba nopython code (``numba.njit(fn)`` compiles them; jitted kernels
may call them). The per-tick kernel interpolates :func:`attainment_table` rather than running
the O(c) recursion every tick.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

__all__ = ["attainment_table", "erlang_c_wait_prob", "slo_attainment_frac"]


@register_jitable
def erlang_c_wait_prob(servers_n, offered_erlangs):
    """Probability that an arrival waits in an M/M/c queue (Erlang C) [0..1].

    Parameters
    ----------
    servers_n
        Servers c (concurrent slots) [count, >= 1]; O(c) work, fine up to ~1e5.
    offered_erlangs
        Offered load a = arrival rate x mean service time [Erlang, >= 0].

    Returns
    -------
    C(c, a); 1.0 when ``offered_erlangs >= servers_n`` (unstable queue: everyone waits).
    """
    if offered_erlangs >= servers_n:
        return 1.0
    blocking = 1.0
    for k in range(1, servers_n + 1):
        blocking = offered_erlangs * blocking / (k + offered_erlangs * blocking)
    return servers_n * blocking / (servers_n - offered_erlangs * (1.0 - blocking))


@register_jitable
def slo_attainment_frac(servers_n, arrival_per_s, service_s, wait_budget_s):
    """Share of requests whose queueing delay is within a wait budget, M/M/c FCFS [0..1].

    Parameters
    ----------
    servers_n
        Servers c (concurrent slots) [count, >= 1].
    arrival_per_s
        Arrival rate lambda [1/s, >= 0].
    service_s
        Mean service time 1/mu [s, > 0].
    wait_budget_s
        Largest acceptable wait before service starts [s, >= 0].

    Returns
    -------
    ``P(W <= wait_budget_s) = 1 - C exp(-(c mu - lambda) t)``; 0.0 when the queue is unstable
    (``lambda * service_s >= c``), where waits grow without bound.
    """
    offered_erlangs = arrival_per_s * service_s
    if offered_erlangs >= servers_n:
        return 0.0
    wait_prob = erlang_c_wait_prob(servers_n, offered_erlangs)
    drain_per_s = servers_n / service_s - arrival_per_s
    return 1.0 - wait_prob * np.exp(-drain_per_s * wait_budget_s)


@register_jitable
def attainment_table(servers_n, service_s, wait_budget_s, util_grid_frac):
    """SLO attainment at each utilisation of a grid, for per-tick interpolation [0..1].

    Parameters
    ----------
    servers_n
        Servers c (concurrent slots) [count, >= 1].
    service_s
        Mean service time [s, > 0].
    wait_budget_s
        Wait budget [s, >= 0].
    util_grid_frac
        Utilisations rho = lambda service_s / c at which to tabulate, 1-D array [-].

    Returns
    -------
    Attainment at each grid point, same shape as ``util_grid_frac`` [0..1]; 0 for rho >= 1.
    """
    table_frac = np.empty(util_grid_frac.shape[0])
    for i in range(util_grid_frac.shape[0]):
        arrival_per_s = util_grid_frac[i] * servers_n / service_s
        table_frac[i] = slo_attainment_frac(servers_n, arrival_per_s, service_s, wait_budget_s)
    return table_frac
