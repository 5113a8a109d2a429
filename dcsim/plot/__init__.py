"""Plots of runs and comparisons: functions ``(result | DataFrame, ax=None, ...) -> Axes``.

Every function takes a :class:`~dcsim.results.run_result.RunResult` (or its time-series
DataFrame, or a capacity table) and an optional matplotlib ``Axes``; without one it makes a
new pyplot figure, so the plot shows in a notebook. :func:`save_dashboard` renders without
pyplot (no window, no global figure list), which is what ``dcsim plot`` uses.

On a machine without a display (Linux with neither ``DISPLAY`` nor ``WAYLAND_DISPLAY``) and
when neither pyplot nor ``MPLBACKEND`` has chosen a backend yet, importing this package
selects matplotlib's non-interactive ``Agg`` backend.

Examples
--------
>>> import dcsim
>>> from dcsim.plot import plot_dashboard, plot_power_stack
>>> res = dcsim.run("scenarios/small-hall.yaml", overrides={"horizon_s": "2d"})
>>> ax = plot_power_stack(res)  # doctest: +SKIP
>>> fig = plot_dashboard(res)  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys

import matplotlib


def _headless() -> bool:
    """True on a Linux/BSD machine where no display server is reachable."""
    if sys.platform in ("darwin", "win32"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# A backend already chosen (pyplot imported, MPLBACKEND set by Jupyter or the user) wins.
if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND") and _headless():
    matplotlib.use("Agg")

from dcsim.plot.compare import plot_kpi_changes, plot_overlay, plot_overlays  # noqa: E402
from dcsim.plot.dashboard import dashboard_panels, plot_dashboard, save_dashboard  # noqa: E402
from dcsim.plot.series import (  # noqa: E402
    plot_capacity,
    plot_power_stack,
    plot_pue_temperatures,
    plot_series,
    plot_tokens,
)

__all__ = [
    "dashboard_panels",
    "plot_capacity",
    "plot_dashboard",
    "plot_kpi_changes",
    "plot_overlay",
    "plot_overlays",
    "plot_power_stack",
    "plot_pue_temperatures",
    "plot_series",
    "plot_tokens",
    "save_dashboard",
]
