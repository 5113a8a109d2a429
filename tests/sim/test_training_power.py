"""Training jobs in the compiled tick: power by hand, battery and floor smoothing counted, the
energy balance closing, repurposing before/after, and the shipped example.

small-hall: one hall of 16 GB200 NVL72 racks (design 132 kW each, catalog rack_systems.yaml);
the job takes the 4 racks of group h1/batch, so its full power is 4 x 132 kW = 528 kW.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import dcsim
from dcsim.catalog.grid_defaults import grid_default
from dcsim.model.checks import load_scenario
from dcsim.scenario import scenario_catalog

REPO = Path(__file__).resolve().parents[2]
SMALL_HALL = REPO / "scenarios" / "small-hall.yaml"
FULL_W = 4 * 132e3
# No checkpoint or failure inside the day: the iterations alone.
PROFILE = {
    "iteration_period_s": 2.0,
    "compute_duty_frac": 0.7,
    "compute_power_frac": 0.95,
    "comm_power_frac": 0.35,
    "transition_s": 0.1,
    "checkpoint_interval_s": "10d",
}


def _run(smoothing=None, limit_mw_per_min=None, battery=False, until=None, horizon="1d"):
    job = {"name": "pre", "rack_groups": ["h1/batch"], "profile": PROFILE, "mtbf_s": 1e12}
    if smoothing is not None:
        job["smoothing"] = smoothing
    if until is not None:
        job["until"] = until
    over = {"horizon_s": horizon, "training_jobs": [job]}
    grid = {"firm_mw": 3.2}
    if limit_mw_per_min is not None:
        grid["ramp_limit_mw_per_min"] = limit_mw_per_min
    over["sites.0.grid"] = grid
    if battery:
        over["sites.0.onsite"] = {"battery": {"power_mw": 1.0, "energy_mwh": 1.0}}
    return dcsim.run(SMALL_HALL, overrides=over)


def _site(res):
    return res.extra_tables["site_timeseries"]


def test_design_power_is_the_one_the_hand_figures_use():
    sc = load_scenario(SMALL_HALL)
    assert scenario_catalog(sc).rack_systems["gb200-nvl72"].design_power_kw.value == 132


def test_training_power_by_hand_and_balance():
    res = _run()
    st = _site(res).iloc[1:]  # row 0 holds the start, a plateau without its first ramp up
    # Mean 0.35 + (0.95 - 0.35) x 0.7 = 0.77 of 528 kW = 406.56 kW; min 0.35 -> 184.8 kW,
    # max 0.95 -> 501.6 kW; steepest slope 0.6 x 528 kW / 0.1 s = 3.168 MW/s.
    assert_allclose(st["training_power_w"], 0.77 * FULL_W, rtol=1e-9)
    assert_allclose(st["training_power_min_w"], 0.35 * FULL_W, rtol=1e-9)
    assert_allclose(st["training_power_max_w"], 0.95 * FULL_W, rtol=1e-9)
    assert_allclose(st["training_ramp_w_per_s"], 0.6 * FULL_W / 0.1, rtol=1e-9)
    assert_allclose(st["training_racks_count"], 4.0)
    # Without smoothing the grid sees the swing within every minute: 316.8 kW / 60 s.
    assert_allclose(st["training_grid_ramp_w_per_s"], 0.6 * FULL_W / 60.0, rtol=1e-9)
    assert res.kpis["energy_balance_residual_frac"] < 1e-9
    # The batch racks train: the batch class has no capacity left.
    assert res.timeseries["batch.capacity_tok_per_s"].max() == 0.0


def test_battery_takes_the_swings_and_its_loss_closes_the_balance():
    base = _run()
    res = _run(smoothing={"type": "battery"}, limit_mw_per_min=0.1, battery=True)
    st = _site(res).iloc[1:]
    # Above the 0.77 mean: plateau 1.3 s x 0.18 + two triangles 0.5 x 0.18 x 0.03 s
    # = 0.2394 per 2 s iteration = 0.1197 /s of 528 kW = 63.2016 kW cycled.
    assert_allclose(st["smoothing_battery_cycled_w"], 0.1197 * FULL_W, rtol=1e-9)
    # Refilling E delivered takes E / round trip: the loss is E (1 / 0.85 - 1).
    rt = grid_default("battery_round_trip_frac")
    k = res.kpis
    assert_allclose(
        k["main.smoothing_battery_loss_j"], k["main.smoothing_battery_cycled_j"] * (1 / rt - 1),
        rtol=1e-12,
    )  # fmt: skip
    assert k["energy_balance_residual_frac"] < 1e-9
    # The loss is drawn at the site: facility energy rises by it (plus the transformer's
    # load loss on it, a fraction of a percent).
    row_s = 900.0
    extra_j = (res.timeseries["facility_power_w"] - base.timeseries["facility_power_w"]).sum()
    extra_j *= row_s
    assert (
        k["main.smoothing_battery_loss_j"] <= extra_j <= 1.01 * k["main.smoothing_battery_loss_j"]
    )
    # The grid no longer sees the swing inside a minute: within the tick, none is left.
    assert st["training_grid_ramp_w_per_s"].max() < 1e-6 * FULL_W
    assert k["main.ramp_limit_exceeded_frac"] < 0.01  # only the job's start tick


def test_power_floor_burn_is_counted_as_it_power():
    base = _run()
    res = _run(smoothing={"type": "power_floor"}, limit_mw_per_min=0.1)
    k, kb = res.kpis, base.kpis
    # The floor sized to the limit: 0.95 - 0.1 MW / 0.528 MW of swing left.
    floor = 0.95 - 0.1e6 / FULL_W
    st = _site(res).iloc[1:]
    assert_allclose(st["training_power_min_w"], floor * FULL_W, rtol=1e-9)
    # The burnt energy is exactly the rise of the job's energy.
    assert_allclose(
        k["main.training_energy_j"] - kb["main.training_energy_j"], k["main.smoothing_burn_j"],
        rtol=1e-9,
    )  # fmt: skip
    assert k["main.smoothing_burn_j"] > 0
    # ...and it is IT power: the campus IT energy rises by at least as much.
    it_extra = (res.timeseries["it_power_w"] - base.timeseries["it_power_w"]).sum() * 900.0
    assert it_extra == pytest.approx(k["main.smoothing_burn_j"], rel=1e-6)
    assert k["energy_balance_residual_frac"] < 1e-9
    assert st["training_grid_ramp_w_per_s"].max() <= 0.1e6 / 60.0 * (1 + 1e-9)


def test_repurposing_before_and_after():
    res = _run(until="2027-01-04T12:00", horizon="1d")
    table = res.extra_tables["repurposing"].set_index("window")
    st = _site(res)
    # Tables are stamped in UTC; the repurposing date is on the campus clock.
    date = pd.Timestamp("2027-01-04T12:00")
    st_local = res.local_time("site_timeseries").loc[st.index].dt.tz_localize(None)
    before = st[st_local < date]
    after = st[st_local >= date]
    assert_allclose(before["training_racks_count"], 4.0)
    assert_allclose(after["training_racks_count"], 0.0)
    assert_allclose(after["training_power_w"], 0.0)
    # After the date the 4 racks serve the batch backlog: the campus serves more.
    assert table.loc["after", "served_tok_per_s"] > table.loc["before", "served_tok_per_s"]
    ts = res.timeseries
    ts_local = res.local_time().dt.tz_localize(None)
    assert ts.loc[(ts_local >= date).to_numpy(), "batch.capacity_tok_per_s"].min() > 0
    # The job's end is a drop of its whole mean power within a tick: the grid sees
    # 406.56 kW / 60 s = 6.776 kW/s after the date.
    assert table.loc["after", "training_grid_ramp_max_w_per_s"] == pytest.approx(
        0.77 * FULL_W / 60.0, rel=1e-6
    )
    assert np.isfinite(table.loc["before", "halls_it_power_w"])
    assert res.kpis["energy_balance_residual_frac"] < 1e-9


def test_scenario_without_training_has_no_training_columns():
    res = dcsim.run(SMALL_HALL, overrides={"horizon_s": "6h"})
    assert "training_power_w" not in _site(res).columns
    assert "repurposing" not in res.extra_tables
    assert not any("training" in k for k in res.kpis)


@pytest.mark.slow
def test_shipped_gw_campus_training_runs():
    res = dcsim.run(
        REPO / "scenarios" / "gw-campus-training.yaml",
        overrides={"horizon_s": "2d", "training_jobs.0.until": "2027-01-05"},
    )
    st = _site(res)
    first = st[st["time"] < "2027-01-05"]
    # Hall b1h1 (400 racks, in service from the start) trains the first day.
    assert first["training_racks_count"].iloc[1:].mean() > 390
    assert res.kpis["campus.smoothing_battery_loss_j"] > 0
    assert res.kpis["energy_balance_residual_frac"] < 1e-9
    assert set(res.extra_tables["repurposing"]["window"]) == {"before", "after"}
