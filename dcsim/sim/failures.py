"""Component failures, repairs, spares and planned maintenance (MODEL.md section 6).

One process draws failures of the whole campus as a single Poisson process: its rate is
the sum over cells and causes of (racks in service in the cell) x (failures per rack of
that cause); the failed cell and cause are drawn in proportion to their share. The rate is
re-read at every wake (rates are memoryless, so redrawing the next arrival is exact) and
at least every ``refresh_s`` (the build-out step) while the fleet grows.

Failure and repair instants are put on a grid of ``quantum_s`` (the tick by default):
a failure at ``T`` takes effect at the next grid point, together with any further failures
that arrive before it (their number is Poisson). This keeps the number of wake-ups, and so
the number of splits of the compiled physics, far below the number of failures when the
grid is coarse, and changes no count.

A failure picks a random rack in service in its cell and removes its blast radius:

- ``replica``: the GPUs of the replica(s) holding the failed GPU leave ``C_SERVING`` and
  idle (their share moves to ``C_IDLE``) until the restart;
- ``host``: the host's GPUs rounded up to whole replicas leave service, unpowered;
- ``rack``: the rack leaves service (status FAILED) until repaired;
- ``none``: nothing (only a training job restarts).

A replica wider than a rack takes its partner racks out with it. The repair takes the
cause's swap time when a part is on hand (or no part is needed); a hall's spares are used
first and come back after the RMA turnaround; without a spare the repair waits for the
part. Planned maintenance windows take a share of each cell's racks out for a while.
Every failure on a rack of a training reservation logs a ``training_interruption``.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING

import numpy as np
import simpy

from dcsim.model.capacity import BLAST_CODES, CapacityPlan, ReliabilityPlan
from dcsim.model.plant import IN_SERVICE
from dcsim.sim.bookkeeping import FailureState
from dcsim.sim.fleet_state import OUT_FAILURE, OUT_MAINTENANCE

if TYPE_CHECKING:
    from dcsim.sim.state import SimState

__all__ = ["FailureState", "start_failure_processes"]

RngFor = Callable[[int, str, int], np.random.Generator]

_REPLICA = BLAST_CODES["replica"]
_NONE = BLAST_CODES["none"]
# Heap entry kinds.
_RACK_BACK, _SHARE_BACK, _SPARE_BACK, _MAINT_END = range(4)


def _on_grid(t_s: float, quantum_s: float) -> float:
    return math.ceil(t_s / quantum_s - 1e-9) * quantum_s


def _rack_out(state: SimState, fs: FailureState, r: int, reason: int) -> None:
    """Take a whole rack out of service (status FAILED)."""
    state.fleet.rack_out(r, reason)
    fs.up_count[int(state.fleet.cell[r])] -= 1


def _rack_back(state: SimState, fs: FailureState, r: int) -> None:
    state.fleet.rack_back(r)
    fs.up_count[int(state.fleet.cell[r])] += 1


def _repair_s(rp: ReliabilityPlan, fs: FailureState, k: int, hall: int, t_s: float) -> float:
    """Repair duration of cause ``k`` in ``hall``, using a spare when one is on hand."""
    duration = rp.swap_s[k]
    if rp.needs_part[k] and fs.spares_count is not None:
        back_s = rp.rma_turnaround_s if rp.rma_turnaround_s is not None else rp.rma_s[k]
        if fs.spares_count[hall] > 0:
            fs.spares_count[hall] -= 1
            fs.push(_on_grid(t_s + back_s, rp.quantum_s), _SPARE_BACK, (hall,))
        else:
            duration += back_s
            fs.no_spare_count += 1
    return float(duration)


def _fail_one(
    state: SimState,
    plan: CapacityPlan,
    rp: ReliabilityPlan,
    fs: FailureState,
    t_s: float,
    c: int,
    k: int,
    rng: np.random.Generator,
) -> None:
    plant = state.plant
    racks = plan.cell_racks[c]
    up = racks[plant.rack_status[racks] == IN_SERVICE]
    if up.size == 0:
        return  # the cell emptied earlier in this batch
    r = int(up[rng.integers(up.size)])
    hall = int(plan.rack_hall[r])
    cause = rp.cause_names[k]
    asset = fs.rack_asset[r]
    gpus_rack = float(plan.rack_gpus[r])
    blast = int(rp.blast_code[k])
    gpus_out = float(rp.blast_gpus[c, k])
    fs.failures_count += 1
    fs.by_cause_count[k] += 1
    state.log_event(t_s, "failure", asset, cause, gpus_out)
    if plan.training is not None and plan.training.rack_job[r] >= 0:
        fs.interruptions_count += 1
        job = plan.training.names[plan.training.rack_job[r]]
        state.log_event(t_s, "training_interruption", job, cause, 1.0)
    if blast == _NONE or gpus_out <= 0.0:
        return
    back_s = _on_grid(t_s + _repair_s(rp, fs, k, hall, t_s), rp.quantum_s)
    if gpus_out < gpus_rack - 1e-9:
        share = min(gpus_out / gpus_rack, float(fs.health_frac[r]))
        powered = blast == _REPLICA
        state.fleet.share_out(r, share, powered)
        fs.push(back_s, _SHARE_BACK, (r, share, powered, k))
        return
    # A whole rack, plus the partner racks of a replica wider than a rack.
    partners = up[up != r]
    n_more = min(int(math.ceil(gpus_out / gpus_rack - 1e-9)) - 1, partners.size)
    chosen = rng.choice(partners, size=n_more, replace=False) if n_more > 0 else partners[:0]
    shares = fs.health_frac[chosen].copy()
    for p, s in zip(chosen, shares, strict=True):
        state.fleet.share_out(int(p), float(s), True)
    _rack_out(state, fs, r, OUT_FAILURE)
    fs.push(back_s, _RACK_BACK, (r, chosen, shares, k))


def _return(state: SimState, plan: CapacityPlan, fs: FailureState, t_s: float, item: tuple) -> None:
    _, _, kind, payload = item
    rp = plan.reliability
    if kind == _SPARE_BACK:
        fs.spares_count[payload[0]] += 1
        return
    if kind == _MAINT_END:
        racks, window = payload
        for r in racks:
            _rack_back(state, fs, int(r))
        state.log_event(t_s, "maintenance_end", f"window{window}", "", float(len(racks)))
        return
    fs.repairs_count += 1
    if kind == _SHARE_BACK:
        r, share, powered, k = payload
        state.fleet.share_back(r, share, powered)
        gpus = share * plan.rack_gpus[r]
    else:
        r, chosen, shares, k = payload
        _rack_back(state, fs, r)
        for p, s in zip(chosen, shares, strict=True):
            state.fleet.share_back(int(p), float(s), True)
        gpus = float(rp.blast_gpus[state.plant.rack_cell[r], k])
    asset = fs.rack_asset[r]
    state.log_event(t_s, "repair", asset, rp.cause_names[k], float(gpus))


def _maintenance_start(
    state: SimState,
    plan: CapacityPlan,
    rp: ReliabilityPlan,
    fs: FailureState,
    t_s: float,
    window: int,
    rng: np.random.Generator,
) -> None:
    plant = state.plant
    taken: list[np.ndarray] = []
    for racks in plan.cell_racks:
        up = racks[plant.rack_status[racks] == IN_SERVICE]
        n = int(np.floor(rp.maint_racks_frac[window] * up.size + 0.5))
        if n > 0:
            taken.append(rng.choice(up, size=n, replace=False))
    chosen = np.concatenate(taken) if taken else np.zeros(0, dtype=np.int64)
    for r in chosen:
        _rack_out(state, fs, int(r), OUT_MAINTENANCE)
    fs.maintenance_windows_count += 1
    state.log_event(t_s, "maintenance_start", f"window{window}", "", float(chosen.size))
    if plan.training is not None and chosen.size:
        jobs = np.unique(plan.training.rack_job[chosen])
        for j in jobs[jobs >= 0]:
            state.log_event(
                t_s, "training_planned_interruption", plan.training.names[j], "maintenance", 1.0
            )
    end_s = _on_grid(t_s + rp.maint_duration_s[window], rp.quantum_s)
    fs.push(end_s, _MAINT_END, (chosen, window))


def _count_up(state: SimState, n_cell: int) -> np.ndarray:
    plant = state.plant
    return np.bincount(plant.rack_cell[plant.rack_status == IN_SERVICE], minlength=n_cell)


class _Rates:
    """Failure rates at the current racks in service, recomputed only when the counts change.

    The wake-up loop asks for them at every wake (tens of thousands a year) while the counts
    change at a rack failure, a repair or a recount only.
    """

    def __init__(self, rate_per_rack_s: np.ndarray) -> None:
        self._per_rack = rate_per_rack_s
        self._rack_rate = rate_per_rack_s.sum(axis=1)  # all causes of one rack, per cell [1/s]
        self._key = b""
        self.total = 0.0
        self.cum: list[float] = []

    def at(self, up_count: np.ndarray) -> _Rates:
        """Rates at ``up_count`` racks in service per cell.

        ``total`` [1/s]; ``cum``, the cumulative rates over (cell, cause) flattened row by
        row [1/s].
        """
        key = up_count.tobytes()
        if key != self._key:
            self._key = key
            self.total = float(np.dot(up_count, self._rack_rate))
            self.cum = np.cumsum((up_count[:, None] * self._per_rack).ravel()).tolist()
        return self


def _failure_process(
    env: simpy.Environment,
    state: SimState,
    plan: CapacityPlan,
    rp: ReliabilityPlan,
    fs: FailureState,
    rng: np.random.Generator,
    rng_maint: np.random.Generator,
) -> Generator[simpy.Event, None, None]:
    q = rp.quantum_s
    n_cell, n_cause = rp.rate_per_rack_s.shape
    rates = _Rates(rp.rate_per_rack_s)
    horizon = plan.horizon_s
    inf = math.inf
    fs.up_count = _count_up(state, n_cell)
    lam = rates.at(fs.up_count).total
    t_fail = env.now + rng.exponential(1.0 / lam) if lam > 0 else inf
    next_maint = [_on_grid(o, q) for o in rp.maint_offset_s]
    refresh = _on_grid(rp.refresh_s, q)
    heap = fs.heap
    while True:
        wake = min(
            _on_grid(t_fail, q) if t_fail < inf else inf,
            heap[0][0] if heap else inf,
            min(next_maint) if next_maint else inf,
            refresh,
        )
        if wake >= horizon:
            return
        if wake > env.now:
            yield env.timeout(wake - env.now)
        w = env.now
        fs.wakes_count += 1
        if refresh <= w + 1e-6:
            # Other processes (the build-out) change which racks serve: let their changes
            # due now happen first, then count afresh.
            yield env.timeout(0.0)
            fs.up_count = _count_up(state, n_cell)
            refresh = _on_grid(w + rp.refresh_s, q)
        while heap and heap[0][0] <= w + 1e-6:
            _return(state, plan, fs, w, heapq.heappop(heap))
        if t_fail <= w + 1e-6:
            # This failure plus the Poisson number of others before the grid point, drawn
            # over (cell, cause) in proportion to their rates.
            n = 1 + int(rng.poisson(lam * max(w - t_fail, 0.0)))
            cum = rates.at(fs.up_count).cum
            last = len(cum) - 1
            # Each draw picks the first (cell, cause) whose cumulative rate exceeds it.
            for u in (rng.random(n) * cum[-1]).tolist():
                c, k = divmod(min(bisect.bisect_right(cum, u), last), n_cause)
                _fail_one(state, plan, rp, fs, w, c, k, rng)
        for i, t_m in enumerate(next_maint):
            if t_m <= w + 1e-6:
                _maintenance_start(state, plan, rp, fs, w, i, rng_maint)
                next_maint[i] = _on_grid(t_m + rp.maint_every_s[i], q)
        # Rates changed (failures, repairs): memoryless, so redraw the next arrival.
        lam = rates.at(fs.up_count).total
        t_fail = w + rng.exponential(1.0 / lam) if lam > 0 else inf


def start_failure_processes(
    env: simpy.Environment, state: SimState, plan: CapacityPlan, seed: int, rng_for: RngFor
) -> None:
    """Start component failures, repairs and maintenance windows (when the plan has them).

    Parameters
    ----------
    env
        The SimPy environment (clock at 0).
    state
        The run's state.
    plan
        The capacity plan; nothing starts when ``plan.reliability`` is None.
    seed
        Run seed.
    rng_for
        ``rng_for(seed, family, index)``; families ``"failures"`` and ``"maintenance"``.
    """
    rp = plan.reliability
    if rp is None:
        return
    fs = FailureState(
        health_frac=state.fleet.health_frac,
        idle_frac=state.fleet.idle_frac,
        up_count=np.zeros(rp.rate_per_rack_s.shape[0], dtype=np.int64),
        spares_count=None if rp.hall_spares_count is None else rp.hall_spares_count.copy(),
        by_cause_count=np.zeros(len(rp.cause_names), dtype=np.int64),
        rack_asset=[f"{plan.hall_names[h]}/rack{r}" for r, h in enumerate(plan.rack_hall.tolist())],
    )
    state.failures = fs
    env.process(
        _failure_process(
            env,
            state,
            plan,
            rp,
            fs,
            rng_for(seed, "failures", 0),
            rng_for(seed, "maintenance", 0),
        )
    )
