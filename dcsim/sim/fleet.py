"""Fleet processes: rack groups entering service on their date.

They change racks through the run's :class:`~dcsim.sim.fleet_state.Fleet`; they hold no
physics.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import TYPE_CHECKING

import numpy as np
import simpy

from dcsim.model.plant import PLANNED

if TYPE_CHECKING:
    from dcsim.sim.state import SimState


def rack_group_entry(
    env: simpy.Environment, state: SimState, group: int, at_s: float
) -> Generator[simpy.Event, None, None]:
    """Put the racks of a rack group in service at ``at_s`` [s]."""
    yield env.timeout(at_s - env.now)
    fleet = state.fleet
    racks = np.flatnonzero((fleet.group == group) & (fleet.status == PLANNED))
    fleet.enter_service(racks)
    state.log_event(
        env.now, "racks_in_service", state.plant.rack_group_label[group], "", len(racks)
    )


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
