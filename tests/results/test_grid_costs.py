"""Itemised power costs and carbon (dcsim/results/grid_costs.py) against hand calculations."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import Field

from dcsim import units
from dcsim.model.grid import SiteGridInfo, build_grid
from dcsim.model.streams import rng_for
from dcsim.results.grid_costs import ACCOUNT_COLUMNS, grid_accounts
from dcsim.scenario.grid_schema import Carbon, GridContract, OnSite, Tariff
from dcsim.scenario.load import load_yaml_with_lines
from dcsim.scenario.schema import Scenario, Site

MW = units.MW_W
REPO = Path(__file__).resolve().parents[2]


def site_frame(import_mw: np.ndarray, turbine_mw: float = 0.0, record_s: float = 300.0):
    n = len(import_mw)
    index = pd.date_range("2027-07-31T23:00", periods=n, freq=f"{int(record_s)}s", name="time")
    return pd.DataFrame(
        {
            "grid_import_w": import_mw * MW,
            "solar_w": np.zeros(n),
            "clean_w": np.zeros(n),
            "turbine_w": np.full(n, turbine_mw * MW),
            "battery_w": np.zeros(n),
            "battery_soc_j": np.zeros(n),
            "curtailed_w": np.zeros(n),
            "facility_power_w": import_mw * MW + turbine_mw * MW,
        },
        index=index,
    )


def hand_info(**kw) -> SiteGridInfo:
    """Two hours from 31 July 2027 23:00: 40 then 60 USD/MWh, 400 then 300 kg/MWh."""
    info = SiteGridInfo(
        name="s",
        start=dt.datetime(2027, 7, 31, 23),
        horizon_s=7200.0,
        tick_s=60.0,
        import_limit_w=200 * MW,
        hour0_offset_s=0.0,
        has_tariff=True,
        energy_price_usd_per_j=np.array([40.0, 60.0]) / units.MWH_J,
        carbon_kg_per_j=np.array([400.0, 300.0]) / units.MWH_J,
        demand_usd_per_w_month=10.0 / units.KW_W,  # 10 USD/kW-month
        cp_usd_per_w_y=100.0 / units.KW_W,  # 100 USD/kW-y
        cp_months_count=4,
        cp_interval_start_s=np.array([4500.0]),  # 1 August 00:15
        min_take_frac=0.85,
        # 100 MW contracted in July and August 2027 (month keys year * 12 + month - 1)
        contract_month_max_w={2027 * 12 + 6: 100 * MW, 2027 * 12 + 7: 100 * MW},
        clean_share_frac=0.4,
        heat_rate_j_per_j=10.0 * units.MMBTU_J / units.MWH_J,  # 10 MMBtu/MWh
        fuel_usd_per_j=3.0 / units.MMBTU_J,  # 3 USD/MMBtu
        fuel_kg_per_j=53.06 / units.MMBTU_J,
        curtailed_s=5400.0,
        disconnected_s=600.0,
    )
    for k, v in kw.items():
        setattr(info, k, v)
    return info


# 5-minute rows; 15-minute interval means: July hour 10, 30, 10, 10 MW; August hour 20, 50,
# 20, 20 MW.
IMPORT_MW = np.repeat([10.0, 30.0, 10.0, 10.0, 20.0, 50.0, 20.0, 20.0], 3)


def test_hand_calculated_bill():
    rows, k = grid_accounts(site_frame(IMPORT_MW, turbine_mw=6.0), hand_info(), 300.0)
    assert list(rows.columns) == list(ACCOUNT_COLUMNS)
    # Energy: July hour 15 MWh x 40 = 600 USD; August hour 27.5 MWh x 60 = 1,650 USD.
    assert k["energy_cost_usd"] == pytest.approx(2250.0)
    assert rows["energy_cost_usd"].iloc[:12].sum() == pytest.approx(600.0)
    # Demand: July peak 30 MW, August 50 MW, at 10 USD/kW-month, each month covered for
    # 1 h of 744 h: (300,000 + 500,000) / 744 = 1,075.27 USD.
    assert k["demand_charge_usd"] == pytest.approx(800_000.0 / 744)
    # The charge sits on the rows of the peak interval: July rows 3-5, August rows 15-17.
    assert rows["demand_charge_usd"].iloc[3:6].sum() == pytest.approx(300_000.0 / 744)
    assert rows["demand_charge_usd"].iloc[15:18].sum() == pytest.approx(500_000.0 / 744)
    assert rows["demand_charge_usd"].drop(rows.index[[3, 4, 5, 15, 16, 17]]).sum() == 0.0
    # Minimum take 85% of 100 MW = 85 MW billed: top-ups (85-30) and (85-50) MW:
    # (550,000 + 350,000) / 744 = 1,209.68 USD.
    assert k["min_take_charge_usd"] == pytest.approx(900_000.0 / 744)
    # Coincident peak at 00:15 on 1 August: 50 MW = 50,000 kW x 100 USD/kW-y / 4 months.
    assert k["coincident_peak_charge_usd"] == pytest.approx(1_250_000.0)
    assert rows["coincident_peak_charge_usd"].iloc[15:18].sum() == pytest.approx(1_250_000.0)
    # Fuel: 6 MW for 2 h = 12 MWh x 10 MMBtu/MWh = 120 MMBtu x 3 USD = 360 USD, x 53.06 kg
    # = 6,367.2 kg CO2.
    assert k["fuel_cost_usd"] == pytest.approx(360.0)
    assert k["fuel_carbon_kg"] == pytest.approx(6367.2)
    assert k["turbine_fuel_j"] == pytest.approx(120 * units.MMBTU_J)
    total = 2250.0 + (800_000.0 + 900_000.0) / 744 + 1_250_000.0 + 360.0
    assert k["total_power_cost_usd"] == pytest.approx(total)
    assert rows["power_cost_usd"].sum() == pytest.approx(total)
    # Carbon: 15 MWh x 400 + 27.5 MWh x 300 = 14,250 kg location-based; 40% clean share:
    # 8,550 kg market-based; fuel adds to both.
    assert rows["grid_carbon_location_kg"].sum() == pytest.approx(14_250.0)
    assert k["carbon_location_kg"] == pytest.approx(14_250.0 + 6367.2)
    assert k["carbon_market_kg"] == pytest.approx(8_550.0 + 6367.2)
    # Other KPIs.
    assert k["peak_demand_w"] == pytest.approx(50 * MW)
    assert (k["curtailed_h"], k["disconnected_h"]) == (1.5, pytest.approx(1 / 6))
    assert k["grid_import_energy_j"] == pytest.approx(42.5 * units.MWH_J)
    assert k["turbine_energy_j"] == pytest.approx(12 * units.MWH_J)
    assert k["mean_energy_price_usd_per_mwh"] == pytest.approx(2250.0 / 42.5)


def test_peak_uses_15_minute_means_not_rows():
    # A single 5-minute row at 90 MW among zeros is a 30 MW quarter-hour: billed 30 MW.
    imp = np.zeros(24)
    imp[6] = 90.0
    _, k = grid_accounts(site_frame(imp), hand_info(min_take_frac=0.0), 300.0)
    assert k["peak_demand_w"] == pytest.approx(30 * MW)
    assert k["demand_charge_usd"] == pytest.approx(300_000.0 / 744)  # July only; August 0


def test_fuel_counts_gross_turbine_output_when_recorded():
    # 2 MW of a 6 MW minimum-load output spilled: the meter sees 4 MW, the fuel burns for 6.
    frame = site_frame(IMPORT_MW, turbine_mw=4.0)
    frame["turbine_gross_w"] = 6.0 * MW
    _, k = grid_accounts(frame, hand_info(), 300.0)
    assert k["fuel_cost_usd"] == pytest.approx(360.0)


def test_market_carbon_from_clean_energy():
    # 42.5 MWh imported; 31,025 MWh/y of clean supply over a 2-h horizon is 7.08 MWh, i.e.
    # 1/6 of the import: market = 5/6 of location.
    info = hand_info(clean_share_frac=None, clean_supply_j_per_y=31_025 * units.MWH_J)
    clean_mwh = 31_025 * 7200.0 / units.Y_S
    _, k = grid_accounts(site_frame(IMPORT_MW), info, 300.0)
    assert k["carbon_market_kg"] == pytest.approx(14_250.0 * (1 - clean_mwh / 42.5))


def test_no_tariff_means_unknown_grid_cost():
    info = hand_info(has_tariff=False)
    rows, k = grid_accounts(site_frame(IMPORT_MW, turbine_mw=6.0), info, 300.0)
    assert rows["energy_cost_usd"].isna().all() and np.isnan(k["total_power_cost_usd"])
    assert k["fuel_cost_usd"] == pytest.approx(360.0)  # fuel is costed either way
    assert k["carbon_location_kg"] == pytest.approx(14_250.0 + 6367.2)


def test_demand_charges_need_15_minute_rows():
    frame = site_frame(np.array([10.0, 20.0]), record_s=3600.0)
    with pytest.raises(ValueError, match="does not resolve 15-minute"):
        grid_accounts(frame, hand_info(), 3600.0)
    # Without demand-type charges an hourly record is fine; the peak is the highest row.
    info = hand_info(demand_usd_per_w_month=0.0, min_take_frac=0.0, cp_usd_per_w_y=0.0)
    _, k = grid_accounts(frame, info, 3600.0)
    assert k["energy_cost_usd"] == pytest.approx(10 * 40 + 20 * 60)
    assert k["peak_demand_w"] == pytest.approx(20 * MW)


# --------------------------------------------------------------------------- with build_grid


class GSite(Site):
    grid: GridContract | None = None
    tariff: Tariff | None = None
    carbon: Carbon | None = None
    onsite: OnSite | None = None


class GScenario(Scenario):
    sites: list[GSite] = Field(min_length=1)


def test_accounts_of_a_built_site():
    # small-hall for one day in January, 2 MW imported all day, flat 50 USD/MWh, 10
    # USD/kW-month: energy 48 MWh x 50 = 2,400 USD; demand 2,000 kW x 10 x 1/31 = 645.16 USD.
    data, _ = load_yaml_with_lines(REPO / "scenarios" / "small-hall.yaml")
    data = copy.deepcopy(data)
    data["horizon_s"] = "1d"
    data["sites"][0]["tariff"] = {
        "energy": {"type": "flat", "price_usd_per_mwh": 50},
        "demand_charge_usd_per_kw_per_month": 10,
    }
    data["sites"][0]["carbon"] = {"intensity": {"type": "constant", "intensity_kg_per_mwh": 400}}
    sc = GScenario.model_validate(data)
    g = build_grid(sc, None, REPO / "scenarios", [None], 1440, 60.0, rng_for)
    frame = site_frame(np.full(96, 2.0), record_s=900.0)
    frame.index = pd.date_range("2027-01-04", periods=96, freq="15min", name="time")
    rows, k = grid_accounts(frame, g.sites[0], 900.0)
    assert k["energy_cost_usd"] == pytest.approx(2400.0)
    assert k["demand_charge_usd"] == pytest.approx(20_000.0 / 31)
    assert k["carbon_location_kg"] == pytest.approx(48 * 400.0)
    assert k["curtailed_h"] == 0.0 and rows.index.equals(frame.index)
