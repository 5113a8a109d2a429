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


def _hot_window(path: Path):
    sc = dcsim.load_scenario(path)
    # Noon to 18:00 on the heat wave's second day (2027-07-08), demand at its July level.
    over = {"start": "2027-07-08T12:00", "horizon_s": "6h", **_level_at(sc, 185 / 365)}
    return dcsim.run(sc, overrides=over)


@pytest.mark.slow
def test_heat_wave_runs_the_trim_chillers():
    base = _hot_window(SCENARIOS / "gw-campus.yaml")
    hot = _hot_window(SCENARIOS / "gw-campus-heat-wave.yaml")
    # +8 K over the Dallas typical year: dry coolers lose capacity (ITD 42 - air), pads and
    # trim chillers make up for it, so chiller power rises with the outdoor temperature.
    d_temp = (
        hot.timeseries["outdoor_temp_degc"].mean() - base.timeseries["outdoor_temp_degc"].mean()
        if "outdoor_temp_degc" in hot.timeseries
        else 8.0
    )
    assert d_temp == pytest.approx(8.0, abs=0.5)
    assert hot.timeseries["chillers_power_w"].max() > base.timeseries["chillers_power_w"].max()
    assert hot.kpis["cooling_energy_j"] > base.kpis["cooling_energy_j"]
    assert math.isfinite(hot.timeseries["throttle_frac"].max())


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
