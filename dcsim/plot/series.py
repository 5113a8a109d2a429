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
    ax.set_title(TITLE_POWER)
    ax.set_ylabel(label_with_unit("power", unit))
    ax.legend(loc="upper left", fontsize="small", ncols=2)
    _time_axis(ax)
    return ax


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
    div, unit = display_scale("_tok_per_s", np.concatenate([ts[c].to_numpy(float) for c in shown]))
    x = ts.index
    ax.fill_between(x, ts["served_tok_per_s"] / div, alpha=0.35, label="served", lw=0)
    if "demand_tok_per_s" in ts:
        ax.plot(x, ts["demand_tok_per_s"] / div, lw=1.0, color="tab:orange", label="demand")
    if "capacity_tok_per_s" in ts:
        ax.plot(x, ts["capacity_tok_per_s"] / div, lw=1.0, ls="--", color="black", label="capacity")
    ax.set_title(TITLE_TOKENS)
    ax.set_ylabel(label_with_unit("token rate", unit))
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize="small", ncols=3)
    _time_axis(ax)
    return ax


def temperature_columns(frame: pd.DataFrame) -> list[str]:
    """Campus temperature columns [degC] with data, at most :data:`MAX_TEMPERATURE_LINES`."""
    cols = [c for c in campus_columns(frame, "_degc") if frame[c].notna().any()]
    return [str(c) for c in cols[:MAX_TEMPERATURE_LINES]]


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
    ts = timeseries_of(data)
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
    for col in temps:
        temp_ax.plot(x, ts[col], lw=0.9, label=nice_name(col))
    if temps:
        temp_ax.set_ylabel(label_with_unit("temperature", "°C"))
    handles, labels = [], []
    for a in {id(ax): ax, id(temp_ax): temp_ax}.values():
        h, lab = a.get_legend_handles_labels()
        handles += h
        labels += lab
    ax.legend(handles, labels, loc="upper left", fontsize="small", ncols=3)
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
