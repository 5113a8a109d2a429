"""The run state shared by the SimPy processes and the compiled kernel.

A module of its own so that the processes (``dcsim.sim.fleet``, ``buildout``, ``failures``,
...) can name it without importing the engine, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dcsim.kernels.bundles import TrainingLoad
    from dcsim.model.plant import Plant
    from dcsim.sim.bookkeeping import BuildoutState, FailureState
    from dcsim.sim.fleet_state import Fleet
    from dcsim.sim.recorder import Recorder


@dataclass
class SimState:
    """Mutable state of one run, shared by the processes and the kernel (typed fields).

    The arrays the compiled tick reads (``cell_state``, the hall flags, ``site_state``,
    ``cool_state``, the backlog) are viewed by its bundles; the processes change racks only
    through ``fleet``.
    """

    plant: Plant
    recorder: Recorder
    cell_state: np.ndarray
    backlog_tok: np.ndarray
    backlog_head: np.ndarray
    site_state: np.ndarray
    cool_state: np.ndarray
    tick: int = 0
    wall_kernel_s: float = 0.0
    n_kernel_calls: int = 0
    #: Per hall: shell ready, feed energised, cooling commissioned (bool arrays; the tick
    #: reads the last two). Created all True (halls already built); the build-out updates
    #: them in place.
    hall_shell_ready: np.ndarray | None = None
    hall_energised: np.ndarray | None = None
    hall_cooled: np.ndarray | None = None
    #: Per-rack arrays and the cell counts, changed through its methods (made from the plant).
    fleet: Fleet | None = None
    #: Build-out and failure bookkeeping (None: that process does not run).
    buildout: BuildoutState | None = None
    failures: FailureState | None = None
    #: Daily capacity snapshots (dicts of :func:`dcsim.sim.buildout.take_snapshot`).
    capacity_snapshots: list[dict] = field(default_factory=list)
    #: Training jobs' kernel bundle (:class:`dcsim.kernels.bundles.TrainingLoad`; its
    #: ``rec`` holds the per-site training record); None: no training jobs.
    training: TrainingLoad | None = None

    def __post_init__(self) -> None:
        from dcsim.sim.fleet_state import Fleet

        n_hall = len(self.plant.hall_names)
        for name in ("hall_shell_ready", "hall_energised", "hall_cooled"):
            if getattr(self, name) is None:
                setattr(self, name, np.ones(n_hall, dtype=bool))
        if self.fleet is None:
            self.fleet = Fleet(self.plant, self.cell_state)

    def log_event(self, t_s: float, kind: str, asset: str, detail: str, value: float) -> None:
        """Record an event in the run's event table."""
        self.recorder.log(t_s, kind, asset, detail, value)


def copy_mutable(plant: Plant) -> Plant:
    """The plant with fresh copies of the state tables a run changes (the plant is reused)."""
    return replace(
        plant,
        cell_state=plant.cell_state.copy(),
        rack_status=plant.rack_status.copy(),
        site_state=plant.site_state.copy(),
        cool_state=plant.cool_state.copy(),
    )
