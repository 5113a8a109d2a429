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
#: Short horizon per scenario: gw-campus has 6,400 racks in 48 cells, 6 h keeps it fast.
SHORT = {"gw-campus.yaml": "6h"}


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
    # slo_attainment_frac is NaN only without interactive demand; every shipped scenario
    # has an interactive class, so nothing may be NaN or infinite.
    assert bad == {}
    assert k["served_tok"] > 0
    assert k["it_energy_j"] > 0
    assert 1.0 < k["pue"] < 2.0  # liquid-cooled AI halls: PUE 1.1-1.4 (facility.md)
    assert 0.0 <= k["slo_attainment_frac"] <= 1.0
    assert k["energy_balance_residual_frac"] < 1e-9
    assert k["max_power_to_limit_frac"] <= 1.0 + 1e-9
    n_rows = int(round(res.meta["n_ticks"] * sc.tick_s / sc.record_every_s))
    assert len(res.timeseries) == n_rows
    assert np.isfinite(res.timeseries.drop(columns="slo_attainment_frac").to_numpy()).all()


def test_gw_campus_is_about_a_gigawatt(gw_campus):
    # 12 halls of GB200/GB300 in service at the start (b4 joins on 2027-04-01): 4,800
    # racks x 72 = 345,600 GPUs; the campus draws hundreds of MW, never its 1,050 MW limit.
    res = dcsim.run(gw_campus, overrides={"horizon_s": "6h"})
    k = res.kpis
    assert k["mean_gpus_in_service_count"] == pytest.approx(12 * 400 * 72, rel=1e-12)
    assert 100e6 < k["peak_facility_power_w"] <= 1050e6
    assert res.events.empty  # b4 enters service after these 6 h


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
    # Building b4 (4 halls x 3 rack groups = 12 groups, 4 x 400 = 1,600 GB300 racks) enters
    # service on 2027-04-01.
    ev = res.events
    assert (ev["kind"] == "racks_in_service").sum() == 12
    assert ev["value"].sum() == 4 * 400
    gpus = res.timeseries["gpus_in_service_count"]
    assert gpus.iloc[0] == pytest.approx(12 * 400 * 72, rel=1e-12)
    assert gpus.iloc[-1] == pytest.approx(16 * 400 * 72, rel=1e-12)
