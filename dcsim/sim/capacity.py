"""Capacity processes wired together, and a driver that runs them without the physics.

:func:`start_capacity_processes` is what the engine calls: the build-out (or the fleet's
in-service dates), component failures and the daily capacity snapshots.
:func:`simulate_capacity` runs the same processes on their own, with no compiled physics:
a fast what-if for deliveries, stranding and failures (and the driver of the tests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import simpy

from dcsim.model.capacity import CapacityPlan
from dcsim.model.plant import Plant
from dcsim.sim.buildout import start_buildout_processes, start_snapshot_process
from dcsim.sim.failures import start_failure_processes
from dcsim.sim.grid_events import start_grid_event_process

if TYPE_CHECKING:
    from dcsim.sim.state import SimState

__all__ = ["start_capacity_processes", "simulate_capacity"]

RngFor = Callable[[int, str, int], np.random.Generator]


def start_capacity_processes(
    env: simpy.Environment, state: SimState, plan: CapacityPlan, seed: int, rng_for: RngFor
) -> None:
    """Start the build-out (or fleet entries), failures, daily snapshots and grid-event log.

    Call once, before ``env.run``, with the clock at 0: the build-out takes the racks of
    the halls it builds out of service before the first tick.

    Parameters
    ----------
    env
        The SimPy environment.
    state
        The run's state (its plant is the run's copy).
    plan
        :func:`dcsim.model.capacity.build_capacity_plan` of the same plant.
    seed
        Run seed.
    rng_for
        :func:`dcsim.model.streams.rng_for`.
    """
    start_buildout_processes(env, state, plan, seed, rng_for)
    start_failure_processes(env, state, plan, seed, rng_for)
    start_snapshot_process(env, state, plan)
    start_grid_event_process(env, state)


def simulate_capacity(
    plant: Plant, plan: CapacityPlan, seed: int, until_s: float | None = None
) -> SimState:
    """Run only the capacity processes (no physics kernel) over the horizon.

    Parameters
    ----------
    plant
        The plant (not modified: the run works on copies of its state tables).
    plan
        Its capacity plan.
    seed
        Run seed.
    until_s
        Stop time [s]; default the plant's horizon.

    Returns
    -------
    SimState
        Final state: ``cell_state``, ``plant.rack_status``, the event log in the recorder,
        ``capacity_snapshots``, ``buildout`` and ``failures``.
    """
    from dcsim.model.streams import rng_for
    from dcsim.sim.recorder import Recorder
    from dcsim.sim.state import SimState, copy_mutable

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
    env = simpy.Environment()
    start_capacity_processes(env, state, plan, seed, rng_for)
    env.run(until=plant.horizon_s if until_s is None else until_s)
    return state
