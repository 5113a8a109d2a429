"""The SimPy layer: discrete processes change array state, the fused kernel advances physics.

The clock is float seconds since the scenario start. Discrete processes (rack groups entering
service; later deliveries, failures, grid and cooling events) wait, change the state tables
and log events; they hold no equations. The physics process runs them ahead over up to a
day, collects what they changed as a change list (:mod:`dcsim.sim.changes`) and advances
the compiled kernel over the day in one call, which applies each change from the first tick
that starts at or after its event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from functools import partial

import numpy as np
import simpy

from dcsim.kernels import bundles as B
from dcsim.kernels.step import advance
from dcsim.model.capacity import CapacityPlan
from dcsim.model.plant import Plant
from dcsim.model.streams import rng_for
from dcsim.model.training import TrainingPower
from dcsim.sim.capacity import start_capacity_processes
from dcsim.sim.changes import ChangeWatch
from dcsim.sim.cooling_faults import start_cooling_fault_processes
from dcsim.sim.demand import demand_matrix_tok_per_s, region_demand_matrix_tok_per_s
from dcsim.sim.fleet import start_fleet_processes
from dcsim.sim.recorder import Recorder
from dcsim.sim.regions import regions_for_run
from dcsim.sim.state import SimState, copy_mutable

#: Longest stretch advanced in one compiled call [s]: one simulated day keeps the progress
#: bar alive at a call overhead that is negligible against a day of ticks.
MAX_CHUNK_S = 86400.0

ProgressFn = Callable[[int, int], None]
WindowSpansFn = Callable[[Plant, np.ndarray], list[tuple[int, int]]]


def run_bundles(
    state: SimState, demand: np.ndarray, chunk_ticks: int, training_w: np.ndarray | None = None
) -> tuple:
    """The typed bundles of one run, over the state's shared arrays (built once per run).

    Parameters
    ----------
    state
        The run's state; its arrays are shared, not copied, so that the processes' changes
        between two compiled calls are what the next call reads.
    demand
        Demand per class and tick (n_class, n_ticks) [tok/s].
    chunk_ticks
        Most ticks of one compiled call (sizes the kernel event buffer) [count].
    training_w
        The training bundle's per-hall power array (shared with ``Halls.training_w``);
        None: no training jobs.

    Returns
    -------
    (classes, pools, cells, halls, sites, inputs, record), the arguments of
    :func:`dcsim.kernels.step.advance` after ``(tick0, n_ticks, dt_s)``.
    """
    p = state.plant
    rec = state.recorder
    rec.reserve_kernel_events(chunk_ticks)
    return (
        B.classes_bundle(p.class_par, demand, state.backlog_tok, state.backlog_head),
        B.pools_bundle(p),
        B.cells_bundle(p.cell_pool, p.cell_hall, state.cell_state),
        B.halls_bundle(
            p.hall_par,
            state.hall_energised,
            state.hall_cooled,
            p.cool_par,
            state.cool_state,
            training_w,
        ),
        B.sites_bundle(p.site_par, p.site_grid_par, state.site_state, p.site_power_policy),
        B.inputs_bundle(p.site_series),
        B.record_bundle(
            rec.rec,
            rec.class_rec,
            rec.hall_rec,
            rec.site_rec,
            rec.flow_check,
            p.ticks_per_rec,
            p.ticks_per_hall_rec,
            rec.kernel_events,
            rec.n_kernel_events,
            rec.window_row,
            rec.window_rec,
        ),  # fmt: skip
    )


def _physics(
    env: simpy.Environment,
    state: SimState,
    demand: np.ndarray,
    progress: ProgressFn | None,
    changes_in_call: bool = True,
) -> Generator[simpy.Event, None, None]:
    p = state.plant
    rec = state.recorder
    dt_s = p.tick_s
    chunk_ticks = max(int(MAX_CHUNK_S // dt_s), 1)
    training = state.extra.get("training_bundle")
    bundles = run_bundles(state, demand, chunk_ticks, None if training is None else training.hall_w)
    regions = regions_for_run(p, state.extra.get("region_demand_tok_per_s"), rec.region_rec)
    watched = ChangeWatch(state)
    while state.tick < p.n_ticks:
        if env.peek() <= env.now:
            yield env.timeout(0.0)  # let events due now change the state first
            continue
        end = min(p.n_ticks, state.tick + chunk_ticks)
        watched.begin(state.tick)
        # Run the processes ahead over the call: each change holds from the first tick that
        # starts at or after its event. Ticks before it run on the state before it.
        while True:
            t_next = env.peek()
            first_after = _first_tick_at_or_after(t_next, dt_s, p.n_ticks)
            if first_after >= end:
                break
            if first_after > state.tick and not changes_in_call:
                end = first_after  # the reference path: a change ends the call
                break
            yield env.timeout(max(t_next - env.now, 0.0))
            while env.peek() <= env.now:
                yield env.timeout(0.0)
            watched.capture(max(_first_tick_at_or_after(env.now, dt_s, p.n_ticks), state.tick))
        changes = watched.end()
        t0 = time.perf_counter()
        advance(state.tick, end - state.tick, dt_s, *bundles, changes, training, regions)
        state.wall_kernel_s += time.perf_counter() - t0
        state.n_kernel_calls += 1
        rec.drain_kernel_events()
        state.tick = end
        if progress is not None:
            progress(state.tick, p.n_ticks)
        yield env.timeout(max(end * dt_s - env.now, 0.0))


def _first_tick_at_or_after(t_s: float, dt_s: float, n_ticks: int) -> int:
    """First tick that starts at or after ``t_s`` [count]; ``n_ticks`` for no event."""
    return int(np.ceil(t_s / dt_s - 1e-9)) if np.isfinite(t_s) else n_ticks


def _log_training_events(state: SimState, training: TrainingPower) -> None:
    """Each job's failures (restarts) and repurposing date, in the event log."""
    p = state.plant
    for k, job in enumerate(training.names):
        for f in training.failures_s[k]:
            state.log_event(float(f), "training_job_restart", job, "failure", training.restart_s[k])
        if training.end_tick[k] < p.n_ticks:
            per_cell = np.bincount(p.rack_cell, minlength=p.n_cells)
            racks = float(np.sum((training.cell_share * per_cell)[training.cell_job == k]))
            state.log_event(
                float(training.end_tick[k]) * p.tick_s, "training_job_repurposed", job, "", racks
            )


