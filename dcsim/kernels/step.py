"""The fused physics tick: dispatch, rack power, power chain, limits and recording.

One compiled call advances ``n_ticks`` ticks between two discrete events. Per tick:

1. offered load per workload class = demand + backlog of deferrable work;
2. dispatch: each class's served rate = min(offered, capacity of its racks at their caps),
   spread over its cells in proportion to their capacity;
3. rack power from the pools' operating-point tables (load, cap) -> (tok/s, W);
4. power chain per hall (PDU, UPS) and per site (mechanical load, transformer);
5. limits: a hall over its feed or a site over its import limit lowers the power caps of its
   racks, lowest-priority pools first (bisection on a common cap per pool), then re-dispatches
   so that load moves to racks with headroom; the loop ends with every limit met;
6. backlog bookkeeping (deadline expiry) and accumulation into the record buffers.

Caps are solved afresh each tick from the thermal caps, so the kernel keeps no capping state
and a tick is a pure function of (state, demand). The coupled blocks that come next fit in
the same tick: cooling sets ``C_THERMAL_CAP`` and the mechanical power, the grid balance
replaces the fixed import limit with a per-tick available supply.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dcsim.kernels import cooling_layout as CL
from dcsim.kernels import grid_layout as G
from dcsim.kernels import layout as L
from dcsim.kernels.cooling import hall_cooling_step, hall_heat_limit_w
from dcsim.kernels.tables import interp_cap, interp_table
from dcsim.physics.demand import backlog_step
from dcsim.physics.onsite import battery_limits_w, site_dispatch, turbine_commit
from dcsim.physics.power_chain import pdu_loss_w, transformer_loss_w, ups_loss_w

#: Re-dispatch rounds per tick before the caps are fixed without moving load (each round only
#: lowers caps, so the loop is monotone; real cases settle in one or two).
MAX_DISPATCH_ROUNDS = 4
#: Bisection steps on a pool's cap: 2^-40 of the cap range, far below any physical meaning.
CAP_BISECTION_STEPS = 40


@njit(cache=True)
def _cell_point(c, cap, offered_rack, cell_pool, tab_xcap, tab_p, pack):
    """Delivered rate [tok/s] and wall power [W] of one serving rack of cell c."""
    p = cell_pool[c]
    x_cap = interp_cap(tab_xcap, p, cap)
    if x_cap <= 0.0:
        return 0.0, interp_table(tab_p, p, 0.0, cap)
    util = min(offered_rack / x_cap, 1.0)
    if pack:
        # A share `util` of the racks runs at capacity, the rest idle at the same cap.
        p_w = util * interp_table(tab_p, p, 1.0, cap) + (1.0 - util) * interp_table(
            tab_p, p, 0.0, cap
        )
        return util * x_cap, p_w
    return util * x_cap, interp_table(tab_p, p, util, cap)


@njit(cache=True)
def _hall_it_w(h, cap, offered_rack, cell_state, cell_pool, cell_hall, tab_xcap, tab_p, pack):
    """Rack IT power of hall h for given caps and offered loads [W]."""
    it_w = 0.0
    for c in range(cell_pool.shape[0]):
        if cell_hall[c] != h:
            continue
        p = cell_pool[c]
        _, p_rack = _cell_point(c, cap[c], offered_rack[c], cell_pool, tab_xcap, tab_p, pack)
        it_w += cell_state[c, L.C_SERVING] * p_rack
        it_w += cell_state[c, L.C_BURNIN] * interp_table(tab_p, p, 1.0, 1.0)
        it_w += cell_state[c, L.C_IDLE] * interp_table(tab_p, p, 0.0, 1.0)
    return it_w


@njit(cache=True)
def _hall_chain(h, it_w, hall_par, cc, commit=False):
    """UPS-output power, PDU+UPS loss and mechanical power of hall h [W].

    ``cc`` is the cooling context of the tick (see :func:`advance`). The mechanical power
    comes from the hall's cooling plant at this tick's weather and loop state, evaluated on a
    scratch copy of the state, so that the cap solve sees exactly the power the final step
    will draw. With ``commit`` the step runs on the real state: the loops move on a tick.
    """
    cool_par, cool_state, scratch, out, t_db, t_wb, dt_s, energised, cooled = cc
    if not energised[h]:
        out[:] = 0.0  # nothing energised: no PDU, UPS or cooling load, no heat
        return 0.0, 0.0, 0.0
    pdu = pdu_loss_w(it_w, hall_par[h, L.H_PDU_EFF])
    ups_out = it_w + pdu
    ups = ups_loss_w(
        ups_out,
        hall_par[h, L.H_UPS_MODULE_W],
        hall_par[h, L.H_UPS_MODULES_ACTIVE],
        hall_par[h, L.H_UPS_A0],
        hall_par[h, L.H_UPS_A1],
        hall_par[h, L.H_UPS_A2],
    )
    # Heat in the white space = rack power + PDU loss; UPS rooms are cooled separately and
    # their loss is counted in losses, not in the mechanical load of the hall.
    s = int(hall_par[h, L.H_SITE])
    state = cool_state
    if not commit:
        scratch[h, :] = cool_state[h, :]
        state = scratch
    heat = it_w + pdu
    if not cooled[h]:
        # Cooling not commissioned: its plant draws nothing (the hall holds no live racks).
        out[:] = 0.0
        return ups_out, pdu + ups, 0.0
    hall_cooling_step(
        h, heat, heat * cool_par[h, CL.CP_LIQUID_FRAC], t_db[s], t_wb[s], cool_par, state,
        dt_s, out,
    )  # fmt: skip
    return ups_out, pdu + ups, out[CL.CO_MECH_W]


@njit(cache=True)
def _site_w(s, hall_it, hall_par, site_par, cc):
    """Site-meter power, losses and mechanical power of site s [W]."""
    xfmr_out = 0.0
    losses = 0.0
    mech_total = 0.0
    for h in range(hall_par.shape[0]):
        if int(hall_par[h, L.H_SITE]) != s:
            continue
        _, loss, mech = _hall_chain(h, hall_it[h], hall_par, cc)
        xfmr_out += hall_it[h] + loss + mech
        losses += loss
        mech_total += mech
    xfmr = transformer_loss_w(
        xfmr_out,
        site_par[s, L.S_XFMR_RATED_W],
        site_par[s, L.S_XFMR_NO_LOAD],
        site_par[s, L.S_XFMR_LOAD_LOSS],
    )
    return xfmr_out + xfmr, losses + xfmr, mech_total


@njit(cache=True)
def _subset_power_w(
    scope,
    idx,
    cap,
    offered_rack,
    cell_state,
    cell_pool,
    cell_hall,
    tab_xcap,
    tab_p,
    pack,
    hall_par,
    site_par,
    hall_it,
    cc,
):
    """Power that a limit applies to: hall UPS output (scope 0) or site meter (scope 1) [W]."""
    if scope == 0:
        it_w = _hall_it_w(
            idx, cap, offered_rack, cell_state, cell_pool, cell_hall, tab_xcap, tab_p, pack
        )
        return it_w + pdu_loss_w(it_w, hall_par[idx, L.H_PDU_EFF])
    for h in range(hall_par.shape[0]):
        if int(hall_par[h, L.H_SITE]) == idx:
            hall_it[h] = _hall_it_w(
                h, cap, offered_rack, cell_state, cell_pool, cell_hall, tab_xcap, tab_p, pack
            )
    site_w, _, _ = _site_w(idx, hall_it, hall_par, site_par, cc)
    return site_w


@njit(cache=True)
def _in_scope(c, scope, idx, cell_hall, hall_par):
    if scope == 0:
        return cell_hall[c] == idx
    return int(hall_par[cell_hall[c], L.H_SITE]) == idx


@njit(cache=True)
def _cap_to_limit(
    scope,
    idx,
    limit_w,
    cap,
    offered_rack,
    cell_state,
    cell_pool,
    cell_hall,
    pool_rank,
    n_ranks,
    tab_xcap,
    tab_p,
    pack,
    hall_par,
    site_par,
    hall_it,
    cc,
):
    """Lower caps in a hall or site, lowest priority rank first, until its power <= limit.

    Returns True if the limit could be met with serving racks alone (burn-in and idle racks
    are not capped; a limit below their draw is a configuration the checks reject).
    """
    trial = cap.copy()
    n_cell = cell_pool.shape[0]
    in_rank = np.zeros(n_cell, dtype=np.bool_)
    rest = (offered_rack, cell_state, cell_pool, cell_hall, tab_xcap, tab_p, pack, hall_par,
            site_par, hall_it, cc)  # fmt: skip
    for r in range(n_ranks):
        for c in range(n_cell):
            in_rank[c] = pool_rank[cell_pool[c]] == r and _in_scope(c, scope, idx, cell_hall,
                                                                     hall_par)  # fmt: skip
        if not in_rank.any():
            continue
        # Largest common scale s in [0, 1] of this rank's caps with power <= limit.
        for c in range(n_cell):
            if in_rank[c]:
                trial[c] = 0.0
        if _subset_power_w(scope, idx, trial, *rest) > limit_w:
            cap[:] = trial
            continue  # even parked, this rank leaves the scope over: go to the next rank
        lo = 0.0
        hi = 1.0
        for _ in range(CAP_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            for c in range(n_cell):
                if in_rank[c]:
                    trial[c] = cap[c] * mid
            if _subset_power_w(scope, idx, trial, *rest) <= limit_w:
                lo = mid
            else:
                hi = mid
        for c in range(n_cell):
            if in_rank[c]:
                cap[c] = cap[c] * lo
        return True
    return False


@njit(cache=True)
def _site_supply_w(s, t, site_series, site_par_limit, site_grid_par, site_state, dt_s):
    """Most power site s can be supplied this tick [W].

    Grid (as available, bounded by the connection) + must-take sources + running turbines +
    the battery down to empty (the ride-through).
    """
    g = site_grid_par[s]
    supply = (
        min(site_series[s, t, L.ST_GRID_AVAIL_W], site_par_limit)
        + site_series[s, t, L.ST_SOLAR_W]
        + site_series[s, t, L.ST_CLEAN_W]
        + site_state[s, L.SS_TURB_ONLINE] * g[G.G_TURB_UNIT_W]
    )
    if g[G.G_BATT_POLICY] > 0.0:
        dis, _ = battery_limits_w(
            site_state[s, L.SS_SOC_J], g[G.G_BATT_ENERGY_J], g[G.G_BATT_POWER_W],
            g[G.G_BATT_ETA_CHARGE_FRAC], g[G.G_BATT_ETA_DISCHARGE_FRAC], 0.0, dt_s,
        )  # fmt: skip
        supply += dis
    return supply


@njit(cache=True)
def _shed_site(
    s, limit_w, cap, offered_rack, cs, cs0, cell_pool, cell_hall, tab_xcap, tab_p, pack,
    hall_par, site_par, hall_it, cc,
):  # fmt: skip
    """Switch off a share of site s's racks (all of them, evenly) so its power <= limit.

    Called when even parked racks draw more than the site can be supplied (a disconnect with
    too little on-site supply). Works on ``cs``, a copy of the cell state ``cs0``. Returns the
    share kept on [0..1]; 0 means the site is dark (nothing energised, not even the no-load
    losses of the UPS and transformer).
    """
    rest = (cell_pool, cell_hall, tab_xcap, tab_p, pack, hall_par, site_par, hall_it, cc)
    lo = 0.0
    hi = 1.0
    for _ in range(CAP_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        _scale_site(s, mid, cs, cs0, cell_hall, hall_par)
        if _subset_power_w(1, s, cap, offered_rack, cs, *rest) <= limit_w:
            lo = mid
        else:
            hi = mid
    _scale_site(s, lo, cs, cs0, cell_hall, hall_par)
    if lo < 2.0 ** -(CAP_BISECTION_STEPS - 2):
        _scale_site(s, 0.0, cs, cs0, cell_hall, hall_par)
        return 0.0
    return lo


@njit(cache=True)
def _scale_site(s, frac, cs, cs0, cell_hall, hall_par):
    for c in range(cs.shape[0]):
        if int(hall_par[cell_hall[c], L.H_SITE]) == s:
            cs[c, L.C_SERVING] = cs0[c, L.C_SERVING] * frac
            cs[c, L.C_BURNIN] = cs0[c, L.C_BURNIN] * frac
            cs[c, L.C_IDLE] = cs0[c, L.C_IDLE] * frac


@njit(cache=True)
def advance(
    tick0,
    n_ticks,
    dt_s,
    ticks_per_rec,
    ticks_per_hall_rec,
    pack,
    demand_tok_per_s,
    class_par,
    backlog_tok,
    backlog_head,
    pool_class,
    pool_rank,
    n_ranks,
    pool_gpus_per_rack,
    tab_xcap,
    tab_p,
    tab_slo,
    cell_pool,
    cell_hall,
    cell_state,
    hall_par,
    site_par,
    site_series,
    site_grid_par,
    site_state,
    cool_par,
    cool_state,
    hall_energised,
    hall_cooled,
    rec,
    class_rec,
    hall_rec,
    site_rec,
    flow_check,
):
    """Advance the campus by ``n_ticks`` ticks from global tick ``tick0``.

    Parameters
    ----------
    tick0, n_ticks
        First global tick index and number of ticks to advance [count].
    dt_s
        Tick length [s].
    ticks_per_rec, ticks_per_hall_rec
        Ticks per row of the campus/class/site and of the hall record buffers [count].
    pack
        True to pack load onto few racks, False to spread it evenly.
    demand_tok_per_s
        Demand per class and global tick, shape (n_class, n_ticks_total) [tok/s].
    class_par
        Class parameters, columns ``layout.K_*``.
    backlog_tok, backlog_head
        Backlog age buckets per class (n_class, n_buckets) [tok] and the index of the newest
        bucket per class; updated in place.
    pool_class, pool_rank, n_ranks
        Class served by each pool, its capping rank (0 = capped first) and the rank count.
    pool_gpus_per_rack
        Accelerators per rack of each pool [count].
    tab_xcap, tab_p
        Operating-point tables: rack capacity per (pool, cap) [tok/s] and rack power per
        (pool, utilisation of capped capacity, cap) [W]; see :mod:`dcsim.kernels.tables`.
    tab_slo
        SLO attainment per pool against utilisation of capped capacity, shape (pool, n_u).
    cell_pool, cell_hall, cell_state
        Cell -> pool, cell -> hall, cell state columns ``layout.C_*`` (read only here).
    hall_par, site_par
        Hall and site parameters, columns ``layout.H_*`` and ``layout.S_*``.
    site_series
        Per-tick site inputs (contract, available import, solar, clean block, price signal,
        coincident-peak shedding, weather), shape (n_site, n_ticks_total, ``layout.ST_NCOLS``).
    site_grid_par
        Battery and turbine parameters per site, columns ``grid_layout.G_*``.
    site_state
        Battery and turbine state per site, columns ``layout.SS_*``; updated in place.
    cool_par, cool_state
        Cooling plant per hall (``cooling_layout.CP_*``) and its state (loop temperatures,
        units in service; ``cooling_layout.CS_*``); the temperatures are updated in place.
        The hall's heat limit (loops, CDUs, air path) joins its feed limit in the cap solve.
    hall_energised, hall_cooled
        Per hall: its feed is energised, its cooling commissioned (bool, set by the
        build-out between calls). A hall not energised draws nothing (no PDU/UPS no-load
        loss, no cooling); one energised but not commissioned carries its UPS no-load loss
        but no cooling. Racks of a hall that is not both count as not powered.
    rec, class_rec, hall_rec, site_rec
        Record accumulators, added to in place (time-weighted means).
    flow_check
        Accumulator of shape (2,): the largest relative energy-balance residual of any tick
        (consumption side and supply side) [-], and the largest ratio of a limited power to
        its limit [-]; updated in place.
    """
    n_class = class_par.shape[0]
    n_cell = cell_pool.shape[0]
    n_hall = hall_par.shape[0]
    n_site = site_par.shape[0]
    n_u = tab_slo.shape[1]
    offered = np.zeros(n_class)
    expired = np.zeros(n_class)
    cls_cap = np.zeros(n_class)
    served_cls = np.zeros(n_class)
    cap_cls = np.zeros(n_class)
    served_first = np.zeros(n_class)
    cap = np.ones(n_cell)
    offered_rack = np.zeros(n_cell)
    offered_first = np.zeros(n_cell)
    x_cap = np.zeros(n_cell)
    delivered = np.zeros(n_cell)
    hall_it = np.zeros(n_hall)
    site_limit = np.zeros(n_site)
    site_want = np.zeros(n_site)
    site_on = np.ones(n_site)
    site_parked_w = np.zeros(n_site)
    # Racks can run only in halls that are energised and cooled (the build-out starts burn-in
    # only there; this keeps the tick consistent whatever the caller put in the table).
    cell_state = cell_state.copy()
    for c in range(n_cell):
        if not (hall_energised[cell_hall[c]] and hall_cooled[cell_hall[c]]):
            cell_state[c, L.C_SERVING] = 0.0
            cell_state[c, L.C_BURNIN] = 0.0
            cell_state[c, L.C_IDLE] = 0.0
    cs_work = cell_state.copy()
    hall_limit = np.zeros(n_hall)
    thermal_bound = np.zeros(n_hall)
    t_db = np.zeros(n_site)
    t_wb = np.zeros(n_site)
    cool_scratch = cool_state.copy()
    cool_out = np.zeros(CL.CO_NCOLS)
    site_xfmr_out = np.zeros(n_site)
    site_loss = np.zeros(n_site)
    site_mech = np.zeros(n_site)
    cc = (cool_par, cool_state, cool_scratch, cool_out, t_db, t_wb, dt_s, hall_energised,
          hall_cooled)  # fmt: skip
    w_rec = 1.0 / ticks_per_rec
    w_hall = 1.0 / ticks_per_hall_rec
    gpus = 0.0
    for c in range(n_cell):
        gpus += cell_state[c, L.C_SERVING] * pool_gpus_per_rack[cell_pool[c]]

    for i in range(n_ticks):
        t = tick0 + i
        row = t // ticks_per_rec
        hrow = t // ticks_per_hall_rec
        for k in range(n_class):
            offered[k] = demand_tok_per_s[k, t]
            expired[k] = 0.0
            if class_par[k, L.K_DEFERRABLE] > 0.0:
                # Expire work past its deadline before it is offered again.
                rotate = t % int(class_par[k, L.K_BUCKET_TICKS]) == 0
                ring = backlog_tok[k, : int(class_par[k, L.K_BUCKETS])]
                _, expired[k], backlog_head[k] = backlog_step(
                    ring, backlog_head[k], 0.0, 0.0, rotate
                )
                offered[k] += ring.sum() / dt_s
        for c in range(n_cell):
            cap[c] = cell_state[c, L.C_THERMAL_CAP]
            s_c = int(hall_par[cell_hall[c], L.H_SITE])
            k = pool_class[cell_pool[c]]
            if site_series[s_c, t, L.ST_CP_SHED] > 0.0 and class_par[k, L.K_DEFERRABLE] > 0.0:
                cap[c] = 0.0  # coincident-peak avoidance parks deferrable racks
        for s in range(n_site):
            site_limit[s] = _site_supply_w(
                s, t, site_series, site_par[s, L.S_IMPORT_LIMIT_W], site_grid_par, site_state, dt_s
            )
            site_on[s] = 1.0
            site_parked_w[s] = 0.0
            t_db[s] = site_series[s, t, L.ST_T_DB_DEGC]
            t_wb[s] = site_series[s, t, L.ST_T_WB_DEGC]
        # A hall takes no more than its feed carries and its cooling can reject; the heat in
        # the white space (IT + PDU loss) is exactly the UPS output the feed limit applies to.
        for h in range(n_hall):
            s = int(hall_par[h, L.H_SITE])
            if not (hall_energised[h] and hall_cooled[h]):
                hall_limit[h] = 0.0  # no rack runs here (see above): nothing to limit
                thermal_bound[h] = 0.0
                continue
            heat_lim = hall_heat_limit_w(h, t_db[s], t_wb[s], cool_par, cool_state, dt_s)
            hall_limit[h] = min(hall_par[h, L.H_FEED_LIMIT_W], heat_lim)
            thermal_bound[h] = 1.0 if heat_lim < hall_par[h, L.H_FEED_LIMIT_W] else 0.0
        cs = cell_state
        shed_any = False

        # Dispatch, check limits, cap, re-dispatch.
        for rnd in range(MAX_DISPATCH_ROUNDS + 1):
            cls_cap[:] = 0.0
            for c in range(n_cell):
                x_cap[c] = interp_cap(tab_xcap, cell_pool[c], cap[c])
                cls_cap[pool_class[cell_pool[c]]] += cs[c, L.C_SERVING] * x_cap[c]
            for c in range(n_cell):
                k = pool_class[cell_pool[c]]
                share = 0.0
                if cls_cap[k] > 0.0:
                    share = min(offered[k] / cls_cap[k], 1.0)
                offered_rack[c] = share * x_cap[c]
            if rnd == 0:
                for k in range(n_class):
                    served_first[k] = min(offered[k], cls_cap[k])
                for c in range(n_cell):
                    offered_first[c] = offered_rack[c]
            violated = False
            # Halls first (scope 0, limit at the UPS output), then sites (scope 1, meter).
            for scope in range(2):
                n_scope = n_hall if scope == 0 else n_site
                for idx in range(n_scope):
                    if scope == 0:
                        limit = hall_limit[idx]
                    else:
                        limit = site_limit[idx]
                    args = (cap, offered_rack, cs, cell_pool, cell_hall)
                    p_now = _subset_power_w(
                        scope, idx, *args, tab_xcap, tab_p, pack, hall_par, site_par, hall_it, cc
                    )
                    if scope == 1 and rnd == 0:
                        site_want[idx] = p_now
                    if p_now > limit:
                        violated = True
                        met = _cap_to_limit(
                            scope, idx, limit, *args, pool_rank, n_ranks, tab_xcap, tab_p,
                            pack, hall_par, site_par, hall_it, cc,
                        )  # fmt: skip
                        if not met and scope == 1:
                            # Even parked, the racks draw more than the site can be supplied.
                            if not shed_any:
                                cs_work[:, :] = cell_state
                                cs = cs_work
                                shed_any = True
                            site_parked_w[idx] = _subset_power_w(
                                1, idx, *args, tab_xcap, tab_p, pack, hall_par, site_par,
                                hall_it, cc,
                            )  # fmt: skip
                            site_on[idx] = _shed_site(
                                idx, limit, cap, offered_rack, cs, cell_state, cell_pool,
                                cell_hall, tab_xcap, tab_p, pack, hall_par, site_par, hall_it,
                                cc,
                            )  # fmt: skip
            # After capping, a new round moves load to racks with headroom; the last round
            # keeps the offered loads, so the caps just solved hold.
            if not violated or rnd == MAX_DISPATCH_ROUNDS - 1:
                break

        # Final operating point of every cell.
        hall_it[:] = 0.0
        served_cls[:] = 0.0
        cap_cls[:] = 0.0
        slo_w = 0.0
        throttled_cap = 0.0
        unthrottled_cap = 0.0
        throttled_lost = 0.0
        for c in range(n_cell):
            # Capacity a thermal limit withheld: the drop below the state cap in halls whose
            # binding limit was their cooling (a site limit in the same tick is counted here).
            n_c = cs[c, L.C_SERVING]
            x_state = interp_cap(tab_xcap, cell_pool[c], cell_state[c, L.C_THERMAL_CAP])
            unthrottled_cap += n_c * x_state
            if thermal_bound[cell_hall[c]] > 0.0:
                x_fin = interp_cap(tab_xcap, cell_pool[c], cap[c])
                throttled_cap += n_c * max(x_state - x_fin, 0.0)
                x_r0, _ = _cell_point(c, cap[c], offered_rack[c], cell_pool, tab_xcap, tab_p, pack)
                throttled_lost += n_c * max(min(offered_first[c], x_state) - x_r0, 0.0)
        for c in range(n_cell):
            p = cell_pool[c]
            k = pool_class[p]
            x_r, p_r = _cell_point(c, cap[c], offered_rack[c], cell_pool, tab_xcap, tab_p, pack)
            n_serv = cs[c, L.C_SERVING]
            delivered[c] = n_serv * x_r
            served_cls[k] += delivered[c]
            xc = interp_cap(tab_xcap, p, cap[c])
            cap_cls[k] += n_serv * xc
            h = cell_hall[c]
            hall_it[h] += n_serv * p_r
            hall_it[h] += cs[c, L.C_BURNIN] * interp_table(tab_p, p, 1.0, 1.0)
            hall_it[h] += cs[c, L.C_IDLE] * interp_table(tab_p, p, 0.0, 1.0)
            if class_par[k, L.K_INTERACTIVE] > 0.0 and xc > 0.0:
                util = min(x_r / max(xc, 1e-300), 1.0)
                u_pos = util * (n_u - 1)
                j = min(int(u_pos), n_u - 2)
                f = u_pos - j
                att = tab_slo[p, j] * (1.0 - f) + tab_slo[p, j + 1] * f
                slo_w += delivered[c] * att
            rec[row, L.R_CAPACITY] += n_serv * xc * w_rec
            hall_rec[hrow, h, L.HR_CAP] += cap[c] * n_serv * w_hall
            hall_rec[hrow, h, L.HR_SERVING] += n_serv * w_hall

        # Backlog and unserved.
        demand_total = 0.0
        served_total = 0.0
        unserved_total = 0.0
        backlog_total = 0.0
        interactive_demand = 0.0
        capped_lost = 0.0
        for k in range(n_class):
            d = demand_tok_per_s[k, t]
            demand_total += d
            capped_lost += max(served_first[k] - served_cls[k], 0.0)
            if class_par[k, L.K_INTERACTIVE] > 0.0:
                interactive_demand += d
            if class_par[k, L.K_DEFERRABLE] > 0.0:
                ring = backlog_tok[k, : int(class_par[k, L.K_BUCKETS])]
                served_tok, _, backlog_head[k] = backlog_step(
                    ring, backlog_head[k], d * dt_s, served_cls[k] * dt_s, False
                )
                served_cls[k] = served_tok / dt_s
                unserved_k = expired[k] / dt_s
                bl = ring.sum()
            else:
                unserved_k = max(d - served_cls[k], 0.0)
                bl = 0.0
            served_total += served_cls[k]
            unserved_total += unserved_k
            backlog_total += bl
            class_rec[row, k, L.KR_DEMAND] += d * w_rec
            class_rec[row, k, L.KR_SERVED] += served_cls[k] * w_rec
            class_rec[row, k, L.KR_UNSERVED] += unserved_k * w_rec
            class_rec[row, k, L.KR_BACKLOG] += bl * w_rec
            class_rec[row, k, L.KR_CAPACITY] += cap_cls[k] * w_rec

        # Power chain, hall by hall (a dark site draws nothing, not even no-load losses).
        it_total = 0.0
        losses_total = 0.0
        mech_total = 0.0
        facility_total = 0.0
        import_total = 0.0
        site_xfmr_out[:] = 0.0
        site_loss[:] = 0.0
        site_mech[:] = 0.0
        heat_total = 0.0
        heat_residual = 0.0
        t_fws_sum = 0.0
        n_liquid = 0
        t_fws_max = -np.inf
        t_tcs_max = -np.inf
        for h in range(n_hall):
            s = int(hall_par[h, L.H_SITE])
            if site_on[s] <= 0.0:
                continue  # a dark hall: nothing runs, its loops keep their state
            # The cap solve evaluated this step on a scratch copy; now the loops move on.
            ups_out, loss_h, mech_h = _hall_chain(h, hall_it[h], hall_par, cc, True)
            heat_h = ups_out
            site_xfmr_out[s] += hall_it[h] + loss_h + mech_h
            site_loss[s] += loss_h
            site_mech[s] += mech_h
            heat_total += heat_h
            heat_residual += heat_h - cool_out[CL.CO_HEAT_REJECTED_W] - cool_out[CL.CO_STORED_W]
            rec[row, L.R_HEAT] += heat_h * w_rec
            rec[row, L.R_HEAT_REJECTED] += cool_out[CL.CO_HEAT_REJECTED_W] * w_rec
            rec[row, L.R_HEAT_STORED] += cool_out[CL.CO_STORED_W] * w_rec
            rec[row, L.R_PUMPS] += cool_out[CL.CO_PUMPS_W] * w_rec
            rec[row, L.R_REJECTION_FANS] += cool_out[CL.CO_HEAT_REJECTION_FANS_W] * w_rec
            rec[row, L.R_CHILLERS] += cool_out[CL.CO_CHILLERS_W] * w_rec
            rec[row, L.R_CRAH] += cool_out[CL.CO_CRAH_W] * w_rec
            rec[row, L.R_WATER] += cool_out[CL.CO_WATER_L_PER_S] * w_rec
            hall_rec[hrow, h, L.HR_WATER] += cool_out[CL.CO_WATER_L_PER_S] * w_hall
            hall_rec[hrow, h, L.HR_THERMAL_BOUND] += thermal_bound[h] * w_hall
            live = hall_energised[h] and hall_cooled[h]
            if live and cool_par[h, CL.CP_TYPE] != CL.COOLING_FIXED_COP:
                n_liquid += 1
                t_fws = cool_out[CL.CO_T_FWS_DEGC]
                t_tcs = cool_out[CL.CO_T_TCS_SUPPLY_DEGC]
                t_fws_sum += t_fws
                t_fws_max = max(t_fws_max, t_fws)
                t_tcs_max = max(t_tcs_max, t_tcs)
                hall_rec[hrow, h, L.HR_T_FWS] += t_fws * w_hall
                hall_rec[hrow, h, L.HR_T_TCS_SUPPLY] += t_tcs * w_hall
            hall_rec[hrow, h, L.HR_IT] += hall_it[h] * w_hall
            hall_rec[hrow, h, L.HR_UPS_OUT] += ups_out * w_hall
            hall_rec[hrow, h, L.HR_COOLING] += mech_h * w_hall
            it_total += hall_it[h]
            flow_check[1] = max(flow_check[1], ups_out / hall_par[h, L.H_FEED_LIMIT_W])
        if n_liquid > 0:  # liquid-cooled halls whose loops run this tick
            rec[row, L.R_T_FWS_MEAN] += t_fws_sum / n_liquid * w_rec
            if t_fws_max > -np.inf:
                rec[row, L.R_T_FWS_MAX] += t_fws_max * w_rec
                rec[row, L.R_T_TCS_MAX] += t_tcs_max * w_rec

        # Site balance: the sources meet the facility power; then the turbine commitment.
        supply_residual = 0.0
        for s in range(n_site):
            site_w = 0.0
            if site_on[s] > 0.0:
                xfmr = transformer_loss_w(
                    site_xfmr_out[s], site_par[s, L.S_XFMR_RATED_W],
                    site_par[s, L.S_XFMR_NO_LOAD], site_par[s, L.S_XFMR_LOAD_LOSS],
                )  # fmt: skip
                site_w = site_xfmr_out[s] + xfmr
                losses_total += site_loss[s] + xfmr
                mech_total += site_mech[s]
            facility_total += site_w
            g = site_grid_par[s]
            # The physical connection bounds what the contract makes available.
            avail = min(site_series[s, t, L.ST_GRID_AVAIL_W], site_par[s, L.S_IMPORT_LIMIT_W])
            imp, solar_u, clean_u, turb_w, batt_w, soc, spill, unmet = site_dispatch(
                site_w, avail, site_series[s, t, L.ST_SOLAR_W], site_series[s, t, L.ST_CLEAN_W],
                site_series[s, t, L.ST_BATT_CMD], site_state[s, L.SS_SOC_J],
                site_state[s, L.SS_TURB_ONLINE], g[G.G_BATT_POWER_W], g[G.G_BATT_ENERGY_J],
                g[G.G_BATT_ETA_CHARGE_FRAC], g[G.G_BATT_ETA_DISCHARGE_FRAC],
                g[G.G_BATT_RESERVE_J], int(g[G.G_BATT_POLICY]), g[G.G_PEAK_THRESHOLD_W],
                g[G.G_TURB_UNIT_W], g[G.G_TURB_MIN_LOAD_FRAC], dt_s,
            )  # fmt: skip
            site_state[s, L.SS_SOC_J] = soc
            supply_residual = max(
                supply_residual,
                abs(site_w - (imp + solar_u + clean_u + turb_w + batt_w + unmet))
                / max(site_w, 1.0),
            )
            if avail > 0.0:
                flow_check[1] = max(flow_check[1], imp / avail)
            elif imp > 0.0:
                flow_check[1] = max(flow_check[1], np.inf)
            if unmet > 1e-6 * max(site_w, 1.0):
                flow_check[1] = max(flow_check[1], np.inf)
            # Units start for what the racks want beyond the grid and must-take supply.
            need = site_want[s] - avail - site_series[s, t, L.ST_SOLAR_W]
            need -= site_series[s, t, L.ST_CLEAN_W]
            on, starting, left, surplus, _ = turbine_commit(
                need, site_state[s, L.SS_TURB_ONLINE], site_state[s, L.SS_TURB_STARTING],
                site_state[s, L.SS_TURB_START_LEFT_S], site_state[s, L.SS_TURB_SURPLUS_S],
                g[G.G_TURB_UNITS], g[G.G_TURB_UNIT_W], g[G.G_TURB_START_S],
                g[G.G_TURB_MIN_RUN_S], dt_s,
            )  # fmt: skip
            site_rec[row, s, L.SR_TURB_ONLINE] += site_state[s, L.SS_TURB_ONLINE] * w_rec
            site_state[s, L.SS_TURB_ONLINE] = on
            site_state[s, L.SS_TURB_STARTING] = starting
            site_state[s, L.SS_TURB_START_LEFT_S] = left
            site_state[s, L.SS_TURB_SURPLUS_S] = surplus
            import_total += imp
            site_rec[row, s, L.SR_FACILITY] += site_w * w_rec
            site_rec[row, s, L.SR_GRID_IMPORT] += imp * w_rec
            site_rec[row, s, L.SR_SOLAR] += solar_u * w_rec
            site_rec[row, s, L.SR_CLEAN] += clean_u * w_rec
            site_rec[row, s, L.SR_TURBINE] += turb_w * w_rec
            site_rec[row, s, L.SR_BATTERY] += batt_w * w_rec
            site_rec[row, s, L.SR_SOC] += soc * w_rec
            site_rec[row, s, L.SR_SPILL] += spill * w_rec
            contract = site_series[s, t, L.ST_CONTRACT_W]
            site_rec[row, s, L.SR_CURTAILED] += max(contract - avail, 0.0) * w_rec
            site_rec[row, s, L.SR_GRID_AVAIL] += avail * w_rec
            if site_on[s] < 1.0:
                site_rec[row, s, L.SR_SHED] += max(site_parked_w[s] - site_w, 0.0) * w_rec
            site_rec[row, s, L.SR_UNMET] += unmet * w_rec
            # Spill cuts solar first, then the clean block, then turbine output at minimum
            # load: what is left of the spill was burnt in the turbines all the same.
            t_spill = spill - (site_series[s, t, L.ST_SOLAR_W] - solar_u)
            t_spill -= site_series[s, t, L.ST_CLEAN_W] - clean_u
            site_rec[row, s, L.SR_TURBINE_GROSS] += (turb_w + max(t_spill, 0.0)) * w_rec
        residual = facility_total - (it_total + mech_total + losses_total)
        flow_check[0] = max(
            flow_check[0],
            abs(residual) / max(facility_total, 1.0),
            supply_residual,
            abs(heat_residual) / max(heat_total, 1.0),
        )

        rec[row, L.R_DEMAND] += demand_total * w_rec
        rec[row, L.R_SERVED] += served_total * w_rec
        rec[row, L.R_UNSERVED] += unserved_total * w_rec
        rec[row, L.R_BACKLOG] += backlog_total * w_rec
        thermal_lost = min(throttled_lost, capped_lost)
        rec[row, L.R_POWER_CAPPED] += (capped_lost - thermal_lost) * w_rec
        rec[row, L.R_THERMAL_CAPPED] += thermal_lost * w_rec
        rec[row, L.R_THROTTLED_CAPACITY] += throttled_cap * w_rec
        rec[row, L.R_UNTHROTTLED_CAPACITY] += unthrottled_cap * w_rec
        rec[row, L.R_SLO_WEIGHTED] += slo_w * w_rec
        rec[row, L.R_INTERACTIVE_DEMAND] += interactive_demand * w_rec
        rec[row, L.R_IT] += it_total * w_rec
        rec[row, L.R_COOLING] += mech_total * w_rec
        rec[row, L.R_LOSSES] += losses_total * w_rec
        rec[row, L.R_FACILITY] += facility_total * w_rec
        rec[row, L.R_GRID_IMPORT] += import_total * w_rec
        rec[row, L.R_GPUS] += gpus * w_rec
