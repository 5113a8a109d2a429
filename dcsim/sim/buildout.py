"""Build-out processes: supply, shipping slips, installation, burn-in; capacity snapshots.

One process advances the build-out in steps of ``plan.buildout.step_s`` (a day by default,
so it never splits the compiled physics more than the daily chunking already does). Each
step, in this order:

1. hall milestones: shell ready, energised, cooling commissioned (flags of the run state);
2. supply: each rack system's vendor produces at its rate, cut by the shortages in force,
   while racks are waiting to ship; every ``shipment_every_s`` the whole racks produced
   ship, first racks first; a shipment may slip (seeded) and then arrives later;
3. arrivals: shipped racks whose arrival is due become *delivered*;
4. racks back from burn-in rework become *installed* again;
5. installation: crews install delivered racks in halls whose shell is ready, at their
   rate per hall or site (work accrues only while racks wait);
6. burn-in starts for installed racks in halls that are energised and commissioned;
7. burn-ins that end pass into service, or fail (infant mortality) and go to rework.

Racks delivered or installed in a hall without power or cooling are *stranded*. The
processes change racks through the run's :class:`~dcsim.sim.fleet_state.Fleet` (status and
the cell counts together) and log events. They hold no physics.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from dcsim import units
from dcsim.kernels import layout as L
from dcsim.model.capacity import BuildoutPlan, CapacityPlan
from dcsim.model.plant import BURN_IN, DELIVERED, FAILED, IN_SERVICE, INSTALLED
from dcsim.sim.bookkeeping import BuildoutState
from dcsim.sim.fleet import start_fleet_processes
from dcsim.sim.fleet_state import OUT_FAILURE, OUT_MAINTENANCE, OUT_NONE, OUT_REWORK

if TYPE_CHECKING:
    from dcsim.sim.state import SimState

__all__ = [
    "OUT_FAILURE",
    "OUT_MAINTENANCE",
    "OUT_NONE",
    "OUT_REWORK",
    "BuildoutState",
    "hall_flags",
    "rack_out_reason",
    "start_buildout_processes",
    "start_snapshot_process",
    "take_snapshot",
]

RngFor = Callable[[int, str, int], np.random.Generator]
#: ``log(t_s, kind, asset, detail, value)``: where a build-out step writes its events.
LogFn = Callable[[float, str, str, str, float], None]

# Slack on time comparisons [s]: steps are sums of floats.
_EPS_S = 1e-6


def hall_flags(state: SimState, n_hall: int) -> dict[str, np.ndarray]:
    """Per-hall milestone flags of the run state (created all True: halls already built).

    Parameters
    ----------
    state
        The simulation state.
    n_hall
        Number of halls.

    Returns
    -------
    dict
        ``hall_shell_ready``, ``hall_energised``, ``hall_cooling_commissioned``: the bool
        arrays (n_hall,) of :class:`~dcsim.sim.state.SimState` that the build-out process
        updates in place.
    """
    assert state.hall_energised.shape == (n_hall,)
    return {
        "hall_shell_ready": state.hall_shell_ready,
        "hall_energised": state.hall_energised,
        "hall_cooling_commissioned": state.hall_cooled,
    }


def rack_out_reason(state: SimState) -> np.ndarray:
    """Why each FAILED rack is out (``OUT_*`` codes): the fleet's ``out_reason``."""
    return state.fleet.out_reason


def _log_by_hall(
    log: LogFn, plan: CapacityPlan, t_s: float, kind: str, racks: np.ndarray, detail: str = ""
) -> None:
    if racks.size:
        counts = np.bincount(plan.rack_hall[racks], minlength=len(plan.hall_names))
        for h in np.flatnonzero(counts):
            log(t_s, kind, plan.hall_names[h], detail, float(counts[h]))


