"""The fleet of one run: per-rack arrays and the per-cell counts the compiled tick reads.

One object owns both, so they cannot drift apart: the build-out, failure, maintenance and
rack-group processes change racks only through :class:`Fleet`'s methods, and each method
updates the per-rack arrays and the cell counts (``cell_state`` columns ``C_SERVING``,
``C_BURNIN``, ``C_IDLE``, the arrays the tick's ``Cells`` bundle views) together.

Invariants (``tests/sim/test_fleet_state.py`` checks them after random operation sequences),
for every cell c, up to the rounding of the incremental sums:

* ``serving[c]`` = sum of ``health_frac`` over the cell's racks ``IN_SERVICE``;
* ``idle[c]`` = sum of ``idle_frac`` over the same racks (shares out for a replica restart);
* ``burn_in[c]`` = number of the cell's racks in ``BURN_IN``.

Counts are updated incrementally, in the order the processes act, so a run is bit for bit
what it was when the processes wrote the columns themselves.
"""

from __future__ import annotations

import numpy as np

from dcsim.kernels import layout as L
from dcsim.model.plant import BURN_IN, FAILED, IN_SERVICE, PLANNED, Plant

#: Why a rack with status FAILED is out (:attr:`Fleet.out_reason`).
OUT_NONE, OUT_FAILURE, OUT_MAINTENANCE, OUT_REWORK = range(4)
#: Cell counts below this are rounding residue of fractional shares, snapped to 0.
SNAP = 1e-9


