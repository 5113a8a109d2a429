"""Every shipped scenario validates and runs; the full gw-campus year keeps the invariants.

The default suite runs short horizons (1 day; gw-campus 6 h, 24 rows of 15 min). The
``slow`` test runs the full gw-campus year (``python -m pytest -m slow``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

import dcsim

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))
#: Short horizon per scenario: gw-campus has 9,600 racks in 72 cells, 6 h keeps it fast.
SHORT = {p.name: "6h" for p in SCENARIOS if p.name.startswith("gw-campus")}


def test_the_shipped_scenarios_are_found():
    assert {"small-hall.yaml", "gw-campus.yaml"} <= {p.name for p in SCENARIOS}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_scenario_validates_and_runs_a_short_horizon(path):
    sc = dcsim.load_scenario(path)
    assert sc.name == path.stem  # results go to results/<name>/: the file name says which
    horizon = SHORT.get(path.name, "1d")
    res = dcsim.run(sc, overrides={"horizon_s": horizon})
    k = res.kpis
    bad = {key: v for key, v in k.items() if isinstance(v, float) and not math.isfinite(v)}
    # slo_attainment_frac is NaN only without interactive demand (the one-hall cooling pair
    # runs batch work only); nothing else may be NaN or infinite.
    interactive = any(w.tpot_s is not None for w in sc.workloads)
    if not interactive:
        bad.pop("slo_attainment_frac")
    assert bad == {}
    assert k["served_tok"] > 0
    assert k["it_energy_j"] > 0
    assert 1.0 < k["pue"] < 2.0  # liquid-cooled AI halls: PUE 1.1-1.4 (facility.md)
    assert not interactive or 0.0 <= k["slo_attainment_frac"] <= 1.0
    assert k["energy_balance_residual_frac"] < 1e-9
    assert k["max_power_to_limit_frac"] <= 1.0 + 1e-9
    n_rows = int(round(res.meta["n_ticks"] * sc.tick_s / sc.record_every_s))
    assert len(res.timeseries) == n_rows
    assert np.isfinite(res.timeseries.drop(columns="slo_attainment_frac").to_numpy()).all()


def test_gw_campus_is_about_a_gigawatt(gw_campus):
    # Building b1 (4 GB200 halls, 1,600 racks x 72 = 115,200 GPUs) is in service at the
    # start; b2-b6 are built out later. A few racks are out for failures or maintenance.
    res = dcsim.run(gw_campus, overrides={"horizon_s": "6h"})
    k = res.kpis
    assert 0.98 * 1600 * 72 < k["mean_gpus_in_service_count"] <= 1600 * 72
    assert 100e6 < k["peak_facility_power_w"] <= 1050e6
    assert not (res.events["kind"] == "hall_energised").any()  # b2 is energised in February


def check_invariants(res, import_limit_w: float) -> None:
    """Invariants of any run: energy balance, limits, served <= capacity."""
    ts, k = res.timeseries, res.kpis
    parts = ts["it_power_w"] + ts["cooling_power_w"] + ts["losses_power_w"]
    np.testing.assert_allclose(ts["facility_power_w"], parts, rtol=1e-9, atol=0)
    assert k["energy_balance_residual_frac"] < 1e-9
    assert k["max_power_to_limit_frac"] <= 1.0 + 1e-9
    assert (ts["facility_power_w"] <= import_limit_w * (1 + 1e-9)).all()
    assert (ts["served_tok_per_s"] <= ts["capacity_tok_per_s"] * (1 + 1e-12)).all()


@pytest.mark.slow
def test_gw_campus_full_year(gw_campus):
    res = dcsim.run(gw_campus)
    check_invariants(res, import_limit_w=1050e6)
    k = res.kpis
    # 1 year = 365 d of 15-min rows.
    assert len(res.timeseries) == 365 * 96
    assert k["served_tok"] > 0
    # The build-out energises b2-b6 (20 halls) during the year and fills them.
    ev = res.events
    assert (ev["kind"] == "hall_energised").sum() == 20
    cap = res.extra_tables["capacity"]
    assert len(cap) == 13  # 2027-01-04 .. 2028-01-04 touches 13 calendar months
    assert cap["racks_in_service_end_count"].iloc[-1] > 0.95 * 9600
    assert (cap["racks_in_service_end_count"] <= 9600).all()
    # Grid: never above what the contract makes available; cooling: heat balance closes.
    assert (ts_le(res, "grid_import_w", "grid_available_w")).all()
    assert k["total_power_cost_usd"] > 0 and k["wue_l_per_kwh"] >= 0


def ts_le(res, a: str, b: str):
    ts = res.timeseries
    return ts[a] <= ts[b] * (1 + 1e-9) + 1e-6
