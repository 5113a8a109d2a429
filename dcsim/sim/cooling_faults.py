"""SimPy processes of cooling-unit failures and repairs (random and scheduled).

Every installed unit of a liquid-cooled hall (CDU, facility-water pump, dry cooler or tower
cell, chiller, air-path chiller, CRAH) alternates between up and down: up for an exponential
time of mean MTBF, down for an exponential time of mean MTTR (catalog values), each unit
with its own random stream. Scheduled faults of the scenario take ``count`` units of one kind
out of service for a fixed period, on top of the random ones.

The processes hold no equations: they keep, per hall and unit kind, how many units are down
and write ``installed - down`` (never below zero) into the available-count column of
``state.cool_state``, which the cooling kernels read; each change is logged as an event.
A change takes effect from the first physics tick that starts at or after it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from dcsim.model.cooling import CoolingPlant

__all__ = ["EVENT_KIND", "FAMILY", "start_cooling_fault_processes"]

#: Random-stream family of the unit processes (index = unit number over all halls and kinds).
FAMILY = "cooling_faults"
#: Event kind logged on every change.
EVENT_KIND = "cooling_unit"

RngFor = Callable[[str, int], np.random.Generator]


class _Availability:
    """Down counts per (hall, kind) and their write-through to ``state.cool_state``."""

    def __init__(self, state: Any, plant: CoolingPlant) -> None:
        self.state = state
        self.plant = plant
        self.down = np.zeros_like(plant.unit_installed_count)

    def change(self, t_s: float, h: int, k: int, delta: int, detail: str, asset: str) -> None:
        self.down[h, k] += delta
        available = max(int(self.plant.unit_installed_count[h, k] - self.down[h, k]), 0)
        self.state.cool_state[h, self.plant.unit_state_cols[k]] = available
        self.state.log_event(t_s, EVENT_KIND, asset, detail, float(available))


def _unit_process(
    env: simpy.Environment,
    avail: _Availability,
    h: int,
    k: int,
    unit: int,
    rng: np.random.Generator,
) -> Generator[simpy.Event, None, None]:
    plant = avail.plant
    mtbf_s = plant.unit_mtbf_s[h, k]
    mttr_s = plant.unit_mttr_s[h, k]
    asset = f"{plant.hall_names[h]}/{plant.unit_kinds[k]}#{unit}"
    while True:
        yield env.timeout(rng.exponential(mtbf_s))
        avail.change(env.now, h, k, +1, "failed", asset)
        yield env.timeout(rng.exponential(mttr_s))
        avail.change(env.now, h, k, -1, "repaired", asset)


def _scheduled_process(
    env: simpy.Environment, avail: _Availability, fault: Any
) -> Generator[simpy.Event, None, None]:
    plant = avail.plant
    asset = f"{plant.hall_names[fault.hall]}/{plant.unit_kinds[fault.kind]}"
    yield env.timeout(max(fault.start_s - env.now, 0.0))
    avail.change(env.now, fault.hall, fault.kind, fault.count, f"scheduled outage {fault.label}",
                 asset)  # fmt: skip
    yield env.timeout(fault.duration_s)
    avail.change(env.now, fault.hall, fault.kind, -fault.count, f"end of outage {fault.label}",
                 asset)  # fmt: skip


def start_cooling_fault_processes(
    env: simpy.Environment, state: Any, cooling_plant: CoolingPlant, rng_for: RngFor
) -> int:
    """Start the failure/repair process of every unit and every scheduled fault.

    Parameters
    ----------
    env
        The run's SimPy environment (clock in seconds since the scenario start).
    state
        Simulation state with ``cool_state`` (n_hall, CS_NCOLS) float array and
        ``log_event(t_s, kind, asset, detail, value)``; ``cool_state`` must start at the
        plant's ``cool_state0`` (all units available).
    cooling_plant
        From :func:`dcsim.model.cooling.build_cooling`.
    rng_for
        ``rng_for(family, index) -> numpy.random.Generator``: the run's stream of one process
        (e.g. ``functools.partial(dcsim.model.streams.rng_for, seed)``). Unit ``i`` (counted over
        halls, then kinds, then units) uses ``rng_for(FAMILY, i)``, so streams do not move when
        a scheduled fault is added.

    Returns
    -------
    Number of processes started.
    """
    avail = _Availability(state, cooling_plant)
    started = 0
    unit_index = 0
    n_hall, n_kind = cooling_plant.unit_installed_count.shape
    for h in range(n_hall):
        for k in range(n_kind):
            for u in range(int(cooling_plant.unit_installed_count[h, k])):
                index = unit_index
                unit_index += 1
                if not cooling_plant.random_failures[h]:
                    continue
                if not np.isfinite(cooling_plant.unit_mtbf_s[h, k]):
                    continue
                env.process(_unit_process(env, avail, h, k, u, rng_for(FAMILY, index)))
                started += 1
    for fault in cooling_plant.scheduled_faults:
        env.process(_scheduled_process(env, avail, fault))
        started += 1
    return started