def _supply_factor(bo: BuildoutPlan, s_idx: int, t0_s: float, t1_s: float) -> float:
    """Mean of prod(1 - cut) over [t0, t1) for one system [frac]."""
    if t1_s <= t0_s:
        return 0.0
    mask = bo.shortage_systems[:, s_idx] if bo.shortage_systems.size else np.zeros(0, bool)
    starts, ends, cuts = (
        bo.shortage_start_s[mask],
        bo.shortage_end_s[mask],
        bo.shortage_cut_frac[mask],
    )
    if starts.size == 0:
        return 1.0
    edges = np.unique(np.clip(np.concatenate(([t0_s, t1_s], starts, ends)), t0_s, t1_s))
    total = 0.0
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        mid = 0.5 * (a + b)
        on = (starts <= mid) & (mid < ends)
        total += (b - a) * float(np.prod(1.0 - cuts[on]))
    return total / (t1_s - t0_s)


def _step(
    state: SimState,
    plan: CapacityPlan,
    bo: BuildoutPlan,
    st: BuildoutState,
    t_s: float,
    dt_s: float,
    rng_slip: np.random.Generator,
    rng_burn: np.random.Generator,
    log: LogFn,
) -> None:
    fleet = state.fleet
    status = fleet.status
    flags = hall_flags(state, len(plan.hall_names))
    reason = rack_out_reason(state)

    # 1. hall milestones
    for key, times, kind in (
        ("hall_shell_ready", bo.hall_shell_s, "hall_shell_ready"),
        ("hall_energised", bo.hall_energised_s, "hall_energised"),
        ("hall_cooling_commissioned", bo.hall_commissioned_s, "hall_cooling_commissioned"),
    ):
        now = times <= t_s + _EPS_S
        for h in np.flatnonzero(now & ~flags[key]):
            log(t_s, kind, plan.hall_names[h], "", float(plan.hall_feed_w[h]))
        flags[key][:] = now
    ready = flags["hall_energised"] & flags["hall_cooling_commissioned"]
    if st.shortage_on is not None:
        on = (bo.shortage_start_s <= t_s + _EPS_S) & (t_s + _EPS_S < bo.shortage_end_s)
        for i in np.flatnonzero(on != st.shortage_on):
            kind = "shortage_start" if on[i] else "shortage_end"
            log(t_s, kind, bo.shortage_names[i], "", float(bo.shortage_cut_frac[i]))
        st.shortage_on = on

    # 2. supply and shipments
    for s_idx, queue in enumerate(bo.queues):
        pos = int(st.queue_pos[s_idx])
        rest = queue[pos:]
        due = int(np.searchsorted(bo.rack_earliest_s[rest], t_s + _EPS_S, side="right"))
        if st.waiting_prev[s_idx] > 0 and dt_s > 0:
            made = bo.supply_rate_per_s[s_idx] * dt_s * _supply_factor(bo, s_idx, t_s - dt_s, t_s)
            st.supply_credit[s_idx] += made
            st.produced[s_idx] += made
        if due > 0 and t_s - st.last_ship_s[s_idx] >= bo.shipment_every_s[s_idx] - _EPS_S:
            n = min(int(np.floor(st.supply_credit[s_idx] + 1e-9)), due)
            if n > 0:
                racks = rest[:n]
                st.queue_pos[s_idx] = pos + n
                st.supply_credit[s_idx] -= n
                st.shipped[s_idx] += n
                st.last_ship_s[s_idx] = t_s
                slip_s = 0.0
                if bo.slip_probability_frac[s_idx] > 0 and (
                    rng_slip.random() < bo.slip_probability_frac[s_idx]
                ):
                    slip_s = min(rng_slip.exponential(bo.slip_mean_s[s_idx]), bo.slip_max_s[s_idx])
                st.in_transit.append((t_s + slip_s, s_idx, racks, slip_s))
                due -= n
        if due <= 0:
            st.supply_credit[s_idx] = 0.0  # an idle line banks nothing
        st.waiting_prev[s_idx] = due

    # 3. arrivals
    arrived = [item for item in st.in_transit if item[0] <= t_s + _EPS_S]
    if arrived:
        st.in_transit = [item for item in st.in_transit if item[0] > t_s + _EPS_S]
        for _, s_idx, racks, slip_s in arrived:
            fleet.set_status(racks, DELIVERED)
            st.delivered_s[racks] = t_s
            detail = f"slip {slip_s / units.D_S:.1f} d" if slip_s > 0 else ""
            log(t_s, "racks_delivered", plan.system_names[s_idx], detail, float(len(racks)))

    # 4. rework returns
    back = np.flatnonzero((reason == OUT_REWORK) & (st.stage_end_s <= t_s + _EPS_S))
    if back.size:
        fleet.set_status(back, INSTALLED)
        _log_by_hall(log, plan, t_s, "rework_returned", back)

    # 5. installation
    shell = flags["hall_shell_ready"][plan.rack_hall]
    waiting = np.flatnonzero((status == DELIVERED) & shell)
    crew = bo.hall_crew[plan.rack_hall[waiting]]
    n_wait = np.bincount(crew, minlength=bo.n_crews)
    if dt_s > 0:
        st.crew_credit += np.where(st.crew_waiting_prev > 0, bo.install_rate_per_s * dt_s, 0.0)
    installed: list[np.ndarray] = []
    for u in np.flatnonzero(n_wait):
        n = min(int(np.floor(st.crew_credit[u] + 1e-9)), int(n_wait[u]))
        if n > 0:
            mine = waiting[crew == u]
            mine = mine[np.lexsort((mine, st.delivered_s[mine]))][:n]
            installed.append(mine)
            st.crew_credit[u] -= n
    st.crew_credit[n_wait == 0] = 0.0
    if installed:
        done = np.concatenate(installed)
        fleet.set_status(done, INSTALLED)
        n_wait = n_wait - np.bincount(bo.hall_crew[plan.rack_hall[done]], minlength=bo.n_crews)
        _log_by_hall(log, plan, t_s, "racks_installed", done)
    st.crew_waiting_prev = n_wait

    # 6. burn-in starts
    start = np.flatnonzero((status == INSTALLED) & ready[plan.rack_hall])
    if start.size:
        fleet.start_burn_in(start)
        st.stage_end_s[start] = t_s + bo.burn_in_s
        _log_by_hall(log, plan, t_s, "burn_in_started", start)

    # 7. burn-in ends
    end = np.flatnonzero((status == BURN_IN) & (st.stage_end_s <= t_s + _EPS_S))
    if end.size:
        failed = np.zeros(end.size, dtype=bool)
        if bo.infant_failure_frac > 0:
            failed = rng_burn.random(end.size) < bo.infant_failure_frac
        bad, good = end[failed], end[~failed]
        fleet.end_burn_in(end, failed)
        if bad.size:
            st.stage_end_s[bad] = t_s + bo.rework_s
            _log_by_hall(log, plan, t_s, "burn_in_failed", bad)
        if good.size:
            _log_by_hall(log, plan, t_s, "racks_in_service", good)


