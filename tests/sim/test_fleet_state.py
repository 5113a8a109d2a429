"""The fleet keeps its cell counts equal to what its per-rack arrays say, whatever happens.

After any sequence of build-out, failure, share and maintenance operations, the counts the
compiled tick reads (serving, burn-in, idle per cell) must equal a fresh sum over the racks
(:meth:`Fleet.recount`): serving = health of the racks in service, idle = their shares out
for a restart, burn-in = racks in burn-in. The incremental sums round differently from the
fresh ones, hence the 1e-9 tolerance (a rack count is at least 1e-3 in any real share).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dcsim.kernels import layout as L
from dcsim.model.plant import BURN_IN, DELIVERED, FAILED, IN_SERVICE, INSTALLED, PLANNED
from dcsim.sim.fleet_state import OUT_FAILURE, OUT_MAINTENANCE, OUT_REWORK, Fleet

N_RACK, N_CELL = 12, 3


def new_fleet() -> tuple[Fleet, np.ndarray]:
    plant = SimpleNamespace(
        rack_status=np.full(N_RACK, PLANNED, dtype=np.int8),
        rack_cell=np.arange(N_RACK) % N_CELL,
        rack_group=np.arange(N_RACK) // 4,
        rack_in_service_s=np.zeros(N_RACK),
    )
    cells = np.zeros((N_CELL, L.C_NCOLS))
    return Fleet(plant, cells), cells


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["burn", "end_burn", "serve", "out", "back", "share_out", "share_back", "withdraw"]
        ),
        st.integers(0, N_RACK - 1),
        st.floats(0.01, 1.0),
        st.booleans(),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_cell_counts_equal_the_racks_after_any_operations(ops):
    fleet, cells = new_fleet()
    shares: list[tuple[int, float, bool]] = []  # shares out, to give back
    for op, r, x, flag in ops:
        s = fleet.status
        racks = np.array([r])
        if op == "burn" and s[r] in (PLANNED, INSTALLED):
            fleet.start_burn_in(racks)
        elif op == "end_burn" and s[r] == BURN_IN:
            fleet.end_burn_in(racks, np.array([flag]))
            assert fleet.status[r] == (FAILED if flag else IN_SERVICE)
            assert fleet.out_reason[r] == (OUT_REWORK if flag else 0)
        elif op == "serve" and s[r] == PLANNED:
            fleet.enter_service(racks)
        elif op == "out" and s[r] == IN_SERVICE:
            fleet.rack_out(r, OUT_MAINTENANCE if flag else OUT_FAILURE)
        elif op == "back" and s[r] == FAILED and fleet.out_reason[r] != OUT_REWORK:
            fleet.rack_back(r)
        elif op == "share_out" and s[r] == IN_SERVICE and fleet.health_frac[r] > 0.0:
            share = min(x, float(fleet.health_frac[r]))
            fleet.share_out(r, share, flag)
            shares.append((r, share, flag))
        elif op == "share_back" and shares:
            fleet.share_back(*shares.pop(int(x * (len(shares) - 1))))
        elif op == "withdraw" and s[r] == IN_SERVICE:
            fleet.withdraw(racks)
            shares = [sh for sh in shares if sh[0] != r]  # its shares are back with it
        serving, burn, idle = fleet.recount()
        np.testing.assert_allclose(cells[:, L.C_SERVING], serving, rtol=0, atol=1e-9)
        np.testing.assert_allclose(cells[:, L.C_BURNIN], burn, rtol=0, atol=0)
        np.testing.assert_allclose(cells[:, L.C_IDLE], idle, rtol=0, atol=1e-9)
        assert (fleet.health_frac >= -1e-12).all() and (fleet.health_frac <= 1 + 1e-12).all()
    # The views the tick reads are the cell table's columns.
    serving_view, burn_view, idle_view = fleet.cell_counts()
    assert np.shares_memory(serving_view, cells) and np.shares_memory(idle_view, cells)
    assert np.array_equal(burn_view, cells[:, L.C_BURNIN])


def test_a_hand_sequence():
    # Rack 0 (cell 0) and rack 3 (cell 0) in service; a replica of 0.25 out on rack 0
    # (powered, idle), then rack 3 fails: serving 0.75, idle 0.25.
    fleet, cells = new_fleet()
    fleet.enter_service(np.array([0, 3]))
    fleet.share_out(0, 0.25, True)
    fleet.rack_out(3, OUT_FAILURE)
    assert cells[0, L.C_SERVING] == 0.75 and cells[0, L.C_IDLE] == 0.25
    # The share comes back while rack 0 is itself out: counted when the rack returns.
    fleet.rack_out(0, OUT_MAINTENANCE)
    assert cells[0, L.C_SERVING] == 0.0 and cells[0, L.C_IDLE] == 0.0
    fleet.share_back(0, 0.25, True)
    fleet.rack_back(0)
    assert cells[0, L.C_SERVING] == 1.0 and cells[0, L.C_IDLE] == 0.0


def test_set_status_refuses_counted_racks():
    fleet, _ = new_fleet()
    fleet.set_status(np.array([1, 2]), DELIVERED)
    assert (fleet.status[[1, 2]] == DELIVERED).all()
    fleet.enter_service(np.array([1]))
    with pytest.raises(ValueError, match="^set_status does not change counted racks"):
        fleet.set_status(np.array([1]), INSTALLED)
    with pytest.raises(ValueError, match="^set_status does not change counted racks"):
        fleet.set_status(np.array([2]), IN_SERVICE)
