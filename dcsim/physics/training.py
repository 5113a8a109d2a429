r"""Power of a synchronous training job, summarised per tick (MODEL.md section 2; issue 14).

A data-parallel training job alternates, every iteration of period ``T``, between a
compute-heavy phase (GPUs near their power limit) for ``d T`` and a communication phase
(GPUs near idle while they wait on the collectives) for ``(1 - d) T``; because tens of
thousands of GPUs do this in lockstep, the site sees the swing in full (Choukse et al.
2025). Every ``I`` seconds of iterations it writes a checkpoint for ``W`` seconds at a low
power; a failure drops it to idle for the restart (the downtime intervals come from the
failure draw, see :mod:`dcsim.model.training`), after which the iterations and the
checkpoint schedule begin again.

The target level :math:`L(t)` is piecewise constant; the power follows each change of
level linearly over the transition time ``r`` (a change arriving during a transition starts
from the power reached), so the power :math:`P(t)` is piecewise linear and its mean,
minimum, maximum and largest slope over a tick are exact sums over the linear pieces, not
samples. All powers are fractions of the job's rack power at full load.

A *power floor* (the GPU power-smoothing burn of NVIDIA's GB300 NVL72) keeps the drawn
power at :math:`\max(P, f)`: the energy burnt is :math:`\int (f - P)^+ dt`. A battery that
takes the swings around the tick mean :math:`\bar P` cycles :math:`\int (P - \bar P)^+ dt`
per tick (discharged in the peaks, and as much charged in the troughs).

References
----------
E. Choukse et al., "Power Stabilization for AI Training Datacenters", arXiv:2508.14318
(2025). Llama Team, Meta, "The Llama 3 Herd of Models", arXiv:2407.21783 (2024), section
3.3.4. NVIDIA, "How New GB300 NVL72 Features Provide Steady Power for AI" (developer blog,
2025).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "TS_BURN",
    "TS_CYCLE",
    "TS_MAX",
    "TS_MEAN",
    "TS_MIN",
    "TS_NCOLS",
    "TS_RAMP",
    "level_at",
    "positive_part_integral",
    "tick_stats",
]

#: Columns of :func:`tick_stats`'s output, each a fraction of the job's full-load power
#: (ramp per second; burn and cycle as mean rates over the tick).
TS_MEAN = 0
TS_MIN = 1
TS_MAX = 2
TS_RAMP = 3
TS_BURN = 4
TS_CYCLE = 5
TS_NCOLS = 6

#: Probe offset after a change of level [s]: far below any transition time, far above the
#: rounding of a time of day in seconds over decades (~1e-8 s).
EPS_S = 1e-6


@njit(cache=True)
def positive_part_integral(p0, p1, m, h_s):
    """Exact integral of :math:`(P - m)^+` over a linear piece from ``p0`` to ``p1``.

    Parameters
    ----------
    p0, p1
        Power at the start and end of the piece [frac].
    m
        Threshold [frac].
    h_s
        Length of the piece [s].

    Returns
    -------
    float
        Integral [frac s].
    """
    a = p0 - m
    b = p1 - m
    if a >= 0.0 and b >= 0.0:
        return 0.5 * (a + b) * h_s
    if a <= 0.0 and b <= 0.0:
        return 0.0
    top = max(a, b)
    # A triangle above the threshold over the share top / |b - a| of the piece.
    return 0.5 * top * top / abs(b - a) * h_s


@njit(cache=True)
def level_at(t_s, down_start_s, down_end_s, job_start_s, par):
    """Target level at ``t_s`` and the time of its next change.

    Parameters
    ----------
    t_s
        Time [s].
    down_start_s, down_end_s
        Sorted, disjoint restart intervals (a failure at the start, running again at the
        end) [s].
    job_start_s
        When the job starts [s].
    par
        (period_s, duty_frac, transition_s, compute_frac, comm_frac, interval_s,
        checkpoint_s, checkpoint_frac, idle_frac).

    Returns
    -------
    (level [frac], next change [s])
    """
    period, duty, _, hi, lo, interval, ckpt_s, ckpt, idle = par
    k = np.searchsorted(down_start_s, t_s, side="right") - 1
    resume = job_start_s
    if k >= 0:
        if t_s < down_end_s[k]:
            return idle, down_end_s[k]
        resume = down_end_s[k]
    nxt_fail = down_start_s[k + 1] if k + 1 < down_start_s.shape[0] else np.inf
    seg = interval + ckpt_s
    tau = t_s - resume
    n_seg = math.floor(tau / seg)
    sigma = tau - n_seg * seg
    base = resume + n_seg * seg
    if sigma >= interval:
        return ckpt, min(base + seg, nxt_fail)
    n_it = math.floor(sigma / period)
    u = sigma - n_it * period
    if u < duty * period:
        return hi, min(base + min(n_it * period + duty * period, interval), nxt_fail)
    end_it = min((n_it + 1) * period, interval)
    return lo, min(base + end_it, nxt_fail)


@njit(cache=True)
def _power(t_s, tr_t0, tr_p0, target, transition_s):
    if transition_s <= 0.0 or t_s >= tr_t0 + transition_s:
        return target
    return tr_p0 + (target - tr_p0) * (t_s - tr_t0) / transition_s


@njit(cache=True)
def _walk(a_s, b_s, state, down_start_s, down_end_s, job_start_s, par, floor_frac, mean_frac):
    """Walk the linear pieces of [a, b); returns (integral, min, max, ramp, burn, cycle).

    ``state`` = (transition start [s], power there, target level, next change [s]) is
    advanced in place. ``cycle`` is the integral of (max(P, floor) - mean)^+ (only
    meaningful on a second walk with the tick mean known).
    """
    r = par[2]
    integral = 0.0
    burn = 0.0
    cycle = 0.0
    p_min = np.inf
    p_max = -np.inf
    ramp = 0.0
    t = a_s
    while t < b_s:
        tr_t0, tr_p0, target, t_change = state[0], state[1], state[2], state[3]
        t_end = b_s
        if t_change < t_end:
            t_end = t_change
        tr_end = tr_t0 + r
        if r > 0.0 and t < tr_end < t_end:
            t_end = tr_end
        h = t_end - t
        p0 = _power(t, tr_t0, tr_p0, target, r)
        p1 = _power(t_end, tr_t0, tr_p0, target, r)
        if h > 0.0:
            s0 = max(p0, floor_frac)
            s1 = max(p1, floor_frac)
            integral += 0.5 * (p0 + p1) * h
            if floor_frac > 0.0:
                # (f - P)^+ = (f - P) + (P - f)^+
                burn += (floor_frac - 0.5 * (p0 + p1)) * h
                burn += positive_part_integral(p0, p1, floor_frac, h)
            # The tick mean is at or above the floor, so (max(P, f) - mean)^+ = (P - mean)^+:
            # exact on the linear piece even where it crosses the floor.
            cycle += positive_part_integral(p0, p1, mean_frac, h)
            p_min = min(p_min, s0, s1)
            p_max = max(p_max, s0, s1)
            if max(p0, p1) > floor_frac:
                ramp = max(ramp, abs(p1 - p0) / h)
        t = t_end
        if t >= t_change:
            # The level just after the change: probing at the change itself could land a
            # rounding error before it and find the old level again.
            level, nxt = level_at(t + EPS_S, down_start_s, down_end_s, job_start_s, par)
            state[0] = t
            state[1] = p1
            state[2] = level
            state[3] = nxt
    return integral, p_min, p_max, ramp, burn, cycle


@njit(cache=True)
def tick_stats(t0_s, dt_s, n_ticks, down_start_s, down_end_s, job_start_s, par, floor_frac, out):
    r"""Per-tick mean, min, max, largest ramp, burn and battery cycling of a job's power.

    Parameters
    ----------
    t0_s
        Start of the first tick [s]; at least ``job_start_s``.
    dt_s
        Tick length [s].
    n_ticks
        Ticks to evaluate [count].
    down_start_s, down_end_s
        Sorted, disjoint restart intervals [s].
    job_start_s
        When the job started (its schedule's origin) [s].
    par
        Profile, as for :func:`level_at` (array of 9) [s, frac].
    floor_frac
        Power floor (0: none) [frac].
    out
        (n_ticks, TS_NCOLS) output, fractions of full-load power: mean drawn power (burn
        included), min and max of the drawn power, largest slope [1/s], burn rate and
        battery cycling rate (the tick mean of :math:`(\max(P, f) - \bar P)^+`).

    Notes
    -----
    The walk starts at ``job_start_s`` at the first level, as if the job had drawn that
    level before; the ticks before ``t0_s`` are walked but not written.
    """
    level, nxt = level_at(job_start_s, down_start_s, down_end_s, job_start_s, par)
    state = np.array([job_start_s, level, level, nxt])
    if t0_s > job_start_s:
        _walk(job_start_s, t0_s, state, down_start_s, down_end_s, job_start_s, par, 0.0, 0.0)
    saved = np.empty(4)
    for i in range(n_ticks):
        a = t0_s + i * dt_s
        b = a + dt_s
        saved[:] = state
        integral, p_min, p_max, ramp, burn, _ = _walk(
            a, b, state, down_start_s, down_end_s, job_start_s, par, floor_frac, 0.0
        )
        mean = (integral + burn) / dt_s
        # Second walk from the same state, now with the tick mean known.
        again = saved.copy()
        cycle = _walk(a, b, again, down_start_s, down_end_s, job_start_s, par, floor_frac, mean)[5]
        out[i, TS_MEAN] = mean
        out[i, TS_MIN] = p_min
        out[i, TS_MAX] = p_max
        out[i, TS_RAMP] = ramp
        out[i, TS_BURN] = burn / dt_s
        out[i, TS_CYCLE] = cycle / dt_s
