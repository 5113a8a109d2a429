"""Discrete changes applied inside the compiled call, at their tick.

The SimPy processes decide when racks enter service, fail, are repaired or maintained and
when halls are energised or cooling units fail or return. The engine runs them ahead of the
physics over one call (up to a day) and hands the kernel what they changed as a time-ordered
change list (:class:`dcsim.kernels.bundles.Changes`); the tick applies each change at the
start of its tick, so a failure no longer ends the compiled call.

A change *sets* a value (rack count, hall flag, cooling units available) rather than adding
a delta: a set reproduces the state the process wrote bit for bit, where ``a + (b - a)`` need
not equal ``b`` in floating point (rack counts are weighted by fractional health).
"""

from __future__ import annotations

from dcsim.kernels.compiled import loop_fn

#: Targets of a change (``Changes.target``); ``row`` is the cell or hall index.
CH_SERVING = 0  # cells.serving[row] [racks]
CH_BURN_IN = 1  # cells.burn_in[row] [racks]
CH_IDLE = 2  # cells.idle[row] [racks]
CH_ENERGISED = 3  # halls.energised[row] (value 0 or 1)
CH_COOLED = 4  # halls.cooled[row] (value 0 or 1)
CH_COOL_STATE = 5  # halls.cool_state[row, col] (cooling units available)


@loop_fn
def apply_changes(t, j, changes, cells, halls):
    """Apply the changes due at tick ``t`` from position ``j`` on.

    Parameters
    ----------
    t
        Global tick index [count].
    j
        First change not yet applied [count].
    changes
        :class:`~dcsim.kernels.bundles.Changes`, ordered by tick.
    cells, halls
        Bundles whose counts and flags the changes set.

    Returns
    -------
    The position of the first change due after tick ``t`` [count].
    """
    n = changes.tick.shape[0]
    while j < n and changes.tick[j] <= t:
        r = changes.row[j]
        v = changes.value[j]
        kind = changes.target[j]
        if kind == CH_SERVING:
            cells.serving[r] = v
        elif kind == CH_BURN_IN:
            cells.burn_in[r] = v
        elif kind == CH_IDLE:
            cells.idle[r] = v
        elif kind == CH_ENERGISED:
            halls.energised[r] = v != 0.0
        elif kind == CH_COOLED:
            halls.cooled[r] = v != 0.0
        else:
            halls.cool_state[r, changes.col[j]] = v
        j += 1
    return j
