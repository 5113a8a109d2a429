"""ChangeWatch's change list against an element-by-element diff of the captured states."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from dcsim.kernels import layout as L
from dcsim.kernels.stages import changes as CH
from dcsim.sim.changes import ChangeWatch

_TARGET = {L.C_SERVING: CH.CH_SERVING, L.C_BURNIN: CH.CH_BURN_IN, L.C_IDLE: CH.CH_IDLE}


def _state():
    cells = np.zeros((4, L.C_NCOLS))
    cells[:, L.C_SERVING] = [10.0, 0.0, 5.0, 2.0]
    cool = np.full((3, 2), 2.0)
    cool[1, 1] = np.nan  # a unit column not used by this hall
    return SimpleNamespace(
        cell_state=cells,
        hall_energised=np.array([True, False, True]),
        hall_cooled=np.array([True, False, True]),
        cool_state=cool,
    )


def _rows_by_hand(before: SimpleNamespace, after: SimpleNamespace, tick: int) -> list[tuple]:
    """Every watched entry whose value differs (NaN equal to NaN), in the watch's order."""
    rows = []
    for c in range(before.cell_state.shape[0]):
        for j in range(before.cell_state.shape[1]):
            a, b = after.cell_state[c, j], before.cell_state[c, j]
            if a != b and not (np.isnan(a) and np.isnan(b)):
                rows.append((tick, _TARGET[j], c, 0, float(a)))
    for name, target in (("hall_energised", CH.CH_ENERGISED), ("hall_cooled", CH.CH_COOLED)):
        for h, (a, b) in enumerate(zip(getattr(after, name), getattr(before, name), strict=True)):
            if a != b:
                rows.append((tick, target, h, 0, float(a)))
    for h in range(before.cool_state.shape[0]):
        for j in range(before.cool_state.shape[1]):
            a, b = after.cool_state[h, j], before.cool_state[h, j]
            if a != b and not (np.isnan(a) and np.isnan(b)):
                rows.append((tick, CH.CH_COOL_STATE, h, j, float(a)))
    return rows


def _snapshot(s: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(**{k: v.copy() for k, v in vars(s).items()})


def test_change_list_is_the_diff_of_each_capture_and_the_state_is_put_back():
    state = _state()
    start = _snapshot(state)
    watch = ChangeWatch(state)
    watch.begin(100)
    want: list[tuple] = []
    steps = [
        lambda s: s.cell_state.__setitem__((0, L.C_SERVING), 9.5),  # a replica out
        lambda s: None,  # an event that changed nothing watched
        lambda s: s.cell_state.__setitem__((1, L.C_SERVING), -0.0),  # -0.0 == 0.0: no change
        lambda s: (s.hall_energised.__setitem__(1, True), s.hall_cooled.__setitem__(1, True)),
        lambda s: s.cool_state.__setitem__((2, 0), 1.0),  # a cooling unit failed
        lambda s: s.cool_state.__setitem__((1, 1), np.nan),  # NaN stays NaN: no change
        lambda s: (
            s.cell_state.__setitem__((0, L.C_SERVING), 10.0),
            s.cell_state.__setitem__((3, L.C_IDLE), 0.5),
        ),  # fmt: skip
    ]
    prev = _snapshot(state)
    for k, step in enumerate(steps):
        step(state)
        watch.capture(100 + 3 * k)
        want += _rows_by_hand(prev, state, 100 + 3 * k)
        prev = _snapshot(state)
    got = watch.end()
    rows = list(
        zip(got.tick.tolist(), got.target.tolist(), got.row.tolist(), got.col.tolist(),
            got.value.tolist(), strict=True)
    )  # fmt: skip
    assert rows == want
    assert len(rows) == 6  # serving, energised, cooled, cool unit, serving back, idle
    # The processes ran ahead: the kernel applies the list, so the state is as at begin().
    for name, arr in vars(start).items():
        np.testing.assert_array_equal(getattr(state, name), arr)
