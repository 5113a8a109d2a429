"""Comparison charts: one series of several runs overlaid, and KPI changes as bars."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from dcsim.errors import ConfigError
from dcsim.plot._util import display_scale, label_with_unit, new_ax, unit_suffix
from dcsim.plot.series import QUANTITY
from dcsim.results.compare import Align, Comparison, compare


def _as_comparison(data: Any) -> Comparison | pd.DataFrame:
    if isinstance(data, Comparison | pd.DataFrame):
        return data
    if isinstance(data, Sequence) and not isinstance(data, str):
        return compare(list(data))
    raise TypeError(
        f"expected a Comparison, a list of runs or a DataFrame, got {type(data).__name__}"
    )


def _overlay_frame(data: Any, column: str, align: Align) -> pd.DataFrame:
    source = _as_comparison(data)
    if isinstance(source, Comparison):
        return source.series([column], align=align)[column]
    if isinstance(source.columns, pd.MultiIndex):
        if column not in source.columns.get_level_values(0):
            raise ConfigError(f"no column {column!r} in the series", where="plot_overlay")
        return source[column]
    return source


def plot_overlay(data: Any, column: str, ax: Any = None, align: Align = "auto") -> Any:
    """One time-series column of several runs on the same axes.

    Parameters
    ----------
    data
        A :class:`~dcsim.results.compare.Comparison`, a list of runs (RunResults or run
        folders), the output of ``Comparison.series`` (columns ``(column, run)``), or a
        DataFrame with one column per run.
    column
        The time-series column, e.g. ``"facility_power_w"``.
    ax
        Axes to draw into; default a new figure.
    align
        How runs are aligned in time (see :meth:`Comparison.series`).

    Returns
    -------
    matplotlib.axes.Axes
        Title = ``column``; one line per run, labelled with the run label; y label with
        the scaled unit (e.g. ``"power [MW]"``).

    Examples
    --------
    >>> ax = plot_overlay(dcsim.compare([run_a, run_b]), "facility_power_w")  # doctest: +SKIP
    """
    frame = _overlay_frame(data, column, align)
    ax = new_ax(ax)
    suffix = unit_suffix(column)
    div, unit = display_scale(suffix, frame.to_numpy(float).ravel())
    for label in frame.columns:
        s = frame[label].dropna()
        ax.plot(s.index, s.to_numpy(float) / div, lw=1.0, label=str(label))
    quantity = QUANTITY.get(suffix, column) if suffix else column
    ax.set_title(column)
    ax.set_ylabel(label_with_unit(quantity, unit))
    if frame.index.name == "elapsed_d":
        ax.set_xlabel("time since start [d]")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_overlays(
    data: Any, columns: str | Iterable[str], fig: Any = None, align: Align = "auto"
) -> Any:
    """Overlay several columns of several runs: one panel per column, x axes shared.

    Parameters
    ----------
    data
        A Comparison or a list of runs (see :func:`plot_overlay`).
    columns
        Time-series columns, one panel each.
    fig
        Figure to draw into (cleared); default a new pyplot figure.
    align
        How runs are aligned in time (see :meth:`Comparison.series`).

    Returns
    -------
    matplotlib.figure.Figure
        One axes per column, titled with the column name.
    """
    names = [columns] if isinstance(columns, str) else list(columns)
    if not names:
        raise ConfigError("expected at least one column", where="--series")
    source = _as_comparison(data)
    size = (12.0, 3.0 * len(names))
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=size, layout="constrained")
    else:
        fig.clear()
        fig.set_size_inches(*size)
        fig.set_layout_engine("constrained")
    axes = fig.subplots(len(names), 1, squeeze=False, sharex=True)[:, 0]
    for ax, name in zip(axes, names, strict=True):
        plot_overlay(source, name, ax=ax, align=align)
    return fig


def plot_kpi_changes(
    data: Any, kpis: Sequence[str] | None = None, ax: Any = None, top: int = 15
) -> Any:
    """Relative KPI differences from the reference run, as horizontal bars.

    Parameters
    ----------
    data
        A Comparison or a list of runs (the first is the reference).
    kpis
        KPIs to show; default the ``top`` largest relative changes.
    ax
        Axes to draw into; default a new figure.
    top
        How many KPIs to show by default.

    Returns
    -------
    matplotlib.axes.Axes
        Title ``"KPI change vs <reference>"``, x label ``"difference [%]"``.
    """
    source = _as_comparison(data)
    if not isinstance(source, Comparison):
        raise TypeError("plot_kpi_changes: expected a Comparison or a list of runs")
    diffs = source.differences
    diffs = diffs[np.isfinite(diffs["rel_diff_frac"].astype(float))]
    if kpis is not None:
        chosen = list(kpis)
    else:
        largest = diffs.groupby("kpi")["rel_diff_frac"].apply(lambda s: s.abs().max())
        chosen = list(largest[largest > 0].sort_values(ascending=False).index[:top])
    ax = new_ax(ax)
    runs = source.labels[1:]
    height = 0.8 / max(len(runs), 1)
    y = np.arange(len(chosen))
    for i, run in enumerate(runs):
        sub = diffs[diffs["run"] == run].set_index("kpi")["rel_diff_frac"]
        values = [100.0 * float(sub.get(k, np.nan)) for k in chosen]
        ax.barh(y + i * height, values, height=height, label=run)
    ax.set_yticks(y + height * (len(runs) - 1) / 2, chosen)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_xlabel("difference [%]")
    ax.set_title(f"KPI change vs {source.reference}")
    ax.grid(True, axis="x", alpha=0.3)
    if len(runs) > 1:
        ax.legend(fontsize="small")
    return ax
