"""Per-tick grid arrays (dcsim/model/grid.py): ramps, curtailment windows, disconnects, on-site.

Scenarios start from small-hall.yaml (one site "main", 3.2 MW import limit, 1-minute ticks)
with grid blocks added. The schema wiring of those blocks into ``Site`` belongs to the
integrator; until then a test-local ``Site`` subclass carries them.
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
import pytest
from pydantic import Field

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.kernels import grid_layout as G
from dcsim.model.grid import build_grid
from dcsim.model.solar import pv_spec, solar_ac_w
from dcsim.model.streams import rng_for
from dcsim.scenario.grid_schema import Carbon, GridContract, OnSite, Solar, Tariff
from dcsim.scenario.load import load_yaml_with_lines
from dcsim.scenario.schema import Scenario, Site

REPO = Path(__file__).resolve().parents[2]
MW = units.MW_W
TICKS_PER_DAY = 1440


class GSite(Site):
    grid: GridContract | None = None
    tariff: Tariff | None = None
    carbon: Carbon | None = None
    onsite: OnSite | None = None


class GScenario(Scenario):
    sites: list[GSite] = Field(min_length=1)


@pytest.fixture(scope="module")
def base() -> dict:
    data, _ = load_yaml_with_lines(REPO / "scenarios" / "small-hall.yaml")
    return data


@pytest.fixture(scope="module")
def weather() -> pd.DataFrame:
    data, _ = pvlib.iotools.read_tmy3(
        Path(pvlib.__file__).parent / "data" / "723170TYA.CSV", map_variables=True
    )
    # Labels as in dcsim.model.weather frames: irradiance averaged over the hour ending there.
    return data[["ghi", "dni", "dhi", "temp_air", "wind_speed"]].copy()


def scenario(
    base: dict, start: str = "2027-01-04", horizon: str = "7d", seed: int = 7, **blocks
) -> GScenario:
    data = copy.deepcopy(base)
    data["seed"] = seed
    data["start"] = start
    data["horizon_s"] = horizon
    data["sites"][0].update(blocks)
    return GScenario.model_validate(data)


def build(sc: GScenario, weather=None, base_dir: Path = REPO / "scenarios"):
    n = int(round(sc.horizon_s / sc.tick_s))
    return build_grid(sc, None, base_dir, [weather], n, sc.tick_s, rng_for)


def tick(day: float, hour: float = 0.0, minute: float = 0.0) -> int:
    return int(round(day * TICKS_PER_DAY + hour * 60 + minute))


# --------------------------------------------------------------------------- spine


def test_no_grid_block_is_the_spine(base):
    g = build(scenario(base))
    assert (g.contract_w == 3.2 * MW).all() and (g.grid_avail_w == 3.2 * MW).all()
    for arr in (g.solar_w, g.clean_w, g.batt_cmd, g.cp_shed, g.site_grid_par):
        assert not arr.any()
    assert g.events == [] and not g.sites[0].has_tariff
    # Carbon still accounted, at the catalog's US average (EIA 2023, 367 kg/MWh).
    assert np.allclose(g.sites[0].carbon_kg_per_j * units.MWH_J, 367.0)


# --------------------------------------------------------------------------- contract


def test_ramp_steps_act_from_their_tick(base):
    grid = {
        "firm_mw": 1.5,
        "firm_ramp": [{"date": "2027-01-06", "mw": 2.0}],
        "nonfirm_mw": 1.0,
        "nonfirm_ramp": [{"date": "2027-01-07T06:00", "mw": 0.5}],
    }
    g = build(scenario(base, grid=grid))
    c = g.contract_w[0] / MW
    # 1.5 + 1.0 until 6 Jan (day 2), 2.0 + 1.0 until 7 Jan 06:00, then 2.0 + 0.5.
    assert c[tick(2) - 1] == pytest.approx(2.5) and c[tick(2)] == pytest.approx(3.0)
    assert c[tick(3, 6) - 1] == pytest.approx(3.0) and c[tick(3, 6)] == pytest.approx(2.5)
    assert np.array_equal(g.grid_avail_w, g.contract_w)
    kinds = [(e[1], e[4] / MW) for e in g.events]
    assert kinds == [("grid_firm_step", 2.0), ("grid_nonfirm_step", 0.5)]


def test_contract_is_capped_at_the_import_limit(base):
    # The named check rejects this contract; the builder still never exceeds the limit.
    g = build(scenario(base, grid={"firm_mw": 3.0, "nonfirm_mw": 1.0}))
    assert g.contract_w.max() == pytest.approx(3.2 * MW)


def test_scheduled_curtailment_windows_and_depths(base):
    grid = {
        "firm_mw": 2.0,
        "nonfirm_mw": 1.0,
        "curtailment": {
            "events": [
                {"start": "2027-01-05T14:00", "duration_s": "2h", "depth_frac": 0.5},
                {"start": "2027-01-06T09:00", "duration_s": "30min", "depth_mw": 0.3},
                {"start": "2027-01-07T00:00", "duration_s": "1h"},  # whole non-firm block
            ]
        },
    }
    g = build(scenario(base, grid=grid))
    avail = g.grid_avail_w[0] / MW
    cut = 3.0 - avail
    # Exactly the ticks [start, start + duration) are curtailed, by the given depth.
    assert cut[tick(1, 14) - 1] == 0.0
    assert np.allclose(cut[tick(1, 14) : tick(1, 16)], 0.5)
    assert cut[tick(1, 16)] == 0.0
    assert np.allclose(cut[tick(2, 9) : tick(2, 9, 30)], 0.3)
    assert np.allclose(cut[tick(3) : tick(3, 1)], 1.0)
    assert np.count_nonzero(cut) == 120 + 30 + 60
    assert g.sites[0].curtailed_s == pytest.approx(3.5 * units.H_S)
    starts = [e for e in g.events if e[1] == "grid_curtailment_start"]
    assert [round(e[4] / MW, 6) for e in starts] == [0.5, 0.3, 1.0]
    ends = [e[0] for e in g.events if e[1] == "grid_curtailment_end"]
    assert ends[0] - starts[0][0] == pytest.approx(2 * units.H_S)


def test_disconnect_zeroes_import_for_its_ticks(base):
    # Starting 30 s into a tick, the disconnect acts from the next tick start (engine
    # convention) for 30 ticks.
    grid = {
        "firm_mw": 3.0,
        "disconnects": [{"start": "2027-01-06T10:00:30", "duration_s": "30min"}],
    }
    g = build(scenario(base, grid=grid))
    avail = g.grid_avail_w[0]
    i0 = tick(2, 10, 1)
    assert avail[i0 - 1] == 3.0 * MW and avail[i0 + 30] == 3.0 * MW
    assert (avail[i0 : i0 + 30] == 0.0).all() and np.count_nonzero(avail == 0.0) == 30
    assert g.sites[0].disconnected_s == pytest.approx(1800.0)
    assert g.sites[0].curtailed_s == 0.0  # a disconnect is not counted as curtailment
    assert [e[1] for e in g.events] == ["grid_disconnect_start", "grid_disconnect_end"]


def _random_grid(budget_h: float, events_per_y: float = 300.0) -> dict:
    return {
        "firm_mw": 2.0,
        "nonfirm_mw": 1.0,
        "curtailment": {
            "annual_budget_h": budget_h,
            "random": {
                "events_per_y": events_per_y,
                "from_h": 14,
                "to_h": 20,
                "duration": {"type": "exponential", "mean_s": "2h", "max_s": "6h"},
                "depth": {"type": "uniform", "min_frac": 0.25, "max_frac": 1.0},
            },
        },
    }


def test_random_curtailment_reproducible_within_budget_and_window(base):
    # 300 events a year over a 14-20 h window: ~5.8 expected in a week, ~2 h each, against a
    # 6 h budget, so the budget binds.
    sc = scenario(base, grid=_random_grid(6.0))
    a, b = build(sc), build(sc)
    assert np.array_equal(a.grid_avail_w, b.grid_avail_w) and a.events == b.events
    other = build(scenario(base, seed=8, grid=_random_grid(6.0)))
    assert not np.array_equal(a.grid_avail_w, other.grid_avail_w)
    cut = a.contract_w[0] - a.grid_avail_w[0]
    assert 0.0 < a.sites[0].curtailed_s <= 6.0 * units.H_S
    assert cut.max() <= 1.0 * MW + 1e-6 and cut.min() >= 0.0
    # Every curtailment starts inside the daily window (it may run past 20:00).
    on = cut > 0.0
    first = np.flatnonzero(on & ~np.concatenate(([False], on[:-1])))
    hours = (first % TICKS_PER_DAY) / 60.0
    assert ((hours >= 14.0) & (hours < 20.0)).all()


def test_curtailment_after_scheduled_use_respects_the_budget(base):
    grid = _random_grid(3.0)
    grid["curtailment"]["events"] = [
        {"start": "2027-01-04T02:00", "duration_s": "150min", "depth_frac": 1.0}
    ]
    g = build(scenario(base, grid=grid))
    assert g.sites[0].curtailed_s <= 3.0 * units.H_S + 1e-6


# --------------------------------------------------------------------------- on-site


def test_clean_block_availability_and_outages(base):
    g = build(scenario(base, onsite={"clean": {"power_mw": 1.0}}))
    # No outage model: the catalog availability (EIA nuclear fleet 92.7%) as a derate.
    assert np.allclose(g.clean_w, 0.927 * MW)
    g = build(scenario(base, onsite={"clean": {"power_mw": 1.0, "mtbf_h": 24, "mttr_h": 6}}))
    w = g.clean_w[0]
    assert set(np.unique(w)) <= {0.0, 1.0 * MW} and (w == 0.0).any()
    starts = [e for e in g.events if e[1] == "clean_outage_start"]
    assert starts and all(w[int(np.ceil(e[0] / 60.0 - 1e-9))] == 0.0 for e in starts)


def test_battery_and_turbine_parameters(base):
    onsite = {
        "battery": {
            "power_mw": 2.0,
            "energy_mwh": 4.0,
            "round_trip_frac": 0.81,
            "reserve_mwh": 1.0,
            "policy": {"type": "peak_shaving", "threshold_mw": 2.5},
        },
        "turbines": {"units_count": 3, "unit_mw": 0.5},
    }
    g = build(scenario(base, onsite=onsite))
    p = g.site_grid_par[0]
    assert p[G.G_BATT_POWER_W] == 2.0 * MW
    assert p[G.G_BATT_ENERGY_J] == pytest.approx(4.0 * 3.6e9)
    # One-way efficiencies are the square root of the round trip: sqrt(0.81) = 0.9.
    assert p[G.G_BATT_ETA_CHARGE_FRAC] == pytest.approx(0.9)
    assert p[G.G_BATT_ETA_DISCHARGE_FRAC] == pytest.approx(0.9)
    assert p[G.G_BATT_RESERVE_J] == pytest.approx(3.6e9)
    assert p[G.G_BATT_SOC0_J] == pytest.approx(4.0 * 3.6e9)  # full by default
    assert p[G.G_BATT_POLICY] == G.POLICY_PEAK_SHAVING
    assert p[G.G_PEAK_THRESHOLD_W] == 2.5 * MW
    # Turbines: catalog defaults (10-min start, 50% minimum load, 1-h minimum run).
    assert (p[G.G_TURB_UNITS], p[G.G_TURB_UNIT_W]) == (3, 0.5 * MW)
    assert (p[G.G_TURB_START_S], p[G.G_TURB_MIN_LOAD_FRAC], p[G.G_TURB_MIN_RUN_S]) == (
        600.0,
        0.5,
        3600.0,
    )
    # Heat rate 9.788 MMBtu/MWh = 9.788 x 1.0550559 GJ / 3.6 GJ = 2.868580 J/J (34.9% HHV).
    assert g.sites[0].heat_rate_j_per_j == pytest.approx(2.868580, rel=1e-6)
    assert not g.batt_cmd.any()  # only arbitrage has a price signal


def test_solar_follows_the_weather_hour_by_hour(base, weather):
    sc = scenario(
        base, start="2027-06-01", horizon="2d", onsite={"solar": {"dc_mw": 1.2, "ac_mw": 1.0}}
    )
    g = build(sc, weather)
    hourly = solar_ac_w(weather, 39.0, -77.5, pv_spec(Solar(dc_mw=1.2, ac_mw=1.0), 39.0))
    idx = weather.index
    row13 = np.flatnonzero((idx.month == 6) & (idx.day == 1) & (idx.hour == 13))[0]
    # Each tick holds the mean of its clock hour: 1 June 12:00-12:59 -> the row labelled 13:00
    # (TMY3 hour 13 averages 12:00-13:00).
    assert np.all(g.solar_w[0, tick(0, 12) : tick(0, 13)] == hourly[row13])
    assert g.solar_w[0, tick(0, 2)] == 0.0 and g.solar_w.max() > 0.5 * MW


def test_solar_without_weather_is_an_error(base):
    sc = scenario(base, onsite={"solar": {"dc_mw": 1.0, "ac_mw": 1.0}})
    with pytest.raises(ConfigError) as info:
        build(sc, None)
    assert info.value.where == "sites.main.onsite.solar"
    assert "needs the weather of site 'main'" in str(info.value)


# --------------------------------------------------------------------------- prices


TOU = {
    "energy": {
        "type": "tou",
        "base_usd_per_mwh": 50,
        "periods": [
            {"name": "night", "from_h": 0, "to_h": 6, "price_usd_per_mwh": 20},
            {"name": "peak", "from_h": 16, "to_h": 20, "price_usd_per_mwh": 100},
        ],
    }
}


def test_tou_prices_and_arbitrage_signal(base):
    onsite = {
        "battery": {
            "power_mw": 1.0,
            "energy_mwh": 2.0,
            "policy": {
                "type": "arbitrage",
                "charge_below_usd_per_mwh": 30,
                "discharge_above_usd_per_mwh": 80,
            },
        }
    }
    g = build(scenario(base, tariff=TOU, onsite=onsite))
    price = g.sites[0].energy_price_usd_per_j * units.MWH_J
    assert price[:24].tolist() == [20] * 6 + [50] * 10 + [100] * 4 + [50] * 4
    cmd = g.batt_cmd[0]
    assert (cmd[tick(1, 0) : tick(1, 6)] == -1.0).all()
    assert (cmd[tick(1, 6) : tick(1, 16)] == 0.0).all()
    assert (cmd[tick(1, 16) : tick(1, 20)] == 1.0).all()


def test_arbitrage_by_daily_quantiles(base):
    # Quantiles 0.25 / 0.75 of each day's 24 TOU prices (6 x 20, 14 x 50, 4 x 100): 20 and
    # 50. Charge at <= 20 (night), discharge at >= 50 and > 20 (all other hours).
    policy = {
        "type": "arbitrage",
        "charge_below_quantile_frac": 0.25,
        "discharge_above_quantile_frac": 0.75,
    }
    onsite = {"battery": {"power_mw": 1.0, "energy_mwh": 2.0, "policy": policy}}
    cmd = build(scenario(base, tariff=TOU, onsite=onsite)).batt_cmd[0]
    assert (cmd[: tick(0, 6)] == -1.0).all() and (cmd[tick(0, 6) : tick(1)] == 1.0).all()


def test_arbitrage_without_tariff_is_an_error(base):
    policy = {"type": "arbitrage", "charge_below_usd_per_mwh": 1, "discharge_above_usd_per_mwh": 2}
    sc = scenario(base, onsite={"battery": {"power_mw": 1, "energy_mwh": 1, "policy": policy}})
    with pytest.raises(ConfigError) as info:
        build(sc)
    assert info.value.where == "sites.main.onsite.battery.policy"


def test_price_file_is_read_and_negative_prices_need_permission(base, tmp_path):
    tariff = {"energy": {"type": "file", "path": "data/ercot_north_price_2023.csv"}}
    with pytest.raises(ConfigError, match=r"ercot_north_price_2023.csv:\d+: price_usd_per_mwh: -"):
        build(scenario(base, tariff=tariff))
    g = build(scenario(base, tariff=tariff | {"allow_negative_prices": True}))
    info = g.sites[0]
    # 2027-01-04 00:00 takes the 2023 file's 4 January 00:00 row (hour 72).
    raw = pd.read_csv(REPO / "scenarios/data/ercot_north_price_2023.csv", comment="#")
    assert info.energy_price_usd_per_j[0] * units.MWH_J == pytest.approx(raw.iloc[72, 1])
    assert any("SYNTHETIC" in line for line in info.provenance["price"])


# --------------------------------------------------------------------------- coincident peak


def test_coincident_peak_weather_proxy_and_avoidance(base, weather):
    tariff = {
        "energy": {"type": "flat", "price_usd_per_mwh": 40},
        "coincident_peak": {"charge_usd_per_kw_per_y": 100, "avoidance": {}},
    }
    sc = scenario(base, start="2027-07-01", horizon="31d", tariff=tariff)
    g = build(sc, weather)
    info = g.sites[0]
    # The proxy: the July day whose 15:00 temperature is highest in the weather, at 15:00.
    july = weather[(weather.index.month == 7) & (weather.index.hour == 15)]
    hottest = int(july.index.day[np.argmax(july["temp_air"].to_numpy())])
    assert info.cp_interval_start_s.tolist() == [((hottest - 1) * 24 + 15) * 3600.0]
    assert info.cp_months_count == 4 and info.cp_usd_per_w_y == pytest.approx(0.1)
    ev = [e for e in g.events if e[1] == "coincident_peak_interval"]
    assert len(ev) == 1 and ev[0][4] == pytest.approx(july["temp_air"].max())
    # Avoidance: 1 July 2027 (a Thursday, the month's first day) is flagged; the window is
    # 14:00-18:00; weekends (3-4 July) never.
    shed = g.cp_shed[0]
    assert shed[tick(0, 13, 59)] == 0.0 and (shed[tick(0, 14) : tick(0, 18)] == 1.0).all()
    assert shed[tick(0, 18)] == 0.0
    assert not shed[tick(2) : tick(4)].any()
    # A flagged day is within 1 K of the highest daily maximum so far in the month.
    daily_max = weather[weather.index.month == 7]["temp_air"].to_numpy().reshape(31, 24).max(1)
    for d in range(31):
        flagged = shed[tick(d, 15)] == 1.0
        weekday = dt.date(2027, 7, d + 1).weekday() < 5
        likely = d == 0 or daily_max[d] >= daily_max[:d].max() - 1.0
        assert flagged == (weekday and likely)
    assert info.cp_shed_s == pytest.approx(shed.sum() * 60.0)


def test_coincident_peak_from_a_system_load_file(base, tmp_path):
    hours = pd.date_range("2027-07-01", periods=31 * 24, freq="h")
    load = np.full(len(hours), 60_000.0)
    load[(9 * 24) + 16] = 85_000.0  # 10 July 16:00
    text = "# test system load\ntime,system_load_mw\n" + "\n".join(
        f"{t:%Y-%m-%dT%H:%M},{v}" for t, v in zip(hours, load, strict=True)
    )
    (tmp_path / "load.csv").write_text(text + "\n", encoding="utf-8")
    tariff = {
        "energy": {"type": "flat", "price_usd_per_mwh": 40},
        "coincident_peak": {"charge_usd_per_kw_per_y": 80, "system_load_path": "load.csv"},
    }
    g = build(scenario(base, start="2027-07-01", horizon="31d", tariff=tariff), None, tmp_path)
    assert g.sites[0].cp_interval_start_s.tolist() == [(9 * 24 + 16) * 3600.0]


def test_coincident_peak_without_weather_or_load_file_is_an_error(base):
    tariff = {
        "energy": {"type": "flat", "price_usd_per_mwh": 40},
        "coincident_peak": {"charge_usd_per_kw_per_y": 100},
    }
    with pytest.raises(ConfigError) as info:
        build(scenario(base, start="2027-07-01", tariff=tariff))
    assert info.value.where == "sites.main.tariff.coincident_peak"


def test_coincident_peak_needs_no_weather_beyond_the_horizon(base):
    """The system peak of a month the horizon cuts is found in the whole month's weather.

    The run passes weather for the horizon only (``load_weather``); a horizon ending on
    10 July or starting on 20 June must give the intervals and avoidance days that a year of
    weather gives (the months are whole calendar months either way).
    """
    from dcsim.model.weather import load_weather

    tariff = {
        "energy": {"type": "flat", "price_usd_per_mwh": 40},
        "coincident_peak": {"charge_usd_per_kw_per_y": 100, "avoidance": {}},
    }
    spec = {"file": "pvlib:723170TYA.CSV"}
    sc = scenario(base, start="2027-06-20", horizon="20d", tariff=tariff, weather=spec)
    site = sc.sites[0]
    folder = REPO / "scenarios"
    clipped = load_weather(site.weather, site.location, sc.start, sc.horizon_s, folder, "w")
    year = load_weather(
        site.weather, site.location, dt.datetime(2027, 1, 1), 365 * 86400.0, folder, "w"
    )
    assert len(clipped.index) < 24 * 30  # the clipped frame does not hold all of June
    g_clipped = build(sc, clipped.frame())
    g_year = build(sc, year.frame())
    assert g_clipped.sites[0].cp_interval_start_s.tolist() == (
        g_year.sites[0].cp_interval_start_s.tolist()
    )
    assert np.array_equal(g_clipped.cp_shed, g_year.cp_shed)
    assert g_clipped.cp_shed.any()  # late June and early July days are flagged
