"""Per-pool tables for the per-tick kernel, built once at start-up from the compute core.

The compute core (:func:`dcsim.kernels.oppoints.build_operating_table`) answers "what does a
rack deliver and draw at offered load l (share of X*) and cap c". The kernel wants load
against the *capped* capacity (see :mod:`dcsim.kernels.tables`), so each cap column is built
on its own load grid ``l = u * X_c / X*``; the tables then have no kink at "capacity reached".
SLO attainment and the latency percentiles (TTFT and TPOT, p50 and p99) are tabulated against
the utilisation u of the rated capacity ``X*`` with the request queue of
:mod:`dcsim.physics.queueing`, the same queue that rates ``X*``: at u = 1 the attainment is the
SLO's quantile (e.g. 0.99) by construction, below it higher (docs/queueing.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from dcsim.kernels.oppoints import build_operating_table, pool_operating_point, slo_batch_count
from dcsim.model.pool import PoolSpec
from dcsim.physics.compute import (
    I_INPUT_CV,
    I_OUTPUT_CV,
    I_OUTPUT_TOK,
    I_TDP_W,
    I_TTFT_SLO,
    clock_frac_for_cap,
    replica_prefill_time_s,
    replica_state,
)
from dcsim.physics.queueing import (
    inservice_batch_quantile_count,
    replica_ttft_miss_frac,
    replica_ttft_quantile_s,
)

#: Grid sizes of the tables. 41 x 41 keeps the bilinear error of power well below 1% on the
#: calibrated pools (tested) at 13 kB per pool.
N_UTIL = 41
N_CAP = 41
N_SLO = 101


@dataclass(frozen=True)
class PoolTables:
    """Tables of one pool (per rack).

    Attributes
    ----------
    x_cap_tok_per_s
        Rack capacity at each cap of the grid, shape (N_CAP,) [tok/s].
    p_rack_w
        Rack wall power at (utilisation of capped capacity, cap), shape (N_UTIL, N_CAP) [W].
    slo_attainment_frac
        Share of requests within the TTFT bound at each utilisation ``u`` of the rated
        capacity ``X*`` (grid ``linspace(0, 1, N_SLO)``), shape (N_SLO,) [0..1]; the SLO
        quantile at u = 1, 1 for offline pools.
    ttft_p50_s, ttft_p99_s
        Median and 99th percentile of the time to first token on the same grid, shape
        (N_SLO,) [s]; NaN for offline pools (no request queue is modelled).
    tpot_p50_s, tpot_p99_s
        Median and 99th percentile of the time per output token on the same grid, shape
        (N_SLO,) [s]: the inter-token latency at the batch a decoding request shares, at that
        quantile (:func:`dcsim.physics.queueing.inservice_batch_quantile_count`); NaN for
        offline pools.
    x_star_tok_per_s
        Rack capacity uncapped (= ``x_cap_tok_per_s[-1]``) [tok/s].
    b_star
        SLO batch per replica [-].
    itl_s
        Inter-token latency at the SLO batch [s].
    """

    x_cap_tok_per_s: np.ndarray
    p_rack_w: np.ndarray
    slo_attainment_frac: np.ndarray
    x_star_tok_per_s: float
    b_star: float
    itl_s: float
    ttft_p50_s: np.ndarray
    ttft_p99_s: np.ndarray
    tpot_p50_s: np.ndarray
    tpot_p99_s: np.ndarray


def build_pool_tables(spec: PoolSpec) -> PoolTables:
    """Build the kernel tables of one pool.

    Parameters
    ----------
    spec
        The pool (SI numbers from the catalog and the workload).

    Returns
    -------
    The pool's tables.
    """
    params = spec.to_params()
    cap_grid = np.linspace(0.0, 1.0, N_CAP)
    util_grid = np.linspace(0.0, 1.0, N_UTIL)
    x_cap_row, _, x_star, _ = build_operating_table(params, np.ones(1), cap_grid)
    x_cap = np.ascontiguousarray(x_cap_row[0])
    p_rack = np.empty((N_UTIL, N_CAP))
    for j, cap in enumerate(cap_grid):
        load = util_grid * (x_cap[j] / x_star) if x_star > 0 else util_grid * 0.0
        _, p_col, _, _ = build_operating_table(params, load, np.array([cap]))
        p_rack[:, j] = p_col[:, 0]
    b_star, _, itl_s, _, _, _, _ = pool_operating_point(params)
    u_slo = np.linspace(0.0, 1.0, N_SLO)
    slo = np.ones(N_SLO)
    latency = np.full((4, N_SLO), np.nan)
    if spec.ttft_slo_s is not None and b_star > 0:
        slo, latency = latency_tables(params, u_slo)
    return PoolTables(
        x_cap_tok_per_s=x_cap,
        p_rack_w=p_rack,
        slo_attainment_frac=slo,
        x_star_tok_per_s=float(x_star),
        b_star=float(b_star),
        itl_s=float(itl_s),
        ttft_p50_s=latency[0],
        ttft_p99_s=latency[1],
        tpot_p50_s=latency[2],
        tpot_p99_s=latency[3],
    )


@numba.njit(cache=True)
def _batch_at_throughput(params, b_star, target_tok_per_s):
    # Replica throughput rises with the batch at the TDP-limited clock, so bisection brackets
    # the batch that serves a target below X(B*).
    lo = 0.0
    hi = b_star
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        clock = clock_frac_for_cap(params, mid, params[I_TDP_W])
        if replica_state(params, mid, clock)[0] > target_tok_per_s:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


@numba.njit(cache=True)
def latency_tables(params, util_frac):
    """SLO attainment and latency percentiles of one replica against utilisation [-, s].

    At utilisation ``u`` of the rated replica throughput ``X* = X(B*)`` the replica runs the
    mean batch ``B_u`` with ``X(B_u) = u X*`` at the TDP-limited clock; its request queue
    (:mod:`dcsim.physics.queueing`: ``c`` TPOT-limited slots, occupancy ``B_u``, residence
    ``t_pf + L_out ITL(B_u)``, prefill share ``X t_pf / L_out``) gives the share of requests
    within the TTFT bound and the TTFT quantiles. TPOT at a quantile is the inter-token
    latency at the batch a decoding request shares at that quantile (the batch fluctuates
    while the request decodes, so this bounds the per-request mean from above). ``B*`` solves
    attainment = SLO quantile, so the attainment at ``u = 1`` is that quantile.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector of an interactive pool with ``B* > 0``.
    util_frac : numpy.ndarray
        Utilisations of ``X*`` in [0, 1], ascending [-].

    Returns
    -------
    attainment_frac : numpy.ndarray
        Share of requests within the TTFT bound, shape (n,) [0..1].
    latency_s : numpy.ndarray
        Rows TTFT p50, TTFT p99, TPOT p50, TPOT p99, shape (4, n) [s].
    """
    b_star = slo_batch_count(params)
    # The batch slots c are the SLO batch without the TTFT bound (KV, stack and TPOT limits);
    # asking the sizing rule itself keeps one statement of it.
    slots_params = params.copy()
    slots_params[I_TTFT_SLO] = math.inf
    slots = slo_batch_count(slots_params)
    clock_star = clock_frac_for_cap(params, b_star, params[I_TDP_W])
    x_star = replica_state(params, b_star, clock_star)[0]
    n = util_frac.shape[0]
    attainment = np.ones(n)
    latency = np.empty((4, n))
    out_tok = params[I_OUTPUT_TOK]
    for i in range(n):
        batch = 0.0
        if util_frac[i] > 0.0:
            batch = b_star
            if util_frac[i] < 1.0:
                batch = _batch_at_throughput(params, b_star, util_frac[i] * x_star)
        clock = clock_frac_for_cap(params, max(batch, 1.0), params[I_TDP_W])
        x_tok_per_s, itl_s, _ = replica_state(params, batch, clock)
        prefill_s = replica_prefill_time_s(params, clock)
        busy_frac = x_tok_per_s * prefill_s / out_tok
        decode_s = out_tok * itl_s
        cv_out = params[I_OUTPUT_CV]
        cv_in = params[I_INPUT_CV]
        attainment[i] = 1.0 - replica_ttft_miss_frac(
            slots, batch, prefill_s, decode_s, cv_out, cv_in, busy_frac, params[I_TTFT_SLO]
        )
        for row, q in ((0, 0.5), (1, 0.99)):
            latency[row, i] = replica_ttft_quantile_s(
                slots, batch, prefill_s, decode_s, cv_out, cv_in, busy_frac, q
            )
            shared = inservice_batch_quantile_count(slots, batch, q)
            latency[row + 2, i] = replica_state(params, shared, clock)[1]
    return attainment, latency
