"""Bookkeeping of the build-out and failure processes, held by the run state.

Plain records of a module of their own, so that the run state (:mod:`dcsim.sim.state`) can
name them without importing the processes, which import it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

__all__ = ["BuildoutState", "FailureState"]


@dataclass
class BuildoutState:
    """Mutable build-out bookkeeping (``state.buildout``)."""

    queue_pos: np.ndarray  # (n_sys,) next unshipped rack in each system's queue
    supply_credit: np.ndarray  # (n_sys,) racks produced, not yet shipped
    last_ship_s: np.ndarray  # (n_sys,)
    waiting_prev: np.ndarray  # (n_sys,) racks due to ship at the previous step
    produced: np.ndarray  # (n_sys,) cumulative production while racks waited [racks]
    shipped: np.ndarray  # (n_sys,) cumulative racks shipped
    crew_credit: np.ndarray  # (n_crews,)
    crew_waiting_prev: np.ndarray  # (n_crews,)
    delivered_s: np.ndarray  # (n_rack,) arrival time, nan before
    stage_end_s: np.ndarray  # (n_rack,) end of burn-in or rework
    in_transit: list[tuple[float, int, np.ndarray, float]] = field(default_factory=list)
    shortage_on: np.ndarray | None = None


@dataclass
class FailureState:
    """Mutable failure bookkeeping (``state.failures``)."""

    # (n_rack,) share of the rack's GPUs able to serve: the fleet's ``health_frac``
    health_frac: np.ndarray
    # (n_rack,) share out for a replica restart (powered, idle): the fleet's ``idle_frac``
    idle_frac: np.ndarray
    spares_count: np.ndarray | None  # (n_hall,) spares on hand; None: always on hand
    up_count: np.ndarray  # (n_cell,) racks in service, kept by this process between refreshes
    heap: list = field(default_factory=list)
    seq: int = 0
    wakes_count: int = 0
    failures_count: int = 0
    repairs_count: int = 0
    interruptions_count: int = 0
    maintenance_windows_count: int = 0
    by_cause_count: np.ndarray | None = None
    no_spare_count: int = 0
    # (n_rack,) event asset name of each rack ("<hall>/rack<r>"), one string object per
    # rack shared by all its events (a 10-year log holds millions of failures and repairs)
    rack_asset: list[str] = field(default_factory=list)

    def push(self, t_s: float, kind: int, payload: tuple) -> None:
        """Schedule a return (repair, spare, maintenance end) at ``t_s`` [s]."""
        self.seq += 1
        heapq.heappush(self.heap, (t_s, self.seq, kind, payload))
