"""The failure process's cached rates pick the (cell, cause) NumPy's searchsorted picks."""

from __future__ import annotations

import bisect

import numpy as np

from dcsim.sim.failures import _Rates


def test_cached_rates_follow_the_counts_and_pick_as_searchsorted():
    rng = np.random.default_rng(3)
    per_rack = rng.uniform(1e-8, 1e-6, (72, 5))  # (cell, cause) failures per rack [1/s]
    rates = _Rates(per_rack)
    for _ in range(20):
        up = rng.integers(0, 140, 72)
        up[rng.integers(72)] = 0  # an empty cell draws nothing
        r = rates.at(up)
        # Independent sums: total = sum_c up_c * sum_k rate_ck; cum over the flattened grid.
        assert r.total == float(np.dot(up, per_rack.sum(axis=1)))
        cum = np.cumsum((up[:, None] * per_rack).ravel())
        assert r.cum == cum.tolist()
        u = rng.random(200) * cum[-1]
        want = np.minimum(np.searchsorted(cum, u, side="right"), cum.size - 1)
        got = [min(bisect.bisect_right(r.cum, x), len(r.cum) - 1) for x in u.tolist()]
        assert got == want.tolist()
        # A pick never lands on a (cell, cause) with no rate: its cumulative step is empty.
        assert all(up[g // 5] > 0 for g in got)
    # Unchanged counts: the same lists, not recomputed.
    again = rates.at(up.copy())
    assert again.cum is r.cum
