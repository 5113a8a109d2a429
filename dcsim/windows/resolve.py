"""When a window runs: its start as ticks, from a date-time or a rule on the run's inputs.

Rules are resolved before the kernel runs, from the same inputs the fluid run consumes: the
demand matrix of the run's seed (``peak:<class>``) and the grid inputs of the sites
(``curtailment:deepest``). These are the numbers the fluid run records as
``<class>.demand_tok_per_s`` and ``curtailed_w``, so the resolved hour is the one read off the
run's own time series, and the window's cells can be recorded in the one and only pass.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.kernels import layout as L
from dcsim.scenario.types import format_date
from dcsim.scenario.windows_schema import Window, start_datetime

__all__ = ["clock_hour_argmax", "resolve_window", "window_spans"]


def clock_hour_argmax(series: np.ndarray, ticks_per_hour: int) -> tuple[int, float]:
    """First tick of the clock hour with the highest mean, and that mean.

    Hours are counted from tick 0 (the scenario starts on a whole hour); a last, partial
    hour is averaged over the ticks it has. Ties go to the earliest hour.

    Parameters
    ----------
    series
        One value per tick [any unit].
    ticks_per_hour
        Ticks per hour [count, >= 1].

    Returns
    -------
    (first tick of the hour [count], mean of that hour [unit of series])
    """
    n = series.shape[0]
    n_hours = -(-n // ticks_per_hour)
    padded = np.zeros(n_hours * ticks_per_hour)
    padded[:n] = series
    counts = np.full(n_hours, float(ticks_per_hour))
    counts[-1] = n - (n_hours - 1) * ticks_per_hour
    means = padded.reshape(n_hours, ticks_per_hour).sum(axis=1) / counts
    h = int(np.argmax(means))
    return h * ticks_per_hour, float(means[h])


def _rule_tick(win: Window, where: str, plant, demand: np.ndarray) -> int:
    """First tick of the hour a rule names."""
    tph = max(int(round(units.H_S / plant.tick_s)), 1)
    kind, arg = win.start.split(":", 1)
    if kind == "peak":
        k = plant.class_names.index(arg)
        tick, mean = clock_hour_argmax(demand[k], tph)
        if not mean > 0.0:
            raise ConfigError(
                f"rule '{win.start}' has no match: class '{arg}' has no demand in the run",
                where,
            )
        return tick
    # curtailment:deepest: curtailed power summed over the sites, as recorded (curtailed_w)
    series = plant.site_series
    curtailed = np.maximum(
        series[:, :, L.ST_CONTRACT_W] - series[:, :, L.ST_GRID_AVAIL_W], 0.0
    ).sum(axis=0)
    tick, mean = clock_hour_argmax(curtailed, tph)
    if not mean > 0.0:
        raise ConfigError(
            f"rule '{win.start}' has no match: no curtailment in the run (no grid curtailment "
            "or disconnect in the horizon); give a date-time or add curtailment events",
            where,
        )
    return tick


def resolve_window(win: Window, index: int, plant, demand: np.ndarray) -> tuple[int, int]:
    """First tick and number of ticks of a window (without its warm-up).

    A rule's window starts on the hour it names; one that would run past the horizon is
    moved back to end with it. A dated window must lie inside the horizon.

    Parameters
    ----------
    win
        The window.
    index
        Its position in ``windows`` (for error messages).
    plant
        The run's plant (tick, start, horizon, site inputs).
    demand
        Demand per class and tick of the run [tok/s].

    Returns
    -------
    (first tick, ticks) [count]

    Raises
    ------
    ConfigError
        A window outside the horizon; a rule with no match.
    """
    where = f"windows.{index}.start"
    n = max(int(round(win.duration_s / plant.tick_s)), 1)
    start = start_datetime(win.start)
    if start is None:
        t0 = _rule_tick(win, where, plant, demand)
        return max(min(t0, plant.n_ticks - n), 0), min(n, plant.n_ticks)
    offset_s = (start - plant.start).total_seconds()
    t0 = int(math.floor(offset_s / plant.tick_s + 1e-9))
    if t0 < 0 or t0 + n > plant.n_ticks:
        end = plant.start + dt.timedelta(seconds=plant.n_ticks * plant.tick_s)
        raise ConfigError(
            f"window {format_date(start)} ({win.duration_s:g} s) is outside the horizon "
            f"{format_date(plant.start)} to {format_date(end)}; expected a window inside it",
            where,
        )
    return t0, n


def warmup_ticks(win: Window, t0: int, tick_s: float) -> int:
    """Ticks of warm-up before a window starting at tick ``t0`` (not before the run) [count]."""
    return min(int(round(win.warmup_s / tick_s)), t0)


def window_spans(windows: list[Window], plant, demand: np.ndarray) -> list[tuple[int, int]]:
    """Ticks to record for the windows, warm-up included: ``[(first tick, ticks), ...]``."""
    spans = []
    for i, win in enumerate(windows):
        t0, n = resolve_window(win, i, plant, demand)
        w = warmup_ticks(win, t0, plant.tick_s)
        spans.append((t0 - w, n + w))
    return spans
