"""The monthly capacity table by hand on a tiny build-out schedule.

Schedule (hand timeline, checked step by step in tests/sim/test_buildout.py): one hall of
four GB200 NVL72 racks (132 kW design each) on a 0.6 MW feed; start 2027-01-01, 40 days.
Racks are delivered on days 1-4, installed on days 2-5; the hall is energised on day 10
and its cooling commissioned on day 20; burn-in runs days 20-22; all four serve from
day 22. Snapshots are daily (day 0 ... day 39): January holds days 0-30, February 31-39.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dcsim.catalog.load import load_catalog
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.plant import build_plant
from dcsim.results.capacity import (
    CAPACITY_COLUMNS,
    capacity_kpis,
    capacity_table,
    snapshots_frame,
)
from dcsim.scenario.buildout_schema import Buildout
from dcsim.scenario.schema import Scenario
from dcsim.sim.capacity import simulate_capacity

KW = 1e3
FEED_W = 600 * KW
DESIGN_W = 132 * KW

SCENARIO = {
    "name": "tiny",
    "start": "2027-01-01",
    "horizon_s": "40d",
    "tick_s": "1min",
    "record_every_s": "1h",
    "workloads": [
        {
            "name": "batch",
            "model": "llama-3.1-70b",
            "precision": "fp8",
            "input_tok": 1000,
            "output_tok": 500,
            "demand": {"base_capacity_frac": 0.5, "daily_profile_frac": "flat"},
        }
    ],
    "sites": [
        {
            "name": "s",
            "location": {"latitude_deg": 40.0, "longitude_deg": -100.0},
            "import_limit_mw": 10,
            "buildings": [
                {
                    "name": "b",
                    "halls": [
                        {
                            "name": "h1",
                            "feed_mw": 0.6,
                            "rack_groups": [
                                {
                                    "name": "g",
                                    "system": "gb200-nvl72",
                                    "count": 4,
                                    "workload": "batch",
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}
BUILDOUT = {
    "phases": [
        {
            "name": "p1",
            "halls": ["h1"],
            "shell_ready": "2027-01-01",
            "energised": "2027-01-11",
            "cooling_commissioned": "2027-01-21",
        }
    ],
    "supply": [{"system": "gb200-nvl72", "racks_per_month": 365 / 12, "shipment_every_s": "1d"}],
    "installation": {"racks_per_week": 7},
    "burn_in": {"duration_s": "2d"},
}


@pytest.fixture(scope="module")
def run():
    catalog = load_catalog()
    sc = Scenario.model_validate(SCENARIO)
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(sc, catalog, plant, buildout=Buildout.model_validate(BUILDOUT))
    state = simulate_capacity(plant, plan, seed=0)
    snaps = snapshots_frame(state.capacity_snapshots, plant.start)
    # A made-up hourly series: capacity 100 tok/s in January, 300 in February.
    index = pd.date_range("2027-01-01", periods=40 * 24, freq="h", name="time")
    ts = pd.DataFrame(
        {
            "capacity_tok_per_s": np.where(index.month == 1, 100.0, 300.0),
            "demand_tok_per_s": 50.0,
            "served_tok_per_s": 40.0,
        },
        index=index,
    )
    return snaps, capacity_table(snaps, ts)


def test_snapshots_are_daily_from_the_start(run):
    snaps, _ = run
    assert len(snaps) == 40
    assert snaps.index[0] == pd.Timestamp("2027-01-01") and snaps.index[-1] == pd.Timestamp(
        "2027-02-09"
    )


def test_table_shape_and_columns(run):
    _, table = run
    assert list(table.columns) == list(CAPACITY_COLUMNS)
    assert list(table.index) == [pd.Timestamp("2027-01-01"), pd.Timestamp("2027-02-01")]
    assert table.index.name == "month"


def test_stranded_power_by_hand(run):
    _, table = run
    # January: not energised days 0-9 (0 W), energised and empty days 10-19 (600 kW),
    # four racks placed from day 20 (600 - 4 x 132 = 72 kW) for days 20-30:
    # (10 x 600 + 11 x 72) / 31 = 219.10 kW. February: 72 kW every day.
    jan = (10 * FEED_W + 11 * (FEED_W - 4 * DESIGN_W)) / 31
    assert table.loc["2027-01-01", "stranded_power_w"] == pytest.approx(jan, rel=1e-12)
    assert table.loc["2027-02-01", "stranded_power_w"] == pytest.approx(72 * KW, rel=1e-12)
    assert table.loc["2027-01-01", "energised_w"] == pytest.approx(21 * FEED_W / 31)
    assert table.loc["2027-01-01", "energised_end_w"] == FEED_W


def test_stranded_racks_by_hand(run):
    _, table = run
    # Delivered/installed without power or cooling: 0, 1, 2, 3 on days 0-3, then 4 for
    # days 4-19 (16 days), none once burn-in starts: (1 + 2 + 3 + 64) / 31 in January.
    assert table.loc["2027-01-01", "stranded_racks_count"] == pytest.approx(70 / 31)
    assert table.loc["2027-01-01", "stranded_racks_end_count"] == 0
    assert table.loc["2027-02-01", "stranded_racks_count"] == 0


def test_racks_gpus_and_power_in_service_by_hand(run):
    _, table = run
    jan, feb = table.loc["2027-01-01"], table.loc["2027-02-01"]
    assert jan["racks_delivered_count"] == 4 and jan["gpus_delivered_count"] == 288
    # In service from day 22: 9 of January's 31 days, then all of February.
    assert jan["racks_in_service_count"] == pytest.approx(4 * 9 / 31)
    assert jan["racks_in_service_end_count"] == 4
    assert jan["racks_burn_in_count"] == pytest.approx(4 * 2 / 31)  # days 20, 21
    assert feb["gpus_in_service_count"] == 288
    assert feb["it_design_in_service_w"] == pytest.approx(4 * DESIGN_W)
    assert jan["availability_frac"] == 1.0 and feb["availability_frac"] == 1.0


def test_token_columns_are_monthly_means_of_the_series(run):
    _, table = run
    assert table["capacity_tok_per_s"].to_list() == [100.0, 300.0]
    assert (table["demand_tok_per_s"] == 50.0).all()


def test_capacity_kpis_by_hand(run):
    snaps, _ = run
    k = capacity_kpis(snaps)
    stranded_w = (10 * FEED_W + 20 * (FEED_W - 4 * DESIGN_W)) / 40
    assert k["stranded_power_mean_w"] == pytest.approx(stranded_w)
    assert k["stranded_power_peak_w"] == FEED_W
    assert k["stranded_racks_mean_count"] == pytest.approx(70 / 40)
    assert k["stranded_racks_peak_count"] == 4
    assert k["racks_in_service_end_count"] == 4 and k["gpus_in_service_end_count"] == 288
    assert k["availability_frac"] == 1.0


def test_availability_counts_failed_racks_as_not_serving():
    index = pd.date_range("2027-03-01", periods=2, freq="D", name="time")
    snaps = pd.DataFrame(
        {
            "racks_in_service_count": [9.0, 10.0],
            "racks_failed_count": [1.0, 0.0],
            "racks_maintenance_count": [0.0, 0.0],
            "serving_racks_count": [8.5, 10.0],  # half a rack of replicas down on day 1
            "racks_stranded_count": [0.0, 0.0],
            "stranded_power_w": [0.0, 0.0],
            "racks_delivered_count": [10.0, 10.0],
            "gpus_in_service_count": [612.0, 720.0],
            "energised_w": [1e6, 1e6],
        },
        index=index,
    )
    # (8.5 + 10) / (10 + 10) = 0.925.
    assert capacity_kpis(snaps)["availability_frac"] == pytest.approx(0.925)


def test_capacity_results_bundle_has_units_and_no_nan():
    from dcsim.results.capacity import CAPACITY_TABLE, capacity_results
    from dcsim.scenario.buildout_schema import Reliability, Training
    from dcsim.units import KNOWN_SUFFIXES

    catalog = load_catalog()
    data = {**SCENARIO, "horizon_s": "40d"}
    sc = Scenario.model_validate(data)
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(
        sc,
        catalog,
        plant,
        buildout=Buildout.model_validate(BUILDOUT),
        reliability=Reliability(),
        training={"batch": Training(checkpoint_write_s=60.0, restart_s=300.0)},
    )
    state = simulate_capacity(plant, plan, seed=0)
    ev = pd.DataFrame(state.recorder.events, columns=["t_s", "kind", "asset", "detail", "value"])
    ev.insert(0, "time", pd.Timestamp(plant.start) + pd.to_timedelta(ev.pop("t_s"), unit="s"))
    index = pd.date_range("2027-01-01", periods=40 * 24, freq="h", name="time")
    ts = pd.DataFrame(
        {"capacity_tok_per_s": 1e5, "demand_tok_per_s": 5e4, "served_tok_per_s": 5e4}, index=index
    )
    kpis = {"served_tok": 5e4 * 40 * 86400, "grid_import_energy_j": 1e5 * 40 * 86400}
    table, new = capacity_results(state.capacity_snapshots, ts, ev, kpis, plan)
    assert CAPACITY_TABLE == "capacity"
    assert list(table.columns) == list(CAPACITY_COLUMNS)
    for name, value in new.items():
        leaf = name.rsplit(".", 1)[-1]
        assert any(("_" + leaf).endswith(s) for s in KNOWN_SUFFIXES), name
        assert np.isfinite(value), name
    assert new["failures_count"] == (ev.kind == "failure").sum()
    assert new["batch.training_interruptions_count"] == (ev.kind == "training_interruption").sum()
    assert 0 < new["batch.training_goodput_frac"] <= 1
    # The job starts once its four racks are past burn-in: day 22.
    assert new["batch.training_start_s"] == 22 * 86400
    assert new["cost_usd_per_mtok"] > new["cost_energy_usd_per_mtok"] > 0
