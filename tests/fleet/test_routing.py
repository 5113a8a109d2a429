"""Routing of user regions to sites: the two-region hand case of ``two_regions.yaml``.

east: cheap (40 USD/MWh) and carbon-heavy (600 kg/MWh); west: dear (90) and clean (50).
Each region is 10 ms from its own site and 70 ms from the other. Both sites hold 4 identical
GB200 NVL72 chat racks, so by hand: ``nearest`` keeps each region at home, ``cost`` sends both
to east, ``carbon`` both to west; above west's room the rest spills to east (or, without
spill-over, is unserved). The room of a site for a region is its capacity times the
utilisation at which TTFT p99 + round trip reaches ``ttft_s`` (checked here against the
pool's own latency table, interpolated by NumPy).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dcsim
from dcsim.model.checks import load_scenario
from dcsim.model.plant import build_plant
from dcsim.scenario import scenario_catalog

HERE = Path(__file__).parent
TWO = HERE / "two_regions.yaml"


def _run(**overrides):
    return dcsim.run(TWO, overrides=overrides)


def _shares(res) -> dict[str, dict[str, float]]:
    """Mean served share of each site per region, and the served totals [tok/s]."""
    rt = res.extra_tables["region_timeseries"]
    out = {}
    for region, g in rt.groupby("region"):
        out[region] = {
            "east": float((g["east.served_frac"] * g["served_tok_per_s"]).sum()),
            "west": float((g["west.served_frac"] * g["served_tok_per_s"]).sum()),
            "served": float(g["served_tok_per_s"].sum()),
            "demand": float(g["demand_tok_per_s"].sum()),
            "unserved": float(g["unserved_tok_per_s"].sum()),
            "rtt": float(np.nanmean(g["rtt_mean_s"])),
        }
    return out


@pytest.fixture(scope="module")
def plant():
    sc = load_scenario(TWO)
    return build_plant(sc, scenario_catalog(sc))


def _room_tok_per_s(plant, rtt_s: float) -> float:
    """Capacity of one site's 4 racks within TTFT p99 + rtt <= 2 s, by NumPy [tok/s].

    TTFT p99 rises with the utilisation, so the ceiling is the inverse interpolation of the
    pool's table at the budget 2 s - rtt (an independent route to the same number).
    """
    ttft = plant.tab_latency[0, 1, -1]  # at the board power limit, as the routing reads it
    u = np.linspace(0.0, 1.0, ttft.shape[0])
    u_max = float(np.interp(2.0 - rtt_s, ttft, u, left=0.0, right=1.0))
    return 4.0 * plant.tab_xcap[0, -1] * u_max


def test_nearest_keeps_each_region_at_its_own_site():
    sh = _shares(_run())
    assert sh["us-east"]["east"] == pytest.approx(sh["us-east"]["served"], rel=1e-12)
    assert sh["us-west"]["west"] == pytest.approx(sh["us-west"]["served"], rel=1e-12)
    assert sh["us-east"]["rtt"] == pytest.approx(0.010, rel=1e-12)
    assert sh["us-west"]["rtt"] == pytest.approx(0.010, rel=1e-12)
    for r in sh.values():
        assert r["served"] == pytest.approx(r["demand"], rel=1e-12)  # 30 % of the fleet fits


def test_cost_sends_both_regions_to_the_cheap_site():
    sh = _shares(_run(**{"routing.policy": "cost"}))
    for region in ("us-east", "us-west"):
        assert sh[region]["east"] == pytest.approx(sh[region]["served"], rel=1e-12)
    assert sh["us-west"]["rtt"] == pytest.approx(0.070, rel=1e-12)


def test_carbon_sends_both_regions_to_the_clean_site():
    sh = _shares(_run(**{"routing.policy": "carbon"}))
    for region in ("us-east", "us-west"):
        assert sh[region]["west"] == pytest.approx(sh[region]["served"], rel=1e-12)
    assert sh["us-east"]["rtt"] == pytest.approx(0.070, rel=1e-12)


def test_carbon_spills_over_to_the_next_site_when_the_clean_one_is_full(plant):
    # Demand 80 % of the fleet = 160 % of one site: us-east (first in order) fills west up to
    # its room at 70 ms; us-west then fills west up to its room at 10 ms (the larger) and
    # spills the rest to east. So west carries its 10 ms room, east the remainder.
    res = _run(**{"routing.policy": "carbon", "workloads.chat.demand.base_capacity_frac": 0.8})
    rt = res.extra_tables["region_timeseries"]
    row = rt[rt["region"] == "us-west"].iloc[0]
    d_row = float(rt[rt["region"] == "us-east"].iloc[0]["demand_tok_per_s"])
    west_total = d_row + row["west.served_frac"] * row["served_tok_per_s"]
    assert west_total == pytest.approx(_room_tok_per_s(plant, 0.010), rel=1e-6)
    east = row["east.served_frac"] * row["served_tok_per_s"]
    assert east == pytest.approx(2 * d_row - west_total, rel=1e-9)
    assert res.kpis["unserved_tok"] == pytest.approx(0.0, abs=1e-6)
    # Energy balance and token bookkeeping still close with routing.
    assert res.kpis["energy_balance_residual_frac"] < 1e-9
    by_time = rt.groupby("time")["served_tok_per_s"].sum().to_numpy()
    np.testing.assert_allclose(by_time, res.timeseries["served_tok_per_s"].to_numpy(), rtol=1e-12)


def test_without_spill_over_what_does_not_fit_the_first_site_is_unserved(plant):
    res = _run(
        **{
            "routing.policy": "carbon",
            "routing.spill_over": False,
            "workloads.chat.demand.base_capacity_frac": 0.8,
        }
    )
    sh = _shares(res)
    n_rows = 6
    room_w = _room_tok_per_s(plant, 0.010) * n_rows
    assert sh["us-east"]["unserved"] == pytest.approx(0.0, abs=1e-6)
    assert sh["us-west"]["east"] == pytest.approx(0.0, abs=1e-9)
    # us-west gets what us-east left of west's room; the rest of its demand is lost.
    assert sh["us-west"]["served"] == pytest.approx(room_w - sh["us-east"]["served"], rel=1e-6)
    assert sh["us-west"]["unserved"] == pytest.approx(
        sh["us-west"]["demand"] - sh["us-west"]["served"], rel=1e-9
    )


def test_the_slo_including_the_round_trip_excludes_a_far_site(plant):
    # An idle rack's TTFT p99 (66 ms) plus 1.95 s is over the 2 s SLO: west is not eligible for
    # us-east, which stays at the carbon-heavy east although the policy prefers west.
    assert plant.tab_latency[0, 1, -1, 0] + 1.95 > 2.0
    res = _run(**{"routing.policy": "carbon", "latency.rtt_s.us-east.west": "1.95s"})
    sh = _shares(res)
    assert sh["us-east"]["east"] == pytest.approx(sh["us-east"]["served"], rel=1e-12)
    assert sh["us-east"]["rtt"] == pytest.approx(0.010, rel=1e-12)
    assert sh["us-west"]["west"] == pytest.approx(sh["us-west"]["served"], rel=1e-12)


def test_a_region_with_its_own_demand_block(plant):
    # us-west's own flat 50,000 tok/s replaces its share; us-east keeps the whole workload
    # block (share 1): 30 % of the 8 racks' capacity, flat.
    res = _run(
        **{
            "regions.0.demand": {"chat": {"share_frac": 1.0}},
            "regions.1.demand": {
                "chat": {"demand": {"base_tok_per_s": 50000, "daily_profile_frac": "flat"}}
            },
        }
    )
    sh = _shares(res)
    assert sh["us-west"]["demand"] == pytest.approx(6 * 50000.0, rel=1e-12)
    full_tok_per_s = 8 * float(plant.x_star[0])  # what base_capacity_frac is relative to
    assert sh["us-east"]["demand"] == pytest.approx(6 * 0.3 * full_tok_per_s, rel=1e-9)
