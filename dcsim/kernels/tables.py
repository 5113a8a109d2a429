"""Lookup in the stacked operating-point tables on uniform [0, 1] grids.

Two tables per pool, both on a cap grid ``c_j = j / (n_c - 1)`` (GPU power cap / TDP):

- ``tab_xcap[pool, j]``: rack capacity at cap ``c_j`` [tok/s];
- ``tab_p[pool, i, j]``: rack wall power when it delivers the share ``u_i = i / (n_u - 1)`` of
  that capacity [W].

Load is expressed against the *capped* capacity so that "running at capacity" is a grid line
(u = 1) for every cap: the tables have no kink to interpolate across, and delivered rate is
exactly ``u * capacity``.
"""

from __future__ import annotations

from numba import njit

from dcsim.kernels.oppoints import interp2_table


@njit(cache=True, _nrt=False)
def interp_table(table, pool, load_frac, cap_frac):
    """Bilinear interpolation in ``table[pool]`` on uniform grids over [0, 1] x [0, 1].

    Parameters
    ----------
    table
        Stacked table, shape (n_pool, n_load, n_cap); grid point (i, j) is at
        load ``i / (n_load - 1)``, cap ``j / (n_cap - 1)`` [unit of the table].
    pool
        Pool index [-].
    load_frac
        Delivered rate as a share of the rack's capacity at this cap [0..1]; clipped.
    cap_frac
        GPU power cap as a share of TDP [0..1]; clipped.

    Returns
    -------
    Interpolated value [unit of the table].
    """
    # One bilinear rule for the whole package: the compute core's, on this pool's slice.
    return interp2_table(table[pool], load_frac, cap_frac)


@njit(cache=True, _nrt=False)
def interp_cap(table, pool, cap_frac):
    """Linear interpolation in ``table[pool]`` on a uniform grid over [0, 1].

    Parameters
    ----------
    table
        Stacked table, shape (n_pool, n_cap) [unit of the table].
    pool
        Pool index [-].
    cap_frac
        GPU power cap as a share of TDP [0..1]; clipped.

    Returns
    -------
    Interpolated value [unit of the table].
    """
    n_c = table.shape[1]
    y = min(max(cap_frac, 0.0), 1.0) * (n_c - 1)
    j = min(int(y), n_c - 2)
    fy = y - j
    return table[pool, j] * (1.0 - fy) + table[pool, j + 1] * fy
