"""Demand of one workload class per tick, and the deferrable-work backlog (MODEL.md section 2).

Demand is a product of independent factors::

    demand(t) = base x daily(t) x weekly(t) x (1 + g)^(t / 1 y) x noise(t) x bursts(t)

* ``daily``: n equally spaced values over the local day (24 hourly values in the catalog);
  value i is the mean of slot i, placed at the slot's midpoint and interpolated linearly,
  periodic over the day (23:30 -> 00:30 wraps).
* ``weekly``: one value per local calendar day (Monday first), a step at local midnight.
* Both profiles are divided by their arithmetic mean. The mean of a periodic linear
  interpolant through equally spaced nodes is the mean of the nodes, and the daily shape is
  the same every day, so the week-long mean of ``daily x weekly`` is exactly 1: without growth,
  noise and bursts, ``base_tok_per_s`` is the long-run mean demand.
* Growth compounds continuously: ``(1 + g)^(t / Y_S)`` with ``Y_S`` = 365 d.
* Noise: a multiplicative lognormal AR(1) process on a node lattice (hourly in practice), of
  mean 1 and coefficient of variation ``sigma_frac``, drawn from a passed
  ``numpy.random.Generator`` and interpolated linearly to the ticks (which keeps it positive
  and of mean 1).
* Bursts: rows ``(start_s, duration_s, multiplier)``; overlapping bursts multiply.

The deferrable backlog is a fluid FIFO with a deadline held in age buckets; see
:func:`backlog_step`.

:func:`demand_tok_per_s`, :func:`noise_at_frac` and :func:`backlog_step` are valid numba
nopython code (``numba.njit(fn)`` compiles them, jitted kernels may call them). The noise
generator uses a ``numpy.random.Generator`` and runs once per run, outside the kernels.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from dcsim.units import D_S, H_S, Y_S

__all__ = [
    "backlog_step",
    "demand_noise_frac",
    "demand_tok_per_s",
    "LognormalAR1Stream",
    "lognormal_ar1_nodes_frac",
    "noise_at_frac",
]


@register_jitable
def demand_tok_per_s(
    t_s,
    start_weekday,
    start_hour,
    base_tok_per_s,
    daily_profile_frac,
    weekly_profile_frac,
    growth_per_y_frac,
    noise_frac,
    bursts,
):
    """Demand of one workload class at the given times [tok/s].

    Parameters
    ----------
    t_s
        Times since scenario start, 1-D array [s].
    start_weekday
        Local weekday at scenario start, 0 = Monday ... 6 = Sunday (``datetime.weekday()``).
    start_hour
        Local time of day at scenario start [h, 0 <= start_hour < 24].
    base_tok_per_s
        Long-run mean demand at t = 0, before growth, noise and bursts [tok/s].
    daily_profile_frac
        Relative demand of n equal slots of the local day (24 for hourly); normalised here by
        its mean [-].
    weekly_profile_frac
        Relative demand of each local weekday, Monday first (7 values); normalised here by its
        mean [-].
    growth_per_y_frac
        Compound growth per year of 365 d [-/y], e.g. 0.5 for +50 % per year.
    noise_frac
        Multiplicative noise at ``t_s`` (from :func:`noise_at_frac`), or 1.0 for none [-].
    bursts
        Array of shape (k, 3): rows ``(start_s, duration_s, multiplier)``; demand is multiplied
        by ``multiplier`` for ``start_s <= t < start_s + duration_s``. Use
        ``np.empty((0, 3))`` for none.

    Returns
    -------
    Demand at each ``t_s`` [tok/s].
    """
    slots_n = daily_profile_frac.shape[0]
    days_n = weekly_profile_frac.shape[0]
    daily_norm = daily_profile_frac / np.mean(daily_profile_frac)
    weekly_norm = weekly_profile_frac / np.mean(weekly_profile_frac)

    slot_s = D_S / slots_n
    local_s = t_s + start_hour * H_S  # seconds since local midnight of the first day
    slot_pos = np.mod(local_s, D_S) / slot_s  # in [0, slots_n)
    # Nodes at slot midpoints, padded one slot on each side so interpolation wraps around.
    node_pos = np.arange(slots_n + 2) - 0.5
    node_val = np.concatenate((daily_norm[-1:], daily_norm, daily_norm[:1]))
    daily = np.interp(slot_pos, node_pos, node_val)

    day_idx = np.mod(np.floor(local_s / D_S) + start_weekday, days_n).astype(np.int64)
    weekly = weekly_norm[day_idx]

    growth = np.exp(np.log1p(growth_per_y_frac) * (t_s / Y_S))
    demand = base_tok_per_s * daily * weekly * growth * noise_frac

    for k in range(bursts.shape[0]):
        burst_start_s = bursts[k, 0]
        in_burst = (t_s >= burst_start_s) & (t_s < burst_start_s + bursts[k, 1])
        demand = demand * (1.0 + (bursts[k, 2] - 1.0) * in_burst)
    return demand


def lognormal_ar1_nodes_frac(nodes_n, sigma_frac, correlation_s, node_step_s, rng):
    """Multiplicative lognormal AR(1) noise on a lattice ``t_k = k * node_step_s``.

    ``log m_k`` is a stationary Gaussian AR(1) with lag-one correlation
    ``exp(-node_step_s / correlation_s)``; ``m_k`` is lognormal with mean 1 and coefficient of
    variation ``sigma_frac``. Exactly ``nodes_n`` standard normals are drawn whatever the
    parameters, so the generator's stream does not depend on them.

    Parameters
    ----------
    nodes_n
        Lattice points [count, >= 1].
    sigma_frac
        Coefficient of variation (std / mean) of the multiplier [-, >= 0].
    correlation_s
        Correlation time of the log-process [s]; <= 0 gives independent nodes.
    node_step_s
        Lattice spacing [s], e.g. ``dcsim.units.H_S``.
    rng
        Seeded generator (one per run/process; never module-level state).

    Returns
    -------
    Multipliers at the lattice points, shape (nodes_n,) [-].
    """
    return LognormalAR1Stream(sigma_frac, correlation_s, node_step_s, rng).nodes(0, nodes_n)


class LognormalAR1Stream:
    """The lattice of :func:`lognormal_ar1_nodes_frac`, drawn in order as far as asked.

    A run reads its demand noise a day at a time; this draws the nodes a window needs and
    forgets the ones before it, so memory does not grow with the horizon. The generator is
    read in the same order as one call of :func:`lognormal_ar1_nodes_frac` reads it (a
    stream of standard normals, the AR(1) recursion carried across draws), so any sequence
    of windows gives the very nodes of the one call, bit for bit.

    Parameters
    ----------
    sigma_frac, correlation_s, node_step_s, rng
        As in :func:`lognormal_ar1_nodes_frac`.
    """

    #: Standard normals drawn at a time (ahead of need; the order of the stream is the same).
    DRAW_NODES = 4096

    def __init__(self, sigma_frac, correlation_s, node_step_s, rng):
        self._rng = rng
        self._node_step_s = node_step_s
        self._log_sigma = np.sqrt(np.log1p(sigma_frac * sigma_frac))
        self._phi = np.exp(-node_step_s / correlation_s) if correlation_s > 0.0 else 0.0
        self._innovation_sigma = self._log_sigma * np.sqrt(1.0 - self._phi * self._phi)
        self._first_k = 0  # lattice index of self._nodes[0]
        self._nodes = np.empty(0)
        self._last_log_m = 0.0

    def nodes(self, k_lo, k_hi):
        """Multipliers at lattice points ``k_lo .. k_hi - 1`` [-].

        Parameters
        ----------
        k_lo, k_hi
            Lattice range [count]; ``k_lo`` at or after the ``k_lo`` of the previous call.

        Returns
        -------
        numpy.ndarray
            Shape (k_hi - k_lo,) [-].
        """
        if k_lo < self._first_k:
            raise ValueError(f"node {k_lo} was forgotten (window starts at {self._first_k})")
        drawn_to = self._first_k + self._nodes.shape[0]
        keep = self._nodes[min(k_lo - self._first_k, self._nodes.shape[0]) :]
        if k_hi > drawn_to:
            keep = np.concatenate(
                (keep, self._draw(drawn_to, max(k_hi, drawn_to + self.DRAW_NODES)))
            )
        self._first_k = k_lo if k_lo <= drawn_to else drawn_to
        self._nodes = keep
        return self._nodes[k_lo - self._first_k : k_hi - self._first_k]

    def at_frac(self, t_s):
        """Multiplier at ascending times ``t_s``, linear between nodes (:func:`noise_at_frac`).

        Parameters
        ----------
        t_s
            Times since scenario start, ascending, >= 0 [s].

        Returns
        -------
        Multiplier at each ``t_s`` [-].
        """
        x = t_s / self._node_step_s
        k_lo = int(np.floor(x[0]))
        k_hi = int(np.floor(x[-1])) + 2
        # The same abscissae as the whole lattice's (k * 1.0), so the same interpolant.
        return np.interp(x, np.arange(k_lo, k_hi) * 1.0, self.nodes(k_lo, k_hi))

    def _draw(self, k0, k1):
        standard_normal = self._rng.standard_normal(k1 - k0)
        phi, innovation_sigma, log_sigma = self._phi, self._innovation_sigma, self._log_sigma
        log_m = np.empty(k1 - k0)
        prev = self._last_log_m
        for i in range(k1 - k0):
            if k0 + i == 0:
                log_m[i] = log_sigma * standard_normal[i]  # start in the stationary distribution
            else:
                log_m[i] = phi * prev + innovation_sigma * standard_normal[i]
            prev = log_m[i]
        self._last_log_m = prev
        # exp(N(-s^2/2, s^2)) has mean exactly 1, so noise does not shift the long-run mean.
        return np.exp(log_m - 0.5 * log_sigma * log_sigma)


@register_jitable
def noise_at_frac(t_s, nodes_frac, node_step_s):
    """Noise multiplier at times ``t_s``, linear between lattice nodes [-].

    Parameters
    ----------
    t_s
        Times since scenario start [s].
    nodes_frac
        Multipliers at ``k * node_step_s`` (from :func:`lognormal_ar1_nodes_frac`) [-].
    node_step_s
        Lattice spacing [s].

    Returns
    -------
    Multiplier at each ``t_s``; held at the end values outside the lattice [-].
    """
    return np.interp(t_s / node_step_s, np.arange(nodes_frac.shape[0]) * 1.0, nodes_frac)


def demand_noise_frac(t_s, sigma_frac, correlation_s, node_step_s, rng):
    """Noise multiplier at times ``t_s`` from a fresh lattice covering ``[0, max(t_s)]`` [-].

    Convenience for :func:`lognormal_ar1_nodes_frac` followed by :func:`noise_at_frac`. Call
    it once for the whole horizon: the lattice depends on ``max(t_s)``.

    Parameters
    ----------
    t_s
        Times since scenario start, >= 0 [s].
    sigma_frac, correlation_s, node_step_s, rng
        As in :func:`lognormal_ar1_nodes_frac`.

    Returns
    -------
    Multiplier at each ``t_s`` [-].
    """
    t_s = np.asarray(t_s, dtype=np.float64)
    nodes_n = int(np.floor(np.max(t_s) / node_step_s)) + 2
    nodes_frac = lognormal_ar1_nodes_frac(nodes_n, sigma_frac, correlation_s, node_step_s, rng)
    return noise_at_frac(t_s, nodes_frac, node_step_s)


@register_jitable
def backlog_step(buckets_tok, head_idx, arrivals_tok, capacity_tok, rotate):
    """Advance the deferrable-work backlog by one tick (fluid FIFO with a deadline).

    The backlog is a ring buffer of n age buckets, each spanning one bucket period P.
    ``buckets_tok[head_idx]`` is the newest bucket, ``(head_idx + 1) % n`` the oldest, and age
    grows from the head backwards around the ring. One tick does, in order:

    1. Rotation (only when ``rotate`` is true; the caller sets it on the first tick of each
       bucket period, i.e. once per P): the oldest bucket has now waited its full deadline, so
       its remainder expires (counted as unserved), it is emptied and becomes the new head.
    2. Arrivals of this tick join the newest bucket.
    3. Service takes up to ``capacity_tok`` from the oldest bucket first, then younger ones.

    Work arriving during a period expires at the n-th rotation after it arrived, so at an
    age between (n - 1) P and n P: choose n = deadline / P and accept a resolution of one P
    (work may be dropped up to one P before the deadline, never after it).

    Parameters
    ----------
    buckets_tok
        Work waiting in each age bucket, shape (n,); updated in place [tok].
    head_idx
        Index of the newest bucket before this tick.
    arrivals_tok
        Deferrable work arriving during this tick [tok].
    capacity_tok
        Work the pool can serve from the backlog during this tick [tok, >= 0].
    rotate
        True on the first tick of a new bucket period.

    Returns
    -------
    served_tok
        Work served this tick [tok].
    expired_tok
        Work that reached its deadline unserved this tick [tok].
    new_head
        Index of the newest bucket after this tick.

    Notes
    -----
    Conservation: arrivals = served + expired + ``buckets_tok.sum()`` change, tick by tick.
    """
    buckets_n = buckets_tok.shape[0]
    head = head_idx
    expired_tok = 0.0
    if rotate:
        head = (head + 1) % buckets_n
        expired_tok = buckets_tok[head]
        buckets_tok[head] = 0.0
    buckets_tok[head] += arrivals_tok

    served_tok = 0.0
    remaining_tok = capacity_tok
    for age_rank in range(buckets_n):
        if remaining_tok <= 0.0:
            break
        idx = (head + 1 + age_rank) % buckets_n  # oldest first, the head last
        take_tok = min(buckets_tok[idx], remaining_tok)
        buckets_tok[idx] -= take_tok
        served_tok += take_tok
        remaining_tok -= take_tok
    return served_tok, expired_tok, head
