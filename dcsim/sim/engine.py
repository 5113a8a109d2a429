"""The SimPy layer: discrete processes change array state, the fused kernel advances physics.

The clock is float seconds since the scenario start. Discrete processes (rack groups entering
service; later deliveries, failures, grid and cooling events) wait, change the state tables
and log events; they hold no equations. The physics process runs them ahead over up to a
day (:func:`dcsim.model.memory.chunk_ticks_for`), collects what they changed as a change list
(:mod:`dcsim.sim.changes`), fills the per-call demand and site-input buffers for those ticks
(:class:`dcsim.sim.demand.DemandStream`, :class:`dcsim.model.site_inputs.SiteInputs`) and
advances the compiled kernel over the day in one call, which applies each change from the
first tick that starts at or after its event.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from functools import partial

import numpy as np
import simpy

from dcsim.kernels import bundles as B
from dcsim.kernels.step import advance
from dcsim.model.capacity import CapacityPlan
from dcsim.model.memory import chunk_ticks_for
from dcsim.model.plant import Plant
from dcsim.model.streams import rng_for
from dcsim.model.training import TrainingPower
from dcsim.sim.capacity import start_capacity_processes
from dcsim.sim.changes import ChangeWatch
from dcsim.sim.cooling_faults import start_cooling_fault_processes
from dcsim.sim.demand import DemandStream, RegionDemandStream, demand_stream
from dcsim.sim.fleet import start_fleet_processes
from dcsim.sim.recorder import Recorder
from dcsim.sim.regions import regions_for_run
from dcsim.sim.state import SimState, copy_mutable

ProgressFn = Callable[[int, int], None]


def run_bundles(state: SimState, chunk_ticks: int) -> tuple:
    """The typed bundles of one run, over the state's shared arrays (built once per run).

    The demand (``Classes``) and site inputs (``Inputs``) are per-call buffers of
    ``chunk_ticks`` columns that share one ``first_tick``; :func:`fill_inputs` fills them
    before each call.

    Parameters
    ----------
    state
        The run's state; its arrays are shared, not copied, so that the processes' changes
        between two compiled calls are what the next call reads.
    chunk_ticks
        Most ticks of one compiled call (sizes the input buffers and the kernel event
        buffer) [count].

    Returns
    -------
    (classes, pools, cells, halls, sites, inputs, record), the arguments of
    :func:`dcsim.kernels.step.advance` after ``(tick0, n_ticks, dt_s)``.
    """
    p = state.plant
    rec = state.recorder
    rec.reserve_kernel_events(chunk_ticks)
    first_tick = np.zeros(1, dtype=np.int64)
    demand = np.zeros((len(p.class_names), chunk_ticks))
    return (
        B.classes_bundle(p.class_par, demand, state.backlog_tok, state.backlog_head, first_tick),
        B.pools_bundle(p),
        B.cells_bundle(p.cell_pool, p.cell_hall, state.cell_state),
        B.halls_bundle(
            p.hall_par,
            state.hall_energised,
            state.hall_cooled,
            p.cool_par,
            state.cool_state,
            None if state.training is None else state.training.hall_w,
        ),
        B.sites_bundle(p.site_par, p.site_grid_par, state.site_state, p.site_power_policy),
        B.inputs_buffers(len(p.site_names), chunk_ticks, first_tick),
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


def fill_inputs(
    bundles: tuple,
    demand: DemandStream | RegionDemandStream,
    plant: Plant,
    t0: int,
    t1: int,
    regions: B.Regions | None = None,
) -> None:
    """Fill the per-call input buffers with ticks ``[t0, t1)``.

    The demand and site-input buffers of :func:`run_bundles`, and with user regions the
    regions' demand buffer.
    """
    classes, inputs = bundles[0], bundles[5]
    region_buf = None if regions is None else regions.demand_tok_per_s
    demand.fill(t0, t1, classes.demand_tok_per_s, region_buf)
    plant.site_inputs.fill(t0, t1, inputs)
    classes.first_tick[0] = t0  # the same array as inputs.first_tick


def _physics(
    env: simpy.Environment,
    state: SimState,
    demand: DemandStream | RegionDemandStream,
    progress: ProgressFn | None,
    changes_in_call: bool = True,
) -> Generator[simpy.Event, None, None]:
    p = state.plant
    rec = state.recorder
    dt_s = p.tick_s
    chunk_ticks = chunk_ticks_for(dt_s)
    bundles = run_bundles(state, chunk_ticks)
    regions = regions_for_run(p, demand, chunk_ticks, bundles[0].first_tick, rec.region_rec)
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
        fill_inputs(bundles, demand, p, state.tick, end, regions)
        t0 = time.perf_counter()
        advance(state.tick, end - state.tick, dt_s, *bundles, changes, state.training, regions)
        state.wall_kernel_s += time.perf_counter() - t0
        state.n_kernel_calls += 1
        rec.drain_kernel_events()
        state.tick = end
        if progress is not None:
            progress(state.tick, p.n_ticks)
        yield env.timeout(max(end * dt_s - env.now, 0.0))


def _first_tick_at_or_after(t_s: float, dt_s: float, n_ticks: int) -> int:
    """First tick that starts at or after ``t_s`` [count]; ``n_ticks`` for no event."""
    return math.ceil(t_s / dt_s - 1e-9) if math.isfinite(t_s) else n_ticks


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
    window_spans: list[tuple[int, int]] | None = None,
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
        Optional ``[(first tick, ticks), ...]``: the ticks at which every cell is recorded
        for the request-level windows (``Recorder.window_rec``), resolved from the run's
        inputs before the kernel runs (:func:`dcsim.windows.resolve.window_spans`).
    training
        Training jobs (:func:`dcsim.model.training.build_training`); their bundle is kept
        in ``state.training`` (its ``rec`` holds the per-site record).

    Returns
    -------
    The final state, holding the recorder with the filled buffers and events.
    """
    demand = demand_stream(plant, seed, rng_for)
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
    if window_spans:
        state.recorder.reserve_windows(window_spans)
    if training is not None:
        state.training = B.training_bundle(
            training, len(plant.hall_names), state.recorder.site_rec.shape[0],
            len(plant.site_names), plant.ticks_per_rec,
        )  # fmt: skip
        _log_training_events(state, training)
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
