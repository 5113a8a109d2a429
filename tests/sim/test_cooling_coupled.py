"""Cooling coupled to throughput, end to end through the engine (issue 4).

A campus of two small halls (40 GB200 NVL72 racks each, 5.74 MW of design heat: 5.28 MW of
racks and 0.41 MW of fabric, storage and management outside them, / 0.99 PDU) on the one-hall
plant of ``scenarios/hall-dry-adiabatic.yaml`` scaled down: 3 + 1 CDUs of 2 MW.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import dcsim

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"

HALL_COOLING = {
    "type": "liquid",
    "fws_supply_setpoint_degc": 32,
    "fws_range_delta_k": 10,
    "design_dry_bulb_degc": 35,
    "design_wet_bulb_degc": 25,
    "tcs_water_volume_l": 5000,
    "fws_water_volume_l": 30000,
    "cdus": {"equipment": "cdu_2mw", "design_count": 3, "spare_count": 1},
    "fws_pumps": {"equipment": "pump_fws_150ls", "design_count": 1, "spare_count": 1},
    "heat_rejection": {
        "type": "dry_cooler",
        "units": {"equipment": "dry_cooler_1mw", "design_count": 5, "spare_count": 0},
        "adiabatic": {"equipment": "adiabatic_pad_cellulose"},
    },
    "air_path": {
        "crah": {"equipment": "fan_wall_250kw", "design_count": 6, "spare_count": 1},
        "chillers": {"equipment": "chiller_ac_1500kw", "design_count": 1, "spare_count": 1},
    },
    "random_failures": False,
}


def two_halls(extra: dict) -> dcsim.RunResult:
    hall = {
        "feed_mw": 5.6,
        "ups_module_mw": 1.0,
        "cooling": HALL_COOLING,
        "rack_groups": [
            {"name": "batch", "system": "gb200-nvl72", "count": 40, "workload": "batch"}
        ],
    }
    over = {
        "horizon_s": "2d",
        "tick_s": "1min",
        "sites.site.import_limit_mw": 20,
        "sites.site.buildings.b1.halls": [{"name": "hA", **hall}, {"name": "hB", **hall}],
        **extra,
    }
    return dcsim.run(SCENARIOS / "hall-dry-adiabatic.yaml", overrides=over)


def hall_series(res: dcsim.RunResult, hall: str, col: str) -> np.ndarray:
    h = res.extra_tables["hall_timeseries"]
    return h[h["hall"].str.endswith(hall)][col].to_numpy()


def test_a_cdu_failure_derates_exactly_its_hall():
    # Three of hA's four CDUs fail for 6 h on the second day: 1 CDU moves at most 2 MW of
    # liquid heat. Liquid takes 85% of rack design power (catalog liquid_heat_frac), the IT
    # outside the racks and the PDU loss go to air: 4.488 / 5.7426 = 0.7815 of the design
    # white-space heat, so hA's heat (= UPS output) is capped to 2 / 0.7815 = 2.559 MW; hB is
    # untouched.
    fault = [
        {"unit": "cdu", "hall": "hA", "start": "2027-01-05T06:00", "duration_s": "6h", "count": 3}
    ]
    base = two_halls({})
    res = two_halls({"cooling_faults": fault})
    during = slice(30, 36)  # hours 30-35 of the run (the 6 h outage, whole hours)
    it_a = hall_series(res, "hA", "ups_output_w")
    it_b = hall_series(res, "hB", "ups_output_w")
    liquid_frac = 40 * 132e3 * 0.85 / ((40 * 132e3 + 40 * 10128.75) / 0.99)
    np.testing.assert_allclose(it_a[during], 2e6 / liquid_frac, rtol=1e-6)
    np.testing.assert_allclose(hall_series(res, "hA", "thermal_bound_frac")[during], 1.0)
    np.testing.assert_allclose(it_b, hall_series(base, "hB", "ups_output_w"), rtol=1e-12)
    assert (hall_series(res, "hB", "thermal_bound_frac") == 0.0).all()
    # Before and after the outage hA runs as in the base run.
    np.testing.assert_allclose(it_a[:30], hall_series(base, "hA", "ups_output_w")[:30], rtol=1e-12)
    assert res.kpis["thermal_capped_tok"] > 0 and base.kpis["thermal_capped_tok"] == 0
    # The heat balance closes every tick, and no limit is exceeded.
    assert res.kpis["energy_balance_residual_frac"] < 1e-9
    assert res.kpis["max_power_to_limit_frac"] <= 1 + 1e-9


def test_a_heat_wave_throttles_then_the_hall_recovers():
    # July with +12 K for 12 h: five dry coolers with pads cannot reject 5.3 MW; the loops
    # warm to the 40 degC TCS limit, racks are capped, and after the wave the caps lift.
    wave = {
        "start": "2027-07-13",
        "horizon_s": "3d",
        "sites.site.weather.heat_waves": [
            {"start": "2027-07-14T10:00", "duration_s": "12h", "temp_rise_delta_k": 12}
        ],
    }
    res = two_halls(wave)
    ts = res.timeseries
    assert ts["throttle_frac"].max() > 0.05
    tcs = ts["temp_tcs_supply_max_degc"]
    assert tcs.max() <= 40.0 + 1e-6  # the limit of GB200 NVL72 (catalog), never exceeded
    day = ts.index.normalize()
    by_day = ts["throttle_frac"].groupby(day).max()
    assert by_day.iloc[1] > 0.05  # the wave day throttles...
    assert by_day.iloc[2] < by_day.iloc[1] / 5  # ...and the next day has recovered
    assert res.kpis["throttled_h"] > 1 and res.kpis["thermal_capped_tok"] > 0
    assert res.kpis["energy_balance_residual_frac"] < 1e-9
