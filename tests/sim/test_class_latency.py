"""Per-class latency series and KPIs against a hand interpolation of the pool tables.

small-hall's chat class runs on one pool in one hall (one cell), so at a one-tick record
interval a row's utilisation of the capped capacity is served / capacity, and each latency
is the pool table linearly interpolated there (np.interp on the table's grid). The KPIs are
the served-token-weighted means of the rows; the p99 maximum is the largest row.
"""

from types import SimpleNamespace

import numpy as np

import dcsim
from dcsim.model.plant import build_plant
from dcsim.runner import resolve_scenario, scenario_catalog

SCENARIO = "scenarios/small-hall.yaml"
OVR = {"horizon_s": "3h", "record_every_s": "1min"}


def test_chat_latency_is_the_table_at_its_utilisation():
    res = dcsim.run(SCENARIO, overrides=OVR)
    ts, kpis = res.timeseries, res.kpis
    sc = resolve_scenario(SCENARIO, OVR)
    plant = build_plant(sc, scenario_catalog(sc))
    (pool,) = [i for i, k in enumerate(plant.pool_class) if plant.class_names[k] == "chat"]
    full = plant.pool_tables[pool]
    # Nothing caps the racks in these 3 h (1.37 MW peak under a 3.2 MW import limit; the
    # cooling keeps up), so every tick reads the tables' last cap column, the board limit.
    assert kpis["power_capped_h"] == 0.0 and kpis["thermal_capped_tok"] == 0.0
    tab = SimpleNamespace(
        **{
            name: getattr(full, name)[-1]
            for name in (
                "slo_attainment_frac",
                "ttft_p50_s",
                "ttft_p99_s",
                "tpot_p50_s",
                "tpot_p99_s",
            )
        }
    )
    grid = np.linspace(0.0, 1.0, tab.slo_attainment_frac.shape[0])
    util = np.minimum(ts["chat.served_tok_per_s"] / ts["chat.capacity_tok_per_s"], 1.0)
    assert 0.2 < util.mean() < 1.0  # a real operating range, not a grid end
    served = ts["chat.served_tok_per_s"].to_numpy()
    for col, table in (
        ("slo_attainment_frac", tab.slo_attainment_frac),
        ("ttft_p50_s", tab.ttft_p50_s),
        ("ttft_p99_s", tab.ttft_p99_s),
        ("tpot_p50_s", tab.tpot_p50_s),
        ("tpot_p99_s", tab.tpot_p99_s),
    ):
        hand = np.interp(util, grid, table)
        np.testing.assert_allclose(ts[f"chat.{col}"], hand, rtol=1e-9, err_msg=col)
        mean = np.sum(hand * served) / np.sum(served)
        np.testing.assert_allclose(kpis[f"chat.{col}"], mean, rtol=1e-9, err_msg=col)
    np.testing.assert_allclose(
        kpis["chat.ttft_p99_max_s"], np.interp(util, grid, tab.ttft_p99_s).max(), rtol=1e-9
    )
    # The deferrable batch class has no request queue: no latency columns.
    assert "batch.ttft_p99_s" not in ts
    assert "batch.ttft_p99_s" not in kpis