def _first_step(bo: BuildoutPlan) -> int:
    """Index of the first build-out step: 0, or earlier when the plan began before the start.

    A run that starts in the middle of its build-out (phases or deliveries dated before the
    start) plays the steps from the first of those dates, on the same grid of ``step_s``
    that the steps inside the horizon follow, so that it starts from the state the plan
    implies by then.
    """
    times = np.concatenate(
        (
            bo.hall_shell_s[bo.hall_phased],
            bo.hall_energised_s[bo.hall_phased],
            bo.hall_commissioned_s[bo.hall_phased],
            bo.rack_earliest_s[bo.rack_pipeline],
        )
    )
    first_s = float(times.min(initial=0.0))
    return min(int(np.floor(first_s / bo.step_s + 1e-9)), 0)


def _quiet(t_s: float, kind: str, asset: str, detail: str, value: float) -> None:
    """Log of the steps before the start: the event table begins at the start."""
    del t_s, kind, asset, detail, value


def _buildout_process(
    env: simpy.Environment,
    state: SimState,
    plan: CapacityPlan,
    bo: BuildoutPlan,
    st: BuildoutState,
    rng_slip: np.random.Generator,
    rng_burn: np.random.Generator,
) -> Generator[simpy.Event, None, None]:
    k0 = _first_step(bo)
    # Steps before the start run before the clock does (the first tick sees their result).
    for k in range(k0, 0):
        dt_s = bo.step_s if k > k0 else 0.0
        _step(state, plan, bo, st, k * bo.step_s, dt_s, rng_slip, rng_burn, _quiet)
    k = 0
    while k * bo.step_s < plan.horizon_s:
        t_s = k * bo.step_s
        if t_s > env.now:
            yield env.timeout(t_s - env.now)
        dt_s = bo.step_s if k > k0 else 0.0
        _step(state, plan, bo, st, t_s, dt_s, rng_slip, rng_burn, state.log_event)
        k += 1