class Fleet:
    """Per-rack state and per-cell counts of one run.

    Parameters
    ----------
    plant
        The run's plant; the fleet takes its per-rack status array (the run's own copy, see
        :func:`dcsim.sim.state.copy_mutable`) and its rack tables.
    cell_state
        The run's cell table (columns ``layout.C_*``), updated in place.

    Attributes
    ----------
    status
        (n_rack,) int8 status code (``dcsim.model.plant.PLANNED`` ... ``RETIRED``).
    cell, group
        (n_rack,) cell and rack group of each rack (fixed).
    in_service_s
        (n_rack,) planned in-service time of each rack's group [s] (fixed).
    out_reason
        (n_rack,) int8 ``OUT_*``: why a FAILED rack is out.
    health_frac
        (n_rack,) share of the rack's GPUs able to serve [frac].
    idle_frac
        (n_rack,) share out for a replica restart: powered, idle [frac].
    """

    def __init__(self, plant: Plant, cell_state: np.ndarray) -> None:
        self.status = plant.rack_status
        self.cell = plant.rack_cell
        self.group = plant.rack_group
        self.in_service_s = plant.rack_in_service_s
        n_rack = self.status.shape[0]
        self.out_reason = np.zeros(n_rack, dtype=np.int8)
        self.health_frac = np.ones(n_rack)
        self.idle_frac = np.zeros(n_rack)
        self._cells = cell_state

    # ------------------------------------------------------------------ reading

    def cell_counts(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(serving, burn_in, idle) per cell: views of the cell table [racks]."""
        cs = self._cells
        return cs[:, L.C_SERVING], cs[:, L.C_BURNIN], cs[:, L.C_IDLE]

    def recount(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(serving, burn_in, idle) per cell summed afresh from the per-rack arrays."""
        n_cell = self._cells.shape[0]
        up = self.status == IN_SERVICE
        serving = np.bincount(self.cell[up], self.health_frac[up], minlength=n_cell)
        idle = np.bincount(self.cell[up], self.idle_frac[up], minlength=n_cell)
        burn = np.bincount(self.cell[self.status == BURN_IN], minlength=n_cell).astype(float)
        return serving, burn, idle

    # ------------------------------------------------------------------ whole racks, in bulk

    def start_burn_in(self, racks: np.ndarray) -> None:
        """Racks start burn-in (stress power, no service)."""
        self.status[racks] = BURN_IN
        self._add(racks, L.C_BURNIN, 1.0)

    def end_burn_in(self, racks: np.ndarray, failed: np.ndarray) -> None:
        """Burn-in ends: the ``failed`` ones go to rework, the others into service.

        Parameters
        ----------
        racks
            Racks whose burn-in ends.
        failed
            (racks.size,) bool: the rack failed burn-in (infant failure).
        """
        self._add(racks, L.C_BURNIN, -1.0)
        bad = racks[failed]
        self.status[bad] = FAILED
        self.out_reason[bad] = OUT_REWORK
        self.enter_service(racks[~failed])

    def enter_service(self, racks: np.ndarray) -> None:
        """Racks (at full health) enter service."""
        self.status[racks] = IN_SERVICE
        self._add(racks, L.C_SERVING, 1.0)

    def withdraw(self, racks: np.ndarray) -> None:
        """Racks go back to PLANNED at full health.

        The build-out takes over the racks of its pipeline that the plant put in service.
        """
        up = racks[self.status[racks] == IN_SERVICE]
        if up.size:
            n_cell = self._cells.shape[0]
            self._cells[:, L.C_SERVING] -= np.bincount(
                self.cell[up], self.health_frac[up], minlength=n_cell
            )
            self._cells[:, L.C_IDLE] -= np.bincount(
                self.cell[up], self.idle_frac[up], minlength=n_cell
            )
        self.status[racks] = PLANNED
        self.health_frac[racks] = 1.0
        self.idle_frac[racks] = 0.0

    def set_status(self, racks: np.ndarray, status: int) -> None:
        """Status of racks that hold no cell count (PLANNED, DELIVERED, INSTALLED, rework)."""
        counted = (self.status[racks] == IN_SERVICE) | (self.status[racks] == BURN_IN)
        if counted.any() or status in (IN_SERVICE, BURN_IN):
            raise ValueError("set_status does not change counted racks; use the fleet methods")
        self.status[racks] = status
        if status != FAILED:
            self.out_reason[racks] = OUT_NONE

    def _add(self, racks: np.ndarray, column: int, sign: float) -> None:
        if racks.size:
            counts = np.bincount(self.cell[racks], minlength=self._cells.shape[0])
            self._cells[:, column] += sign * counts

    # ------------------------------------------------------------------ one rack, shares

    def rack_out(self, r: int, reason: int) -> None:
        """Take a whole in-service rack out (status FAILED, ``reason`` an ``OUT_*``)."""
        c = int(self.cell[r])
        cs = self._cells
        cs[c, L.C_SERVING] -= self.health_frac[r]
        cs[c, L.C_IDLE] -= self.idle_frac[r]
        self.status[r] = FAILED
        self.out_reason[r] = reason
        self._snap(c)

    def rack_back(self, r: int) -> None:
        """A rack taken out by :meth:`rack_out` is back in service."""
        c = int(self.cell[r])
        cs = self._cells
        self.status[r] = IN_SERVICE
        self.out_reason[r] = OUT_NONE
        cs[c, L.C_SERVING] += self.health_frac[r]
        cs[c, L.C_IDLE] += self.idle_frac[r]
        self._snap(c)

    def share_out(self, r: int, share: float, powered: bool) -> None:
        """Take a share of an in-service rack out (a replica: powered and idle; a host: off)."""
        c = int(self.cell[r])
        cs = self._cells
        self.health_frac[r] -= share
        cs[c, L.C_SERVING] -= share
        if powered:
            self.idle_frac[r] += share
            cs[c, L.C_IDLE] += share
        self._snap(c)

    def share_back(self, r: int, share: float, powered: bool) -> None:
        """A share taken out by :meth:`share_out` is back (counted if the rack is in service)."""
        c = int(self.cell[r])
        cs = self._cells
        self.health_frac[r] += share
        if powered:
            self.idle_frac[r] -= share
        if self.status[r] == IN_SERVICE:
            cs[c, L.C_SERVING] += share
            if powered:
                cs[c, L.C_IDLE] -= share
            self._snap(c)

    def _snap(self, c: int) -> None:
        cs = self._cells
        for col in (L.C_SERVING, L.C_IDLE):
            if abs(cs[c, col]) < SNAP:
                cs[c, col] = 0.0
