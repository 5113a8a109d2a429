"""Grid events in the run's event table: the grid model decides them, this process logs them.

:func:`dcsim.model.grid.build_grid` turns each site's contract into per-tick arrays before
the run and lists what happened when (ramp steps, curtailment and disconnect starts and
ends, clean-block outages, coincident-peak intervals) in ``plant.grid.events``. The arrays
already act on the physics; this process only writes the list into the event log at each
event's time, so that the table stays in time order with the other processes' events.
Events at or after the end of the horizon are not logged (the run never reaches them).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import simpy

if TYPE_CHECKING:
    from dcsim.sim.state import SimState

__all__ = ["start_grid_event_process"]


def start_grid_event_process(env: simpy.Environment, state: SimState) -> None:
    """Log the plant's grid events at their times (nothing for a campus without a grid).

    Parameters
    ----------
    env
        The SimPy environment, clock at 0.
    state
        The run's state; ``state.plant.grid`` (a :class:`~dcsim.model.grid.GridPlant` or
        None) holds the events as ``(t_s, kind, asset, detail, value)``, sorted by time.
    """
    grid = getattr(state.plant, "grid", None)
    if grid is None or not grid.events:
        return
    env.process(_log_grid_events(env, state, list(grid.events)))


def _log_grid_events(
    env: simpy.Environment, state: SimState, events: list[tuple[float, str, str, str, float]]
) -> Generator[simpy.Event, None, None]:
    horizon_s = state.plant.horizon_s
    for t_s, kind, asset, detail, value in sorted(events, key=lambda e: e[0]):
        if t_s >= horizon_s:
            return
        if t_s > env.now:
            yield env.timeout(t_s - env.now)
        state.log_event(float(t_s), kind, asset, detail, float(value))
