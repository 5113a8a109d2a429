"""Per-pool tables for the per-tick kernel, built once at start-up from the compute core.

The compute core (:func:`dcsim.kernels.oppoints.build_operating_table`) answers "what does a
rack deliver and draw at offered load l (share of X*) and cap c". The kernel wants load
against the *capped* capacity (see :mod:`dcsim.kernels.tables`), so each cap column is built
on its own load grid ``l = u * X_c / X*``; the tables then have no kink at "capacity reached".
SLO attainment and the latency percentiles (TTFT and TPOT, p50 and p99) are tabulated against
the GPU power cap and the utilisation u of the capacity at that cap, with the request queue of
:mod:`dcsim.physics.queueing`, the same queue that rates ``X*``: at the board power limit and
u = 1 the attainment is the SLO's quantile (e.g. 0.99) by construction, below it higher; under
a lower cap the clock drops, prefill and every decode step take longer, and the same
utilisation gives longer latencies (docs/queueing.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from dcsim.kernels.oppoints import build_operating_table, pool_operating_point, slo_batch_count
from dcsim.model.pool import PoolSpec
from dcsim.physics.compute import (
    I_IDLE_W,
    I_INPUT_CV,
    I_OUTPUT_CV,
    I_OUTPUT_TOK,
    I_POWER_LIMIT_W,
    I_TTFT_SLO,
    clock_frac_for_cap,
    lowest_limit_w,
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
#: Caps of the latency tables, from just above idle power to the board power limit: the
#: latencies grow like 1 / clock as the cap falls, smooth enough for 21 columns.
N_LAT_CAP = 21
#: Clock ratio standing for "near zero" in the power floor of the latency grid (at zero the
#: step time, and so the power model's activity share, is undefined) [-].
CLOCK_NEAR_ZERO_FRAC = 1e-6


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
        Share of requests within the TTFT bound at each cap of :func:`latency_cap_grid`
        (rows) and utilisation ``u`` of the capacity at that cap (grid
        ``linspace(0, 1, N_SLO)``), shape (N_LAT_CAP, N_SLO) [0..1]; the SLO quantile at the
        board power limit and u = 1, 1 for offline pools.
    ttft_p50_s, ttft_p99_s
        Median and 99th percentile of the time to first token on the same grid, shape
        (N_LAT_CAP, N_SLO) [s]; NaN for offline pools (no request queue is modelled).
    tpot_p50_s, tpot_p99_s
        Median and 99th percentile of the time per output token on the same grid, shape
        (N_LAT_CAP, N_SLO) [s]: the inter-token latency at the batch a decoding request
        shares, at that quantile (:func:`dcsim.physics.queueing.inservice_batch_quantile_count`);
        NaN for offline pools.
    lat_cap_lo_frac
        Lowest cap of the latency grid, a share of the board power limit [frac].
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
    lat_cap_lo_frac: float = 0.0


def latency_cap_grid(params, b_star: float) -> np.ndarray:
    """Caps of the latency tables, shares of the board power limit [frac].

    ``N_LAT_CAP`` caps evenly spaced from one grid step above the lowest cap at which the
    replica still serves its SLO batch (the GPU power of ``B*`` as the clock goes to zero, at
    least the idle power: below it the capacity and the clock are zero and every latency
    infinite) to the limit; or from the chip's lowest settable limit when that is higher
    (caps below it run a share of the racks at it). The kernel reads caps below the first
    one at the first one.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector.
    b_star : float
        SLO batch per replica [-].
    """
    limit_w = params[I_POWER_LIMIT_W]
    # The GPU power of the SLO batch at a clock near zero (at zero the step time is infinite).
    floor_w = replica_state(params, max(b_star, 1.0), CLOCK_NEAR_ZERO_FRAC)[2]
    floor_w = max(params[I_IDLE_W], floor_w)
    if lowest_limit_w(params) > floor_w:
        # The lowest settable limit binds first: the grid starts at it (a lower cap runs a
        # share of the racks at it, with its latencies, and parks the rest).
        return np.linspace(min(lowest_limit_w(params) / limit_w, 1.0), 1.0, N_LAT_CAP)
    floor_frac = min(floor_w / limit_w, 1.0)
    step = (1.0 - floor_frac) / N_LAT_CAP
    return np.linspace(floor_frac + step, 1.0, N_LAT_CAP)


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
    caps = latency_cap_grid(params, b_star)
    slo = np.ones((N_LAT_CAP, N_SLO))
    latency = np.full((4, N_LAT_CAP, N_SLO), np.nan)
    if spec.ttft_slo_s is not None and b_star > 0:
        for i, cap in enumerate(caps):
            slo[i], latency[:, i] = latency_tables(params, u_slo, cap * params[I_POWER_LIMIT_W])
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
        lat_cap_lo_frac=float(caps[0]),
    )


@numba.njit(cache=True)
def _batch_at_throughput(params, b_star, target_tok_per_s, cap_w):
    # Replica throughput rises with the batch at the cap-limited clock, so bisection brackets
    # the batch that serves a target below X(B*).
    lo = 0.0
    hi = b_star
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        # A mean batch below one runs single requests: their clock (as the tables below).
        clock = clock_frac_for_cap(params, max(mid, 1.0), cap_w)
        if replica_state(params, mid, clock)[0] > target_tok_per_s:
            hi = mid
        else:
            lo = mid
        if hi - lo <= 1e-13 * hi:
            break
    return 0.5 * (lo + hi)


@numba.njit(cache=True)
def latency_tables(params, util_frac, cap_w):
    """SLO attainment and latency percentiles of one replica against utilisation [-, s].

    Under a GPU power cap ``cap_w`` the replica's capacity is ``X_c = X(B*, r_c(B*))``, the
    SLO batch at the highest clock ``r_c`` that holds the cap (as the operating tables). At
    utilisation ``u`` of it the replica runs the mean batch ``B_u`` with
    ``X(B_u, r_c(B_u)) = u X_c``; its request queue
    (:mod:`dcsim.physics.queueing`: ``c`` TPOT-limited slots, occupancy ``B_u``, residence
    ``t_pf + L_out ITL(B_u)``, prefill share ``X t_pf / L_out``) gives the share of requests
    within the TTFT bound and the TTFT quantiles. TPOT at a quantile is the inter-token
    latency at the batch a decoding request shares at that quantile (the batch fluctuates
    while the request decodes, so this bounds the per-request mean from above). ``B*`` solves
    attainment = SLO quantile at the board power limit, so there the attainment at ``u = 1``
    is that quantile; a lower cap slows every step and lowers it.

    Parameters
    ----------
    params : numpy.ndarray
        Pool parameter vector of an interactive pool with ``B* > 0``.
    util_frac : numpy.ndarray
        Utilisations of ``X_c`` in [0, 1], ascending [-].
    cap_w : float
        GPU power cap, above the idle power [W] (at or above the board power limit: no cap).

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
    clock_star = clock_frac_for_cap(params, b_star, cap_w)
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
                batch = _batch_at_throughput(params, b_star, util_frac[i] * x_star, cap_w)
        clock = clock_frac_for_cap(params, max(batch, 1.0), cap_w)
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
