"""Revenue, gross margin and throughput per watt per capital dollar (docs/economics.md).

Revenue of a class = the output tokens it served times the output price, plus the input
tokens that came with them (``L_in / L_out`` per output token) times the input price.
Gross margin = revenue - the all-in cost of :mod:`dcsim.results.economics` (depreciation of
the IT and facility capex held, maintenance, energy and water). Both are KPIs of the run
and per-row series of the campus time series; the rows of a series add up to its KPI.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.model.prices import TokenPrices
from dcsim.physics.economics import (
    depreciation_usd,
    energy_cost_usd,
    maintenance_usd,
    token_revenue_usd,
)
from dcsim.results.economics import GRID_COST_KPI, capex_held_rows_usd_s
from dcsim.results.metrics import _row_s

__all__ = ["MARGIN_COLUMNS", "margin_results"]

#: Campus series added by :func:`margin_results` (besides ``<class>.revenue_usd``).
MARGIN_COLUMNS = (
    "revenue_usd",
    "cost_total_usd",
    "gross_margin_usd",
    "capex_held_usd",
    "tok_per_s_per_w_per_usd",
)


def _row_costs_usd(
    ts: pd.DataFrame,
    kpis: dict[str, Any],
    economics: Any,
    it_held_usd_s: np.ndarray,
    fac_held_usd_s: np.ndarray,
    dur_s: np.ndarray,
) -> np.ndarray:
    """All-in cost of each row, by the rules of :func:`~dcsim.results.economics.economics_kpis`."""
    dep = depreciation_usd(it_held_usd_s, economics.it_life_s) + depreciation_usd(
        fac_held_usd_s, economics.facility_life_s
    )
    maint = maintenance_usd(it_held_usd_s + fac_held_usd_s, economics.maintenance_per_y_frac)
    if np.isfinite(float(kpis.get(GRID_COST_KPI, np.nan))) and "power_cost_usd" in ts:
        energy = ts["power_cost_usd"].to_numpy(float)
    else:  # no tariff: the energy bought at the meter at the fallback price
        energy = energy_cost_usd(
            ts["grid_import_w"].to_numpy(float) * dur_s, economics.energy_price_usd_per_mwh
        )
    water_l = ts["water_l"].to_numpy(float) if "water_l" in ts else np.zeros(len(ts))
    water = water_l / units.M3_L * economics.water_price_usd_per_m3
    return dep + maint + energy + water


def margin_results(
    ts: pd.DataFrame,
    snapshots: pd.DataFrame,
    kpis: dict[str, Any],
    plan: Any,
    prices: TokenPrices,
    record_s: float,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Revenue and margin series and KPIs of a run.

    Parameters
    ----------
    ts
        Campus time series (``served_tok_per_s``, ``facility_power_w``, ``grid_import_w``,
        per class ``<class>.served_tok_per_s``; ``power_cost_usd`` and ``water_l`` per row
        when the run has them).
    snapshots
        :func:`dcsim.results.capacity.snapshots_frame` of the run (capex held).
    kpis
        The run's KPIs so far, with those of
        :func:`dcsim.results.economics.economics_kpis` (``cost_total_usd``).
    plan
        The run's :class:`dcsim.model.capacity.CapacityPlan` (start, horizon, economics).
    prices
        :func:`dcsim.model.prices.token_prices` of the run's classes.
    record_s
        Record interval [s].

    Returns
    -------
    (ts, kpis)
        The series with ``<class>.revenue_usd``, ``revenue_usd``, ``cost_total_usd``,
        ``gross_margin_usd`` [USD per row], ``capex_held_usd`` (time mean over the row)
        [USD] and ``tok_per_s_per_w_per_usd`` [tok/s per W per USD]; the KPIs
        ``<class>.served_input_tok``, ``served_input_tok`` [tok], ``<class>.revenue_usd``,
        ``revenue_usd``, ``gross_margin_usd`` [USD], ``gross_margin_frac`` [-],
        ``revenue_usd_per_mtok`` [USD per 1e6 output tok] and
        ``tok_per_s_per_w_per_usd`` [tok/s per W per USD]. Revenue KPIs are left out when a
        class's price is unknown (a model without a catalog price and none given).
    """
    ts = ts.copy(deep=False)  # copy-on-write: the caller's table stays as it was
    dur_s = _row_s(ts, plan.horizon_s, record_s)
    t0 = pd.Timestamp(plan.start)
    if t0.tzinfo is None and ts.index.tz is not None:
        t0 = t0.tz_localize(ts.index.tz)
    start_s = (ts.index - t0).total_seconds().to_numpy(float)
    econ = plan.economics
    it_s, fac_s = capex_held_rows_usd_s(
        snapshots,
        plan.system_names,
        econ.rack_capex_usd,
        econ.facility_capex_usd_per_w,
        start_s,
        start_s + dur_s,
    )
    out: dict[str, float] = {}
    revenue = np.zeros(len(ts))
    served_in_tok = 0.0
    for j, name in enumerate(prices.class_names):
        out_tok = ts[f"{name}.served_tok_per_s"].to_numpy(float) * dur_s
        rows = token_revenue_usd(
            out_tok,
            prices.input_per_output_frac[j],
            prices.input_usd_per_tok[j],
            prices.output_usd_per_tok[j],
        )
        ts[f"{name}.revenue_usd"] = rows
        revenue = revenue + rows
        in_tok = float(np.sum(out_tok)) * prices.input_per_output_frac[j]
        out[f"{name}.served_input_tok"] = in_tok
        out[f"{name}.revenue_usd"] = float(np.sum(rows))
        served_in_tok += in_tok
    cost = _row_costs_usd(ts, kpis, econ, it_s, fac_s, dur_s)
    capex_usd = (it_s + fac_s) / np.where(dur_s > 0, dur_s, np.nan)
    served = ts["served_tok_per_s"].to_numpy(float)
    fac_w = ts["facility_power_w"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_w_usd = np.where((fac_w > 0) & (capex_usd > 0), served / fac_w / capex_usd, np.nan)
    ts["revenue_usd"] = revenue
    ts["cost_total_usd"] = cost
    ts["gross_margin_usd"] = revenue - cost
    ts["capex_held_usd"] = capex_usd
    ts["tok_per_s_per_w_per_usd"] = per_w_usd
    out["served_input_tok"] = served_in_tok
    total = float(np.sum(revenue))
    served_tok = float(kpis.get("served_tok", 0.0))
    if np.isfinite(total):
        out["revenue_usd"] = total
        out["gross_margin_usd"] = total - float(kpis["cost_total_usd"])
        out["gross_margin_frac"] = out["gross_margin_usd"] / total if total > 0 else np.nan
        if served_tok > 0:
            out["revenue_usd_per_mtok"] = total / (served_tok / units.MTOK_TOK)
    # Served tokens per joule of facility energy, per dollar of the capital held on average.
    fac_j = float(kpis.get("facility_energy_j", 0.0))
    mean_capex_usd = float(np.sum(it_s + fac_s)) / plan.horizon_s
    if fac_j > 0 and mean_capex_usd > 0:
        out["tok_per_s_per_w_per_usd"] = served_tok / fac_j / mean_capex_usd
    # A class whose price is unknown has an unknown revenue, not zero: left out.
    return ts, {k: v for k, v in out.items() if np.isfinite(v)}
