"""Validated ``training_jobs`` + plant -> per-tick training power of each job, in SI.

For each job: the cells it occupies (and the share of each cell's racks), the racks'
design power, its start and end ticks (the end is the repurposing date), its failures
(Poisson at the job's MTBF, from the catalog failure rates unless given) and the restart
intervals they cause, its checkpoint interval (Daly's optimum unless given), the power
floor of its smoothing policy, and the per-tick statistics of its power as fractions of
its full-load power (:func:`dcsim.physics.training.tick_stats`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

from dcsim import units
from dcsim.catalog.training_defaults import training_default
from dcsim.errors import ConfigError
from dcsim.model.streams import rng_for
from dcsim.physics.reliability import daly_interval_s, job_mtbf_s
from dcsim.physics.training import TS_NCOLS, tick_stats
from dcsim.scenario.training_checks import resolved_profile

__all__ = ["PROFILE_FIELDS", "TrainingPower", "build_training", "restart_intervals"]

#: Profile fields in the order of the ``par`` vector of :mod:`dcsim.physics.training`
#: (the checkpoint interval is resolved separately).
PROFILE_FIELDS = (
    "iteration_period_s",
    "compute_duty_frac",
    "transition_s",
    "compute_power_frac",
    "comm_power_frac",
    "checkpoint_interval_s",
    "checkpoint_write_s",
    "checkpoint_power_frac",
    "idle_power_frac",
)


@dataclass
class TrainingPower:
    """Training jobs as the kernel reads them (:class:`dcsim.kernels.bundles.TrainingLoad`)."""

    names: list[str]
    cell_job: np.ndarray  # (n_cell,) int64, -1: no job
    cell_share: np.ndarray  # (n_cell,) share of the cell's racks the job occupies [frac]
    cell_rack_w: np.ndarray  # (n_cell,) design power of one rack [W]
    job_site: np.ndarray  # (n_job,) int64
    start_tick: np.ndarray  # (n_job,) int64
    end_tick: np.ndarray  # (n_job,) int64 (exclusive; the repurposing tick)
    battery: np.ndarray  # (n_job,) bool: the site battery takes the swings
    stats: np.ndarray  # (n_job, n_ticks, TS_NCOLS) fractions of full-load power
    floor_frac: np.ndarray  # (n_job,)
    par: np.ndarray  # (n_job, 9) profile, PROFILE_FIELDS order
    mtbf_s: np.ndarray  # (n_job,)
    restart_s: np.ndarray  # (n_job,) restart time after a failure [s]
    failures_s: list[np.ndarray]  # per job, failure times [s]
    down_s: list[tuple[np.ndarray, np.ndarray]]  # per job, restart intervals [s]
    job_halls: list[list[int]]  # halls each job occupies (some of their racks)
    ramp_limit_w_per_s: np.ndarray  # (n_site,) inf: no limit


def restart_intervals(failures_s: np.ndarray, restart_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Merged restart intervals: a failure during a restart begins the restart again.

    Parameters
    ----------
    failures_s
        Sorted failure times [s].
    restart_s
        Restart time [s].

    Returns
    -------
    (starts, ends) of the disjoint intervals at idle power [s].
    """
    starts: list[float] = []
    ends: list[float] = []
    for f in failures_s:
        if ends and f < ends[-1]:
            ends[-1] = f + restart_s
        else:
            starts.append(float(f))
            ends.append(float(f) + restart_s)
    return np.array(starts), np.array(ends)


def _occupied(scenario: Any, plant: Any, job: Any, k: int) -> np.ndarray:
    """Share of each cell's racks that job k occupies (n_cell,)."""
    from dcsim.scenario.buildout_checks import match_rack_groups

    short_hall = np.array([h.rsplit("/", 1)[-1] for h in plant.hall_names])
    rack_hall = plant.cell_hall[plant.rack_cell]
    mine = np.isin(short_hall[rack_hall], job.halls)
    labels = [lab for x in job.rack_groups for lab, _, _ in match_rack_groups(scenario, x)]
    group_short = np.array(["/".join(lab.split("/")[-2:]) for lab in plant.rack_group_label])
    mine |= np.isin(group_short[plant.rack_group], labels)
    if not mine.any():
        raise ConfigError(
            "the training job occupies no racks; expected halls or rack groups with racks",
            f"training_jobs.{k}",
        )
    total = np.bincount(plant.rack_cell, minlength=plant.n_cells).astype(float)
    taken = np.bincount(plant.rack_cell[mine], minlength=plant.n_cells).astype(float)
    return np.where(total > 0, taken / np.maximum(total, 1.0), 0.0)


def _job_mtbf_s(scenario: Any, plant: Any, share: np.ndarray) -> float:
    from dcsim.model.capacity import _rates_per_rack

    rates = _rates_per_rack(plant, SimpleNamespace(notes={}), scenario.reliability)
    racks = share * np.bincount(plant.rack_cell, minlength=plant.n_cells)
    return job_mtbf_s(rates.rate_per_rack_s, racks[:, None])


def _mtbf_s(scenario: Any, plant: Any, job: Any, share: np.ndarray) -> float:
    # As the fleet: failures only with an enabled reliability block, unless the job gives
    # its own MTBF.
    if job.mtbf_s is not None:
        return float(job.mtbf_s)
    rel = getattr(scenario, "reliability", None)
    if rel is None or not rel.enabled:
        return float("inf")
    return _job_mtbf_s(scenario, plant, share)


def _tick_of(scenario: Any, plant: Any, when: Any, default: int) -> int:
    if when is None:
        return default
    t_s = (when - plant.start).total_seconds()
    return int(min(max(np.ceil(t_s / plant.tick_s - 1e-9), 0), plant.n_ticks))


