"""Cost per million tokens, all-in and energy-only (MODEL.md section 7).

All-in cost of a run = depreciation of the IT racks held (from delivery: a stranded rack
costs money too) + depreciation of the facility energised (feed MW x USD/MW) + maintenance
(a yearly share of both capexes) + energy + water. Energy cost is the grid block's
``total_power_cost_usd`` KPI when the run has one and it is known (it holds energy,
demand, coincident-peak charges and fuel; NaN without a tariff), else the energy bought at
the meter times the fallback price. Water cost is a water-volume KPI of the cooling block
times the water price, zero without one. Capex is integrated over the daily capacity
snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.physics.economics import (
    cost_per_mtok_usd,
    depreciation_usd,
    energy_cost_usd,
    maintenance_usd,
)

__all__ = ["WATER_KPIS", "capex_held_rows_usd_s", "capex_held_usd_s", "economics_kpis"]

#: KPI names holding a run's water use [l], in order of preference (cooling block).
WATER_KPIS: tuple[str, ...] = ("water_l", "water_use_l", "total_water_l")
#: KPI holding the grid block's total power cost (energy, demand, coincident peak) [USD].
GRID_COST_KPI = "total_power_cost_usd"


def _capex_steps(
    snapshots: pd.DataFrame,
    system_names: Sequence[str],
    rack_capex_usd: np.ndarray,
    facility_capex_usd_per_w: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Capex held from each snapshot on: times [s from start], IT [USD], facility [USD]."""
    t_s = (snapshots.index - snapshots.index[0]).total_seconds().to_numpy()
    it_usd = np.zeros(len(snapshots))
    for name, price in zip(system_names, rack_capex_usd, strict=True):
        col = f"{name}.racks_delivered_count"
        if col in snapshots:
            it_usd += snapshots[col].to_numpy(float) * float(price)
    facility_usd = snapshots["energised_w"].to_numpy(float) * facility_capex_usd_per_w
    return t_s, it_usd, facility_usd


def capex_held_usd_s(
    snapshots: pd.DataFrame,
    system_names: Sequence[str],
    rack_capex_usd: np.ndarray,
    facility_capex_usd_per_w: float,
    horizon_s: float,
) -> tuple[float, float]:
    """Capex held over the run, integrated in time, for IT and for the facility.

    Each daily snapshot stands for the time until the next one (the last one until the end
    of the horizon).

    Parameters
    ----------
    snapshots
        :func:`dcsim.results.capacity.snapshots_frame` (``<system>.racks_delivered_count``
        and ``energised_w`` columns); its index starts at the scenario start.
    system_names
        Rack system ids, in the order of ``rack_capex_usd``.
    rack_capex_usd
        Price per rack unit of each system [USD].
    facility_capex_usd_per_w
        Facility capex per W of energised hall feed [USD/W].
    horizon_s
        Length of the run [s].

    Returns
    -------
    (it_usd_s, facility_usd_s)
        Integrals of the capex held [USD s].
    """
    if snapshots.empty:
        return 0.0, 0.0
    t_s, it_usd, facility_usd = _capex_steps(
        snapshots, system_names, rack_capex_usd, facility_capex_usd_per_w
    )
    held_s = np.diff(np.append(t_s, horizon_s))
    return float(np.dot(it_usd, held_s)), float(np.dot(facility_usd, held_s))


