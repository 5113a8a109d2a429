"""What the SimPy processes change over one compiled call, as a change list for the kernel.

The engine runs the discrete processes ahead of the physics over one call (up to a day):
they decide when racks fail, are repaired or maintained, enter burn-in or service, when halls
are energised and when cooling units fail, exactly as before, and write the run state. The
:class:`ChangeWatch` notes after each event time which entries of the state the kernel reads
changed (rack counts per cell, hall flags, cooling units available) and from which tick,
puts the state back as it was at the start of the call and hands the kernel the changes
(:class:`dcsim.kernels.bundles.Changes`); the kernel sets each at its tick, so the state
at the end of the call is the one the processes wrote. Nothing the processes read is
written by the kernel, which is what makes running them ahead exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dcsim.kernels import bundles as B
from dcsim.kernels import layout as L
from dcsim.kernels.stages import changes as CH

if TYPE_CHECKING:
    from dcsim.sim.state import SimState

#: Column of the cell table -> change target.
_CELL_TARGET = {L.C_SERVING: CH.CH_SERVING, L.C_BURNIN: CH.CH_BURN_IN, L.C_IDLE: CH.CH_IDLE}


def _differs(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """Indices (as from ``np.nonzero``) where two arrays differ; NaN equals NaN."""
    same = (now == before) | (np.isnan(now) & np.isnan(before))
    return np.nonzero(~same)


class ChangeWatch:
    """Change list of one compiled call, from the run state the processes write.

    Parameters
    ----------
    state
        The run state; its ``cell_state``, ``hall_energised``, ``hall_cooled`` and
        ``cool_state`` arrays are watched (and restored in place).
    """

    def __init__(self, state: SimState) -> None:
        self._arrays = (state.cell_state, state.hall_energised, state.hall_cooled,
                        state.cool_state)  # fmt: skip
        self._start: tuple[np.ndarray, ...] = ()
        self._prev: tuple[np.ndarray, ...] = ()
        self._rows: list[tuple[int, int, int, int, float]] = []

    def begin(self, tick: int) -> None:
        """Start the change list of a call from global tick ``tick`` [count]."""
        self._start = tuple(a.copy() for a in self._arrays)
        self._prev = self._start
        self._rows = []

    def capture(self, tick: int) -> None:
        """Note what the processes changed since the last capture, holding from ``tick``."""
        # Most event times change one array (a failure: a cell count) or none; arrays equal
        # byte for byte hold no change (``_differs`` would find none), so only the others
        # are compared element-wise and copied. Called once per event time (tens of
        # thousands a year), hence the shortcut.
        moved = [a.tobytes() != b.tobytes() for a, b in zip(self._arrays, self._prev, strict=True)]
        if not any(moved):
            return
        cells, energised, cooled, cool = self._arrays
        p_cells, p_energised, p_cooled, p_cool = self._prev
        rows = self._rows
        if moved[0]:
            for c, j in zip(*_differs(cells, p_cells), strict=True):
                target = _CELL_TARGET.get(int(j))
                if target is None:
                    raise RuntimeError(f"cell_state column {j} is not a change target")
                rows.append((tick, target, int(c), 0, float(cells[c, j])))
        for flags, before, target, m in ((energised, p_energised, CH.CH_ENERGISED, moved[1]),
                                         (cooled, p_cooled, CH.CH_COOLED, moved[2])):  # fmt: skip
            for h in np.flatnonzero(flags != before) if m else ():
                rows.append((tick, target, int(h), 0, float(flags[h])))
        if moved[3]:
            for h, j in zip(*_differs(cool, p_cool), strict=True):
                rows.append((tick, CH.CH_COOL_STATE, int(h), int(j), float(cool[h, j])))
        self._prev = tuple(
            a.copy() if m else a0 for a, a0, m in zip(self._arrays, self._prev, moved, strict=True)
        )

    def end(self) -> B.Changes:
        """Put the watched arrays back as they were at :meth:`begin`; the call's changes."""
        for a, a0 in zip(self._arrays, self._start, strict=True):
            a[...] = a0
        cols = list(zip(*self._rows, strict=True)) if self._rows else [[]] * 5
        return B.changes_bundle(*cols)
