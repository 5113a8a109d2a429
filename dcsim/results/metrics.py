"""KPIs of a run, computed from its recorded time series (MODEL.md section 8).

Energy KPIs integrate the time-weighted means over their record interval; ratios are
energy-weighted (annual PUE = facility energy / IT energy), never means of ratios.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcsim import units

#: A record row counts as capped when caps withheld more than this share of its demand.
CAPPED_REL_THRESHOLD = 1e-6
#: A record row counts as throttled when thermal limits withheld more than this capacity share.
THROTTLED_FRAC = 1e-4


def _row_s(ts: pd.DataFrame, horizon_s: float, record_s: float) -> np.ndarray:
    # Every row spans record_s except possibly the last, which holds the remainder.
    n = len(ts)
    dur = np.full(n, record_s)
    if n:
        dur[-1] = horizon_s - record_s * (n - 1)
    return dur


def compute_kpis(
    ts: pd.DataFrame, class_names: list[str], horizon_s: float, record_s: float
) -> dict[str, float]:
    """Headline KPIs of a run.

    Parameters
    ----------
    ts
        Campus time series (columns of :data:`dcsim.kernels.layout.R_NAMES` and per-class).
    class_names
        Workload class names (per-class columns are ``<class>.<column>``).
    horizon_s
        Simulated horizon [s].
    record_s
        Record interval [s].

    Returns
    -------
    dict
        Unit-suffixed KPIs (SI): tokens, energies [J], powers [W], ratios.
    """
    dur = _row_s(ts, horizon_s, record_s)

    def integral(col: str) -> float:
        return float(np.sum(ts[col].to_numpy() * dur))

    served = integral("served_tok_per_s")
    demand = integral("demand_tok_per_s")
    it_j = integral("it_power_w")
    fac_j = integral("facility_power_w")
    unserved = integral("unserved_tok_per_s")
    # Tokens are conserved: each one demanded is served, dropped (unserved) or still queued
    # when the horizon ends; the backlog starts empty, so what is left is the final backlog.
    final_backlog = _left_over_tok(demand, served, unserved)
    k: dict[str, float] = {
        "served_tok": served,
        "demand_tok": demand,
        "unserved_tok": unserved,
        "unserved_frac": unserved / demand if demand > 0 else 0.0,
        "final_backlog_tok": final_backlog,
        "final_backlog_frac": final_backlog / demand if demand > 0 else 0.0,
        "power_capped_tok": integral("power_capped_tok_per_s"),
        "mean_served_tok_per_s": served / horizon_s,
        # Share of tokens whose rate rests on another chip's fitted factors (a declared proxy).
        "proxy_tok_frac": integral("proxy_served_tok_per_s") / served if served > 0 else 0.0,
        "peak_capacity_tok_per_s": float(ts["capacity_tok_per_s"].max()),
        "it_energy_j": it_j,
        "cooling_energy_j": integral("cooling_power_w"),
        "losses_energy_j": integral("losses_power_w"),
        "facility_energy_j": fac_j,
        "grid_import_energy_j": integral("grid_import_w"),
        "peak_facility_power_w": float(ts["facility_power_w"].max()),
        "mean_facility_power_w": fac_j / horizon_s,
        "pue": fac_j / it_j if it_j > 0 else float("nan"),
        "it_tok_per_j": served / it_j if it_j > 0 else float("nan"),
        "facility_tok_per_j": served / fac_j if fac_j > 0 else float("nan"),
        # Rounding in the cap solve leaves ~1e-12 relative residue; count material capping only.
        "power_capped_h": float(
            np.sum(
                dur
                * (
                    ts["power_capped_tok_per_s"].to_numpy()
                    > CAPPED_REL_THRESHOLD * ts["demand_tok_per_s"].to_numpy()
                )
            )
        )
        / units.H_S,
        "mean_gpus_in_service_count": float(np.sum(ts["gpus_in_service_count"] * dur)) / horizon_s,
    }
    # Cooling (MODEL.md section 5): annual WUE is water over IT energy, both integrated.
    water_l = float(ts["water_l"].sum()) if "water_l" in ts else 0.0
    k["water_l"] = water_l
    k["wue_l_per_kwh"] = water_l / (it_j / units.KWH_J) if it_j > 0 else float("nan")
    k["peak_cooling_power_w"] = float(ts["cooling_power_w"].max())
    k["thermal_capped_tok"] = integral("thermal_capped_tok_per_s")
    k["throttled_h"] = float(np.sum(dur * (ts["throttle_frac"].to_numpy() > THROTTLED_FRAC)))
    k["throttled_h"] /= units.H_S
    if "temp_tcs_supply_max_degc" in ts:  # liquid-cooled halls only
        k["peak_temp_tcs_supply_degc"] = float(ts["temp_tcs_supply_max_degc"].max())
    k["heat_energy_j"] = integral("heat_w")
    # Supply (MODEL.md section 4).
    for col, key in (
        ("solar_w", "solar_energy_j"),
        ("clean_w", "clean_energy_j"),
        ("turbine_w", "turbine_energy_j"),
        ("spilled_w", "spilled_energy_j"),
        ("shed_w", "shed_energy_j"),
    ):
        k[key] = integral(col)
    batt = ts["battery_w"].to_numpy()
    k["battery_discharge_energy_j"] = float(np.sum(np.clip(batt, 0, None) * dur))
    k["battery_charge_energy_j"] = float(np.sum(np.clip(-batt, 0, None) * dur))
    k["shed_h"] = float(np.sum(dur * (ts["shed_w"].to_numpy() > 0))) / units.H_S
    inter = integral("interactive_demand_tok_per_s")
    k["slo_attainment_frac"] = (
        integral("slo_served_tok_per_s") / inter if inter > 0 else float("nan")
    )
    for name in class_names:
        d = integral(f"{name}.demand_tok_per_s")
        k[f"{name}.served_tok"] = integral(f"{name}.served_tok_per_s")
        k[f"{name}.unserved_frac"] = integral(f"{name}.unserved_tok_per_s") / d if d else 0.0
        k[f"{name}.final_backlog_tok"] = _left_over_tok(
            d, k[f"{name}.served_tok"], integral(f"{name}.unserved_tok_per_s")
        )
        k.update(_latency_kpis(ts, name, dur))
    return k


#: Relative rounding of three integrals of a year of rows (~1e5 terms each, float64): a left
#: over below this share of the demand is summation noise, not queued work.
INTEGRAL_ROUNDOFF_FRAC = 1e-9


def _left_over_tok(demand_tok: float, served_tok: float, unserved_tok: float) -> float:
    """Tokens still queued at the end: demand - served - unserved, rounding noise removed [tok]."""
    left_tok = demand_tok - served_tok - unserved_tok
    return left_tok if left_tok > INTEGRAL_ROUNDOFF_FRAC * demand_tok else 0.0


#: Per-class latency series (served-token-weighted within a row), as in the recorder.
LATENCY_COLUMNS = ("slo_attainment_frac", "ttft_p50_s", "ttft_p99_s", "tpot_p50_s", "tpot_p99_s")


def _latency_kpis(ts: pd.DataFrame, name: str, dur: np.ndarray) -> dict[str, float]:
    """Served-token-weighted means over time of a class's latency series, max TTFT p99.

    A row's value is already the served-weighted mean over the row, so weighting rows by
    served tokens (rate x duration) gives the mean over every served token of the run.
    Rows without served tokens (NaN) carry no weight. Empty for classes without latency.
    """
    if f"{name}.ttft_p99_s" not in ts:
        return {}
    w = ts[f"{name}.served_tok_per_s"].to_numpy() * dur
    out = {}
    for col in LATENCY_COLUMNS:
        v = ts[f"{name}.{col}"].to_numpy()
        ok = np.isfinite(v) & (w > 0)
        out[f"{name}.{col}"] = (
            float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else (float("nan"))
        )
    p99 = ts[f"{name}.ttft_p99_s"].to_numpy()
    out[f"{name}.ttft_p99_max_s"] = (
        float(np.nanmax(p99)) if np.isfinite(p99).any() else (float("nan"))
    )
    return out


#: Per-row account columns summed over sites into the campus time series.
CAMPUS_ACCOUNT_COLUMNS = (
    "energy_cost_usd",
    "demand_charge_usd",
    "min_take_charge_usd",
    "coincident_peak_charge_usd",
    "fuel_cost_usd",
    "power_cost_usd",
    "carbon_location_kg",
    "carbon_market_kg",
    "fuel_carbon_kg",
)

#: Site KPIs that add up over sites (the rest are recomputed on the campus).
_SUMMED_GRID_KPIS = (
    "energy_cost_usd",
    "demand_charge_usd",
    "min_take_charge_usd",
    "coincident_peak_charge_usd",
    "fuel_cost_usd",
    "total_power_cost_usd",
    "carbon_location_kg",
    "carbon_market_kg",
    "fuel_carbon_kg",
    "turbine_fuel_j",
    "curtailed_h",
    "disconnected_h",
    "cp_shed_h",
)


def grid_accounts_all(
    ts: pd.DataFrame, site_ts: pd.DataFrame, grid: Any, record_s: float
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Power costs and carbon of every site, summed into the campus series and KPIs.

    Parameters
    ----------
    ts
        Campus time series (gets the summed account columns).
    site_ts
        Per-site series in long format (``time``, ``site``, columns); gets the account
        columns of each site.
    grid
        The run's :class:`~dcsim.model.grid.GridPlant`.
    record_s
        Record interval [s].

    Returns
    -------
    (ts, site_ts, kpis)
        The two tables with the account columns and the campus KPIs: costs [USD], carbon
        [kg], curtailed and disconnected hours (summed over sites), and the campus peak
        demand, the highest 15-minute mean of the summed import [W].
    """
    from dcsim.results.grid_costs import grid_accounts

    ts = ts.copy(deep=False)  # copy-on-write: the caller's table stays as it was
    parts = []
    kpis: dict[str, float] = dict.fromkeys(_SUMMED_GRID_KPIS, 0.0)
    for col in CAMPUS_ACCOUNT_COLUMNS:
        ts[col] = 0.0
    for info in grid.sites:
        one = site_ts[site_ts["site"] == info.name].set_index("time")
        rows, k = grid_accounts(one, info, record_s)
        for key in _SUMMED_GRID_KPIS:
            kpis[key] += float(k.get(key, 0.0))
        for col in CAMPUS_ACCOUNT_COLUMNS:
            ts[col] = ts[col].to_numpy() + rows[col].to_numpy()
        parts.append(pd.concat([one, rows], axis=1).reset_index())
    ts["carbon_kg"] = ts["carbon_location_kg"]
    unknown = [c for c in CAMPUS_ACCOUNT_COLUMNS if ts[c].isna().all()]
    ts = ts.drop(columns=unknown)  # costs without a tariff: unknown, not zero
    # Campus peak demand: 15-minute means of the summed import (rows are at most 15 min).
    imp = ts["grid_import_w"]
    if record_s <= 900.0 and 900.0 % record_s == 0:
        peak = float(imp.resample("15min").mean().max())
    else:
        peak = float(imp.max())
    kpis["peak_demand_w"] = peak
    # Costs of sites without a tariff are unknown, not zero: the KPI is left out.
    kpis = {k: v for k, v in kpis.items() if np.isfinite(v)}
    return ts, pd.concat(parts, ignore_index=True), kpis


def per_mtok_kpis(kpis: dict[str, float]) -> dict[str, float]:
    """Cost, carbon and water per million tokens served (MODEL.md section 7).

    Parameters
    ----------
    kpis
        KPIs with ``served_tok`` and whichever of ``total_power_cost_usd``,
        ``carbon_location_kg``, ``carbon_market_kg`` and ``water_l`` the run has.

    Returns
    -------
    dict
        ``<name>_per_mtok`` for each present total (none when nothing was served).
    """
    mtok = kpis.get("served_tok", 0.0) / units.MTOK_TOK
    out = {}
    for key, name in (
        ("total_power_cost_usd", "power_cost_usd_per_mtok"),
        ("carbon_location_kg", "carbon_location_kg_per_mtok"),
        ("carbon_market_kg", "carbon_market_kg_per_mtok"),
        ("water_l", "water_l_per_mtok"),
    ):
        if key in kpis and mtok > 0:
            out[name] = kpis[key] / mtok
    return out
