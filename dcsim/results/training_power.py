"""Results of training jobs as a power state: site columns, KPIs and the repurposing table.

The kernel keeps per site and record row the training power's mean, minimum, maximum and
largest ramp, the energy a power floor burnt, the battery's cycling and its loss, and the
ramp the grid saw (``kernels/training_layout.py``). Here they become columns of
``site_timeseries``, energy KPIs, each job's goodput under its failures
(:func:`dcsim.results.training.job_goodput`, the same model as the training reservations),
and for a job with a repurposing date the before/after comparison (docs/training.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.results.training import job_goodput

__all__ = ["repurposing_table", "training_power_kpis"]


def training_power_kpis(
    site_ts: pd.DataFrame, tp: Any, site_names: list[str], row_s: float, horizon_s: float
) -> dict[str, float]:
    """Energy KPIs per site with training and goodput KPIs per job.

    Parameters
    ----------
    site_ts
        ``site_timeseries`` with the training columns.
    tp
        The run's :class:`dcsim.model.training.TrainingPower`.
    site_names
        Site names, in plant order.
    row_s
        Record interval [s].
    horizon_s
        Run length [s].

    Returns
    -------
    dict
        ``<site>.training_energy_j``, ``<site>.smoothing_burn_j``,
        ``<site>.smoothing_battery_cycled_j``, ``<site>.smoothing_battery_loss_j``,
        ``<site>.training_grid_ramp_max_w_per_s``, ``<site>.ramp_limit_exceeded_frac``;
        per job ``<job>.training_goodput_frac``, ``<job>.training_interruptions_count``,
        ``<job>.training_mtbf_s``, ``<job>.checkpoint_interval_s``.
    """
    out: dict[str, float] = {}
    for s in sorted({int(x) for x in tp.job_site}):
        name = site_names[s]
        mine = site_ts[site_ts["site"] == name]
        out[f"{name}.training_energy_j"] = float(mine["training_power_w"].sum() * row_s)
        out[f"{name}.smoothing_burn_j"] = float(mine["smoothing_burn_w"].sum() * row_s)
        out[f"{name}.smoothing_battery_cycled_j"] = float(
            mine["smoothing_battery_cycled_w"].sum() * row_s
        )
        out[f"{name}.smoothing_battery_loss_j"] = float(
            mine["smoothing_battery_loss_w"].sum() * row_s
        )
        out[f"{name}.training_grid_ramp_max_w_per_s"] = float(
            mine["training_grid_ramp_w_per_s"].max()
        )
        out[f"{name}.ramp_limit_exceeded_frac"] = float(mine["ramp_limit_exceeded_frac"].mean())
    dt_s = horizon_s / max(tp.stats.shape[1], 1)
    for k, job in enumerate(tp.names):
        start_s, end_s = tp.start_tick[k] * dt_s, tp.end_tick[k] * dt_s
        par = tp.par[k]
        fails = tp.failures_s[k]
        g = job_goodput(
            fails, np.zeros(fails.size, bool), start_s, end_s, par[5], par[6], tp.restart_s[k]
        )
        out[f"{job}.training_goodput_frac"] = g["goodput_frac"]
        out[f"{job}.training_interruptions_count"] = g["interruptions_count"]
        out[f"{job}.training_mtbf_s"] = float(tp.mtbf_s[k])
        out[f"{job}.checkpoint_interval_s"] = float(par[5])
    return out


def _window(df: pd.DataFrame, t0: Any, t1: Any) -> pd.DataFrame:
    times = pd.to_datetime(df["time"]) if "time" in df.columns else df.index
    return df[(times >= t0) & (times < t1)]


def repurposing_table(
    ts: pd.DataFrame,
    site_ts: pd.DataFrame,
    hall_ts: pd.DataFrame,
    tp: Any,
    plant: Any,
) -> pd.DataFrame:
    """Before and after each job's repurposing date: power, tokens, cost, what the grid sees.

    Parameters
    ----------
    ts, site_ts, hall_ts
        The run's campus, site and hall time series.
    tp
        The run's :class:`dcsim.model.training.TrainingPower`.
    plant
        The plant (start, tick, names).

    Returns
    -------
    DataFrame
        One row per job with a repurposing date inside the run and per window
        (``before``, ``after``): the job halls' mean, minimum and maximum IT power [W]
        (hall record interval), the campus's served tokens [tok/s], energy cost per
        million tokens [USD] (when the run has a tariff), the site's mean and peak import
        [W] and the largest ramp of the training power the grid saw [W/s].
    """
    rows = []
    start = pd.Timestamp(plant.start)
    for k, job in enumerate(tp.names):
        t_end = int(tp.end_tick[k])
        if t_end >= plant.n_ticks or t_end <= int(tp.start_tick[k]):
            continue
        t_rep = start + pd.Timedelta(seconds=t_end * plant.tick_s)
        t_beg = start + pd.Timedelta(seconds=int(tp.start_tick[k]) * plant.tick_s)
        t_fin = start + pd.Timedelta(seconds=plant.n_ticks * plant.tick_s)
        halls = [plant.hall_names[h] for h in tp.job_halls[k]]
        site = plant.site_names[int(tp.job_site[k])]
        for label, a, b in (("before", t_beg, t_rep), ("after", t_rep, t_fin)):
            h = _window(hall_ts[hall_ts["hall"].isin(halls)], a, b)
            it = h.groupby("time")["it_power_w"].sum() if len(h) else pd.Series(dtype=float)
            c = _window(ts.reset_index(), a, b)
            s = _window(site_ts[site_ts["site"] == site], a, b)
            served = float(c["served_tok_per_s"].mean())
            row = {
                "job": job,
                "window": label,
                "from": a,
                "to": b,
                "halls_it_power_w": float(it.mean()),
                "halls_it_power_min_w": float(it.min()),
                "halls_it_power_max_w": float(it.max()),
                "served_tok_per_s": served,
                "grid_import_w": float(s["grid_import_w"].mean()),
                "grid_import_max_w": float(s["grid_import_w"].max()),
                "training_grid_ramp_max_w_per_s": float(s["training_grid_ramp_w_per_s"].max()),
            }
            if "energy_cost_usd" in c.columns and served > 0:
                tok = served * (b - a).total_seconds()
                row["energy_cost_usd_per_mtok"] = float(
                    c["energy_cost_usd"].sum() / (tok / units.MTOK_TOK)
                )
            rows.append(row)
    return pd.DataFrame(rows)
