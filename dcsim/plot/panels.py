"""Dashboard panels beyond the time series: the monthly build-out and the KPI box."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dcsim import units
from dcsim.plot.limits import campus_clock, partial_months
from dcsim.report_format import format_quantity
from dcsim.results.compare import CAPACITY_TABLE, month_indexed

TITLE_BUILDOUT = "Monthly build-out: racks in service, MW energised, stranded"

#: A run shorter than this has no monthly build-out to read [day].
MIN_BUILDOUT_SPAN_D = 45.0

#: KPI box entries: label, KPI key (formatted by its unit suffix).
KPI_BOX: tuple[tuple[str, str], ...] = (
    ("served", "served_tok"),
    ("unserved", "unserved_frac"),
    ("PUE", "pue"),
    ("WUE", "wue_l_per_kwh"),
    ("cost", "cost_usd_per_mtok"),
    ("CO2", "carbon_location_kg_per_mtok"),
)


def has_buildout(result: Any, span_d: float) -> bool:
    """Whether the run has a monthly table worth a panel: two months or more, run >= 45 days."""
    cap = (getattr(result, "extra_tables", None) or {}).get(CAPACITY_TABLE)
    return isinstance(cap, pd.DataFrame) and len(cap) >= 2 and span_d >= MIN_BUILDOUT_SPAN_D


def plot_buildout(result: Any, ax: Any) -> Any:
    """Racks in service and stranded racks (bars), MW energised and IT design MW (lines).

    Parameters
    ----------
    result
        A RunResult with a ``capacity`` table (``racks_in_service_count``,
        ``stranded_racks_count``, ``energised_w``, ``it_design_in_service_w``,
        ``stranded_power_w`` where recorded).
    ax
        Axes for the racks; the MW lines go to ``ax.twinx()``.

    Returns
    -------
    matplotlib.axes.Axes
        The racks axes, title :data:`TITLE_BUILDOUT`. Months the run covers only in part
        are hatched and named ``partial`` on the x axis.
    """
    table = month_indexed(result.extra_tables[CAPACITY_TABLE])
    months = pd.DatetimeIndex(table.index)
    x = np.arange(len(months))
    partial = partial_months(result.timeseries.index, months, campus_clock(result))
    racks = table.get("racks_in_service_count")
    stranded = table.get("stranded_racks_count")
    if racks is not None:
        bars = ax.bar(x - 0.2, racks.to_numpy(float), width=0.4, color="tab:blue", alpha=0.7,
                      label="racks in service")  # fmt: skip
        for bar, part in zip(bars, partial, strict=True):
            if part:
                bar.set_hatch("//")
    if stranded is not None:
        ax.bar(x + 0.2, stranded.to_numpy(float), width=0.4, color="tab:gray", alpha=0.8,
               label="racks stranded (no power)")  # fmt: skip
    ax.set_ylabel("racks [-]")
    mw = ax.twinx()
    lines = (
        ("energised_w", "MW energised", "tab:brown", "-"),
        ("it_design_in_service_w", "IT design MW in service", "tab:green", "-"),
        ("stranded_power_w", "MW stranded (no racks)", "tab:gray", "--"),
    )
    for col, label, color, ls in lines:
        if col in table.columns:
            values = table[col].to_numpy(float) / units.MW_W
            mw.plot(x, values, marker="o", color=color, ls=ls, lw=1.4, label=label)
    mw.set_ylabel("power [MW]")
    mw.set_ylim(bottom=0)
    ticks = [
        m.strftime("%Y-%m") + ("\npartial" if p else "")
        for m, p in zip(months, partial, strict=True)
    ]
    ax.set_xticks(x, ticks, fontsize="small")
    ax.set_title(TITLE_BUILDOUT)
    ax.grid(True, axis="y", alpha=0.3)
    handles, labels = [], []
    for a in (ax, mw):
        h, lab = a.get_legend_handles_labels()
        handles += h
        labels += lab
    from dcsim.plot.series import legend_outside

    legend_outside(mw, handles, labels, twin=True)
    return ax


def kpi_box_text(kpis: dict[str, Any]) -> str:
    """One line of headline KPIs for people, e.g. ``served 834 Gtok | unserved 0 % | ...``."""
    parts = []
    for label, key in KPI_BOX:
        value = kpis.get(key)
        if value is None:
            continue
        text = format_quantity(key, value)
        if key == "carbon_location_kg_per_mtok":
            text = text.replace("kg/Mtok", "kg CO2/Mtok")
        parts.append(f"{label} {text}")
    return "   |   ".join(parts)


def draw_kpi_box(result: Any, ax: Any) -> Any:
    """The KPI box: an axes without frame holding :func:`kpi_box_text` of the run's KPIs."""
    ax.set_axis_off()
    kpis = getattr(result, "kpis", None) or {}
    box = {"boxstyle": "round", "fc": "whitesmoke", "ec": "0.6"}
    ax.text(0.5, 0.5, kpi_box_text(kpis), ha="center", va="center", transform=ax.transAxes,
            bbox=box)  # fmt: skip
    ax.set_gid("kpi_box")
    return ax
