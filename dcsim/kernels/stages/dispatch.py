"""Stage 3: dispatch, the cap solve that meets the hall and site limits, the final point.

Dispatch: each class's served rate = min(offered, capacity of its racks at their caps),
spread over its cells in proportion to their capacity. A hall over its limit (feed or heat)
or a site over its supply lowers the power caps of its racks, lowest-priority pools first
(bisection on a common scale of the caps of one rank), then load is dispatched again so
that it moves to racks with headroom. A site whose racks, all parked, still draw more than it
can be supplied sheds a share of them (all racks of the site, evenly). How a site's racks
come down is its power policy (:mod:`.policy`): caps by priority (above), one common cap over
all its pools, or whole racks parked by priority.
"""

from __future__ import annotations

import math

from dcsim.kernels.compiled import inline_fn, loop_fn
from dcsim.kernels.inplace import copy_into
from dcsim.kernels.stages.chain import site_power_w
from dcsim.kernels.stages.policy import POLICY_PARK, POLICY_UNIFORM_LIMIT
from dcsim.kernels.stages.route import route_load
from dcsim.kernels.tables import interp_cap, interp_table
from dcsim.physics.compute import running_share_frac
from dcsim.physics.power_chain import pdu_loss_w

#: Re-dispatch rounds per tick before the caps are fixed without moving load (each round only
#: lowers caps, so the loop is monotone; real cases settle in one or two).
MAX_DISPATCH_ROUNDS = 4
#: Bisection steps on a pool's cap: 2^-40 of the cap range, far below any physical meaning.
CAP_BISECTION_STEPS = 40


@inline_fn
def cell_point(p, cap, offered_rack, tab_xcap, tab_p, pack):
    """Delivered rate [tok/s] and wall power [W] of one serving rack of pool p."""
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


@inline_fn
def outside_it_w(h, cap, racks, parked, cells, pools, halls, probe):
    """IT power outside the racks of hall h (fabric, storage, management) [W].

    Per rack unit: a serving rack draws the loaded figure, an idle, burn-in or parked rack
    the idle one (:func:`dcsim.model.fabric.build_facility_it`), also a serving rack a cap
    below the lowest settable limit parks (:func:`dcsim.physics.compute.running_share_frac`).
    Shedding racks switches their share off with them.
    """
    serving, burn_in, idle = racks.serving, racks.burn_in, racks.idle
    pool, on_cap = cells.pool, pools.on_cap
    hall_cells = probe.hall_cells
    n_serving = 0.0
    n_idle = 0.0
    for i in range(probe.hall_first[h], probe.hall_first[h + 1]):
        c = hall_cells[i]
        on = running_share_frac(cap[c], on_cap[pool[c]])
        n_serving += on * serving[c]
        n_idle += (1.0 - on) * serving[c] + burn_in[c] + idle[c] + parked[c]
    return n_serving * halls.outside_serving_w[h] + n_idle * halls.outside_idle_w[h]


@inline_fn
def hall_it_w(h, cap, racks, cells, pools, halls, probe):
    """IT power of hall h for given caps and offered loads: racks and outside them [W].

    ``probe.parked`` racks (per cell) draw nothing themselves, their share outside the racks
    idles; ``probe.offered_rack`` is the load offered to one serving rack. Each cell's
    operating point is kept in ``probe.point_x`` and ``point_p``.
    """
    # Arrays taken out of the bundles once: an attribute read inside the loop would cost a
    # reference-count pair per cell.
    pool = cells.pool
    serving, burn_in, idle = racks.serving, racks.burn_in, racks.idle
    tab_xcap, tab_p, pack, on_cap = pools.tab_xcap, pools.tab_p, pools.pack, pools.on_cap
    offered_rack, parked = probe.offered_rack, probe.parked
    hall_cells, p_full_w, p_idle_w = probe.hall_cells, probe.p_full_w, probe.p_idle_w
    point_x, point_p = probe.point_x, probe.point_p
    out_serving_w, out_idle_w = halls.outside_serving_w[h], halls.outside_idle_w[h]
    it_w = halls.training_w[h]  # training jobs' racks: not capped (stages/training.py)
    for i in range(probe.hall_first[h], probe.hall_first[h + 1]):
        c = hall_cells[i]
        x_rack, p_rack = cell_point(pool[c], cap[c], offered_rack[c], tab_xcap, tab_p, pack)
        point_x[c] = x_rack
        point_p[c] = p_rack
        on = running_share_frac(cap[c], on_cap[pool[c]])
        it_w += serving[c] * (p_rack + on * out_serving_w + (1.0 - on) * out_idle_w)
        it_w += burn_in[c] * (p_full_w[c] + out_idle_w)
        it_w += idle[c] * (p_idle_w[c] + out_idle_w)
        it_w += parked[c] * out_idle_w
    return it_w


