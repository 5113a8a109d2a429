"""Goodput of training reservations from the run's interruption events (MODEL.md section 2).

A training job works in segments of ``interval_s`` of compute followed by a checkpoint
write of ``write_s``. An unplanned interruption loses the work since the last completed
checkpoint; the job is then down for ``downtime_s`` and restarts in ``restart_s`` (a
further interruption during the restart starts it again). A planned interruption (a
maintenance window) is preceded by a checkpoint, so it costs the restart only. This is the
model of Daly (2006), so over many failures the goodput tends to
:func:`dcsim.physics.reliability.expected_goodput_frac`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from dcsim.physics.reliability import expected_goodput_frac

__all__ = ["job_goodput", "training_kpis"]


def job_goodput(
    interruptions_s: Sequence[float],
    planned: Sequence[bool],
    start_s: float,
    end_s: float,
    interval_s: float,
    write_s: float,
    restart_s: float,
    downtime_s: float = 0.0,
) -> dict[str, float]:
    """Kept work of one training job over a window, given its interruptions.

    Parameters
    ----------
    interruptions_s
        Times of the job's interruptions [s], any order.
    planned
        For each interruption, whether it was planned (checkpointed first).
    start_s, end_s
        Window of the job [s]; interruptions outside it are ignored.
    interval_s
        Compute time between checkpoints [s].
    write_s
        Checkpoint write time [s].
    restart_s
        Restart cost after an interruption [s].
    downtime_s
        Wait before a restart begins [s].

    Returns
    -------
    dict
        ``goodput_frac`` (kept work over the window) [frac]; ``kept_work_s``,
        ``lost_work_s`` (work redone after unplanned interruptions), ``restart_time_s``,
        ``checkpoint_time_s`` [s]; ``interruptions_count`` (unplanned) and
        ``planned_interruptions_count`` [count]. Work in progress at ``end_s`` counts as
        kept (the job checkpoints it after the window).
    """
    times = np.asarray(interruptions_s, float)
    kinds = np.asarray(planned, bool)
    inside = (times >= start_s) & (times < end_s)
    order = np.argsort(times[inside], kind="stable")
    times, kinds = times[inside][order], kinds[inside][order]
    seg = interval_s + write_s
    kept = lost = restarting = 0.0
    n_unplanned = int(np.sum(~kinds))
    t = start_s  # the job (re)started working here
    i = 0
    while True:
        if i >= times.size:
            done = end_s - t
            n = np.floor(done / seg)
            kept += n * interval_s + min(done - n * seg, interval_s)
            break
        f, is_planned = times[i], kinds[i]
        i += 1
        if f < t:
            continue  # during downtime or a restart that an earlier event already began
        done = f - t
        n = np.floor(done / seg)
        kept += n * interval_s
        partial = min(done - n * seg, interval_s)
        if is_planned:
            kept += partial
        else:
            lost += partial
        # Down, then restart; an unplanned interruption during the restart begins it again.
        r0 = min(f + downtime_s, end_s)
        while True:
            r1 = r0 + restart_s
            hit = np.flatnonzero((times[i:] >= r0) & (times[i:] < min(r1, end_s)) & ~kinds[i:])
            if hit.size == 0:
                restarting += min(r1, end_s) - r0
                break
            nxt = i + int(hit[0])
            restarting += times[nxt] - r0
            r0 = min(times[nxt] + downtime_s, end_s)
            i = nxt + 1
        t = min(r1, end_s)
        if t >= end_s:
            break
    window = end_s - start_s
    n_seg_total = kept / interval_s if interval_s > 0 else 0.0
    return {
        "goodput_frac": float(kept / window) if window > 0 else float("nan"),
        "kept_work_s": float(kept),
        "lost_work_s": float(lost),
        "restart_time_s": float(restarting),
        "checkpoint_time_s": float(np.floor(n_seg_total)) * write_s,
        "interruptions_count": float(n_unplanned),
        "planned_interruptions_count": float(np.sum(kinds)),
    }


def training_kpis(
    events: pd.DataFrame,
    training: Any,
    start: dt.datetime,
    horizon_s: float,
    job_start_s: Sequence[float] | None = None,
) -> dict[str, float]:
    """Goodput KPIs of every training job of a run.

    Parameters
    ----------
    events
        The run's event table (``time``, ``kind``, ``asset``): ``training_interruption``
        and ``training_planned_interruption`` rows name the job in ``asset``.
    training
        The plan's :class:`dcsim.model.capacity.TrainingPlan` (``names``, ``interval_s``,
        ``write_s``, ``restart_s``, ``mtbf_s``); None gives no KPIs.
    start
        Scenario start (the events' time origin).
    horizon_s
        Length of the run [s]; each job runs until its end.
    job_start_s
        When each job starts (its racks all in service) [s]; default the scenario start.
        A job that never starts has goodput 0.

    Returns
    -------
    dict
        Per job ``<job>.training_goodput_frac`` (simulated) and
        ``<job>.training_expected_goodput_frac`` (Daly's expectation at the catalog
        failure rate) [frac]; ``<job>.training_interruptions_count`` [count];
        ``<job>.checkpoint_interval_s``, ``<job>.training_mtbf_s``,
        ``<job>.training_lost_work_s``, ``<job>.training_start_s`` [s].
    """
    out: dict[str, float] = {}
    if training is None:
        return out
    kinds = ("training_interruption", "training_planned_interruption")
    rows = events[events["kind"].isin(kinds)] if len(events) else events
    for j, name in enumerate(training.names):
        mine = rows[rows["asset"] == name] if len(rows) else rows
        t_s = (
            (pd.to_datetime(mine["time"]) - pd.Timestamp(start)).dt.total_seconds().to_numpy()
            if len(mine)
            else np.zeros(0)
        )
        planned = mine["kind"].to_numpy() == kinds[1] if len(mine) else np.zeros(0, bool)
        t0 = float(job_start_s[j]) if job_start_s is not None else 0.0
        if not t0 < horizon_s:
            t0 = horizon_s
        g = job_goodput(
            t_s,
            planned,
            t0,
            horizon_s,
            float(training.interval_s[j]),
            float(training.write_s[j]),
            float(training.restart_s[j]),
        )
        out[f"{name}.training_goodput_frac"] = g["goodput_frac"] if t0 < horizon_s else 0.0
        out[f"{name}.training_start_s"] = t0
        out[f"{name}.training_expected_goodput_frac"] = float(
            expected_goodput_frac(
                training.interval_s[j],
                training.write_s[j],
                training.restart_s[j],
                training.mtbf_s[j],
            )
        )
        out[f"{name}.training_interruptions_count"] = g["interruptions_count"]
        out[f"{name}.training_lost_work_s"] = g["lost_work_s"]
        out[f"{name}.checkpoint_interval_s"] = float(training.interval_s[j])
        out[f"{name}.training_mtbf_s"] = float(training.mtbf_s[j])
    return out
