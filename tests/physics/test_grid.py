"""Grid economics and events (dcsim/physics/grid.py) against hand calculations and theory."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from dcsim import units
from dcsim.physics import grid as pg

START = np.datetime64("2027-07-01T00:00")  # a Thursday
MW = units.MW_W


# --------------------------------------------------------------------------- calendar


def test_calendar_fields_of_known_dates():
    # 2027-01-04 is a Monday; 2027-07-01 a Thursday; 36 h after 2027-02-28 00:00 is
    # 2027-03-01 12:00 (2027 is not a leap year).
    key, month, weekday, hour, _ = pg.calendar_fields(np.datetime64("2027-01-04T06:30"), [0.0])
    assert (month[0], weekday[0]) == (1, 0) and hour[0] == pytest.approx(6.5)
    assert key[0] == 2027 * 12 + 0
    _, month, weekday, hour, _ = pg.calendar_fields(np.datetime64("2027-02-28"), [36 * 3600.0])
    assert (month[0], weekday[0], hour[0]) == (3, 0, 12.0)
    _, _, weekday, _, _ = pg.calendar_fields(START, [0.0])
    assert weekday[0] == 3


def test_hour_window_mask_plain_and_wrapping():
    h = np.array([0.0, 5.9, 6.0, 13.5, 21.9, 22.0, 23.5])
    assert pg.hour_window_mask(h, 6, 22).tolist() == [0, 0, 1, 1, 1, 0, 0]
    assert pg.hour_window_mask(h, 22, 6).tolist() == [1, 1, 0, 0, 0, 1, 1]


def test_step_mean_is_the_exact_time_average():
    # Hourly steps 10, 20, 30 starting 30 min before t = 0 (offset 1800 s):
    # [0, 1800) is in step 0 (10), [1800, 5400) in step 1 (20), [5400, 9000) in step 2.
    v = np.array([10.0, 20.0, 30.0])
    assert_allclose(pg.step_mean(v, 3600.0, 1800.0, [0.0], [1800.0]), [10.0])
    # [900, 2700): 900 s at 10 and 900 s at 20 -> 15.
    assert_allclose(pg.step_mean(v, 3600.0, 1800.0, [900.0], [2700.0]), [15.0])
    # [0, 9000): (1800*10 + 3600*20 + 3600*30) / 9000 = 22.
    assert_allclose(pg.step_mean(v, 3600.0, 1800.0, [0.0], [9000.0]), [22.0])


# --------------------------------------------------------------------------- demand charges


def test_demand_charge_hand_calculation():
    # Twelve 5-minute rows = one hour = four 15-minute intervals, in July.
    # Rows [MW]: (10, 20, 30) (40, 40, 40) (90, 0, 0) (50, 60, 70)
    # 15-min means: 20, 40, 30, 60 -> monthly peak 60 MW (the 4th interval), although the
    # highest 5-min row is 90 MW: demand is billed on 15-minute averages.
    rows_mw = np.array([10, 20, 30, 40, 40, 40, 90, 0, 0, 50, 60, 70], dtype=float)
    t0 = np.arange(12) * 300.0
    dur = np.full(12, 300.0)
    start_s, mean_w, row_iv = pg.interval_mean_w(rows_mw * MW, t0, dur)
    assert_allclose(start_s, [0, 900, 1800, 2700])
    assert_allclose(mean_w / MW, [20, 40, 30, 60])
    assert row_iv.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    key = pg.calendar_fields(START, start_s)[0]
    months, peak, arg = pg.monthly_peak_w(mean_w, key)
    assert len(months) == 1 and peak[0] == pytest.approx(60 * MW) and arg[0] == 3
    # 12 USD/kW-month on 60 MW = 720,000 USD for a whole month; the hour covers 1/744 of
    # July (31 days): 967.74 USD.
    rate = 12.0 / units.KW_W
    assert pg.demand_charge_usd(peak, rate)[0] == pytest.approx(720_000.0)
    assert pg.demand_charge_usd(peak, rate, 1 / 744)[0] == pytest.approx(967.7419, rel=1e-6)


def test_demand_charge_splits_by_month():
    # Two 15-minute rows either side of midnight 31 July -> 1 August: 80 MW then 50 MW. Each
    # month has its own peak.
    start = np.datetime64("2027-07-31T23:45")
    _, mean_w, _ = pg.interval_mean_w(np.array([80.0, 50.0]) * MW, [0.0, 900.0], [900.0, 900.0])
    key = pg.calendar_fields(start, [0.0, 900.0])[0]
    months, peak, _ = pg.monthly_peak_w(mean_w, key)
    assert months.tolist() == [2027 * 12 + 6, 2027 * 12 + 7]
    assert_allclose(peak / MW, [80.0, 50.0])


def test_partial_last_interval_is_a_mean_over_what_it_holds():
    # A horizon ending 10 min into an interval: the interval mean is over those 10 min.
    _, mean_w, _ = pg.interval_mean_w(np.array([30.0, 60.0]), [0.0, 300.0], [300.0, 300.0])
    assert_allclose(mean_w, [45.0])


def test_min_take_raises_billed_demand():
    # AEP-style 85% minimum take of a 100 MW contract: a 60 MW month bills 85 MW, a 95 MW
    # month bills 95 MW.
    billed = pg.billed_demand_w(np.array([60.0, 95.0]) * MW, np.array([100.0, 100.0]) * MW, 0.85)
    assert_allclose(billed / MW, [85.0, 95.0])
    assert_allclose(pg.billed_demand_w([60.0], [100.0], 0.0), [60.0])


def test_coincident_peak_charge_hand_calculation():
    # ERCOT 4CP at 100 USD/kW-y; import in the June-September peak intervals 600, 650, 700,
    # 550 MW: mean 625 MW = 625,000 kW -> 62.5 M USD/y, a quarter per month.
    rate = 100.0 / units.KW_W
    per_month = pg.coincident_peak_charge_usd(np.array([600, 650, 700, 550]) * MW, rate, 4)
    assert_allclose(per_month, [15.0e6, 16.25e6, 17.5e6, 13.75e6])
    assert per_month.sum() == pytest.approx(62.5e6)


def test_energy_cost():
    # 50 MW for 15 min at 40 USD/MWh = 12.5 MWh x 40 = 500 USD.
    assert pg.energy_cost_usd(50 * MW, 900.0, 40.0 / units.MWH_J) == pytest.approx(500.0)


# --------------------------------------------------------------------------- fuel and carbon


def test_turbine_fuel_cost_and_emissions_by_hand():
    # 1 MWh at 9.788 MMBtu/MWh burns 9.788 MMBtu; at 2.54 USD/MMBtu that is 24.8615 USD and
    # at 53.06 kg/MMBtu 519.351 kg CO2 (~0.52 t/MWh, the usual simple-cycle figure).
    heat_rate = 9.788 * units.MMBTU_J / units.MWH_J
    fuel_j, usd, kg = pg.turbine_fuel(
        units.MWH_J, heat_rate, 2.54 / units.MMBTU_J, 53.06 / units.MMBTU_J
    )
    assert fuel_j / units.MMBTU_J == pytest.approx(9.788)
    assert usd == pytest.approx(24.86152)
    assert kg == pytest.approx(519.35128)


def test_location_and_market_carbon_by_hand():
    # Import 4 and 6 MWh at 300 and 400 kg/MWh: 1200 + 2400 = 3600 kg location-based.
    imp = np.array([4.0, 6.0]) * units.MWH_J
    loc = pg.location_carbon_kg(imp, np.array([300.0, 400.0]) / units.MWH_J)
    assert_allclose(loc, [1200.0, 2400.0])
    # 2.5 MWh of contracted clean supply covers 25% of the 10 MWh: 0.75 x each period.
    assert_allclose(pg.market_carbon_kg(loc, imp, 2.5 * units.MWH_J), [900.0, 1800.0])
    # More clean supply than import: zero, never negative.
    assert_allclose(pg.market_carbon_kg(loc, imp, 50 * units.MWH_J), [0.0, 0.0])
    # A share given directly wins over the energy.
    assert_allclose(pg.market_carbon_kg(loc, imp, 0.0, clean_share_frac=0.5), [600.0, 1200.0])


# --------------------------------------------------------------------------- random events

SUMMER = np.zeros(12, dtype=bool)
SUMMER[5:9] = True  # June-September


def _events(seed, **kw):
    args = dict(
        start=np.datetime64("2027-01-04"),
        horizon_s=2 * units.Y_S,
        events_per_y=20.0,
        month_mask=SUMMER,
        from_h=14.0,
        to_h=20.0,
        duration=("exponential", 2 * units.H_S, 6 * units.H_S),
        depth=("uniform", 0.5, 1.0),
        budget_s=43.8 * units.H_S,
    )
    args.update(kw)
    return pg.curtailment_events(np.random.default_rng(seed), **args)


def test_curtailment_events_are_reproducible():
    a = _events(11)
    b = _events(11)
    c = _events(12)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("seed", range(8))
def test_curtailment_events_respect_budget_window_and_order(seed):
    t, d, x = _events(seed)
    year = (t // units.Y_S).astype(int)
    for y in (0, 1):
        assert d[year == y].sum() <= 43.8 * units.H_S + 1e-6
    # Starts in June-September between 14:00 and 20:00; no overlap; inside the horizon.
    _, month, _, hour, _ = pg.calendar_fields(np.datetime64("2027-01-04"), t)
    assert set(month.tolist()) <= {6, 7, 8, 9}
    assert ((hour >= 14.0) & (hour < 20.0)).all()
    assert (t[1:] >= t[:-1] + d[:-1]).all()
    assert (t + d <= 2 * units.Y_S + 1e-6).all()
    assert ((x >= 0.5) & (x <= 1.0)).all() and (d <= 6 * units.H_S).all()


def test_budget_counts_scheduled_use_first():
    # 40 h of the 43.8 h already used by scheduled events leaves at most 3.8 h.
    t, d, _ = _events(3, horizon_s=units.Y_S, used_s=np.array([40 * units.H_S]))
    assert d.sum() <= 3.8 * units.H_S + 1e-6


def test_budget_binds_when_events_would_exceed_it():
    # 60 events of ~2 h ask for ~120 h; the 43.8 h budget is filled exactly (the last event
    # is cut to what is left).
    t, d, _ = _events(5, events_per_y=60.0, horizon_s=units.Y_S)
    assert d.sum() == pytest.approx(43.8 * units.H_S)


def test_poisson_count_matches_the_rate():
    # Without budget, short fixed events (no overlap to drop) over 200 contract years at 10
    # per year: the count is Poisson(2000), sd ~45; 4 sd band.
    t, _, _ = pg.curtailment_events(
        np.random.default_rng(1), np.datetime64("2027-01-01"), 200 * units.Y_S, 10.0,
        np.ones(12, dtype=bool), 0.0, 24.0, ("fixed", 60.0, 60.0), ("fixed", 1.0, 1.0),
        grid_s=units.H_S,
    )  # fmt: skip
    assert abs(len(t) - 2000) < 4 * np.sqrt(2000)


def test_rate_is_prorated_for_a_partial_year():
    # A quarter-year horizon inside the eligible season gets its share of the year's
    # eligible time: Jan-Mar of an all-year window is ~90/365 of 400 events = ~98.6.
    t, _, _ = pg.curtailment_events(
        np.random.default_rng(2), np.datetime64("2027-01-01"), 90 * units.D_S, 400.0,
        np.ones(12, dtype=bool), 0.0, 24.0, ("fixed", 1.0, 1.0), ("fixed", 1.0, 1.0),
        grid_s=units.H_S,
    )  # fmt: skip
    expect = 400.0 * 90 / 365
    assert abs(len(t) - expect) < 4 * np.sqrt(expect)


def test_alternating_outages_availability():
    # MTBF 1000 h, MTTR 50 h: availability 1000/1050 = 0.952; over 20,000 years of hours the
    # simulated share of up time is within 1% of it.
    horizon = 2.0e7 * units.H_S
    t, d = pg.alternating_outages(
        np.random.default_rng(4), horizon, 1000 * units.H_S, 50 * units.H_S
    )
    assert 1.0 - d.sum() / horizon == pytest.approx(1000 / 1050, rel=0.01)
    assert (t[1:] > t[:-1] + d[:-1]).all() and (t + d <= horizon).all()


def test_distribution_samplers():
    rng = np.random.default_rng(0)
    assert_allclose(pg.sample_durations_s(rng, 3, "fixed", 7.0, 7.0), [7.0, 7.0, 7.0])
    u = pg.sample_durations_s(rng, 1000, "uniform", 10.0, 20.0)
    assert u.min() >= 10.0 and u.max() <= 20.0
    e = pg.sample_durations_s(rng, 20000, "exponential", 100.0, np.inf)
    assert e.mean() == pytest.approx(100.0, rel=0.03)  # sd of the mean 0.7%
    assert pg.sample_durations_s(rng, 1000, "exponential", 100.0, 150.0).max() <= 150.0
    dep = pg.sample_depths_frac(rng, 1000, "uniform", 0.2, 0.4)
    assert dep.min() >= 0.2 and dep.max() <= 0.4
    with pytest.raises(ValueError):
        pg.sample_durations_s(rng, 1, "gamma", 1.0, 1.0)