def start_buildout_processes(
    env: simpy.Environment, state: SimState, plan: CapacityPlan, seed: int, rng_for: RngFor
) -> None:
    """Start the build-out (racks of built halls) and the fleet entries of the other racks.

    Racks of halls that a phase builds are taken out of service here, before the first tick,
    and enter it through the build-out; racks of the other halls keep their rack group's
    in-service date (:func:`dcsim.sim.fleet.start_fleet_processes`). Without a build-out in
    the plan, only the fleet processes start.

    Parameters
    ----------
    env
        The SimPy environment (clock at 0).
    state
        The run's state; ``state.plant`` must be the run's copy of the plant.
    plan
        The capacity plan of the same plant.
    seed
        Run seed.
    rng_for
        ``rng_for(seed, family, index)`` (:func:`dcsim.model.streams.rng_for`); the families
        used are ``"buildout_slip"`` and ``"burn_in"``.
    """
    bo = plan.buildout
    plant = state.plant
    if bo is None:
        start_fleet_processes(env, state)
        return
    hall_flags(state, len(plan.hall_names))
    rack_out_reason(state)
    pipe = np.flatnonzero(bo.rack_pipeline)
    state.fleet.withdraw(pipe)
    groups = np.unique(plant.rack_group[~bo.rack_pipeline])
    start_fleet_processes(env, state, groups=groups)
    n_sys, n_rack = len(plan.system_names), plan.n_racks
    st = BuildoutState(
        queue_pos=np.zeros(n_sys, dtype=np.int64),
        supply_credit=np.zeros(n_sys),
        last_ship_s=np.full(n_sys, -np.inf),
        waiting_prev=np.zeros(n_sys, dtype=np.int64),
        produced=np.zeros(n_sys),
        shipped=np.zeros(n_sys, dtype=np.int64),
        crew_credit=np.zeros(bo.n_crews),
        crew_waiting_prev=np.zeros(bo.n_crews, dtype=np.int64),
        delivered_s=np.full(n_rack, np.nan),
        stage_end_s=np.full(n_rack, np.inf),
        shortage_on=np.zeros(bo.shortage_start_s.shape[0], dtype=bool),
    )
    state.buildout = st
    env.process(
        _buildout_process(
            env,
            state,
            plan,
            bo,
            st,
            rng_for(seed, "buildout_slip", 0),
            rng_for(seed, "burn_in", 0),
        )
    )


# --------------------------------------------------------------------------- snapshots


