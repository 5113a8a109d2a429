"""When a window runs: its start as ticks, from a date-time or a rule on the run's inputs.

Rules are resolved before the kernel runs, from the same inputs the fluid run consumes: the
demand of the run's seed (``peak:<class>``) and the grid inputs of the sites
(``curtailment:deepest``). These are the numbers the fluid run records as
``<class>.demand_tok_per_s`` and ``curtailed_w``, so the resolved hour is the one read off the
run's own time series, and the window's cells can be recorded in the one and only pass. The
inputs are streamed a chunk at a time and kept as hour means (:func:`rule_inputs`), so
resolving a rule costs memory per hour, not per tick.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from dcsim import units
from dcsim.errors import ConfigError
from dcsim.kernels import layout as L
from dcsim.scenario.types import format_date
from dcsim.scenario.windows_schema import Window, start_datetime

__all__ = [
    "RuleInputs",
    "clock_hour_argmax",
    "hour_means",
    "resolve_window",
    "rule_inputs",
    "window_spans",
]


@dataclass(frozen=True)
class RuleInputs:
    """Clock-hour means of what the window rules read.

    Attributes
    ----------
    ticks_per_hour
        Ticks per clock hour (1 for ticks of an hour or longer) [count].
    demand_tok_per_s
        Demand per class and hour, shape (n_class, n_hours) [tok/s].
    curtailed_w
        Contract minus import available, summed over the sites, per hour (n_hours,) [W].
    """

    ticks_per_hour: int
    demand_tok_per_s: np.ndarray
    curtailed_w: np.ndarray


def ticks_per_hour(tick_s: float) -> int:
    """Ticks per clock hour, at least one [count]."""
    return max(int(round(units.H_S / tick_s)), 1)


def hour_means(series: np.ndarray, ticks_per_hour: int) -> np.ndarray:
    """Means over consecutive clock hours along the last axis [unit of series].

    A last, partial hour is averaged over the ticks it has.
    """
    n = series.shape[-1]
    n_hours = -(-n // ticks_per_hour)
    padded = np.zeros((*series.shape[:-1], n_hours * ticks_per_hour))
    padded[..., :n] = series
    counts = np.full(n_hours, float(ticks_per_hour))
    counts[-1] = n - (n_hours - 1) * ticks_per_hour
    return padded.reshape(*series.shape[:-1], n_hours, ticks_per_hour).sum(axis=-1) / counts


def rule_inputs(plant, seed: int) -> RuleInputs:
    """The run's demand and curtailment as hour means, streamed a chunk at a time.

    Parameters
    ----------
    plant
        The run's plant (demand classes, site inputs).
    seed
        Run seed (the demand's streams are the run's own).
    """
    from dcsim.model.memory import chunk_ticks_for
    from dcsim.model.streams import rng_for
    from dcsim.sim.demand import demand_stream

    tph = ticks_per_hour(plant.tick_s)
    n_class = len(plant.class_names)
    stream = demand_stream(plant, seed, rng_for)
    # A whole number of hours per chunk, so no hour straddles two chunks.
    chunk = max(chunk_ticks_for(plant.tick_s) // tph, 1) * tph
    buf = np.zeros((n_class, chunk))
    buf_region = np.zeros((n_class, getattr(stream, "n_region", 0), chunk))
    demand_parts, curtailed_parts = [], []
    for t0 in range(0, plant.n_ticks, chunk):
        t1 = min(t0 + chunk, plant.n_ticks)
        stream.fill(t0, t1, buf, buf_region)
        demand_parts.append(hour_means(buf[:, : t1 - t0], tph))
        table = plant.site_inputs.table(t0, t1)
        curtailed = np.maximum(
            table[:, :, L.ST_CONTRACT_W] - table[:, :, L.ST_GRID_AVAIL_W], 0.0
        ).sum(axis=0)
        curtailed_parts.append(hour_means(curtailed, tph))
    if not demand_parts:
        return RuleInputs(tph, np.zeros((n_class, 0)), np.zeros(0))
    return RuleInputs(tph, np.concatenate(demand_parts, axis=1), np.concatenate(curtailed_parts))


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
    means = hour_means(series, ticks_per_hour)
    h = int(np.argmax(means))
    return h * ticks_per_hour, float(means[h])


def _rule_tick(win: Window, where: str, plant, inputs: RuleInputs) -> int:
    """First tick of the hour a rule names."""
    tph = inputs.ticks_per_hour
    kind, arg = win.start.split(":", 1)
    if kind == "peak":
        k = plant.class_names.index(arg)
        hour, mean = clock_hour_argmax(inputs.demand_tok_per_s[k], 1)
        tick = hour * tph
        if not mean > 0.0:
            raise ConfigError(
                f"rule '{win.start}' has no match: class '{arg}' has no demand in the run",
                where,
            )
        return tick
    # curtailment:deepest: curtailed power summed over the sites, as recorded (curtailed_w)
    hour, mean = clock_hour_argmax(inputs.curtailed_w, 1)
    tick = hour * tph
    if not mean > 0.0:
        raise ConfigError(
            f"rule '{win.start}' has no match: no curtailment in the run (no grid curtailment "
            "or disconnect in the horizon); give a date-time or add curtailment events",
            where,
        )
    return tick


def resolve_window(win: Window, index: int, plant, inputs: RuleInputs | None) -> tuple[int, int]:
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
    inputs
        The run's :func:`rule_inputs` (None: only dated windows, nothing to read).

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
        t0 = _rule_tick(win, where, plant, inputs)
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


def needs_rule_inputs(windows: list[Window]) -> bool:
    """Whether a window starts on a rule (and so needs :func:`rule_inputs`)."""
    return any(start_datetime(win.start) is None for win in windows)


def window_spans(windows: list[Window], plant, inputs: RuleInputs | None) -> list[tuple[int, int]]:
    """Ticks to record for the windows, warm-up included: ``[(first tick, ticks), ...]``."""
    spans = []
    for i, win in enumerate(windows):
        t0, n = resolve_window(win, i, plant, inputs)
        w = warmup_ticks(win, t0, plant.tick_s)
        spans.append((t0 - w, n + w))
    return spans
