"""The monthly capacity forecast (``capacity.parquet``) and its KPIs (MODEL.md section 6).

Input: the daily snapshots of :func:`dcsim.sim.buildout.take_snapshot` (counts of racks by
stage, energised and stranded power) and the run's recorded time series (token rates).
Cumulative counts (racks delivered, installed) are read at the last snapshot of a month;
stocks (racks in service, stranded racks and power, energised power) are monthly means of
the daily snapshots; token rates are monthly means of the recorded series.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dcsim.results.economics import capex_held_usd_s, economics_kpis
from dcsim.results.training import training_kpis

__all__ = [
    "CAPACITY_COLUMNS",
    "CAPACITY_TABLE",
    "capacity_kpis",
    "capacity_results",
    "capacity_table",
    "failure_kpis",
    "snapshots_frame",
]

#: Name of the run's extra table (``capacity.parquet`` in the run folder).
CAPACITY_TABLE = "capacity"

#: Columns of the capacity table, in order (index: ``month``, the first day of the month).
CAPACITY_COLUMNS: tuple[str, ...] = (
    "racks_delivered_count",
    "racks_installed_count",
    "racks_in_service_count",
    "racks_in_service_end_count",
    "racks_burn_in_count",
    "racks_failed_count",
    "gpus_delivered_count",
    "gpus_in_service_count",
    "gpus_in_service_end_count",
    "it_design_in_service_w",
    "energised_w",
    "energised_end_w",
    "capacity_tok_per_s",
    "demand_tok_per_s",
    "served_tok_per_s",
    "stranded_power_w",
    "stranded_racks_count",
    "stranded_racks_end_count",
    "availability_frac",
)

# Snapshot columns read at the end of the month / averaged over it.
_END = {
    "racks_delivered_count": "racks_delivered_count",
    "racks_installed_count": "racks_installed_count",
    "racks_in_service_end_count": "racks_in_service_count",
    "gpus_delivered_count": "gpus_delivered_count",
    "gpus_in_service_end_count": "gpus_in_service_count",
    "energised_end_w": "energised_w",
    "stranded_racks_end_count": "racks_stranded_count",
}
_MEAN = {
    "racks_in_service_count": "racks_in_service_count",
    "racks_burn_in_count": "racks_burn_in_count",
    "racks_failed_count": "racks_failed_count",
    "gpus_in_service_count": "gpus_in_service_count",
    "it_design_in_service_w": "it_design_in_service_w",
    "energised_w": "energised_w",
    "stranded_power_w": "stranded_power_w",
    "stranded_racks_count": "racks_stranded_count",
}
_TOKENS = ("capacity_tok_per_s", "demand_tok_per_s", "served_tok_per_s")


def snapshots_frame(snapshots: Sequence[dict[str, Any]], start: dt.datetime) -> pd.DataFrame:
    """The daily snapshots as a table indexed by time.

    Parameters
    ----------
    snapshots
        ``state.capacity_snapshots``: dicts with ``t_s`` [s since start] and the
        unit-suffixed counts of :func:`dcsim.sim.buildout.take_snapshot`.
    start
        Scenario start.

    Returns
    -------
    pandas.DataFrame
        One row per snapshot, ``DatetimeIndex`` named ``time``, float columns (``t_s``
        dropped).
    """
    frame = pd.DataFrame(list(snapshots))
    if frame.empty:
        return pd.DataFrame(index=pd.DatetimeIndex([], name="time"))
    index = pd.to_datetime(start) + pd.to_timedelta(frame.pop("t_s").to_numpy(), unit="s")
    frame.index = pd.DatetimeIndex(index, name="time").as_unit("us")
    return frame.astype(float)


def _commissioned(snaps: pd.DataFrame) -> pd.Series:
    # Racks that finished burn-in and are still on the floor: serving, failed or in
    # maintenance; availability is the serving share of them.
    parts = ["racks_in_service_count", "racks_failed_count", "racks_maintenance_count"]
    return sum((snaps[c] for c in parts if c in snaps), start=pd.Series(0.0, index=snaps.index))


def capacity_table(snapshots: pd.DataFrame, timeseries: pd.DataFrame | None) -> pd.DataFrame:
    """The monthly capacity forecast.

    Parameters
    ----------
    snapshots
        :func:`snapshots_frame` of the run (daily rows).
    timeseries
        The run's campus time series (``capacity_tok_per_s``, ``demand_tok_per_s``,
        ``served_tok_per_s``); None or missing columns give NaN token columns.

    Returns
    -------
    pandas.DataFrame
        Index ``month`` (first day of each calendar month the run touches), columns
        :data:`CAPACITY_COLUMNS`:

        - ``racks_delivered_count``, ``racks_installed_count``, ``gpus_delivered_count``:
          cumulative at the month's last snapshot [count];
        - ``racks_in_service_count``, ``racks_burn_in_count``, ``racks_failed_count``,
          ``gpus_in_service_count``: monthly means (GPUs weighted by healthy share)
          [count]; ``..._end_count``: at the month's last snapshot;
        - ``it_design_in_service_w``: design power of racks in service, mean [W];
        - ``energised_w``: feed capacity of energised halls, mean (``energised_end_w``
          at the month's end) [W];
        - ``capacity_tok_per_s``, ``demand_tok_per_s``, ``served_tok_per_s``: monthly
          means of the recorded series [tok/s];
        - ``stranded_power_w``: energised feed not taken by racks, mean [W];
        - ``stranded_racks_count``: racks delivered or installed in a hall without power or
          cooling, mean (``stranded_racks_end_count`` at the month's end) [count];
        - ``availability_frac``: serving racks (healthy-share weighted) over racks past
          burn-in (in service, failed, in maintenance) [frac]; NaN with none.
    """
    if snapshots.empty:
        return pd.DataFrame(
            columns=list(CAPACITY_COLUMNS), index=pd.DatetimeIndex([], name="month")
        )
    grouped = snapshots.resample("MS")
    last = grouped.last()
    mean = grouped.mean()
    table = pd.DataFrame(index=last.index)
    for col in CAPACITY_COLUMNS:
        if col in _END:
            table[col] = last[_END[col]]
        elif col in _MEAN:
            table[col] = mean[_MEAN[col]]
        elif col in _TOKENS:
            if timeseries is not None and col in timeseries:
                monthly = timeseries[col].resample("MS").mean()
                table[col] = monthly.reindex(table.index)
            else:
                table[col] = np.nan
    commissioned = _commissioned(snapshots).resample("MS").sum()
    serving = snapshots["serving_racks_count"].resample("MS").sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        table["availability_frac"] = np.where(
            commissioned > 0, serving / commissioned.where(commissioned > 0), np.nan
        )
    table.index.name = "month"
    return table.astype(float)


def capacity_kpis(snapshots: pd.DataFrame) -> dict[str, float]:
    """Headline capacity KPIs of a run.

    Parameters
    ----------
    snapshots
        :func:`snapshots_frame` of the run.

    Returns
    -------
    dict
        ``racks_delivered_count``, ``racks_in_service_end_count``,
        ``gpus_in_service_end_count`` (at the last snapshot) [count];
        ``stranded_power_mean_w``, ``stranded_power_peak_w`` [W];
        ``stranded_racks_mean_count``, ``stranded_racks_peak_count`` [count];
        ``energised_end_w`` [W]; ``availability_frac`` (serving racks over racks past
        burn-in, over all snapshots; 1 when none) [frac].
    """
    if snapshots.empty:
        return {}
    end = snapshots.iloc[-1]
    commissioned = float(_commissioned(snapshots).sum())
    serving = float(snapshots["serving_racks_count"].sum())
    return {
        "racks_delivered_count": float(end["racks_delivered_count"]),
        "racks_in_service_end_count": float(end["racks_in_service_count"]),
        "gpus_in_service_end_count": float(end["gpus_in_service_count"]),
        "stranded_power_mean_w": float(snapshots["stranded_power_w"].mean()),
        "stranded_power_peak_w": float(snapshots["stranded_power_w"].max()),
        "stranded_racks_mean_count": float(snapshots["racks_stranded_count"].mean()),
        "stranded_racks_peak_count": float(snapshots["racks_stranded_count"].max()),
        "energised_end_w": float(end["energised_w"]),
        "availability_frac": serving / commissioned if commissioned > 0 else 1.0,
    }


def failure_kpis(events: pd.DataFrame) -> dict[str, float]:
    """Counts of failure events of a run (from its event table).

    Parameters
    ----------
    events
        The run's event table (``kind``, ``value`` columns).

    Returns
    -------
    dict
        ``failures_count``, ``repairs_count``, ``maintenance_windows_count`` [count];
        ``failed_gpu_count`` (GPUs taken out, summed over failures) [count].
    """
    if len(events) == 0:
        kinds = pd.Series([], dtype=str)
    else:
        kinds = events["kind"]
    fails = kinds == "failure"
    return {
        "failures_count": float(fails.sum()),
        "repairs_count": float((kinds == "repair").sum()),
        "maintenance_windows_count": float((kinds == "maintenance_start").sum()),
        "failed_gpu_count": float(events.loc[fails, "value"].sum()) if fails.any() else 0.0,
    }


def _job_starts_s(frame: pd.DataFrame, plan: Any) -> list[float] | None:
    """First snapshot at which each training job has all its racks past burn-in [s]."""
    training = plan.training
    if training is None or frame.empty:
        return None
    t_s = (frame.index - pd.Timestamp(plan.start)).total_seconds().to_numpy()
    starts = []
    for j, name in enumerate(training.names):
        full = frame[f"{name}.training_racks_commissioned_count"].to_numpy() >= np.sum(
            training.rack_job == j
        )
        starts.append(float(t_s[np.argmax(full)]) if full.any() else float(plan.horizon_s))
    return starts


def capacity_results(
    snapshots: Sequence[dict[str, Any]],
    timeseries: pd.DataFrame,
    events: pd.DataFrame,
    kpis: dict[str, float],
    plan: Any,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Everything the capacity processes add to a run: the monthly table and KPIs.

    Parameters
    ----------
    snapshots
        ``state.capacity_snapshots``.
    timeseries
        The run's campus time series.
    events
        The run's event table (absolute times).
    kpis
        The run's KPIs so far (``served_tok``, energy, and the grid and cooling blocks'
        cost and water KPIs when present), read for the costs.
    plan
        The run's :class:`dcsim.model.capacity.CapacityPlan`.

    Returns
    -------
    (table, new_kpis)
        The :func:`capacity_table` (save as ``capacity.parquet``) and the KPIs of
        :func:`capacity_kpis`, :func:`failure_kpis`,
        :func:`dcsim.results.training.training_kpis` and
        :func:`dcsim.results.economics.economics_kpis`.
    """
    frame = snapshots_frame(snapshots, plan.start)
    table = capacity_table(frame, timeseries)
    out = capacity_kpis(frame)
    out.update(failure_kpis(events))
    out.update(
        training_kpis(events, plan.training, plan.start, plan.horizon_s, _job_starts_s(frame, plan))
    )
    econ = plan.economics
    held = capex_held_usd_s(
        frame, plan.system_names, econ.rack_capex_usd, econ.facility_capex_usd_per_w, plan.horizon_s
    )
    out.update(economics_kpis(kpis, *held, econ))
    return table, out