def simulate(
    plant: Plant,
    seed: int,
    progress: ProgressFn | None = None,
    plan: CapacityPlan | None = None,
    changes_in_call: bool = True,
    window_spans: WindowSpansFn | None = None,
    training: TrainingPower | None = None,
) -> SimState:
    """Run the plant over its horizon.

    Parameters
    ----------
    plant
        The array plant (not modified: the run works on copies of its state tables).
    seed
        Run seed; the same plant and seed give bit-identical buffers.
    progress
        Optional callback ``progress(ticks_done, ticks_total)``.
    plan
        The capacity plan (build-out, failures, snapshots; see
        :func:`dcsim.model.capacity.build_capacity_plan`); None: racks enter service on
        their rack group's date and nothing fails.
    changes_in_call
        True: the discrete changes of a day are applied inside one compiled call at their
        tick. False: each change ends a compiled call (the reference the tests compare with;
        same results, many more calls).
    window_spans
        Optional ``window_spans(plant, demand) -> [(first tick, ticks), ...]``: the ticks at
        which every cell is recorded for the request-level windows (``Recorder.window_rec``),
        decided from the run's inputs before the kernel runs (docs/windows.md).
    training
        Training jobs (:func:`dcsim.model.training.build_training`); their bundle is kept
        in ``state.extra["training_bundle"]`` (its ``rec`` holds the per-site record).

    Returns
    -------
    The final state, holding the recorder with the filled buffers and events.
    """
    demand_krt = None
    if plant.regions is None:
        demand = demand_matrix_tok_per_s(
            plant, [rng_for(seed, "demand", k) for k in range(len(plant.class_names))]
        )
    else:
        # Each class's demand is the sum of its regions' (each in the region's local time).
        demand_krt = region_demand_matrix_tok_per_s(plant, seed, rng_for)
        demand = demand_krt.sum(axis=1)
    # The run works on copies so that a plant can be simulated again (sweeps, notebooks).
    run_plant = copy_mutable(plant)
    state = SimState(
        plant=run_plant,
        recorder=Recorder(run_plant),
        cell_state=run_plant.cell_state,
        backlog_tok=np.zeros((len(plant.class_names), plant.n_backlog_buckets)),
        backlog_head=np.zeros(len(plant.class_names), dtype=np.int64),
        site_state=run_plant.site_state,
        cool_state=run_plant.cool_state,
    )
    state.extra["demand_tok_per_s"] = demand
    if window_spans is not None:
        state.recorder.reserve_windows(window_spans(run_plant, demand))
    if training is not None:
        state.extra["training_bundle"] = B.training_bundle(
            training, len(plant.hall_names), state.recorder.site_rec.shape[0],
            len(plant.site_names), plant.ticks_per_rec,
        )  # fmt: skip
        _log_training_events(state, training)
    state.extra["region_demand_tok_per_s"] = demand_krt
    env = simpy.Environment()
    if run_plant.cooling is not None:
        start_cooling_fault_processes(env, state, run_plant.cooling, partial(rng_for, seed))
    if plan is None:
        start_fleet_processes(env, state)
    else:
        start_capacity_processes(env, state, plan, seed, rng_for)
    physics = env.process(_physics(env, state, demand, progress, changes_in_call))
    # Processes run ahead of the physics, so their events are logged before the kernel's
    # events of the same call: order the log by time (stable: ties keep their order).
    env.run(until=physics)
    state.recorder.events.sort(key=lambda e: e[0])
    return state