def build_training(scenario: Any, catalog: Any, plant: Any) -> TrainingPower | None:
    """Training power of the scenario's jobs; None when it has none.

    Parameters
    ----------
    scenario
        The validated scenario (its checks have run).
    catalog
        The scenario's catalog (rack systems' design power).
    plant
        The array plant.

    Returns
    -------
    TrainingPower or None
    """
    jobs = getattr(scenario, "training_jobs", None) or []
    if not jobs:
        return None
    n_cell, n_ticks, dt_s = plant.n_cells, plant.n_ticks, plant.tick_s
    cell_rack_w = np.array(
        [
            catalog.rack_systems[plant.pool_specs[p].rack_system_id].design_power_kw.value
            * units.KW_W
            for p in plant.cell_pool
        ]
    )
    limits = np.full(len(plant.site_names), np.inf)
    for s, site in enumerate(scenario.sites):
        if site.grid is not None and site.grid.ramp_limit_mw_per_min is not None:
            limits[s] = site.grid.ramp_limit_mw_per_min * units.MW_W / units.MIN_S
    cell_job = np.full(n_cell, -1, dtype=np.int64)
    cell_share = np.zeros(n_cell)
    n_job = len(jobs)
    out = TrainingPower(
        names=[j.name for j in jobs], cell_job=cell_job, cell_share=cell_share,
        cell_rack_w=cell_rack_w, job_site=np.zeros(n_job, dtype=np.int64),
        start_tick=np.zeros(n_job, dtype=np.int64), end_tick=np.zeros(n_job, dtype=np.int64),
        battery=np.zeros(n_job, dtype=np.bool_), stats=np.zeros((n_job, n_ticks, TS_NCOLS)),
        floor_frac=np.zeros(n_job), par=np.zeros((n_job, 9)), mtbf_s=np.zeros(n_job),
        restart_s=np.zeros(n_job),
        failures_s=[], down_s=[], job_halls=[], ramp_limit_w_per_s=limits,
    )  # fmt: skip
    for k, job in enumerate(jobs):
        share = _occupied(scenario, plant, job, k)
        cells = np.flatnonzero(share > 0)
        taken = cells[cell_job[cells] >= 0]
        if taken.size:
            raise ConfigError(
                f"racks of hall '{plant.hall_names[plant.cell_hall[taken[0]]]}' are already "
                f"taken by training job '{jobs[cell_job[taken[0]]].name}'; expected each rack "
                "in at most one job",
                f"training_jobs.{k}",
            )
        cell_job[cells] = k
        cell_share[cells] = share[cells]
        halls = sorted({int(plant.cell_hall[c]) for c in cells})
        out.job_halls.append(halls)
        out.job_site[k] = int(plant.hall_par[halls[0], 0])  # layout.H_SITE is column 0
        prof = resolved_profile(job)
        mtbf = _mtbf_s(scenario, plant, job, share)
        out.mtbf_s[k] = mtbf
        if prof["checkpoint_interval_s"] is None:
            tau = float(daly_interval_s(prof["checkpoint_write_s"], mtbf))
            prof["checkpoint_interval_s"] = tau if np.isfinite(tau) else plant.horizon_s
        out.par[k] = [prof[f] for f in PROFILE_FIELDS]
        out.floor_frac[k] = _floor_frac(
            job, prof, share, cell_rack_w, plant, limits[out.job_site[k]]
        )
        out.battery[k] = job.smoothing.type == "battery"
        t0 = _tick_of(scenario, plant, job.start, 0)
        t1 = _tick_of(scenario, plant, job.until, n_ticks)
        out.start_tick[k], out.end_tick[k] = t0, max(t1, t0)
        start_s, end_s = t0 * dt_s, t1 * dt_s
        rng = rng_for(scenario.seed, "training_job_failures", k)
        fails = _poisson_times(rng, mtbf, start_s, end_s)
        out.failures_s.append(fails)
        out.restart_s[k] = prof["restart_s"]
        down = restart_intervals(fails, prof["restart_s"])
        out.down_s.append(down)
        if t1 > t0:
            tick_stats(
                start_s, dt_s, t1 - t0, down[0], down[1], start_s, out.par[k],
                out.floor_frac[k], out.stats[k, t0:t1],
            )  # fmt: skip
    return out


def _poisson_times(rng: np.random.Generator, mtbf_s: float, start_s: float, end_s: float):
    if not np.isfinite(mtbf_s) or end_s <= start_s:
        return np.zeros(0)
    n = rng.poisson((end_s - start_s) / mtbf_s)
    return np.sort(rng.uniform(start_s, end_s, n))


def job_full_power_w(share: np.ndarray, cell_rack_w: np.ndarray, plant: Any) -> float:
    """Design power of the racks a job occupies [W] (all its racks, built or not)."""
    racks = share * np.bincount(plant.rack_cell, minlength=plant.n_cells)
    return float(np.sum(racks * cell_rack_w))


def _floor_frac(job, prof, share, cell_rack_w, plant, limit_w_per_s) -> float:
    sm = job.smoothing
    if sm.type != "power_floor":
        return 0.0
    if sm.floor_frac is not None:
        return float(sm.floor_frac)
    if not np.isfinite(limit_w_per_s):
        return float(training_default("smoothing_floor_frac"))
    # The lowest floor that leaves a swing of at most one minute of the ramp limit.
    full_w = job_full_power_w(share, cell_rack_w, plant)
    allowed_frac = limit_w_per_s * units.MIN_S / max(full_w, 1.0)
    return float(np.clip(prof["compute_power_frac"] - allowed_frac, 0.0, 1.0))
