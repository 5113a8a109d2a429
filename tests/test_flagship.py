"""The flagship gw-campus binds: each behaviour its YAML comments promise, on the shipped files.

Each test runs a short window where the behaviour occurs (``start`` / ``horizon_s``
overrides). Demand in dcsim grows from the run's own start, so a window late in the year sets
the demand levels the full year reaches there (computed below from the shipped base and
growth); with a start after the build-out dates the whole campus is in service.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import dcsim

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
#: Full build-out: 2027-11-18 is 318 days after the 2027-01-04 start.
FULL_BUILD_START = "2027-11-18"
T_FULL_Y = 318 / 365


def _level_at(sc, t_y: float) -> dict[str, float]:
    """Demand level [frac of the finished campus] the full year reaches at t_y [y].

    Same law as dcsim.physics.demand: base x (1 + growth)^t.
    """
    out = {}
    for i, w in enumerate(sc.workloads):
        d = w.demand
        out[f"workloads.{i}.demand.base_capacity_frac"] = (
            d.base_capacity_frac * (1.0 + d.growth_per_y_frac) ** t_y
        )
    return out


@pytest.fixture(scope="module")
def full_build_curtailed():
    """A Thursday afternoon at full build-out with a full-depth 3 h curtailment at 14:00."""
    sc = dcsim.load_scenario(SCENARIOS / "gw-campus.yaml")
    levels = _level_at(sc, T_FULL_Y)
    # By hand: chat 0.11 x 10^0.871 = 0.82, reasoning 0.10 x 10^0.871 = 0.74, batch
    # 0.2 x 8^0.871 = 1.22 of the finished campus: afternoon peaks (1.3x) exceed it.
    assert levels["workloads.0.demand.base_capacity_frac"] == pytest.approx(0.817, abs=0.01)
    overrides = {
        "start": f"{FULL_BUILD_START}T12:00",
        "horizon_s": "6h",
        "sites.campus.grid.curtailment.events": [
            {"start": f"{FULL_BUILD_START}T14:00", "duration_s": "3h", "depth_frac": 1.0}
        ],
        **levels,
    }
    return dcsim.run(sc, overrides=overrides)


@pytest.mark.slow  # ~25 s: building the 9,600-rack plant dominates, not the window
def test_full_build_out_reaches_850_mw(full_build_curtailed):
    res = full_build_curtailed
    # 9,600 racks at SLO-bound capacity draw ~75 kW (GB200) / ~82 kW (GB300): IT ~755 MW,
    # x ~1.13 PUE -> ~850 MW, under the 1,050 MW connection.
    assert 9_500 * 72 < res.kpis["mean_gpus_in_service_count"] <= 9_600 * 72
    assert 850e6 <= res.kpis["peak_facility_power_w"] <= 1050e6
    # Demand above capacity: batch (and peak-hour interactive) work is left unserved.
    assert (
        res.timeseries["batch.demand_tok_per_s"].mean()
        > res.timeseries["batch.capacity_tok_per_s"].mean()
    )


@pytest.mark.slow
def test_curtailment_at_load_battery_then_turbines(full_build_curtailed):
    res = full_build_curtailed
    ev = res.events
    t_dis = ev.loc[ev["kind"] == "battery_discharge", "time"]
    t_turb = ev.loc[ev["kind"] == "turbine_start", "time"]
    t_cur = ev.loc[ev["kind"] == "grid_curtailment_start", "time"]
    assert len(t_cur) == 1 and len(t_dis) >= 1 and len(t_turb) >= 1
    # The battery answers in the first tick of the curtailment; turbines are ordered at the
    # same time but synchronise after their 10-min start delay (grid_defaults.yaml).
    assert t_cur.iloc[0] <= t_dis.iloc[0] <= t_turb.iloc[0]
    # The scenario's dates are the campus's wall clock: slice the UTC series in local time.
    ts = res.timeseries.tz_convert(res.local_time().dt.tz)
    during = ts.loc[f"{FULL_BUILD_START} 14:00" : f"{FULL_BUILD_START} 16:45"]
    # Full depth leaves the 700 MW firm block: import never exceeds it during the event.
    assert (during["grid_import_w"] <= 700e6 * (1 + 1e-9)).all()
    assert (during["facility_power_w"] > 700e6).any()  # the curtailment hits load
    assert during["battery_w"].max() > 0.0
    assert during["turbine_w"].max() > 0.0
    # Sources close the balance: facility = import + turbines + battery (no solar, no clean).
    np.testing.assert_allclose(
        during["facility_power_w"],
        during["grid_import_w"] + during["turbine_w"] + during["battery_w"] + during["unmet_w"],
        rtol=1e-9,
    )
    # Battery (350 MW) and turbines (10 x 35 MW) cover the 150 MW gap: nothing unmet.
    assert during["unmet_w"].max() == pytest.approx(0.0, abs=1e-3)


def test_min_take_bills_the_empty_campus():
    """January: only b1 serves (~135 MW), far below 85% of the 1,050 MW contract."""
    sc = dcsim.load_scenario(SCENARIOS / "gw-campus.yaml")
    res = dcsim.run(sc, overrides={"horizon_s": "6h"})
    ts = res.timeseries
    peak_w = ts["grid_import_w"].max()  # 15-min rows: the row maximum is the 15-min peak
    assert peak_w < 0.85 * 1050e6
    # Hand calculation: billed demand max(peak, 0.85 x 1,050 MW); the minimum-take charge is
    # the demand charge (5 USD/kW-month) on the gap, prorated by 6 h of January's 31 days.
    expected_usd = (0.85 * 1050e6 - peak_w) * 5.0e-3 * (6.0 / (31 * 24))
    got_usd = ts["min_take_charge_usd"].sum()
    assert got_usd > 0.0
    assert got_usd == pytest.approx(expected_usd, rel=1e-6)


#: The heat wave's hottest afternoon (site local time), and the 6 h outage of b1's pad water.
HOT_START = "2027-07-10T12:00"


def _hot_window(path: Path):
    sc = dcsim.load_scenario(path)
    # Noon to 18:00 on the heat wave's fourth day (2027-07-10), demand at its July level.
    # Halls recorded every 5 minutes: the order of events within an hour is the point.
    over = {
        "start": HOT_START,
        "horizon_s": "6h",
        "hall_record_every_s": "5min",
        **_level_at(sc, 185 / 365),
    }
    return dcsim.run(sc, overrides=over)


@pytest.fixture(scope="module")
def hot_afternoon():
    """The same July afternoon on the typical year and in the heat-wave variant."""
    return (
        _hot_window(SCENARIOS / "gw-campus.yaml"),
        _hot_window(SCENARIOS / "gw-campus-heat-wave.yaml"),
    )


def _halls(res, building: str):
    ht = res.extra_tables["hall_timeseries"]
    return ht[ht["hall"].str.startswith(f"campus/{building}/")]


def test_heat_wave_is_8_k_over_the_typical_year():
    """The variant's weather on its hottest afternoon: the typical year + 8 K, ~43 degC."""
    from dcsim.model.weather import site_weather_hourly
    from dcsim.scenario import base_dir

    peaks = []
    for name in ("gw-campus.yaml", "gw-campus-heat-wave.yaml"):
        sc = dcsim.load_scenario(SCENARIOS / name, {"start": HOT_START, "horizon_s": "6h"})
        (w,) = site_weather_hourly(sc, base_dir(sc), 60.0, 0)
        peaks.append(w.temp_air_degc[:7].max())
        wet = w.wet_bulb_degc[:7].max()
    assert peaks[1] - peaks[0] == pytest.approx(8.0, abs=1e-9)
    # Beyond the plant's 35 degC design dry bulb, below the trim chillers' 49 degC cutout.
    assert 42.0 < peaks[1] < 45.0
    assert 30.0 < wet < 33.0  # relative humidity held: the wet bulb rises with the wave


