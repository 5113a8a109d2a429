"""Itemised power costs and carbon of a site from its recorded series (MODEL.md section 7).

:func:`grid_accounts` takes one site's recorded time series (time-weighted means over the
record interval) and its :class:`dcsim.model.grid.SiteGridInfo` and returns per-row columns
and KPIs. Attribution of the periodic charges to rows: a month's demand charge and
minimum-take top-up sit on the rows of the 15-minute interval that set the month's peak, and
a coincident-peak charge on the rows of its system-peak interval, so a column sum is the
bill and the spikes show which quarter hour caused it. Monthly charges are prorated by the
share of the month inside the horizon; each coincident-peak month carries 1/n of the annual
charge (n = coincident-peak months per year).

Without a tariff the grid cost columns and KPIs are NaN (unknown, not free); fuel is costed
from the turbine coefficients either way. Carbon without a carbon block uses the catalog's US
average intensity. Fuel is computed at a constant heat rate from the turbines' gross output
(what burns fuel): the column ``turbine_gross_w`` when present (output including a minimum
load spilled for want of a sink), else ``turbine_w``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.model.grid import SiteGridInfo
from dcsim.physics import grid as pg

__all__ = ["ACCOUNT_COLUMNS", "SITE_SERIES_COLUMNS", "grid_accounts"]

#: Recorded per-site columns read here (others are ignored).
SITE_SERIES_COLUMNS = (
    "grid_import_w",
    "solar_w",
    "clean_w",
    "turbine_w",
    "battery_w",
    "facility_power_w",
)

#: Per-row columns returned by :func:`grid_accounts`, in order.
ACCOUNT_COLUMNS = (
    "energy_cost_usd",
    "demand_charge_usd",
    "min_take_charge_usd",
    "coincident_peak_charge_usd",
    "fuel_cost_usd",
    "power_cost_usd",
    "turbine_fuel_j",
    "grid_carbon_location_kg",
    "grid_carbon_market_kg",
    "fuel_carbon_kg",
    "carbon_location_kg",
    "carbon_market_kg",
)


def _row_s(n: int, horizon_s: float, record_s: float) -> np.ndarray:
    dur = np.full(n, float(record_s))
    if n:
        dur[-1] = horizon_s - record_s * (n - 1)
    return dur


def _on_quarter_hours(start: dt.datetime, record_s: float) -> bool:
    ratio = pg.DEMAND_INTERVAL_S / record_s
    aligned = (start.minute * units.MIN_S + start.second) % pg.DEMAND_INTERVAL_S == 0
    return aligned and abs(ratio - round(ratio)) < 1e-9 and ratio >= 1 - 1e-9


def _month_cover_frac(start: dt.datetime, horizon_s: float, month_keys: np.ndarray) -> np.ndarray:
    """Share of each month (``year*12 + month-1``) that lies inside the horizon."""
    end = start + dt.timedelta(seconds=horizon_s)
    out = np.empty(len(month_keys))
    for i, key in enumerate(month_keys):
        y, m = divmod(int(key), 12)
        m0 = dt.datetime(y, m + 1, 1)
        m1 = dt.datetime(y + (m + 1) // 12, (m + 1) % 12 + 1, 1)
        inside = (min(end, m1) - max(start, m0)).total_seconds()
        out[i] = max(inside, 0.0) / (m1 - m0).total_seconds()
    return out


def _spread(column: np.ndarray, rows: np.ndarray, dur: np.ndarray, amount: float) -> None:
    """Add ``amount`` to ``rows`` of ``column`` in proportion to their durations."""
    column[rows] += amount * dur[rows] / dur[rows].sum()


def grid_accounts(
    site_ts: pd.DataFrame, info: SiteGridInfo, record_s: float
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Power costs and carbon of one site, per record row and as KPIs.

    Parameters
    ----------
    site_ts
        The site's recorded series, one row per record interval from the scenario start
        (the last row may be shorter), columns of :data:`SITE_SERIES_COLUMNS` [W]
        (``battery_w``: + discharge, - charge); optionally ``turbine_gross_w`` [W].
    info
        The site's :class:`~dcsim.model.grid.SiteGridInfo` from ``build_grid``.
    record_s
        Record interval [s]; must divide 15 minutes (and the start lie on a quarter hour)
        when the site has demand, minimum-take or coincident-peak charges.

    Returns
    -------
    (rows, kpis)
        ``rows``: a DataFrame on ``site_ts.index`` with :data:`ACCOUNT_COLUMNS` (USD, J, kg
        per row). ``kpis``: ``energy_cost_usd``, ``demand_charge_usd``,
        ``min_take_charge_usd``, ``coincident_peak_charge_usd``, ``fuel_cost_usd``,
        ``total_power_cost_usd``, ``peak_demand_w`` (highest 15-minute mean import; the
        highest row mean when the record interval does not divide 15 minutes),
        ``curtailed_h``, ``disconnected_h``, ``cp_shed_h``, ``carbon_location_kg``,
        ``carbon_market_kg``, ``fuel_carbon_kg``, ``turbine_fuel_j``, energies by source
        [J] and the import-weighted energy price [USD/MWh].

    Raises
    ------
    ValueError
        If the site has demand-type charges and the record interval does not resolve
        15-minute intervals (the scenario check ``check_record_interval_for_demand_charges``
        reports this to the user first).
    """
    n = len(site_ts)
    dur = _row_s(n, info.horizon_s, record_s)
    t0 = np.arange(n) * float(record_s)
    imp_w = site_ts["grid_import_w"].to_numpy(dtype=float)
    imp_j = imp_w * dur
    nan = np.full(n, np.nan)

    # --- energy
    if info.has_tariff:
        price = pg.step_mean(
            info.energy_price_usd_per_j, units.H_S, info.hour0_offset_s, t0, t0 + dur
        )
        energy_usd = pg.energy_cost_usd(imp_w, dur, price)
    else:
        energy_usd = nan.copy()

    # --- demand, minimum take, coincident peak
    demand_usd = np.zeros(n) if info.has_tariff else nan.copy()
    take_usd = np.zeros(n) if info.has_tariff else nan.copy()
    cp_usd = np.zeros(n) if info.has_tariff else nan.copy()
    quarter = _on_quarter_hours(info.start, record_s)
    charged = info.has_tariff and (
        info.demand_usd_per_w_month > 0.0 or info.min_take_frac > 0.0 or info.cp_usd_per_w_y > 0.0
    )
    if charged and not quarter:
        raise ValueError(
            f"record interval {record_s:g} s from {info.start} does not resolve 15-minute "
            "demand intervals; expected a divisor of 900 s and a start on a quarter hour"
        )
    if n and quarter:
        i_start, i_mean, row_iv = pg.interval_mean_w(imp_w, t0, dur)
        peak_w = float(i_mean.max())
    else:
        i_start = i_mean = row_iv = None
        peak_w = float(imp_w.max()) if n else 0.0
    if charged and n:
        month_key = pg.calendar_fields(np.datetime64(info.start), i_start)[0]
        months, peaks, arg = pg.monthly_peak_w(i_mean, month_key)
        cover = _month_cover_frac(info.start, info.horizon_s, months)
        contracted = np.array([info.contract_month_max_w[int(m)] for m in months])
        billed = pg.billed_demand_w(peaks, contracted, info.min_take_frac)
        rate = info.demand_usd_per_w_month
        d_usd = pg.demand_charge_usd(peaks, rate, cover)
        t_usd = pg.demand_charge_usd(billed, rate, cover) - d_usd
        for i in range(len(months)):
            rows = np.flatnonzero(row_iv == arg[i])
            _spread(demand_usd, rows, dur, float(d_usd[i]))
            _spread(take_usd, rows, dur, float(t_usd[i]))
        if info.cp_usd_per_w_y > 0.0:
            for s0 in info.cp_interval_start_s:
                rows = np.flatnonzero((t0 >= s0 - 1e-9) & (t0 < s0 + pg.DEMAND_INTERVAL_S - 1e-9))
                if len(rows) == 0:
                    continue
                cp_w = float(np.sum(imp_w[rows] * dur[rows]) / dur[rows].sum())
                charge = pg.coincident_peak_charge_usd(
                    cp_w, info.cp_usd_per_w_y, info.cp_months_count
                )
                _spread(cp_usd, rows, dur, float(charge))

    # --- fuel
    gross_col = "turbine_gross_w" if "turbine_gross_w" in site_ts else "turbine_w"
    turb_j = site_ts[gross_col].to_numpy(dtype=float) * dur
    fuel_j, fuel_usd, fuel_kg = pg.turbine_fuel(
        turb_j, info.heat_rate_j_per_j, info.fuel_usd_per_j, info.fuel_kg_per_j
    )

    # --- carbon
    intensity = pg.step_mean(info.carbon_kg_per_j, units.H_S, info.hour0_offset_s, t0, t0 + dur)
    loc_kg = pg.location_carbon_kg(imp_j, intensity)
    clean_j = info.clean_supply_j_per_y * info.horizon_s / units.Y_S
    mkt_kg = pg.market_carbon_kg(loc_kg, imp_j, clean_j, info.clean_share_frac)

    power_usd = energy_usd + demand_usd + take_usd + cp_usd + fuel_usd
    rows_df = pd.DataFrame(
        {
            "energy_cost_usd": energy_usd,
            "demand_charge_usd": demand_usd,
            "min_take_charge_usd": take_usd,
            "coincident_peak_charge_usd": cp_usd,
            "fuel_cost_usd": fuel_usd,
            "power_cost_usd": power_usd,
            "turbine_fuel_j": fuel_j,
            "grid_carbon_location_kg": loc_kg,
            "grid_carbon_market_kg": mkt_kg,
            "fuel_carbon_kg": fuel_kg,
            "carbon_location_kg": loc_kg + fuel_kg,
            "carbon_market_kg": mkt_kg + fuel_kg,
        },
        index=site_ts.index,
    )

    def total(col: str) -> float:
        return float(rows_df[col].sum(skipna=False))

    batt = site_ts["battery_w"].to_numpy(dtype=float) if "battery_w" in site_ts else np.zeros(n)
    import_total_j = float(imp_j.sum())
    kpis: dict[str, float] = {
        "energy_cost_usd": total("energy_cost_usd"),
        "demand_charge_usd": total("demand_charge_usd"),
        "min_take_charge_usd": total("min_take_charge_usd"),
        "coincident_peak_charge_usd": total("coincident_peak_charge_usd"),
        "fuel_cost_usd": total("fuel_cost_usd"),
        "total_power_cost_usd": total("power_cost_usd"),
        "peak_demand_w": peak_w,
        "curtailed_h": info.curtailed_s / units.H_S,
        "disconnected_h": info.disconnected_s / units.H_S,
        "cp_shed_h": info.cp_shed_s / units.H_S,
        "carbon_location_kg": total("carbon_location_kg"),
        "carbon_market_kg": total("carbon_market_kg"),
        "fuel_carbon_kg": total("fuel_carbon_kg"),
        "turbine_fuel_j": total("turbine_fuel_j"),
        "grid_import_energy_j": import_total_j,
        "solar_energy_j": float(np.sum(site_ts["solar_w"].to_numpy(dtype=float) * dur)),
        "clean_energy_j": float(np.sum(site_ts["clean_w"].to_numpy(dtype=float) * dur)),
        "turbine_energy_j": float(turb_j.sum()),
        "battery_discharge_energy_j": float(np.sum(np.maximum(batt, 0.0) * dur)),
        "battery_charge_energy_j": float(np.sum(np.maximum(-batt, 0.0) * dur)),
        "mean_energy_price_usd_per_mwh": (
            total("energy_cost_usd") / import_total_j * units.MWH_J
            if import_total_j > 0.0
            else float("nan")
        ),
    }
    return rows_df, kpis
