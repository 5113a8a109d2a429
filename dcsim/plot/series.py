"""Time-series plots of one run: power stack, tokens, PUE and temperatures, capacity forecast.

Each function takes a :class:`~dcsim.results.run_result.RunResult` or a DataFrame and an
optional ``ax``, draws into it and returns it. Columns are found by name and unit suffix, so
the plots adapt to what a run recorded: on-site generation, battery and loop temperatures
appear when the run has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dcsim.errors import ConfigError
from dcsim.plot._util import (
    campus_columns,
    display_scale,
    finite_any,
    label_with_unit,
    new_ax,
    nice_name,
    require_columns,
    timeseries_of,
    unit_suffix,
)
from dcsim.results.compare import CAPACITY_TABLE, month_indexed

#: The stacked demand components of facility power, bottom to top (column, legend).
POWER_COMPONENTS: tuple[tuple[str, str], ...] = (
    ("it_power_w", "IT"),
    ("cooling_power_w", "cooling"),
    ("losses_power_w", "losses"),
)

#: Words that mark a campus power column [W] as on-site supply (generation or storage).
SUPPLY_HINTS: tuple[str, ...] = (
    "solar",
    "pv",
    "wind",
    "turbine",
    "clean",
    "onsite",
    "generation",
    "battery",
)

#: Quantity name for an axis label, by unit suffix.
QUANTITY: dict[str, str] = {
    "_w": "power",
    "_tok_per_s": "token rate",
    "_tok": "tokens",
    "_j": "energy",
    "_degc": "temperature",
    "_delta_k": "temperature difference",
    "_frac": "share",
    "_count": "count",
    "_tok_per_j": "tokens per joule",
    "_usd": "cost",
    "_kg": "mass",
    "_l": "water",
    "_s": "time",
    "_h": "time",
}

#: Most temperature lines one panel shows before it stops being readable.
MAX_TEMPERATURE_LINES = 8

TITLE_POWER = "Power by component"
TITLE_TOKENS = "Tokens served vs demand and capacity"
TITLE_PUE_TEMPS = "PUE and loop temperatures"
TITLE_PUE = "PUE"
TITLE_TEMPS = "Loop temperatures"
TITLE_CAPACITY = "Capacity forecast (monthly)"


def supply_columns(frame: pd.DataFrame) -> list[str]:
    """Campus power columns of on-site generation or storage that are not all zero.

    Parameters
    ----------
    frame
        Campus time series.

    Returns
    -------
    list of str
        E.g. ``["solar_w", "battery_w"]`` (battery: + discharge, - charge) [W].
    """
    out = []
    for col in campus_columns(frame, "_w"):
        words = str(col).lower()
        if any(h in words for h in SUPPLY_HINTS) and finite_any(frame[col]):
            out.append(str(col))
    return out


#: Runs longer than this are drawn as daily envelopes, not 15-min hairlines [day].
DAILY_ABOVE_D = 14.0


def legend_outside(ax: Any, handles: Any = None, labels: Any = None, twin: bool = False) -> Any:
    """The legend right of the axes, so it never covers the data (past a twin y axis)."""
    args = (handles, labels) if handles is not None else ()
    x = 1.07 if twin else 1.01
    return ax.legend(*args, loc="upper left", bbox_to_anchor=(x, 1.0), fontsize="small",
                     borderaxespad=0.0, frameon=False)  # fmt: skip


def span_d(index: pd.Index) -> float:
    """Days the time index spans (0 for fewer than two rows)."""
    if len(index) < 2 or not isinstance(index, pd.DatetimeIndex):
        return 0.0
    return float((index[-1] - index[0]).total_seconds()) / 86400.0


def _time_axis(ax: Any) -> None:
    ax.grid(True, alpha=0.3)
    ax.margins(x=0)
    for label in ax.get_xticklabels():
        label.set_rotation(0)


def plot_power_stack(data: Any, ax: Any = None) -> Any:
    """Facility power stacked by component, with grid import and on-site supply as lines.

    Parameters
    ----------
    data
        A RunResult or its time series, with at least ``it_power_w`` [W]; also uses
        ``cooling_power_w``, ``losses_power_w``, ``facility_power_w``, ``grid_import_w``
        and on-site supply columns (:func:`supply_columns`) when present.
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Title ``"Power by component"``, y label ``"power [MW]"`` (unit scaled to the data).

    Examples
    --------
    >>> ax = plot_power_stack(res)  # doctest: +SKIP
    """
    ts = timeseries_of(data)
    require_columns(ts, ["it_power_w"], "plot_power_stack")
    ax = new_ax(ax)
    parts = [(c, name) for c, name in POWER_COMPONENTS if c in ts.columns]
    total = sum(ts[c].to_numpy(float) for c, _ in parts)
    reference = ts["facility_power_w"] if "facility_power_w" in ts.columns else total
    div, unit = display_scale("_w", np.asarray(reference, float))
    x = ts.index
    ax.stackplot(
        x,
        *[ts[c].to_numpy(float) / div for c, _ in parts],
        labels=[name for _, name in parts],
        alpha=0.8,
    )
    if "facility_power_w" in ts.columns:
        ax.plot(x, ts["facility_power_w"] / div, color="black", lw=0.8, label="facility")
    if "grid_import_w" in ts.columns:
        grid = ts["grid_import_w"].to_numpy(float)
        # Without on-site supply the import is the facility draw; a second line would hide it.
        facility = ts["facility_power_w"].to_numpy(float) if "facility_power_w" in ts else None
        if facility is None or not np.allclose(grid, facility, rtol=1e-9, equal_nan=True):
            ax.plot(x, grid / div, color="tab:red", lw=1.0, ls="--", label="grid import")
    for col in supply_columns(ts):
        ax.plot(x, ts[col] / div, lw=1.0, label=nice_name(col))
    _draw_power_limits(data, ts, ax, div)
    ax.set_title(TITLE_POWER)
    ax.set_ylabel(label_with_unit("power", unit))
    ax.set_ylim(bottom=0)
    legend_outside(ax)
    _time_axis(ax)
    return ax


#: Line styles of the power ceilings, by legend label.
LIMIT_STYLES: dict[str, dict[str, Any]] = {
    "import limit": {"color": "tab:red", "ls": "-", "lw": 1.4},
    "firm block": {"color": "tab:purple", "ls": "--", "lw": 1.4},
    "energised": {"color": "tab:brown", "ls": ":", "lw": 1.6},
    "grid available": {"color": "tab:pink", "ls": "-", "lw": 0.9},
}


def _draw_power_limits(data: Any, ts: pd.DataFrame, ax: Any, div: float) -> None:
    """Import limit, firm block, energised MW and (when curtailed) the available import."""
    from dcsim.plot.limits import power_limits

    x = ts.index
    limits = power_limits(data, x) if not isinstance(data, pd.DataFrame) else {}
    if "grid_available_w" in ts.columns:
        avail = ts["grid_available_w"].to_numpy(float)
        limit = limits.get("import limit")
        # Drawn only when it departs from the import limit (a curtailment or a disconnect).
        if limit is None or np.any(avail < limit * (1 - 1e-9)):
            limits["grid available"] = avail
    for label, values in limits.items():
        ax.plot(x, np.asarray(values) / div, drawstyle="steps-post", label=label,
                **LIMIT_STYLES[label])  # fmt: skip


def plot_tokens(data: Any, ax: Any = None) -> Any:
    """Tokens served against demand and capacity.

    Parameters
    ----------
    data
        A RunResult or its time series with ``served_tok_per_s`` [tok/s]; also draws
        ``demand_tok_per_s`` and ``capacity_tok_per_s`` when present.
    ax
        Axes to draw into; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Title ``"Tokens served vs demand and capacity"``, y label ``"token rate [Mtok/s]"``.
    """
    ts = timeseries_of(data)
    require_columns(ts, ["served_tok_per_s"], "plot_tokens")
    ax = new_ax(ax)
    shown = [c for c in ("capacity_tok_per_s", "demand_tok_per_s", "served_tok_per_s") if c in ts]
    frame = ts[shown]
    daily = span_d(ts.index) > DAILY_ABOVE_D
    if daily:
        # At year scale a 15-min line is a solid band that hides what is under it: daily
        # means are what a reader can compare (served against demand, the gap between).
        frame = frame.resample("1D").mean()
    div, unit = display_scale("_tok_per_s", frame.to_numpy(float).ravel())
    x = frame.index
    tag = " (daily mean)" if daily else ""
    step = {"step": "post"} if daily else {}
    drawstyle = "steps-post" if daily else "default"
    served = frame["served_tok_per_s"].to_numpy(float) / div
    ax.fill_between(x, served, alpha=0.45, label="served" + tag, lw=0, color="tab:blue", **step)
    if "demand_tok_per_s" in frame:
        demand = frame["demand_tok_per_s"].to_numpy(float) / div
        gap = {"color": "tab:red", "alpha": 0.35, "lw": 0, "label": "unserved or queued"}
        short = demand > served * (1.0 + 1e-6)
        if short.any():  # no legend entry for a gap that is not there
            ax.fill_between(x, served, demand, where=short, **gap, **step)
        ax.plot(x, demand, lw=1.2, color="tab:orange", label="demand" + tag, drawstyle=drawstyle)
    if "capacity_tok_per_s" in frame:
        capacity = frame["capacity_tok_per_s"] / div
        ax.plot(
            x, capacity, lw=1.0, ls="--", color="k", label="capacity" + tag, drawstyle=drawstyle
        )
    ax.set_title(TITLE_TOKENS)
    ax.set_ylabel(label_with_unit("token rate", unit))
    ax.set_ylim(bottom=0)
    legend_outside(ax)
    _time_axis(ax)
    return ax


#: Hall column of the technology-loop supply temperature [degC] (hall_timeseries).
HALL_TCS_COLUMN = "temp_tcs_supply_degc"

#: Campus column the dashboard derives from it: the hottest hall at each record.
HOTTEST_TCS_COLUMN = "temp_tcs_supply_hottest_hall_degc"


def with_hall_temperatures(data: Any) -> pd.DataFrame:
    """The campus series plus the hottest hall's TCS supply temperature, when recorded.

    The hall table is recorded at a coarser interval than the campus series; its per-record
    maximum over halls is aligned onto the campus index by the last value at or before it.
    """
    ts = timeseries_of(data)
    halls = (getattr(data, "extra_tables", None) or {}).get("hall_timeseries")
    if not isinstance(halls, pd.DataFrame) or HALL_TCS_COLUMN not in halls.columns:
        return ts
    if {HOTTEST_TCS_COLUMN, "temp_tcs_supply_max_degc"} & set(ts.columns):
        return ts  # the campus series already has the hottest hall's supply
    if "time" not in halls.columns:
        return ts
    hottest = halls.groupby("time")[HALL_TCS_COLUMN].max()
    if not hottest.notna().any():
        return ts
    hottest.index = pd.DatetimeIndex(hottest.index)
    out = ts.copy()
    out[HOTTEST_TCS_COLUMN] = hottest.reindex(ts.index, method="ffill").to_numpy()
    return out


def temperature_columns(frame: pd.DataFrame) -> list[str]:
    """Campus temperature columns [degC] with data, at most :data:`MAX_TEMPERATURE_LINES`."""
    cols = [c for c in campus_columns(frame, "_degc") if frame[c].notna().any()]
    return [str(c) for c in cols[:MAX_TEMPERATURE_LINES]]


def _draw_loop_limit(data: Any, ax: Any) -> None:
    """The rack systems' TCS supply limit as a horizontal line (runs with a scenario)."""
    if isinstance(data, pd.DataFrame):
        return
    from dcsim.plot.limits import loop_temperature_limit_degc

    limit = loop_temperature_limit_degc(data)
    if limit is not None:
        ax.axhline(limit, color="tab:red", ls="--", lw=1.2, label="TCS supply limit")


