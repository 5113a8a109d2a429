"""Compiled operating-point tables of the compute core (MODEL.md section 1).

At start-up the simulator builds, for every pool, a table of rack throughput and rack wall
power over a grid of offered load ``l`` (share of the SLO throughput ``X*``) and GPU power cap
``c`` (share of the pool's board power limit ``power_limit_w``; column ``c`` is therefore the
rack's tok/s and W with the GPU limit lowered to ``c * power_limit_w``); the per-tick kernel
then interpolates it for every rack with :func:`interp2_table`. Semantics and the NumPy/SciPy
reference are in :func:`dcsim.physics.compute.operating_table_reference`; this module solves
the same equations with plain bisection so that it compiles under numba.

The physics (step times, power, clock under a cap) is shared with the reference through
``numba.extending.register_jitable`` functions of :mod:`dcsim.physics.compute`. Note: numba's
on-disk cache keys on this file only, so after editing ``physics/compute.py`` clear
``__pycache__`` (the tests compare both and catch a stale cache).

Parameter vector: ``dcsim.physics.compute.PARAM_NAMES`` lists the index of every entry;
``dcsim.model.pool.PoolSpec.to_params`` fills it.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba.extending import register_jitable

from dcsim.physics.compute import (
    I_HBM_RESERVE,
    I_HBM_USABLE,
    I_IDLE_W,
    I_INPUT_CV,
    I_INPUT_TOK,
    I_KV,
    I_MAX_BATCH,
    I_OUTPUT_CV,
    I_OUTPUT_TOK,
    I_POWER_LIMIT_W,
    I_REPLICA_GPUS,
    I_REPLICAS_PER_RACK,
    I_TPOT_SLO,
    I_TTFT_QUANTILE,
    I_TTFT_SLO,
    I_WEIGHT,
    clock_frac_for_cap,
    kv_capacity_batch_count,
    lowest_limit_w,
    on_cap_frac,
    rack_power_w,
    replica_prefill_time_s,
    replica_state,
    running_share_frac,
)
from dcsim.physics.queueing import replica_ttft_miss_frac

__all__ = [
    "build_operating_table",
    "interp2_table",
    "pool_operating_point",
    "slo_batch_count",
]

_MAX_ITER = 200
_REL_TOL = 1e-14


@register_jitable
def _tdp_itl_s(params, batch):
    clock = clock_frac_for_cap(params, batch, params[I_POWER_LIMIT_W])
    return replica_state(params, batch, clock)[1]


@register_jitable
def _ttft_excess_s(params, slots, occupancy, ttft_slo_s):
    # Share of requests missing the TTFT bound minus the allowed share 1 - q (> 0: violated).
    clock = clock_frac_for_cap(params, occupancy, params[I_POWER_LIMIT_W])
    x_tok_per_s, itl_s, _ = replica_state(params, occupancy, clock)
    prefill_s = replica_prefill_time_s(params, clock)
    miss_frac = replica_ttft_miss_frac(
        slots, occupancy, prefill_s, params[I_OUTPUT_TOK] * itl_s, params[I_OUTPUT_CV],
        params[I_INPUT_CV], x_tok_per_s * prefill_s / params[I_OUTPUT_TOK], ttft_slo_s,
    )  # fmt: skip
    return miss_frac - (1.0 - params[I_TTFT_QUANTILE])


@register_jitable
def _slo_batch(params):
    """Mean batch per replica that meets the pool's latency SLO [-].

    Same rule as :func:`dcsim.physics.compute.slo_batch_reference` (KV and stack limit, then
    the TPOT bound on the batch slots, then the M/G/c TTFT attainment on the mean occupancy),
    solved by bisection.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (float64).

    Returns
    -------
    float
        SLO batch B* [-]; 0 when the SLO cannot be met or the model does not fit.
    """
    kv_batch = kv_capacity_batch_count(
        params[I_HBM_USABLE], params[I_HBM_RESERVE], params[I_REPLICA_GPUS], params[I_WEIGHT],
        params[I_KV], params[I_INPUT_TOK] + params[I_OUTPUT_TOK],
    )  # fmt: skip
    batch_max = min(float(kv_batch), params[I_MAX_BATCH])
    if batch_max < 1.0:
        return 0.0
    slots = batch_max
    tpot_s = params[I_TPOT_SLO]
    if math.isfinite(tpot_s):
        if _tdp_itl_s(params, 1.0) > tpot_s:
            return 0.0
        if _tdp_itl_s(params, batch_max) > tpot_s:
            lo = 1.0
            hi = batch_max
            for _ in range(_MAX_ITER):
                mid = 0.5 * (lo + hi)
                if _tdp_itl_s(params, mid) > tpot_s:
                    hi = mid
                else:
                    lo = mid
                if hi - lo <= _REL_TOL * hi:
                    break
            slots = float(math.floor(0.5 * (lo + hi)))
    ttft_slo_s = params[I_TTFT_SLO]
    if not math.isfinite(ttft_slo_s):
        return slots
    if _ttft_excess_s(params, slots, 0.0, ttft_slo_s) > 0.0:
        return 0.0
    hi = slots * (1.0 - 1e-12)
    if _ttft_excess_s(params, slots, hi, ttft_slo_s) <= 0.0:
        return hi
    lo = 0.0
    for _ in range(_MAX_ITER):
        mid = 0.5 * (lo + hi)
        if _ttft_excess_s(params, slots, mid, ttft_slo_s) > 0.0:
            hi = mid
        else:
            lo = mid
        if hi - lo <= _REL_TOL * hi:
            break
    return 0.5 * (lo + hi)


@numba.njit(cache=True)
def slo_batch_count(params):
    """Mean batch per replica that meets the pool's latency SLO [-] (compiled).

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (float64).

    Returns
    -------
    float
        SLO batch B* [-]; 0 when the SLO cannot be met or the model does not fit.
    """
    return _slo_batch(params)


@register_jitable
def _capped_state(params, batch, cap_w):
    """Replica throughput [tok/s] and GPU power [W] at a batch with the clock under a cap."""
    clock = clock_frac_for_cap(params, batch, cap_w)
    if clock <= 0.0:
        return 0.0, params[I_IDLE_W]
    x, _, gpu_w = replica_state(params, batch, clock)
    return x, min(gpu_w, cap_w, params[I_POWER_LIMIT_W])


@numba.njit(cache=True)
def pool_operating_point(params):
    """Operating point of a pool at full SLO load and no cap below the board power limit.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (float64).

    Returns
    -------
    b_star_count : float
        SLO batch per replica [-].
    x_replica_tok_per_s : float
        Throughput of one replica [tok/s].
    itl_s : float
        Mean inter-token latency [s].
    clock_frac : float
        Clock ratio under the board power limit [-].
    gpu_w : float
        Power of each serving GPU [W].
    x_rack_tok_per_s : float
        Rack throughput [tok/s].
    p_rack_w : float
        Rack wall power [W].
    """
    b_star = _slo_batch(params)
    if b_star <= 0.0:
        idle_w = params[I_IDLE_W]
        return 0.0, 0.0, math.inf, 1.0, idle_w, 0.0, rack_power_w(params, idle_w)
    clock = clock_frac_for_cap(params, b_star, params[I_POWER_LIMIT_W])
    x, itl_s, gpu_w = replica_state(params, b_star, clock)
    gpu_w = min(gpu_w, params[I_POWER_LIMIT_W])
    replicas = params[I_REPLICAS_PER_RACK]
    return b_star, x, itl_s, clock, gpu_w, replicas * x, rack_power_w(params, gpu_w)


@numba.njit(cache=True)
def build_operating_table(params, load_frac, cap_frac):
    """Operating-point table of one pool, per rack.

    Semantics as :func:`dcsim.physics.compute.operating_table_reference`: served throughput
    ``min(l X*, X_c)`` where ``X_c`` is the capacity at the SLO batch with the clock lowered to
    hold the cap, the batch that serves a lower load found by bisection on
    ``X(B, r_c(B)) = l X*``; rack wall power at that point; a cap below the lowest settable
    limit runs a share of the racks at that limit and parks the rest; power made
    non-decreasing in load. Both outputs are
    non-decreasing in ``l`` and ``c``.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector (float64, ``dcsim.physics.compute.PARAM_NAMES``).
    load_frac : numpy.ndarray
        Offered-load grid in [0, 1], ascending [-].
    cap_frac : numpy.ndarray
        GPU power-cap grid in [0, 1] of the board power limit, ascending [-].

    Returns
    -------
    x_tok_per_s : numpy.ndarray
        Served rack throughput, shape (n_l, n_c) [tok/s].
    p_w : numpy.ndarray
        Rack wall power, shape (n_l, n_c) [W].
    x_star_tok_per_s : float
        Rack throughput at the SLO batch, clock limited by the board power limit [tok/s].
    b_star_count : float
        SLO batch per replica [-].
    """
    n_l = load_frac.size
    n_c = cap_frac.size
    x_out = np.zeros((n_l, n_c))
    p_out = np.zeros((n_l, n_c))
    replicas = params[I_REPLICAS_PER_RACK]
    limit_w = params[I_POWER_LIMIT_W]
    idle_w = params[I_IDLE_W]
    rack_idle_w = rack_power_w(params, idle_w)
    b_star = _slo_batch(params)
    if b_star <= 0.0:
        for j in range(n_c):
            for i in range(n_l):
                p_out[i, j] = rack_idle_w * min(cap_frac[j] * limit_w / idle_w, 1.0)
        return x_out, p_out, 0.0, 0.0
    x_star_replica = _capped_state(params, b_star, limit_w)[0]
    min_w = lowest_limit_w(params)
    for j in range(n_c):
        # Below the lowest settable limit a share of the racks runs at it, the rest parked.
        on_frac = running_share_frac(cap_frac[j], on_cap_frac(params))
        cap_w = max(cap_frac[j] * limit_w, min_w)
        if on_frac <= 0.0:
            continue
        if cap_w <= idle_w:
            for i in range(n_l):
                p_out[i, j] = on_frac * rack_idle_w
            continue
        x_cap, gpu_cap_w = _capped_state(params, b_star, cap_w)
        for i in range(n_l):
            target = load_frac[i] * x_star_replica / on_frac
            if target <= 0.0:
                x_rep = 0.0
                gpu_w = idle_w
            elif target >= x_cap:
                x_rep = x_cap
                gpu_w = gpu_cap_w
            else:
                # Served throughput rises with the batch (weights amortised over more
                # sequences), also along the capped clock, so bisection brackets the root.
                lo = 0.0
                hi = b_star
                for _ in range(_MAX_ITER):
                    mid = 0.5 * (lo + hi)
                    if _capped_state(params, mid, cap_w)[0] > target:
                        hi = mid
                    else:
                        lo = mid
                    if hi - lo <= _REL_TOL * hi:
                        break
                x_rep = target
                gpu_w = _capped_state(params, 0.5 * (lo + hi), cap_w)[1]
            x_out[i, j] = on_frac * replicas * x_rep
            p_out[i, j] = on_frac * rack_power_w(params, gpu_w)
    for j in range(n_c):
        for i in range(1, n_l):
            if p_out[i, j] < p_out[i - 1, j]:
                p_out[i, j] = p_out[i - 1, j]
    return x_out, p_out, replicas * x_star_replica, b_star


@numba.njit(cache=True, _nrt=False)
def interp2_table(table, load_frac, cap_frac):
    """Bilinear interpolation in an operating-point table on uniform [0, 1] grids.

    The table's rows are ``n_l = table.shape[0]`` loads ``i / (n_l - 1)`` and its columns
    ``n_c = table.shape[1]`` caps ``j / (n_c - 1)`` (uniform grids from 0 to 1 inclusive,
    as built with ``numpy.linspace(0, 1, n)``); inputs outside [0, 1] are clamped. A uniform
    grid makes the cell lookup one multiplication, which is what the per-tick kernel needs.

    Parameters
    ----------
    table : numpy.ndarray
        Values on the grid, shape (n_l, n_c), n_l and n_c >= 2.
    load_frac : float
        Offered load [0..1].
    cap_frac : float
        Power cap over the board power limit [0..1].

    Returns
    -------
    float
        Interpolated value, in the table's unit.
    """
    n_l = table.shape[0]
    n_c = table.shape[1]
    u = min(max(load_frac, 0.0), 1.0) * (n_l - 1)
    v = min(max(cap_frac, 0.0), 1.0) * (n_c - 1)
    i = min(int(u), n_l - 2)
    j = min(int(v), n_c - 2)
    du = u - i
    dv = v - j
    return (
        table[i, j] * (1.0 - du) * (1.0 - dv)
        + table[i + 1, j] * du * (1.0 - dv)
        + table[i, j + 1] * (1.0 - du) * dv
        + table[i + 1, j + 1] * du * dv
    )