@loop_fn
def subset_power_w(scope, idx, cap, racks, cells, pools, halls, sites, probe, dt_s):
    """Power a limit applies to: hall UPS output (scope 0) or site meter (scope 1) [W]."""
    if scope == 0:
        it_w = hall_it_w(idx, cap, racks, cells, pools, halls, probe)
        return it_w + pdu_loss_w(it_w, halls.pdu_eff_frac[idx])
    for h in range(halls.site.shape[0]):
        if halls.site[h] == idx:
            probe.hall_it[h] = hall_it_w(h, cap, racks, cells, pools, halls, probe)
    return site_power_w(idx, probe.hall_it, halls, sites, probe, dt_s)


@inline_fn
def _in_scope(c, scope, idx, cells, halls):
    if scope == 0:
        return cells.hall[c] == idx
    return halls.site[cells.hall[c]] == idx


@loop_fn
def cap_to_limit(scope, idx, limit_w, racks, cells, pools, halls, sites, work, dt_s, uniform):
    """Lower ``work.cap`` in a hall or site, lowest rank first, until its power <= limit.

    With ``uniform`` every pool in the scope is one rank: one common factor on all caps (the
    ``uniform_limit`` policy). Returns True if the limit could be met with serving racks alone
    (burn-in and idle racks are not capped; a limit below their draw is a configuration the
    checks reject).
    """
    cap = work.cap
    probe = work.probe
    trial = work.trial
    copy_into(trial, cap)
    in_rank = work.in_rank
    n_cell = cells.pool.shape[0]
    n_ranks = 1 if uniform else pools.n_ranks
    for r in range(n_ranks):
        for c in range(n_cell):
            in_rank[c] = (uniform or pools.rank[cells.pool[c]] == r) and _in_scope(
                c, scope, idx, cells, halls
            )
        if not in_rank.any():
            continue
        # Largest common scale s in [0, 1] of this rank's caps with power <= limit.
        for c in range(n_cell):
            if in_rank[c]:
                trial[c] = 0.0
        if (
            subset_power_w(scope, idx, trial, racks, cells, pools, halls, sites, probe, dt_s)
            > limit_w
        ):
            copy_into(cap, trial)
            continue  # even parked, this rank leaves the scope over: go to the next rank
        lo = 0.0
        hi = 1.0
        for _ in range(CAP_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            for c in range(n_cell):
                if in_rank[c]:
                    trial[c] = cap[c] * mid
            if (
                subset_power_w(scope, idx, trial, racks, cells, pools, halls, sites, probe, dt_s)
                <= limit_w
            ):
                lo = mid
            else:
                hi = mid
        for c in range(n_cell):
            if in_rank[c]:
                cap[c] = cap[c] * lo
        return True
    return False


@inline_fn
def _park_share(keep_frac, racks, work):
    """Keep the share ``keep_frac`` of the serving racks of the cells in ``work.in_rank``."""
    for c in range(work.in_rank.shape[0]):
        if work.in_rank[c]:
            racks.serving[c] = work.park_base[c] * keep_frac
            work.parked[c] = work.trial[c] + work.park_base[c] * (1.0 - keep_frac)


@loop_fn
def park_to_limit(scope, idx, limit_w, racks, cells, pools, halls, sites, work, dt_s):
    """Switch off serving racks in a hall or site, lowest rank first, until its power <= limit.

    The ``park`` policy: the racks left on keep their caps; of each rank in turn a common
    share of its serving racks (in every cell of the scope) is switched off, found by
    bisection, moving to the next rank only when the whole rank off is not enough. Works on
    ``racks`` (``work.shed``, a copy of the live racks) and ``work.parked``. Returns True if
    the limit could be met.
    """
    probe = work.probe
    in_rank = work.in_rank
    n_cell = cells.pool.shape[0]
    for r in range(pools.n_ranks):
        for c in range(n_cell):
            in_rank[c] = (
                pools.rank[cells.pool[c]] == r
                and racks.serving[c] > 0.0
                and _in_scope(c, scope, idx, cells, halls)
            )
            if in_rank[c]:
                work.park_base[c] = racks.serving[c]
                work.trial[c] = work.parked[c]
        if not in_rank.any():
            continue
        _park_share(0.0, racks, work)
        if (
            subset_power_w(scope, idx, work.cap, racks, cells, pools, halls, sites, probe, dt_s)
            > limit_w
        ):
            continue  # even all off, this rank leaves the scope over: go to the next rank
        lo = 0.0
        hi = 1.0
        for _ in range(CAP_BISECTION_STEPS):
            mid = 0.5 * (lo + hi)
            _park_share(mid, racks, work)
            if (
                subset_power_w(scope, idx, work.cap, racks, cells, pools, halls, sites, probe, dt_s)
                <= limit_w
            ):
                lo = mid
            else:
                hi = mid
        _park_share(lo, racks, work)
        return True
    return False


@loop_fn
def _unpark_site(s, racks, live, cells, halls, work):
    """Put site s's parked racks back, capped to zero, before the site sheds.

    Shedding scales the live racks of the site at the caps of a failed cap solve (all zero),
    so a parked site must reach the same state whatever its policy.
    """
    for c in range(cells.pool.shape[0]):
        if halls.site[cells.hall[c]] == s:
            racks.serving[c] = live.serving[c]
            work.parked[c] = 0.0
            work.cap[c] = 0.0


@inline_fn
def _scale_site(s, frac, shed, live, cells, halls):
    for c in range(cells.pool.shape[0]):
        if halls.site[cells.hall[c]] == s:
            shed.serving[c] = live.serving[c] * frac
            shed.burn_in[c] = live.burn_in[c] * frac
            shed.idle[c] = live.idle[c] * frac


@loop_fn
def shed_site(s, limit_w, live, cells, pools, halls, sites, work, dt_s):
    """Switch off a share of site s's racks (all of them, evenly) so its power <= limit.

    Works on ``work.shed`` (a copy of ``live``). Returns the share kept on [0..1]; 0 means
    the site is dark (nothing energised, not even the no-load losses of UPS and transformer).
    """
    shed = work.shed
    probe = work.probe
    lo = 0.0
    hi = 1.0
    for _ in range(CAP_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        _scale_site(s, mid, shed, live, cells, halls)
        if subset_power_w(1, s, work.cap, shed, cells, pools, halls, sites, probe, dt_s) <= limit_w:
            lo = mid
        else:
            hi = mid
    _scale_site(s, lo, shed, live, cells, halls)
    if lo < 2.0 ** -(CAP_BISECTION_STEPS - 2):
        _scale_site(s, 0.0, shed, live, cells, halls)
        return 0.0
    return lo


@loop_fn
def _dispatch(racks, cells, pools, work, regions):
    """Spread each class's offered load over its cells in proportion to their capacity.

    With user regions the load is routed to sites first (:func:`route.route_load`), then
    spread over the class's cells at each site by capacity.
    """
    work.cls_cap[:] = 0.0
    n_cell = cells.pool.shape[0]
    for c in range(n_cell):
        work.x_cap[c] = interp_cap(pools.tab_xcap, cells.pool[c], work.cap[c])
        work.cls_cap[pools.klass[cells.pool[c]]] += racks.serving[c] * work.x_cap[c]
    if regions.enabled:
        route_load(racks, cells, pools, regions, work)
        return
    for c in range(n_cell):
        k = pools.klass[cells.pool[c]]
        share = 0.0
        if work.cls_cap[k] > 0.0:
            share = min(work.offered[k] / work.cls_cap[k], 1.0)
        work.offered_rack[c] = share * work.x_cap[c]


@inline_fn
def _own_racks(shed_any, live, work):
    """The racks the solve may change: ``work.shed``, a copy of ``live`` made once a tick."""
    if not shed_any:
        copy_into(work.shed.serving, live.serving)
        copy_into(work.shed.burn_in, live.burn_in)
        copy_into(work.shed.idle, live.idle)
    return work.shed


@inline_fn
def _within(p_now, limit, work):
    """``p_now <= limit``; a NaN on either side is a failed check (see record_tick)."""
    if math.isnan(p_now) or math.isnan(limit):
        work.nan_limit[0] = True
    return not p_now > limit


@loop_fn
def limits_hold(live, cells, pools, halls, sites, work, dt_s, regions):
    """The first round of :func:`solve_caps`; True if no hall or site limit binds.

    Dispatches the load over ``live`` at the start caps and checks every hall, then every
    site, as the first round of :func:`solve_caps` does, writing the same fields. When all
    limits hold (most ticks), that round's caps and loads are the solution and this also
    writes ``work.hall_out_it``: the caller skips :func:`solve_caps` and uses ``live``.
    Otherwise it stops at the first limit exceeded and :func:`solve_caps` solves the tick
    from the start, overwriting everything written here. Kept apart from :func:`solve_caps`
    so the common tick runs through this short path only.
    """
    work.parked[:] = 0.0
    work.policy_acted[:] = 0.0
    _dispatch(live, cells, pools, work, regions)
    for k in range(work.offered.shape[0]):
        work.served_first[k] = min(work.offered[k], work.cls_cap[k])
    copy_into(work.offered_first, work.offered_rack)
    n_hall = halls.site.shape[0]
    probe = work.probe
    # Halls first (scope 0 of subset_power_w), then sites (scope 1). A site's power sums the
    # IT of its halls at the same caps and loads: each hall's IT, evaluated once here, is
    # the figure subset_power_w would evaluate again for the site (the same values).
    for h in range(n_hall):
        it_w = hall_it_w(h, work.cap, live, cells, pools, halls, probe)
        probe.hall_it[h] = it_w
        p_now = it_w + pdu_loss_w(it_w, halls.pdu_eff_frac[h])
        if not _within(p_now, work.hall_limit[h], work):
            return False
    for s in range(sites.import_limit_w.shape[0]):
        p_now = site_power_w(s, probe.hall_it, halls, sites, probe, dt_s)
        work.site_want[s] = p_now
        if not _within(p_now, work.site_limit[s], work):
            return False
    for h in range(n_hall):
        work.hall_out_it[h] = (
            outside_it_w(h, work.cap, live, work.parked, cells, pools, halls, work.probe)
            + halls.training_w[h]
        )
    return True


@loop_fn
def solve_caps(live, cells, pools, halls, sites, work, dt_s, regions):
    """Dispatch, check the hall then site limits, cap, dispatch again; True if racks went off.

    Reads ``work.offered``, ``cap`` (start caps), ``hall_limit``, ``site_limit``; writes
    ``work.cap``, ``offered_rack``, ``served_first``, ``offered_first``, ``site_want``,
    ``site_on``, ``site_parked_w``, ``parked``, ``policy_acted`` and ``hall_out_it`` (IT
    outside the racks of the racks returned). Each site's limits are met by its power policy
    (``sites.power_policy``, :mod:`.policy`). Returns whether a site parked or shed racks:
    the tick's racks are then ``work.shed``, else ``live`` (a flag, not the racks: the tick
    loop, compiled without reference counting, must not receive a reference). ``regions``:
    the routing of user regions (:mod:`dcsim.kernels.stages.route`), disabled without them.
    """
    cs = live
    shed_any = False  # cs is work.shed: racks parked or shed this tick
    work.parked[:] = 0.0
    work.policy_acted[:] = 0.0
    n_hall = halls.site.shape[0]
    n_site = sites.import_limit_w.shape[0]
    for rnd in range(MAX_DISPATCH_ROUNDS + 1):
        _dispatch(cs, cells, pools, work, regions)
        if rnd == 0:
            for k in range(work.offered.shape[0]):
                work.served_first[k] = min(work.offered[k], work.cls_cap[k])
            copy_into(work.offered_first, work.offered_rack)
        violated = False
        # Halls first (scope 0, limit at the UPS output), then sites (scope 1, meter).
        for scope in range(2):
            n_scope = n_hall if scope == 0 else n_site
            for idx in range(n_scope):
                limit = work.hall_limit[idx] if scope == 0 else work.site_limit[idx]
                p_now = subset_power_w(
                    scope, idx, work.cap, cs, cells, pools, halls, sites, work.probe, dt_s
                )
                if scope == 1 and rnd == 0:
                    work.site_want[idx] = p_now
                if math.isnan(p_now) or math.isnan(limit):
                    work.nan_limit[0] = True  # a failed check (see record_tick), not a pass
                if not p_now > limit:
                    continue
                violated = True
                s_idx = halls.site[idx] if scope == 0 else idx
                work.policy_acted[s_idx] = 1.0
                policy = sites.power_policy[s_idx]
                if policy == POLICY_PARK:
                    cs = _own_racks(shed_any, live, work)
                    shed_any = True
                    met = park_to_limit(
                        scope, idx, limit, cs, cells, pools, halls, sites, work, dt_s
                    )
                else:
                    met = cap_to_limit(
                        scope, idx, limit, cs, cells, pools, halls, sites, work, dt_s,
                        policy == POLICY_UNIFORM_LIMIT,
                    )  # fmt: skip
                if not met and scope == 1:
                    # Even parked, the racks draw more than the site can be supplied.
                    cs = _own_racks(shed_any, live, work)
                    shed_any = True
                    if policy == POLICY_PARK:
                        _unpark_site(idx, cs, live, cells, halls, work)
                    work.site_parked_w[idx] = subset_power_w(
                        1, idx, work.cap, cs, cells, pools, halls, sites, work.probe, dt_s
                    )
                    work.site_on[idx] = shed_site(
                        idx, limit, live, cells, pools, halls, sites, work, dt_s
                    )
        # After capping, a new round moves load to racks with headroom; the last round keeps
        # the offered loads, so the caps just solved hold.
        if not violated or rnd == MAX_DISPATCH_ROUNDS - 1:
            break
    for h in range(n_hall):
        # Training jobs' IT joins the IT outside the capped racks (stages/training.py).
        work.hall_out_it[h] = (
            outside_it_w(h, work.cap, cs, work.parked, cells, pools, halls, work.probe)
            + halls.training_w[h]
        )
    return shed_any


@inline_fn
def _u_weights(n_u, util):
    """Grid index and weight of ``util`` on ``linspace(0, 1, n_u)`` (linear interpolation)."""
    u_pos = util * (n_u - 1)
    j = min(int(u_pos), n_u - 2)
    return j, u_pos - j


@inline_fn
def _cap_weights(pools, p, cap):
    """Row and weight of ``cap`` on pool p's latency cap grid (clamped to its ends)."""
    n_c = pools.tab_slo.shape[1]
    lo = pools.lat_cap_lo[p]
    pos = (cap - lo) / (1.0 - lo) * (n_c - 1) if lo < 1.0 else n_c - 1.0
    pos = min(max(pos, 0.0), n_c - 1.0)
    i = min(int(pos), n_c - 2)
    return i, pos - i


@inline_fn
def _bilinear(tab, i, g, j, f):
    """``tab[i:i+2, j:j+2]`` interpolated at weights ``g`` (rows) and ``f`` (columns)."""
    lo = tab[i, j] * (1.0 - f) + tab[i, j + 1] * f
    hi = tab[i + 1, j] * (1.0 - f) + tab[i + 1, j + 1] * f
    return lo * (1.0 - g) + hi * g


@inline_fn
def _slo_attainment(pools, p, cap, util):
    """SLO attainment of pool p under a cap at a utilisation of its capped capacity [frac]."""
    i, g = _cap_weights(pools, p, cap)
    j, f = _u_weights(pools.tab_slo.shape[2], util)
    return _bilinear(pools.tab_slo[p], i, g, j, f)


@inline_fn
def _add_latency(k, p, cap, util, served, attain, pools, work):
    """Add served x (attainment, TTFT p50, p99, TPOT p50, p99) of pool p to class k."""
    lat = work.latency_cls
    tab = pools.tab_latency
    i, g = _cap_weights(pools, p, cap)
    j, f = _u_weights(tab.shape[3], util)
    lat[k, 0] += served
    lat[k, 1] += served * attain
    for q in range(4):
        lat[k, 2 + q] += served * _bilinear(tab[p, q], i, g, j, f)


@loop_fn
def operating_point(cs, cells, pools, classes, work, fresh):
    """Final operating point of every cell; returns the tick's service figures.

    Writes ``work.delivered``, ``x_cap`` (capacity at the final cap), ``served_cls``,
    ``cap_cls``, ``proxy_cls`` (share of the class's service on proxy pools),
    ``latency_cls`` (served-weighted latency of interactive classes, at the utilisation of
    the capped capacity, like the attainment) and ``hall_it`` (racks plus ``hall_out_it``,
    the IT outside them). Returns (SLO-weighted served [tok/s], capacity withheld by thermal
    limits [tok/s], capacity at uncapped racks [tok/s], service lost to thermal limits
    [tok/s]). Capacity a thermal limit withheld is the drop below the uncapped capacity in
    halls whose binding limit was their cooling (a site limit in the same tick is counted
    there too). ``fresh``: the caps and loads are those of the last dispatch and hall IT
    evaluation (:func:`limits_hold` held), so each cell's capacity at its cap
    (``work.x_cap``) and operating point (``probe.point_x``, ``point_p``) are taken from them
    rather than looked up again: the same lookups on the same inputs.
    """
    copy_into(work.hall_it, work.hall_out_it)
    work.latency_cls[:] = 0.0
    work.proxy_cls[:] = 0.0
    work.served_cls[:] = 0.0
    work.cap_cls[:] = 0.0
    slo_w = 0.0
    throttled_cap = 0.0
    unthrottled_cap = 0.0
    throttled_lost = 0.0
    n_cell = cells.pool.shape[0]
    for c in range(n_cell):
        n_c = cs.serving[c]
        x_state = work.probe.x_full[c]
        unthrottled_cap += n_c * x_state
        # Racks a park policy switched off withhold all their capacity (0 unless parked).
        n_park = work.parked[c]
        unthrottled_cap += n_park * x_state
        if work.thermal_bound[cells.hall[c]] > 0.0:
            if fresh:
                x_fin, x_r0 = work.x_cap[c], work.probe.point_x[c]
            else:
                x_fin = interp_cap(pools.tab_xcap, cells.pool[c], work.cap[c])
                x_r0, _ = cell_point(
                    cells.pool[c], work.cap[c], work.offered_rack[c], pools.tab_xcap,
                    pools.tab_p, pools.pack,
                )  # fmt: skip
            throttled_cap += n_c * max(x_state - x_fin, 0.0)
            throttled_lost += n_c * max(min(work.offered_first[c], x_state) - x_r0, 0.0)
            throttled_cap += n_park * x_state
            throttled_lost += n_park * min(work.offered_first[c], x_state)
    for c in range(n_cell):
        p = cells.pool[c]
        k = pools.klass[p]
        if fresh:
            x_r, p_r, xc = work.probe.point_x[c], work.probe.point_p[c], work.x_cap[c]
        else:
            x_r, p_r = cell_point(
                p, work.cap[c], work.offered_rack[c], pools.tab_xcap, pools.tab_p, pools.pack
            )
            xc = interp_cap(pools.tab_xcap, p, work.cap[c])
        n_serv = cs.serving[c]
        work.delivered[c] = n_serv * x_r
        work.served_cls[k] += work.delivered[c]
        if pools.proxy[p]:
            work.proxy_cls[k] += work.delivered[c]
        work.x_cap[c] = xc
        work.cap_cls[k] += n_serv * xc
        h = cells.hall[c]
        work.hall_it[h] += n_serv * p_r
        work.hall_it[h] += cs.burn_in[c] * work.probe.p_full_w[c]
        work.hall_it[h] += cs.idle[c] * work.probe.p_idle_w[c]
        if classes.interactive[k] and xc > 0.0:
            util = min(x_r / max(xc, 1e-300), 1.0)
            attain = _slo_attainment(pools, p, work.cap[c], util)
            slo_w += work.delivered[c] * attain
            _add_latency(k, p, work.cap[c], util, work.delivered[c], attain, pools, work)
    for k in range(work.served_cls.shape[0]):
        # As a share: settle_backlog may rebook a deferrable class's service.
        work.proxy_cls[k] = (
            work.proxy_cls[k] / work.served_cls[k] if work.served_cls[k] > 0 else 0.0
        )
    return slo_w, throttled_cap, unthrottled_cap, throttled_lost
