"""The replay's per-pool series from the window record, by hand."""

from __future__ import annotations

import numpy as np
from numpy.testing import assert_allclose

from dcsim.kernels import window_layout as WL
from dcsim.physics.compute import I_IDLE_W, I_MIN_POWER_LIMIT_W, I_POWER_LIMIT_W, PARAMS_COUNT
from dcsim.physics.compute import I_REPLICAS_PER_RACK as I_REP
from dcsim.windows.replay import pool_series


def _params(min_w: float) -> np.ndarray:
    p = np.zeros(PARAMS_COUNT)
    p[I_IDLE_W], p[I_MIN_POWER_LIMIT_W], p[I_POWER_LIMIT_W], p[I_REP] = 150.0, min_w, 1200.0, 2.0
    return p


def _record(cap_frac: float) -> np.ndarray:
    # One tick, two cells of the pool: 10 racks at the given cap, 30 racks uncapped; each
    # serving rack is offered 1,000 tok/s.
    rec = np.zeros((1, 2, WL.WR_NCOLS))
    rec[0, :, WL.WR_OFFERED_RACK] = 1000.0
    rec[0, :, WL.WR_SERVING] = [10.0, 30.0]
    rec[0, :, WL.WR_CAP] = [cap_frac, 1.0]
    return rec


def test_caps_above_the_lowest_limit_weigh_the_racks():
    # Cap 0.5 >= 200 / 1200: all 40 racks run; mean cap (10 x 0.5 + 30 x 1) / 40 = 0.875;
    # 40,000 tok/s over 40 racks x 2 replicas at 100 output tokens = 5 req/s per replica.
    rate, cap, racks = pool_series(_record(0.5), np.array([0, 1]), _params(200.0), 100.0)
    assert_allclose(racks, [40.0])
    assert_allclose(cap, [0.875])
    assert_allclose(rate, [40_000.0 / 100.0 / 80.0])


def test_a_cap_below_the_lowest_limit_runs_a_share_of_the_racks_at_it():
    # Cap 0.1 = 120 W below the 200 W minimum: 120 / 200 = 0.6 of the 10 racks run (6), at
    # 200 W = 1/6 of the limit; the cell's 10,000 tok/s go to them. Racks 36, mean cap
    # (6 / 6 + 30) / 36, rate 40,000 / 100 / (36 x 2).
    rate, cap, racks = pool_series(_record(0.1), np.array([0, 1]), _params(200.0), 100.0)
    assert_allclose(racks, [36.0])
    assert_allclose(cap, [(6.0 / 6.0 + 30.0) / 36.0])
    assert_allclose(rate, [40_000.0 / 100.0 / 72.0])