@pytest.mark.slow  # ~2 x 25 s on a quiet machine: building the plant dominates
def test_heat_wave_rides_through_on_the_pads(hot_afternoon):
    base, hot = hot_afternoon
    # Halls whose pads have water (b2-b4 are in service in July) hold the 32 degC setpoint
    # at ~43 degC: pads pre-cool the air to 43.3 - 0.85 x 11.5 = 33.5 degC, ITD 8.5 K,
    # 46 coolers x 66.7 kW/K x 8.5 K = 26 MW > the ~23 MW of liquid heat of a hall serving
    # at ~30 MW of IT (tests/model/test_cooling_model.py works the same hall by hand).
    for b in ("b2", "b3", "b4"):
        halls = _halls(hot, b)
        assert len(halls) > 0 and (halls["it_power_w"] > 20e6).all()
        np.testing.assert_allclose(halls["temp_fws_degc"], 32.0, atol=1e-9)
        assert (halls["cap_frac"] == 1.0).all()
    # The wave costs water (pads wet all afternoon) and chiller power (lift of the air path).
    b2_water = _halls(hot, "b2")["water_l_per_s"].mean()
    assert b2_water > _halls(base, "b2")["water_l_per_s"].mean()
    assert hot.timeseries["chillers_power_w"].mean() > base.timeseries["chillers_power_w"].mean()
    assert base.timeseries["throttle_frac"].max() == 0.0


