"""The SimPy layer: discrete processes change array state, the fused kernel advances physics.

The clock is float seconds since the scenario start. Discrete processes (rack groups entering
service; later deliveries, failures, grid and cooling events) wait, change the state tables
and log events; they hold no equations. The physics process advances the compiled kernel
tick by tick, many ticks per call, up to the next discrete event, so an event takes effect
from the first tick that starts at or after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import simpy

from dcsim.kernels import bundles as B
from dcsim.kernels.step import advance
from dcsim.model.capacity import CapacityPlan
from dcsim.model.plant import Plant
from dcsim.model.streams import rng_for
from dcsim.sim.capacity import start_capacity_processes
from dcsim.sim.cooling_faults import start_cooling_fault_processes
from dcsim.sim.demand import demand_matrix_tok_per_s
from dcsim.sim.fleet import start_fleet_processes
from dcsim.sim.recorder import Recorder

#: Longest stretch advanced in one compiled call [s]: one simulated day keeps the progress
#: bar alive at a call overhead that is negligible against a day of ticks.
MAX_CHUNK_S = 86400.0

ProgressFn = Callable[[int, int], None]


@dataclass
class SimState:
    """Mutable state shared by the processes and the kernel."""

    plant: Plant
    recorder: Recorder
    cell_state: np.ndarray
    backlog_tok: np.ndarray
    backlog_head: np.ndarray
    site_state: np.ndarray
    cool_state: np.ndarray
    tick: int = 0
    wall_kernel_s: float = 0.0
    extra: dict = field(default_factory=dict)
    #: Per hall: feed energised, cooling commissioned (bool arrays the tick reads). Created
    #: all True (halls already built); the build-out updates them in place through
    #: :func:`dcsim.sim.buildout.hall_flags`, which finds them in ``extra`` under these names.
    hall_energised: np.ndarray | None = None
    hall_cooled: np.ndarray | None = None

    def __post_init__(self) -> None:
        n_hall = len(self.plant.hall_names)
        if self.hall_energised is None:
            self.hall_energised = np.ones(n_hall, dtype=bool)
        if self.hall_cooled is None:
            self.hall_cooled = np.ones(n_hall, dtype=bool)
        self.extra.setdefault("hall_energised", self.hall_energised)
        self.extra.setdefault("hall_cooling_commissioned", self.hall_cooled)

    def log_event(self, t_s: float, kind: str, asset: str, detail: str, value: float) -> None:
        """Record an event in the run's event table."""
        self.recorder.log(t_s, kind, asset, detail, value)


def run_bundles(state: SimState, demand: np.ndarray, chunk_ticks: int) -> tuple:
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
            p.hall_par, state.hall_energised, state.hall_cooled, p.cool_par, state.cool_state
        ),
        B.sites_bundle(p.site_par, p.site_grid_par, state.site_state),
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
        ),  # fmt: skip
    )


def _physics(
    env: simpy.Environment,
    state: SimState,
    demand: np.ndarray,
    progress: ProgressFn | None,
) -> Generator[simpy.Event, None, None]:
    p = state.plant
    rec = state.recorder
    dt_s = p.tick_s
    chunk_ticks = max(int(MAX_CHUNK_S // dt_s), 1)
    bundles = run_bundles(state, demand, chunk_ticks)
    while state.tick < p.n_ticks:
        t_next = env.peek()
        if t_next <= env.now:
            yield env.timeout(0.0)  # let events due now change the state first
            continue
        # Ticks that start strictly before the next event may run on the current state.
        first_after = int(np.ceil(t_next / dt_s - 1e-9)) if np.isfinite(t_next) else p.n_ticks
        target = min(p.n_ticks, first_after, state.tick + chunk_ticks)
        if target <= state.tick:
            yield env.timeout(t_next - env.now)  # the event falls inside the current tick
            continue
        t0 = time.perf_counter()
        advance(state.tick, target - state.tick, dt_s, *bundles)
        state.wall_kernel_s += time.perf_counter() - t0
        rec.drain_kernel_events()
        state.tick = target
        if progress is not None:
            progress(state.tick, p.n_ticks)
        yield env.timeout(max(target * dt_s - env.now, 0.0))


def simulate(
    plant: Plant, seed: int, progress: ProgressFn | None = None, plan: CapacityPlan | None = None
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

    Returns
    -------
    The final state, holding the recorder with the filled buffers and events.
    """
    demand = demand_matrix_tok_per_s(
        plant, [rng_for(seed, "demand", k) for k in range(len(plant.class_names))]
    )
    # The run works on copies so that a plant can be simulated again (sweeps, notebooks).
    run_plant = _copy_mutable(plant)
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
    env = simpy.Environment()
    if run_plant.cooling is not None:
        start_cooling_fault_processes(env, state, run_plant.cooling, partial(rng_for, seed))
    if plan is None:
        start_fleet_processes(env, state)
    else:
        start_capacity_processes(env, state, plan, seed, rng_for)
    physics = env.process(_physics(env, state, demand, progress))
    env.run(until=physics)
    return state


def _copy_mutable(plant: Plant) -> Plant:
    from dataclasses import replace

    return replace(
        plant,
        cell_state=plant.cell_state.copy(),
        rack_status=plant.rack_status.copy(),
        site_state=plant.site_state.copy(),
        cool_state=plant.cool_state.copy(),
    )
