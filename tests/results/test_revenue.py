"""Revenue, gross margin and tok/s per W per $ by hand, and their identities.

The short small-hall run: 12 chat racks (prompt 2,000, output 400 tokens) and 4 batch
racks (1,000 / 600) of GB200 NVL72, all in service from the start in one 2.4 MW hall, no
grid block (energy at the catalog's fallback price), fixed-COP cooling (no water).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from dcsim import units
from dcsim.catalog.economics import load_economics
from dcsim.catalog.load import load_catalog
from dcsim.model.prices import token_prices
from dcsim.report_format import format_quantity
from dcsim.results.economics import capex_held_rows_usd_s, capex_held_usd_s

#: Prices given in the run below [USD/Mtok]: chat 1 in / 2 out, batch 0.5 in / 0.25 out.
PRICES = {
    "workloads.chat.input_price_usd_per_mtok": 1.0,
    "workloads.chat.output_price_usd_per_mtok": 2.0,
    "workloads.batch.input_price_usd_per_mtok": 0.5,
    "workloads.batch.output_price_usd_per_mtok": 0.25,
}


@pytest.fixture(scope="module")
def priced(small_hall):
    import dcsim

    return dcsim.run(small_hall, overrides={"horizon_s": "6h", **PRICES})


def test_revenue_by_hand(priced):
    k = priced.kpis
    # Chat: each output token brings 2000 / 400 = 5 prompt tokens: 5 x 1 + 2 = 7 USD per
    # Mtok of output served. Batch: 1000 / 600 x 0.5 + 0.25 = 13/12 USD per Mtok of output.
    chat_usd = k["chat.served_tok"] * 7.0 / 1e6
    batch_usd = k["batch.served_tok"] * (13.0 / 12.0) / 1e6
    assert k["chat.revenue_usd"] == pytest.approx(chat_usd, rel=1e-12)
    assert k["batch.revenue_usd"] == pytest.approx(batch_usd, rel=1e-12)
    assert k["chat.served_input_tok"] == pytest.approx(5.0 * k["chat.served_tok"], rel=1e-12)
    # KPI identity: revenue = sum over classes of input and output tokens x their prices.
    by_tokens = sum(
        k[f"{c}.served_input_tok"] * PRICES[f"workloads.{c}.input_price_usd_per_mtok"] / 1e6
        + k[f"{c}.served_tok"] * PRICES[f"workloads.{c}.output_price_usd_per_mtok"] / 1e6
        for c in ("chat", "batch")
    )
    assert k["revenue_usd"] == pytest.approx(by_tokens, rel=1e-12)
    assert k["served_input_tok"] == pytest.approx(
        k["chat.served_input_tok"] + k["batch.served_input_tok"], rel=1e-12
    )
    assert k["revenue_usd_per_mtok"] == pytest.approx(
        k["revenue_usd"] / (k["served_tok"] / 1e6), rel=1e-12
    )


def test_margin_and_cost_by_hand(priced):
    k = priced.kpis
    econ = load_economics()
    # Capital held all the 6 h: 16 racks x 3 MUSD + 2.4 MW x 11 MUSD/MW = 74.4 MUSD.
    it_usd = 16 * econ.rack_capex_usd["gb200-nvl72"].value
    fac_usd = 2.4 * econ.facility_capex_usd_per_mw.value
    assert it_usd + fac_usd == pytest.approx(74.4e6)
    run_s = 6 * 3600.0
    year_s = 365 * 86400.0
    cost = (
        it_usd * run_s / (econ.it_depreciation_y.value * year_s)
        + fac_usd * run_s / (econ.facility_depreciation_y.value * year_s)
        + (it_usd + fac_usd) * run_s / year_s * econ.maintenance_per_y_frac.value
        + k["grid_import_energy_j"] / 3.6e9 * econ.energy_price_usd_per_mwh.value
    )
    assert k["cost_total_usd"] == pytest.approx(cost, rel=1e-9)
    assert k["gross_margin_usd"] == pytest.approx(k["revenue_usd"] - cost, rel=1e-9)
    assert k["gross_margin_frac"] == pytest.approx(k["gross_margin_usd"] / k["revenue_usd"])
    # Served tok/s per facility W per USD of capital: (tok / J) / 74.4 MUSD.
    assert k["tok_per_s_per_w_per_usd"] == pytest.approx(
        k["served_tok"] / k["facility_energy_j"] / 74.4e6, rel=1e-9
    )


def test_series_add_up_to_the_kpis(priced):
    ts = priced.timeseries
    k = priced.kpis
    for col in ("revenue_usd", "chat.revenue_usd", "batch.revenue_usd", "cost_total_usd"):
        assert ts[col].sum() == pytest.approx(k[col], rel=1e-9), col
    assert ts["gross_margin_usd"].sum() == pytest.approx(k["gross_margin_usd"], rel=1e-9)
    np.testing.assert_allclose(
        ts["revenue_usd"], ts["chat.revenue_usd"] + ts["batch.revenue_usd"], rtol=1e-12
    )
    # Every row holds the whole plant: 74.4 MUSD; per row tok/s / W / USD as the KPI's rows.
    np.testing.assert_allclose(ts["capex_held_usd"], 74.4e6, rtol=1e-12)
    np.testing.assert_allclose(
        ts["tok_per_s_per_w_per_usd"],
        ts["served_tok_per_s"] / ts["facility_power_w"] / 74.4e6,
        rtol=1e-12,
    )


def test_catalog_prices_are_the_default(small_hall):
    import dcsim

    sc = dcsim.load_scenario(small_hall)
    prices = token_prices(sc.workloads, ["chat", "batch"])
    listed = load_economics().token_price_usd_per_mtok["llama-3.1-70b"]
    assert prices.input_usd_per_tok[0] == pytest.approx(listed.input.value / 1e6)
    assert prices.output_usd_per_tok[1] == pytest.approx(listed.output.value / 1e6)
    np.testing.assert_allclose(prices.input_per_output_frac, [2000 / 400, 1000 / 600])


def _workload(**kw):
    base = dict(
        name="w",
        model="llama-3.1-70b",
        input_tok=100.0,
        output_tok=50.0,
        input_price_usd_per_mtok=None,
        output_price_usd_per_mtok=None,
        training=None,
    )
    base.update(kw)
    return SimpleNamespace(**base)


def test_training_sells_no_tokens_and_an_unknown_model_has_no_price():
    train = _workload(name="t", training=object())
    custom = _workload(name="c", model="my-own-model")
    own = _workload(name="o", model="my-own-model", output_price_usd_per_mtok=3.0)
    p = token_prices([train, custom, own], ["t", "c", "o"])
    assert p.input_usd_per_tok[0] == 0.0 and p.output_usd_per_tok[0] == 0.0
    assert math.isnan(p.input_usd_per_tok[1]) and math.isnan(p.output_usd_per_tok[1])
    assert p.output_usd_per_tok[2] == pytest.approx(3e-6)
    assert math.isnan(p.input_usd_per_tok[2])  # no input price given, none listed


def test_every_catalog_model_has_a_list_price():
    models = set(load_catalog().models)
    assert models <= set(load_economics().token_price_usd_per_mtok)


def test_capex_rows_integrate_the_steps():
    # Two snapshots: 10 USD from t = 0, 30 USD from t = 100 s; rows of 60 s over 180 s.
    # By hand: row 0 = 10 x 60 = 600; row 1 = 10 x 40 + 30 x 20 = 1000; row 2 = 30 x 60.
    idx = pd.DatetimeIndex(["2027-01-01 00:00:00", "2027-01-01 00:01:40"])
    snaps = pd.DataFrame({"a.racks_delivered_count": [1.0, 3.0], "energised_w": [0.0, 0.0]}, idx)
    start = np.array([0.0, 60.0, 120.0])
    it, fac = capex_held_rows_usd_s(snaps, ["a"], np.array([10.0]), 1.0, start, start + 60.0)
    np.testing.assert_allclose(it, [600.0, 1000.0, 1800.0])
    np.testing.assert_allclose(fac, 0.0)
    assert it.sum() == pytest.approx(
        capex_held_usd_s(snaps, ["a"], np.array([10.0]), 1.0, 180.0)[0]
    )


def test_formatted_for_people():
    # 1.35e-8 tok/s per W per USD = 1.35e-8 x 1e6 W x 1e6 USD = 13,500 tok/s per MW per $M.
    assert format_quantity("tok_per_s_per_w_per_usd", 1.35e-8) == "13500 tok/s/MW/$M"
    assert format_quantity("gross_margin_usd", -2.5e6) == "-$2.50M"
    assert units.MTOK_TOK == 1e6
