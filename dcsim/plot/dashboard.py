"""The run dashboard: one figure with every panel the run has data for.

Panels, top to bottom: a KPI box (served, unserved, PUE, WUE, cost and CO2 per Mtok, when
the run has KPIs); power by component against the import limit, the firm block and the
energised MW; tokens served vs demand and capacity (daily means beyond two weeks); PUE and
loop temperatures with the rack systems' supply limit (when the run records them); the
monthly build-out (racks in service, MW energised, stranded; runs of 45 days or more with
two months or more, partial months hatched). Legends sit right of the data.
``dcsim plot RUN_DIR`` writes it as ``dashboard.png`` in the run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dcsim.fileio import check_output_file
from dcsim.plot._util import FIGURE_FORMATS, check_dpi, save_figure
from dcsim.plot.panels import draw_kpi_box, has_buildout, plot_buildout
from dcsim.plot.series import (
    plot_power_stack,
    plot_pue_temperatures,
    plot_tokens,
    span_d,
    temperature_columns,
    with_hall_temperatures,
)

#: Height of one dashboard panel [inch] and width of the figure [inch].
PANEL_HEIGHT_IN = 3.2
FIGURE_WIDTH_IN = 12.0

#: Panels the dashboard knows, in drawing order; ``dashboard_panels`` says which apply.
PANELS: tuple[str, ...] = ("kpis", "power", "tokens", "pue_temperatures", "capacity")

#: Height of the KPI box relative to a panel [-].
KPI_BOX_HEIGHT_FRAC = 0.22

_DRAW = {
    "power": plot_power_stack,
    "tokens": plot_tokens,
    "pue_temperatures": plot_pue_temperatures,
}


def dashboard_panels(result: Any) -> list[str]:
    """The panels a run's dashboard shows.

    Parameters
    ----------
    result
        A RunResult, or a time-series DataFrame (never has the capacity panel).

    Returns
    -------
    list of str
        A subsequence of :data:`PANELS`.
    """
    ts = with_hall_temperatures(result)
    panels = []
    if getattr(result, "kpis", None):
        panels.append("kpis")
    if "it_power_w" in ts.columns:
        panels.append("power")
    if "served_tok_per_s" in ts.columns:
        panels.append("tokens")
    has_pue = "pue" in ts.columns and ts["pue"].notna().any()
    if has_pue or temperature_columns(ts):
        panels.append("pue_temperatures")
    if has_buildout(result, span_d(ts.index)):
        panels.append("capacity")
    return panels


def _title(result: Any) -> str:
    name = getattr(result, "scenario_name", None)
    meta = getattr(result, "meta", None) or {}
    parts = [str(name)] if name else []
    if meta.get("run_dir"):
        parts.append(Path(str(meta["run_dir"])).name)
    if meta.get("seed") is not None:
        parts.append(f"seed {meta['seed']}")
    return " | ".join(parts) if parts else "dcsim run"


def plot_dashboard(result: Any, fig: Any = None) -> Any:
    """Draw the run dashboard.

    Parameters
    ----------
    result
        A RunResult (or a time-series DataFrame: power, tokens and PUE panels only).
    fig
        A matplotlib Figure to draw into (it is cleared); default a new pyplot figure.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per panel of :func:`dashboard_panels` (plus a twin axes when PUE and
        temperatures share a panel); the time-series panels share their x axis.

    Examples
    --------
    >>> import dcsim
    >>> from dcsim.plot import plot_dashboard
    >>> res = dcsim.run("scenarios/small-hall.yaml", overrides={"horizon_s": "2d"})
    >>> fig = plot_dashboard(res)  # doctest: +SKIP
    >>> [ax.get_title() for ax in fig.axes]  # doctest: +SKIP
    ['Power by component', 'Tokens served vs demand and capacity', 'PUE', ...]
    """
    panels = dashboard_panels(result)
    n = max(len(panels), 1)
    heights = [KPI_BOX_HEIGHT_FRAC if p == "kpis" else 1.0 for p in panels] or [1.0]
    size = (FIGURE_WIDTH_IN, PANEL_HEIGHT_IN * sum(heights))
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=size, layout="constrained")
    else:
        fig.clear()
        fig.set_size_inches(*size)
        fig.set_layout_engine("constrained")
    axes = fig.subplots(n, 1, squeeze=False, height_ratios=heights)[:, 0]
    time_axes = []
    for ax, panel in zip(axes, panels, strict=False):
        if panel == "capacity":
            plot_buildout(result, ax=ax)
        elif panel == "kpis":
            draw_kpi_box(result, ax=ax)
        else:
            _DRAW[panel](result, ax=ax)
            time_axes.append(ax)
    for ax in time_axes[1:]:
        ax.sharex(time_axes[0])
    fig.suptitle(_title(result))
    return fig


def save_dashboard(result: Any, path: str | Path, dpi: int = 110) -> Path:
    """Render the dashboard to a PNG, PDF or SVG file, without pyplot (safe in workers).

    The format follows the file suffix (``.png``, ``.pdf``, ``.svg``; anything else is
    refused). The file is written beside its target under a hidden name and renamed into
    place, so a reader never sees half an image.

    Parameters
    ----------
    result
        A RunResult.
    path
        The figure file; its folder is created if needed.
    dpi
        Resolution [dot/inch], from 20 to 600.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> from dcsim.plot import save_dashboard
    >>> save_dashboard(dcsim.read_run("results/small-hall/<run-id>"), "dash.png")  # doctest: +SKIP
    """
    from matplotlib.figure import Figure

    target = check_output_file(path, "--out", suffixes=tuple(FIGURE_FORMATS))
    check_dpi(dpi)
    fig = plot_dashboard(result, fig=Figure())
    save_figure(fig, target, dpi=dpi)
    return target