def plot_pue_temperatures(data: Any, ax: Any = None) -> Any:
    """PUE (left axis) and loop temperatures (right axis) over time.

    Parameters
    ----------
    data
        A RunResult or its time series with a ``pue`` [-] column, campus ``*_degc``
        columns [degC] (e.g. ``temp_fws_degc``), or both.
    ax
        Axes to draw into; default a new figure. With both kinds of data the temperatures go
        to ``ax.twinx()``.

    Returns
    -------
    matplotlib.axes.Axes
        The PUE axes (or the temperature axes when there is no PUE); title
        ``"PUE and loop temperatures"``, ``"PUE"`` or ``"Loop temperatures"``.

    Raises
    ------
    ConfigError
        When the data has neither PUE nor temperatures.
    """
    ts = with_hall_temperatures(data)
    has_pue = "pue" in ts.columns and ts["pue"].notna().any()
    temps = temperature_columns(ts)
    if not has_pue and not temps:
        raise ConfigError("needs a 'pue' or a '*_degc' column", where="plot_pue_temperatures")
    ax = new_ax(ax)
    x = ts.index
    temp_ax = ax
    if has_pue:
        ax.plot(x, ts["pue"], color="black", lw=1.0, label="PUE")
        ax.set_ylabel("PUE [-]")
        if temps:
            temp_ax = ax.twinx()
    for col, ls in zip(temps, ("-", "--", "-.", ":") * MAX_TEMPERATURE_LINES, strict=False):
        # Dashed styles keep equal series (a mean equal to its max) both visible.
        temp_ax.plot(x, ts[col], lw=1.0, ls=ls, label=nice_name(col))
    if temps:
        temp_ax.set_ylabel(label_with_unit("temperature", "°C"))
        _draw_loop_limit(data, temp_ax)
    handles, labels = [], []
    for a in {id(ax): ax, id(temp_ax): temp_ax}.values():
        h, lab = a.get_legend_handles_labels()
        handles += h
        labels += lab
    legend_outside(ax, handles, labels, twin=temp_ax is not ax)
    ax.set_title(TITLE_PUE_TEMPS if has_pue and temps else TITLE_PUE if has_pue else TITLE_TEMPS)
    _time_axis(ax)
    return ax


