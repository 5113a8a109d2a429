"""The compiled routing step against a plain-Python reference; local time; great-circle RTT."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from dcsim.kernels.stages.route import fill_routes
from dcsim.model.plant import ClassDemand
from dcsim.model.regions import great_circle_m, great_circle_rtt_s, utilisation_ceiling_frac
from dcsim.sim.demand import class_demand_tok_per_s


def reference_fill(offered_kr, room, order, spill_over):
    """Rank by rank, regions in order; each takes what is left of its room at the site."""
    n_class, n_region, n_site = room.shape
    assigned = np.zeros_like(room)
    at_site = np.zeros((n_class, n_site))
    for k in range(n_class):
        left = offered_kr[k].astype(float).copy()
        done = np.zeros(n_region, dtype=bool)  # without spill-over: used its first site
        for j in range(n_site):
            for r in range(n_region):
                if left[r] <= 0 or done[r]:
                    continue
                s = order[k, r, j]
                if room[k, r, s] <= 0:
                    continue
                take = min(left[r], max(room[k, r, s] - at_site[k, s], 0.0))
                assigned[k, r, s] += take
                at_site[k, s] += take
                left[r] -= take
                done[r] = not spill_over
    return assigned, at_site


@pytest.mark.parametrize("spill_over", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_compiled_fill_matches_the_reference(seed, spill_over):
    rng = np.random.default_rng(seed)
    n_class, n_region, n_site = 2, 3, 5
    offered = rng.uniform(0, 10, (n_class, n_region))
    room = rng.uniform(0, 6, (n_class, n_region, n_site))
    room[rng.random(room.shape) < 0.3] = 0.0  # some sites not eligible
    order = np.stack(
        [np.stack([rng.permutation(n_site) for _ in range(n_region)]) for _ in range(n_class)]
    ).astype(np.int64)
    assigned = np.zeros_like(room)
    at_site = np.zeros((n_class, n_site))
    fill_routes(offered, room, order, spill_over, assigned, at_site)
    ref_a, ref_s = reference_fill(offered, room, order, spill_over)
    np.testing.assert_allclose(assigned, ref_a, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(at_site, ref_s, rtol=1e-12, atol=1e-12)
    # Invariants: no region places more than it offered; a site carries no more than the
    # largest room of the regions that placed load there.
    assert (assigned.sum(axis=2) <= offered + 1e-12).all()
    used_room = np.where(assigned > 0, room, 0.0).max(axis=1)
    assert (at_site <= used_room + 1e-12).all()


def test_a_region_is_served_in_policy_order_by_hand():
    # One class, two regions, two sites of room 5 each; region 0 wants 7, region 1 wants 4,
    # both prefer site 0. Rank 0: r0 takes 5 of site 0, r1 finds it full. Rank 1: r0 puts its
    # last 2 at site 1, r1 its 4 there (room 5 - 2 = 3, so 3): 1 tok/s is unplaced.
    room = np.full((1, 2, 2), 5.0)
    order = np.zeros((1, 2, 2), dtype=np.int64)
    order[0, :, 1] = 1
    assigned = np.zeros((1, 2, 2))
    at_site = np.zeros((1, 2))
    fill_routes(np.array([[7.0, 4.0]]), room, order, True, assigned, at_site)
    np.testing.assert_array_equal(assigned[0], [[5.0, 2.0], [0.0, 3.0]])
    np.testing.assert_array_equal(at_site[0], [5.0, 5.0])


def test_demand_peaks_shift_by_the_utc_offset_difference():
    # The same interactive day in two regions 3 h apart: the region 3 h behind UTC-wise
    # (UTC-8 vs UTC-5) peaks 3 h later on the scenario's clock, at every hour of the day.
    daily = np.array([0.3] * 7 + [1.0, 1.4, 1.8, 2.0, 1.6] + [1.2] * 12)
    cd = ClassDemand(1000.0, daily, np.ones(7), 0.0, 0.0, 3600.0, np.empty((0, 3)))
    t_s = (np.arange(2 * 1440) + 0.5) * 60.0
    start = dt.datetime(2027, 1, 4)  # scenario clock: site 0 local time, UTC-5
    east = class_demand_tok_per_s(t_s, start, cd, None)  # no noise (sigma 0)
    west_start = start + dt.timedelta(hours=-8 - (-5))
    west = class_demand_tok_per_s(t_s, west_start, cd, None)
    assert (np.argmax(west[:1440]) - np.argmax(east[:1440])) * 60.0 == 3 * 3600.0
    np.testing.assert_allclose(west[180:], east[:-180], rtol=1e-12)
    assert east.mean() == pytest.approx(1000.0, rel=1e-12)  # profile normalised to mean 1


def test_great_circle_distance_and_rtt_by_hand():
    # London Heathrow - New York JFK: 5,540 km great circle (published airport distance
    # 5,555 km on the WGS84 ellipsoid; a sphere of the mean radius is within 0.5 %).
    d_m = great_circle_m(51.47, -0.4543, 40.6413, -73.7781)
    assert d_m == pytest.approx(5.555e6, rel=5e-3)
    # 2 x 1000 km x 2.1 x 1.468 / c = 20.57 ms.
    assert great_circle_rtt_s(1e6, 2.1, 1.468) == pytest.approx(
        2 * 1e6 * 2.1 * 1.468 / 299_792_458.0, rel=1e-15
    )
    assert great_circle_rtt_s(1e6, 2.1, 1.468) == pytest.approx(0.02057, rel=1e-3)


def test_utilisation_ceiling_by_hand():
    ttft = np.array([0.2, 0.3, 0.5, 1.0, 3.0])  # on u = 0, .25, .5, .75, 1
    assert utilisation_ceiling_frac(ttft, 2.0, 0.0) == pytest.approx(0.75 + 0.25 * 0.5)
    assert utilisation_ceiling_frac(ttft, 2.0, 1.9) == 0.0  # idle already over 0.1 s
    assert utilisation_ceiling_frac(ttft, 4.0, 0.5) == 1.0
    assert utilisation_ceiling_frac(ttft, 0.6, 0.2) == pytest.approx(0.25 + 0.25 * 0.5)
