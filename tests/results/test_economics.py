"""Cost per million tokens by hand on a tiny build-out scenario.

The schedule of tests/results/test_capacity.py: four GB200 NVL72 racks delivered on days
1-4, the 0.6 MW hall energised on day 10; 40 daily snapshots, each standing for one day.
Rack-days held: 1 + 2 + 3 + 4 x 36 = 150; energised hall-days: 30.
"""

from __future__ import annotations

import math

import pytest

from dcsim import units
from dcsim.catalog.load import load_catalog
from dcsim.model.capacity import build_capacity_plan
from dcsim.model.plant import build_plant
from dcsim.results.capacity import snapshots_frame
from dcsim.results.economics import capex_held_usd_s, economics_kpis
from dcsim.scenario.buildout_schema import Buildout, Economics
from dcsim.scenario.schema import Scenario
from dcsim.sim.capacity import simulate_capacity

D = units.D_S
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
ECONOMICS = {
    "rack_capex_usd": {"gb200-nvl72": 3e6},
    "facility_capex_usd_per_mw": 10e6,
    "it_depreciation_s": "5y",
    "facility_depreciation_s": "20y",
    "maintenance_per_y_frac": 0.03,
    "energy_price_usd_per_mwh": 50,
    "water_price_usd_per_m3": 2,
}
#: Made-up run totals: 1e12 tokens, 1 MW at the meter for 40 days, 1,000 m3 of water.
KPIS = {"served_tok": 1e12, "grid_import_energy_j": 1e6 * 40 * D, "water_l": 1e6}

# By hand:
IT_DEP = 150 * 3e6 / (5 * 365)  # 246,575.34 USD
FAC_DEP = 30 * 0.6 * 10e6 / (20 * 365)  # 24,657.53 USD
MAINT = 0.03 / 365 * (150 * 3e6 + 30 * 6e6)  # 51,780.82 USD
ENERGY = 960 * 50.0  # 960 MWh x 50 USD/MWh
WATER = 1000 * 2.0  # 1,000 m3 x 2 USD/m3
TOTAL = IT_DEP + FAC_DEP + MAINT + ENERGY + WATER  # 373,013.70 USD


@pytest.fixture(scope="module")
def tiny():
    catalog = load_catalog()
    sc = Scenario.model_validate(SCENARIO)
    plant = build_plant(sc, catalog)
    plan = build_capacity_plan(
        sc,
        catalog,
        plant,
        buildout=Buildout.model_validate(BUILDOUT),
        economics=Economics.model_validate(ECONOMICS),
    )
    state = simulate_capacity(plant, plan, seed=0)
    snaps = snapshots_frame(state.capacity_snapshots, plant.start)
    held = capex_held_usd_s(
        snaps,
        plan.system_names,
        plan.economics.rack_capex_usd,
        plan.economics.facility_capex_usd_per_w,
        plant.horizon_s,
    )
    return plan, held


def test_capex_held_by_hand(tiny):
    _, (it_usd_s, fac_usd_s) = tiny
    assert it_usd_s == pytest.approx(150 * D * 3e6, rel=1e-12)
    assert fac_usd_s == pytest.approx(30 * D * 0.6e6 * 10.0, rel=1e-12)


def test_cost_per_million_tokens_by_hand(tiny):
    plan, held = tiny
    k = economics_kpis(KPIS, *held, plan.economics)
    assert k["cost_it_depreciation_usd"] == pytest.approx(IT_DEP, rel=1e-12)
    assert k["cost_facility_depreciation_usd"] == pytest.approx(FAC_DEP, rel=1e-12)
    assert k["cost_maintenance_usd"] == pytest.approx(MAINT, rel=1e-12)
    assert k["cost_energy_usd"] == pytest.approx(ENERGY, rel=1e-12)
    assert k["cost_water_usd"] == pytest.approx(WATER, rel=1e-12)
    assert k["cost_total_usd"] == pytest.approx(TOTAL, rel=1e-12)
    # 1e12 tokens = 1e6 Mtok: 0.373 USD/Mtok all-in, 0.048 energy-only.
    assert k["cost_usd_per_mtok"] == pytest.approx(0.37301370, rel=1e-7)
    assert k["cost_energy_usd_per_mtok"] == pytest.approx(0.048, rel=1e-12)


def test_the_grid_blocks_power_cost_replaces_the_fallback_price(tiny):
    plan, held = tiny
    with_grid = economics_kpis({**KPIS, "total_power_cost_usd": 70_000.0}, *held, plan.economics)
    assert with_grid["cost_energy_usd"] == 70_000.0
    assert with_grid["cost_total_usd"] == pytest.approx(TOTAL - ENERGY + 70_000.0)
    # A grid block without a tariff reports NaN (unknown): fall back to the flat price.
    no_tariff = economics_kpis({**KPIS, "total_power_cost_usd": math.nan}, *held, plan.economics)
    assert no_tariff["cost_energy_usd"] == pytest.approx(ENERGY)


def test_catalog_defaults_without_an_economics_block():
    from dcsim.catalog.economics import load_economics

    catalog = load_catalog()
    sc = Scenario.model_validate(SCENARIO)
    plant = build_plant(sc, catalog)
    econ = build_capacity_plan(sc, catalog, plant).economics
    cat = load_economics()
    assert econ.rack_capex_usd[0] == cat.rack_capex_usd["gb200-nvl72"].value
    assert econ.facility_capex_usd_per_w == cat.facility_capex_usd_per_mw.value / 1e6
    assert econ.it_life_s == cat.it_depreciation_y.value * units.Y_S
    k = economics_kpis({"served_tok": 0.0}, 0.0, 0.0, econ)
    assert math.isnan(k["cost_usd_per_mtok"])