def capacity_table_of(data: Any) -> pd.DataFrame:
    """The monthly capacity table of a RunResult, or the DataFrame itself.

    Raises
    ------
    ConfigError
        When a RunResult has no ``capacity`` table.
    """
    if isinstance(data, pd.DataFrame):
        return data
    extra = getattr(data, "extra_tables", None)
    if isinstance(extra, dict):
        if CAPACITY_TABLE not in extra:
            raise ConfigError("the run has no capacity table", where="plot_capacity")
        return extra[CAPACITY_TABLE]
    raise TypeError(f"expected a RunResult or a DataFrame, got {type(data).__name__}")


def _capacity_columns(table: pd.DataFrame) -> list[str]:
    numeric = [str(c) for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    rates = [c for c in numeric if unit_suffix(c) == "_tok_per_s"]
    if rates:
        return rates
    if not numeric:
        return []
    first = unit_suffix(numeric[0])
    return [c for c in numeric if unit_suffix(c) == first]


def plot_capacity(data: Any, ax: Any = None, columns: Sequence[str] | None = None) -> Any:
    """The monthly capacity forecast: one line per quantity, one point per month.

    Parameters
    ----------
    data
        A RunResult with a ``capacity`` extra table, or that table. Rows are months (its
        index, or a ``month``/datetime column).
    ax
        Axes to draw into; default a new figure.
    columns
        Columns to draw; default every ``*_tok_per_s`` column, else the numeric columns
        sharing the first one's unit.

    Returns
    -------
    matplotlib.axes.Axes
        Title ``"Capacity forecast (monthly)"``.

    Raises
    ------
    ConfigError
        No capacity table, or no numeric column to draw.
    """
    table = month_indexed(capacity_table_of(data))
    cols = list(columns) if columns is not None else _capacity_columns(table)
    if not cols:
        raise ConfigError("the capacity table has no numeric column", where="plot_capacity")
    require_columns(table, cols, "plot_capacity")
    ax = new_ax(ax)
    suffixes = {unit_suffix(c) for c in cols}
    suffix = suffixes.pop() if len(suffixes) == 1 else None
    div, unit = display_scale(suffix, np.concatenate([table[c].to_numpy(float) for c in cols]))
    index = table.index
    if isinstance(index, pd.DatetimeIndex | pd.PeriodIndex):
        x: Any = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else index
    else:
        x = np.arange(len(index))
        ax.set_xticks(x, [str(v) for v in index], rotation=45, ha="right")
    for col in cols:
        ax.plot(x, table[col].to_numpy(float) / div, marker="o", lw=1.2, label=nice_name(col))
    quantity = QUANTITY.get(suffix, "value") if suffix else "value"
    ax.set_title(TITLE_CAPACITY)
    ax.set_ylabel(label_with_unit(quantity, unit))
    ax.set_xlabel("month")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_series(
    data: Any, columns: str | Iterable[str], ax: Any = None, title: str | None = None
) -> Any:
    """Any time-series columns as lines, scaled to a readable unit.

    Parameters
    ----------
    data
        A RunResult or a time-series DataFrame.
    columns
        Column names; when they share a unit suffix the axis shows it (e.g. ``[MW]``).
    ax
        Axes to draw into; default a new figure.
    title
        Axes title; default the column names.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.

    Raises
    ------
    ConfigError
        A column the data does not have.

    Examples
    --------
    >>> ax = plot_series(res, ["grid_import_w", "it_power_w"])  # doctest: +SKIP
    """
    ts = timeseries_of(data)
    cols = [columns] if isinstance(columns, str) else list(columns)
    require_columns(ts, cols, "plot_series")
    ax = new_ax(ax)
    suffixes = {unit_suffix(c) for c in cols}
    suffix = suffixes.pop() if len(suffixes) == 1 else None
    div, unit = display_scale(suffix, np.concatenate([ts[c].to_numpy(float) for c in cols]))
    for col in cols:
        ax.plot(ts.index, ts[col] / div, lw=1.0, label=col)
    quantity = QUANTITY.get(suffix, "value") if suffix else "value"
    ax.set_ylabel(label_with_unit(quantity, unit))
    ax.set_title(title if title is not None else ", ".join(cols))
    ax.legend(loc="upper left", fontsize="small")
    _time_axis(ax)
    return ax
