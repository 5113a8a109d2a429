"""The run state shared by the SimPy processes and the compiled kernel.

A module of its own so that the processes (``dcsim.sim.fleet``, ``buildout``, ``failures``,
...) can name it without importing the engine, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dcsim.model.plant import Plant
    from dcsim.sim.recorder import Recorder


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
    n_kernel_calls: int = 0
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


def copy_mutable(plant: Plant) -> Plant:
    """The plant with fresh copies of the state tables a run changes (the plant is reused)."""
    return replace(
        plant,
        cell_state=plant.cell_state.copy(),
        rack_status=plant.rack_status.copy(),
        site_state=plant.site_state.copy(),
        cool_state=plant.cool_state.copy(),
    )
