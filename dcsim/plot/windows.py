"""Plots of the request-level windows: latency distributions and p99 over the window.

Each function takes a RunResult with requests (or the requests table itself, the rows of
``requests.parquet``) and an optional matplotlib ``Axes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dcsim.errors import ConfigError
from dcsim.plot._util import FIGURE_FORMATS, check_dpi, new_ax, save_figure

__all__ = ["plot_latency_cdf", "plot_p99_over_window", "save_windows_figure"]

#: Width of the bins of the p99-over-time panel [s]: a few minutes holds a few hundred
#: requests per bin on a handful of replicas, enough for a p99 that is not a single request.
P99_BIN_S = 300.0


def _requests(data: Any) -> pd.DataFrame:
    frame = data if isinstance(data, pd.DataFrame) else getattr(data, "requests", None)
    if frame is None or len(frame) == 0:
        raise ConfigError("the run has no request-level windows (no requests.parquet)")
    return frame


def plot_latency_cdf(data: Any, metric: str = "ttft_s", ax: Any = None) -> Any:
    """Empirical CDF of a latency per window and class, log time axis.

    Parameters
    ----------
    data
        RunResult or requests table.
    metric
        ``"ttft_s"``, ``"tpot_s"`` or ``"e2e_s"``.
    ax
        Axes to draw on; default a new figure.
    """
    frame = _requests(data)
    ax = new_ax(ax)
    for (win, klass), group in frame.groupby(["window", "class"], sort=True):
        x = np.sort(group[metric].to_numpy(dtype=float))
        x = x[np.isfinite(x) & (x > 0)]
        if x.size == 0:
            continue
        ax.step(x, np.arange(1, x.size + 1) / x.size, where="post", label=f"{win}: {klass}")
    ax.set_xscale("log")
    ax.axhline(0.99, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel(f"{metric.removesuffix('_s').upper()} [s]")
    ax.set_ylabel("share of requests")
    ax.legend(fontsize="small")
    return ax


def plot_p99_over_window(data: Any, metric: str = "ttft_s", ax: Any = None) -> Any:
    """p99 of a latency per few-minute bin of arrival time, per window and class."""
    frame = _requests(data)
    ax = new_ax(ax)
    for (win, klass), group in frame.groupby(["window", "class"], sort=True):
        t = group["arrival"]
        minutes = (t - t.min()).dt.total_seconds() // P99_BIN_S * P99_BIN_S / 60.0
        p99 = group[metric].groupby(minutes.to_numpy()).quantile(0.99)
        ax.step(p99.index, p99.to_numpy(), where="post", label=f"{win}: {klass}")
    ax.set_xlabel("minutes into the window")
    ax.set_ylabel(f"{metric.removesuffix('_s').upper()} p99 [s]")
    ax.legend(fontsize="small")
    return ax


def save_windows_figure(result: Any, path: str | Path, dpi: int = 110) -> Path:
    """TTFT and TPOT CDFs and the TTFT p99 over the window in one figure file."""
    from matplotlib.figure import Figure

    check_dpi(dpi)
    target = Path(path)
    if target.suffix.lower() not in FIGURE_FORMATS:
        raise ConfigError(f"expected a .png, .pdf or .svg file, got '{target.name}'", "--out")
    fig = Figure(figsize=(13, 4))
    axes = fig.subplots(1, 3)
    plot_latency_cdf(result, "ttft_s", ax=axes[0])
    plot_latency_cdf(result, "tpot_s", ax=axes[1])
    plot_p99_over_window(result, "ttft_s", ax=axes[2])
    fig.tight_layout()
    save_figure(fig, target, dpi=dpi)
    return target