def capex_held_rows_usd_s(
    snapshots: pd.DataFrame,
    system_names: Sequence[str],
    rack_capex_usd: np.ndarray,
    facility_capex_usd_per_w: float,
    row_start_s: np.ndarray,
    row_end_s: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Capex held within each record row, integrated in time, for IT and for the facility.

    The same step function as :func:`capex_held_usd_s` (each snapshot holds until the
    next), integrated over ``[row_start_s, row_end_s)`` instead of the whole run: over rows
    that tile the horizon the rows sum to :func:`capex_held_usd_s`.

    Parameters
    ----------
    snapshots, system_names, rack_capex_usd, facility_capex_usd_per_w
        As for :func:`capex_held_usd_s`.
    row_start_s, row_end_s
        Bounds of each row, from the scenario start [s].

    Returns
    -------
    (it_usd_s, facility_usd_s)
        Per-row integrals of the capex held [USD s].
    """
    if snapshots.empty:
        zero = np.zeros(len(row_start_s))
        return zero, zero.copy()
    t_s, it_usd, facility_usd = _capex_steps(
        snapshots, system_names, rack_capex_usd, facility_capex_usd_per_w
    )
    # The integral of a step function is piecewise linear between the steps: interpolating
    # its running sum at the row bounds is exact (the last step holds on past the end).
    end_s = max(float(np.max(row_end_s, initial=0.0)), float(t_s[-1])) + 1.0
    knots_s = np.append(t_s, end_s)
    out = []
    for usd in (it_usd, facility_usd):
        running = np.concatenate(([0.0], np.cumsum(usd * np.diff(knots_s))))
        out.append(
            np.interp(row_end_s, knots_s, running) - np.interp(row_start_s, knots_s, running)
        )
    return out[0], out[1]


def economics_kpis(
    kpis: Mapping[str, float],
    it_capex_held_usd_s: float,
    facility_capex_held_usd_s: float,
    economics: Any,
) -> dict[str, float]:
    """Cost KPIs of a run.

    Parameters
    ----------
    kpis
        The run's KPIs so far: ``served_tok`` [tok], ``grid_import_energy_j`` or
        ``facility_energy_j`` [J], optionally ``total_power_cost_usd`` [USD] and a water KPI
        of :data:`WATER_KPIS` [l].
    it_capex_held_usd_s, facility_capex_held_usd_s
        From :func:`capex_held_usd_s` [USD s].
    economics
        :class:`dcsim.model.capacity.EconomicsPlan` (lives [s], maintenance share [1/y],
        fallback energy price [USD/MWh], water price [USD/m3]).

    Returns
    -------
    dict
        ``cost_it_depreciation_usd``, ``cost_facility_depreciation_usd``,
        ``cost_maintenance_usd``, ``cost_energy_usd`` (the grid block's total power cost, or
        energy at the fallback price), ``cost_water_usd``, ``cost_total_usd`` [USD];
        ``cost_usd_per_mtok`` (all-in) and ``cost_energy_usd_per_mtok`` (energy only)
        [USD per 1e6 tok], NaN when no token was served.
    """
    served = float(kpis.get("served_tok", 0.0))
    it_dep = float(depreciation_usd(it_capex_held_usd_s, economics.it_life_s))
    fac_dep = float(depreciation_usd(facility_capex_held_usd_s, economics.facility_life_s))
    maint = float(
        maintenance_usd(
            it_capex_held_usd_s + facility_capex_held_usd_s, economics.maintenance_per_y_frac
        )
    )
    grid_cost = float(kpis.get(GRID_COST_KPI, np.nan))
    if np.isfinite(grid_cost):
        energy = grid_cost
    else:  # no grid block, or one without a tariff (its costs are NaN: unknown)
        energy_j = float(kpis.get("grid_import_energy_j", kpis.get("facility_energy_j", 0.0)))
        energy = float(energy_cost_usd(energy_j, economics.energy_price_usd_per_mwh))
    water_l = next((float(kpis[k]) for k in WATER_KPIS if k in kpis), 0.0)
    water = water_l / units.M3_L * economics.water_price_usd_per_m3
    total = it_dep + fac_dep + maint + energy + water
    return {
        "cost_it_depreciation_usd": it_dep,
        "cost_facility_depreciation_usd": fac_dep,
        "cost_maintenance_usd": maint,
        "cost_energy_usd": energy,
        "cost_water_usd": water,
        "cost_total_usd": total,
        "cost_usd_per_mtok": float(cost_per_mtok_usd(total, served)),
        "cost_energy_usd_per_mtok": float(cost_per_mtok_usd(energy, served)),
    }