def take_snapshot(state: SimState, plan: CapacityPlan, t_s: float) -> dict[str, Any]:
    """Counts of the fleet at one instant (one row of the capacity snapshots).

    Parameters
    ----------
    state
        The simulation state.
    plan
        The capacity plan.
    t_s
        Time of the snapshot [s since start].

    Returns
    -------
    dict
        ``t_s`` [s]; rack counts ``racks_{delivered,installed}_count`` (cumulative: racks
        that reached that stage), ``racks_{burn_in,in_service,failed,maintenance,rework,
        stranded,awaiting_install}_count`` (now); ``serving_racks_count`` (sum of the
        cells' serving racks, healthy-share weighted); ``gpus_{delivered,in_service}_count``;
        ``it_design_in_service_w`` and ``it_design_placed_w`` (design power of racks in
        service, and of racks occupying a powered slot: burn-in, in service, failed)
        [W]; ``energised_w`` (feed of energised halls) [W]; ``stranded_power_w``
        (energised feed not taken by placed racks) [W]; ``halls_energised_count``;
        ``<system>.racks_delivered_count`` per rack system; and
        ``<job>.training_racks_commissioned_count`` (racks past burn-in) per training job.
    """
    plant = state.plant
    status = plant.rack_status
    n_hall = len(plan.hall_names)
    flags = hall_flags(state, n_hall)
    reason = rack_out_reason(state)
    energised = flags["hall_energised"]
    ready = (energised & flags["hall_cooling_commissioned"])[plan.rack_hall]
    present = (status >= DELIVERED) & (status <= FAILED)
    installed = (status >= INSTALLED) & (status <= FAILED)
    waiting = (status == DELIVERED) | (status == INSTALLED)
    failed = status == FAILED
    in_service = status == IN_SERVICE
    placed = (status == BURN_IN) | in_service | (failed & (reason != OUT_REWORK))
    placed_w = np.bincount(plan.rack_hall[placed], plan.rack_design_w[placed], minlength=n_hall)
    gpus_per_cell = plant.pool_gpus_per_rack[plant.cell_pool]
    snap: dict[str, Any] = {
        "t_s": float(t_s),
        "racks_delivered_count": int(present.sum()),
        "racks_installed_count": int(installed.sum()),
        "racks_burn_in_count": int((status == BURN_IN).sum()),
        "racks_in_service_count": int(in_service.sum()),
        "racks_failed_count": int((failed & (reason == OUT_FAILURE)).sum()),
        "racks_maintenance_count": int((failed & (reason == OUT_MAINTENANCE)).sum()),
        "racks_rework_count": int((failed & (reason == OUT_REWORK)).sum()),
        "racks_stranded_count": int((waiting & ~ready).sum()),
        "racks_awaiting_install_count": int(((status == DELIVERED) & ready).sum()),
        "serving_racks_count": float(state.cell_state[:, L.C_SERVING].sum()),
        "gpus_delivered_count": float(plan.rack_gpus[present].sum()),
        "gpus_in_service_count": float(np.dot(state.cell_state[:, L.C_SERVING], gpus_per_cell)),
        "it_design_in_service_w": float(plan.rack_design_w[in_service].sum()),
        "it_design_placed_w": float(placed_w.sum()),
        "energised_w": float(plan.hall_feed_w[energised].sum()),
        "stranded_power_w": float(
            np.sum(np.where(energised, np.maximum(plan.hall_feed_w - placed_w, 0.0), 0.0))
        ),
        "halls_energised_count": int(energised.sum()),
    }
    by_sys = np.bincount(plan.rack_system[present], minlength=len(plan.system_names))
    for s_idx, name in enumerate(plan.system_names):
        snap[f"{name}.racks_delivered_count"] = int(by_sys[s_idx])
    if plan.training is not None:
        jobs = plan.training.rack_job
        # Racks past burn-in (serving, failed or in maintenance) belong to a running job.
        past = in_service | (failed & (reason != OUT_REWORK))
        counts = np.bincount(jobs[past & (jobs >= 0)], minlength=len(plan.training.names))
        for j, name in enumerate(plan.training.names):
            snap[f"{name}.training_racks_commissioned_count"] = int(counts[j])
    return snap


def _snapshot_process(
    env: simpy.Environment, state: SimState, plan: CapacityPlan
) -> Generator[simpy.Event, None, None]:
    out = state.capacity_snapshots
    k = 0
    while k * plan.snapshot_every_s < plan.horizon_s:
        t_s = k * plan.snapshot_every_s
        if t_s > env.now:
            yield env.timeout(t_s - env.now)
        # Let the other processes' changes due at this instant happen first.
        yield env.timeout(0.0)
        out.append(take_snapshot(state, plan, t_s))
        k += 1


def start_snapshot_process(env: simpy.Environment, state: SimState, plan: CapacityPlan) -> None:
    """Append a :func:`take_snapshot` row to ``state.capacity_snapshots`` daily.

    Snapshots are taken at ``k * plan.snapshot_every_s`` for every instant inside the
    horizon, after the other processes' changes due at the same instant.

    Parameters
    ----------
    env
        The SimPy environment.
    state
        The simulation state.
    plan
        The capacity plan.
    """
    hall_flags(state, len(plan.hall_names))
    env.process(_snapshot_process(env, state, plan))
