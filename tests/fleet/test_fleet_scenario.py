"""The shipped fleet (scenarios/fleet-regions.yaml): routing by round trip, books that close."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dcsim
from dcsim.model.checks import load_scenario
from dcsim.model.plant import build_plant
from dcsim.scenario import scenario_catalog

FLEET = Path(__file__).resolve().parents[2] / "scenarios" / "fleet-regions.yaml"


@pytest.fixture(scope="module")
def fleet_1d():
    return dcsim.run(FLEET, overrides={"horizon_s": "1d"})


def test_the_fleet_has_three_central_campuses_six_edges_and_three_time_zones():
    sc = load_scenario(FLEET)
    feeds_mw = {s.name: sum(h.feed_mw for b in s.buildings for h in b.halls) for s in sc.sites}
    central = [n for n, mw in feeds_mw.items() if mw >= 100]
    edge = [n for n, mw in feeds_mw.items() if 1 <= mw <= 20]
    assert len(central) >= 3 and len(edge) >= 6
    assert len({s.carbon.intensity.type + str(s.weather.file) for s in sc.sites}) == 9
    assert len({r.utc_offset_h for r in sc.regions}) >= 3
    assert sc.horizon_s == 365 * 86400 and sc.tick_s == 60


def test_round_trips_follow_the_great_circle_by_hand():
    sc = load_scenario(FLEET)
    plant = build_plant(sc, scenario_catalog(sc))
    rtt = plant.regions.rtt_s
    r = plant.regions.names.index("na-east")
    s = plant.site_names.index("ashburn")
    # New York (40.71, -74.01) - Ashburn (38.97, -77.47), flat-earth by hand: 1.74 deg of
    # latitude, 3.46 x cos(39.84 deg) = 2.657 deg of longitude, hypotenuse 3.176 deg =
    # 0.05543 rad x 6371 km = 353 km; 2 x 353 km x 2.1 x 1.468 / c = 7.26 ms.
    assert rtt[r, s] == pytest.approx(2 * 353e3 * 2.1 * 1.468 / 299_792_458.0, rel=5e-3)
    # The nearest site of each region, by hand: San Francisco - Phoenix 9.53 deg (1,060 km)
    # beats San Francisco - Quincy 9.78 deg (1,087 km); Frankfurt users sit at frankfurt.
    nearest = {
        name: plant.site_names[int(np.argmin(rtt[i]))] for i, name in enumerate(plant.regions.names)
    }
    assert nearest == {"na-east": "ashburn", "na-west": "phoenix", "europe": "frankfurt"}


def test_the_fleet_day_closes_its_books(fleet_1d):
    res = fleet_1d
    k = res.kpis
    assert k["energy_balance_residual_frac"] < 1e-9
    rt = res.extra_tables["region_timeseries"]
    assert set(rt["region"]) == {"na-east", "na-west", "europe"}
    # Served by region and class adds up to the campus series; shares of sites sum to 1.
    by_time = rt.groupby("time")["served_tok_per_s"].sum().to_numpy()
    np.testing.assert_allclose(by_time, res.timeseries["served_tok_per_s"].to_numpy(), rtol=1e-9)
    shares = rt.filter(like=".served_frac").sum(axis=1)
    np.testing.assert_allclose(shares[rt["served_tok_per_s"] > 0], 1.0, rtol=1e-9)
    # Interactive load never travels further than its SLO leaves room for.
    chat = rt[rt["class"] == "chat"]
    assert (chat["rtt_mean_s"] < 2.0).all()


def test_nearest_serves_european_chat_in_europe_first(fleet_1d):
    rt = fleet_1d.extra_tables["region_timeseries"]
    eu = rt[(rt["region"] == "europe") & (rt["class"] == "chat")]
    w = eu["served_tok_per_s"]
    in_us = sum((eu[f"{s}.served_frac"] * w).sum() for s in ("texas", "quincy", "ashburn"))
    assert in_us == pytest.approx(0.0, abs=1e-6 * w.sum())


@pytest.mark.slow
def test_the_fleet_year_runs():
    res = dcsim.run(FLEET)
    k = res.kpis
    assert k["energy_balance_residual_frac"] < 1e-9
    assert len(res.extra_tables["region_timeseries"]) == 365 * 24 * 3 * 2
    assert k["served_tok"] > 0
