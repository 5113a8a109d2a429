"""Fleet processes: racks entering service. Processes change state; they hold no physics."""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING

import numpy as np
import simpy

from dcsim.kernels import layout as L
from dcsim.model.plant import IN_SERVICE, PLANNED

if TYPE_CHECKING:
    from dcsim.sim.state import SimState


def rack_group_entry(
    env: simpy.Environment, state: SimState, group: int, at_s: float
) -> Generator[simpy.Event, None, None]:
    """Put the racks of a rack group in service at ``at_s`` [s]."""
    yield env.timeout(at_s - env.now)
    plant = state.plant
    racks = np.flatnonzero((plant.rack_group == group) & (plant.rack_status == PLANNED))
    plant.rack_status[racks] = IN_SERVICE
    np.add.at(state.cell_state[:, L.C_SERVING], plant.rack_cell[racks], 1.0)
    state.log_event(env.now, "racks_in_service", plant.rack_group_label[group], "", len(racks))


def start_fleet_processes(
    env: simpy.Environment, state: SimState, groups: Iterable[int] | None = None
) -> None:
    """Schedule the rack groups whose in-service date lies inside the horizon.

    Parameters
    ----------
    env
        The SimPy environment.
    state
        The run's state.
    groups
        Rack-group indices to schedule; default all (the build-out passes the groups of
        halls it does not build).
    """
    plant = state.plant
    chosen = range(len(plant.rack_group_label)) if groups is None else groups
    for group in chosen:
        members = plant.rack_group == group
        at_s = float(plant.rack_in_service_s[members][0])
        if at_s > 0.0 and at_s < plant.horizon_s:
            env.process(rack_group_entry(env, state, int(group), at_s))