@pytest.mark.slow
def test_heat_wave_with_dry_pads_throttles_beyond_design(hot_afternoon):
    base, hot = hot_afternoon
    b1 = _halls(hot, "b1").sort_values("time")
    h1 = b1[b1["hall"] == "campus/b1/b1h1"]
    # Trim chillers first: the loop leaves its 32 degC setpoint only when every unit of the
    # plant (dry coolers at full fans, trim chillers at full derated output) is saturated,
    # and it does so while the racks are still uncapped.
    first = h1[h1["temp_fws_degc"] > 32.5].iloc[0]
    assert first["cap_frac"] >= 1.0 - 1e-12
    # Then the racks' 40 degC supply limit: the racks throttle (test_cooling_model.py works
    # the steady state by hand: T_fws = 40 - s Q, Q = 21.96 MW at 43.3 degC).
    assert h1["temp_tcs_supply_degc"].max() == pytest.approx(40.0, abs=1e-6)
    # The facility water settles between its setpoint and the TCS limit less the CDU approach
    # (38.17 degC in the hand steady state at 43.3 degC; it moves with the afternoon's air).
    assert 32.5 < h1["temp_fws_degc"].max() < 39.0
    assert h1["cap_frac"].min() < 0.95
    ts = hot.timeseries
    assert ts["throttle_frac"].max() > 0.0
    assert ts["temp_tcs_supply_max_degc"].max() == pytest.approx(40.0, abs=1e-6)
    assert hot.kpis["thermal_capped_tok"] > 0.0 and hot.kpis["throttled_h"] >= 1.0
    # What is lost: interactive work moves to b2-b4; batch on b1's capped racks is served
    # less and its backlog grows.
    assert hot.kpis["served_tok"] < base.kpis["served_tok"]
    assert hot.kpis["final_backlog_tok"] > base.kpis["final_backlog_tok"]
    assert base.kpis["thermal_capped_tok"] == 0.0  # the typical year: nothing capped


@pytest.mark.slow
def test_hbm_slip_moves_the_capacity_forecast():
    """March-June HBM cut: fewer racks in service by the end of June than planned."""
    plan = dcsim.run(
        dcsim.load_scenario(SCENARIOS / "gw-campus.yaml"), overrides={"horizon_s": "180d"}
    )
    slip = dcsim.run(
        dcsim.load_scenario(SCENARIOS / "gw-campus-hbm-slip.yaml"), overrides={"horizon_s": "180d"}
    )
    a = plan.extra_tables["capacity"]["racks_in_service_end_count"].to_numpy()
    b = slip.extra_tables["capacity"]["racks_in_service_end_count"].to_numpy()
    assert len(a) == len(b) == 7  # 2027-01-04 + 180 d touches Jan..Jul
    # January (before the cut) matches; by June the slipped plan trails.
    assert b[0] == pytest.approx(a[0], abs=5)
    assert b[5] < a[5] - 100


def test_site_matches_its_dallas_weather():
    """The campus sits ~25 km from the DFW station of the library's site:dallas."""
    from dcsim.catalog.weather_sites import weather_sites_table

    sc = dcsim.load_scenario(SCENARIOS / "gw-campus.yaml")
    site = sc.sites[0]
    assert site.weather.file == "site:dallas"
    st = weather_sites_table().loc["dallas"]
    lat1, lon1 = math.radians(site.location.latitude_deg), math.radians(site.location.longitude_deg)
    lat2, lon2 = math.radians(st["latitude_deg"]), math.radians(st["longitude_deg"])
    # Haversine, mean Earth radius 6,371 km. By hand: 0.26 deg of longitude at 32.9 N is
    # 0.26 x 111.2 x cos(32.9 deg) = 24.3 km, well inside the 300 km warning distance.
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    d_km = 2 * 6371.0 * math.asin(math.sqrt(a))
    assert d_km == pytest.approx(24.3, abs=1.0)
    assert site.location.utc_offset_h == st["utc_offset_h"]
