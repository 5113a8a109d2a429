"""Per-pool tables for the per-tick kernel, built once at start-up from the compute core.

The compute core (:func:`dcsim.kernels.oppoints.build_operating_table`) answers "what does a
rack deliver and draw at offered load l (share of X*) and cap c". The kernel wants load
against the *capped* capacity (see :mod:`dcsim.kernels.tables`), so each cap column is built
on its own load grid ``l = u * X_c / X*``; the tables then have no kink at "capacity reached".
SLO attainment is tabulated against that same utilisation u with an M/M/c queue per replica
(:mod:`dcsim.physics.queueing`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dcsim.kernels.oppoints import build_operating_table, pool_operating_point
from dcsim.model.pool import PoolSpec
from dcsim.physics.queueing import attainment_table

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
        Share of requests within the TTFT budget at each utilisation, shape (N_SLO,) [0..1].
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
    b_star, x_replica, itl_s, _, _, _, _ = pool_operating_point(params)
    u_slo = np.linspace(0.0, 1.0, N_SLO)
    if spec.ttft_slo_s is not None and b_star > 0:
        # One replica = an M/M/c queue with c = B* request slots; a request holds its slot
        # for its decode time L_out * ITL; it must start within the TTFT budget.
        service_s = spec.output_tok * itl_s
        slots = max(int(np.floor(b_star)), 1)
        slo = attainment_table(slots, service_s, spec.ttft_slo_s, u_slo)
    else:
        slo = np.ones(N_SLO)
    return PoolTables(
        x_cap_tok_per_s=x_cap,
        p_rack_w=p_rack,
        slo_attainment_frac=slo,
        x_star_tok_per_s=float(x_star),
        b_star=float(b_star),
        itl_s=float(itl_s),
    )
