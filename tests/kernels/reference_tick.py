"""A reference tick in plain NumPy/Python, written independently of the compiled stages.

It covers campuses whose racks follow *linear* operating points (a rack of pool p has
capacity ``X*_p c`` at cap c and draws ``P0_p + (P1_p - P0_p) u c`` when it delivers the
share u of that capacity; the kernel's bilinear tables reproduce this exactly) and whose halls
have fixed-COP cooling (mechanical power = heat / COP). It is composed from the physics
functions (:mod:`dcsim.physics.power_chain`, :mod:`dcsim.physics.onsite`,
:func:`dcsim.physics.demand.backlog_step`) called as plain Python, with closed-form rack
points instead of the kernel's table lookups, and root finding by ``scipy.optimize.brentq``
instead of the kernel's bisection.

The rules it implements are those of MODEL.md and ``docs/core.md``: offered = demand +
backlog; each class's load spread over its cells in proportion to capacity; a hall over its
feed (UPS output) or a site over its supply lowers the caps of its racks by a common factor,
lowest rank first (a rank that cannot meet the limit is parked and the next rank is capped),
then load is dispatched again (at most four rounds); a site whose parked racks still draw
more than its supply keeps an even share of its racks on (dark below 2^-38). Each serving
rack also draws the IT power outside it (fabric, storage, management) in its hall's IT.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from dcsim.physics.demand import backlog_step
from dcsim.physics.onsite import battery_limits_w, site_dispatch, turbine_commit
from dcsim.physics.power_chain import pdu_loss_w, transformer_loss_w, ups_loss_w

ROUNDS = 4
DARK_SHARE = 2.0**-38


@dataclass
class RefCampus:
    """A campus for the reference tick (arrays indexed by pool, cell, hall, site, class)."""

    x_star: np.ndarray  # (n_pool,) [tok/s]
    p0_w: np.ndarray  # (n_pool,) [W]
    p1_w: np.ndarray  # (n_pool,) [W]
    pool_class: np.ndarray
    pool_rank: np.ndarray
    cell_pool: np.ndarray
    cell_hall: np.ndarray
    serving: np.ndarray  # (n_cell,) racks
    hall_site: np.ndarray
    feed_w: np.ndarray
    pdu_eff: np.ndarray
    ups: np.ndarray  # (n_hall, 5): module W, modules, a0, a1, a2
    cop: np.ndarray
    import_w: np.ndarray
    xfmr: np.ndarray  # (n_site, 3): rated W, no-load, load-loss
    batt: np.ndarray  # (n_site, 5): power W, energy J, eta_c, eta_d, reserve J
    policy: np.ndarray  # (n_site,) int
    turb: np.ndarray  # (n_site, 5): units, unit W, start s, min load, min run s
    deferrable: np.ndarray  # (n_class,) bool
    bucket_ticks: np.ndarray
    buckets: np.ndarray
    #: IT power outside the racks (fabric, storage, management) per serving rack [W]
    outside_w: np.ndarray | None = None  # (n_hall,); None: none


def _rack_point(camp, cell, cap, offered_rack):
    """(delivered, wall power) of one serving rack, closed form."""
    p = camp.cell_pool[cell]
    x = camp.x_star[p] * min(max(cap, 0.0), 1.0)
    if x <= 0.0:
        return 0.0, camp.p0_w[p]
    u = min(offered_rack / x, 1.0)
    return u * x, camp.p0_w[p] + (camp.p1_w[p] - camp.p0_w[p]) * u * min(max(cap, 0.0), 1.0)


def _hall_it(camp, cap, offered_rack, racks):
    it = np.zeros(camp.feed_w.shape[0])
    out_w = np.zeros_like(it) if camp.outside_w is None else camp.outside_w
    for c in range(camp.cell_pool.shape[0]):
        h = camp.cell_hall[c]
        it[h] += racks[c] * (_rack_point(camp, c, cap[c], offered_rack[c])[1] + out_w[h])
    return it


def _chain(camp, h, it_w):
    """(UPS output, PDU + UPS loss, mechanical) of hall h [W]."""
    pdu = pdu_loss_w(it_w, camp.pdu_eff[h])
    ups = ups_loss_w(it_w + pdu, *camp.ups[h])
    return it_w + pdu, pdu + ups, (it_w + pdu) / camp.cop[h]


def _site_w(camp, s, it):
    out = 0.0
    for h in np.flatnonzero(camp.hall_site == s):
        _, loss, mech = _chain(camp, h, it[h])
        out += it[h] + loss + mech
    return out + transformer_loss_w(out, *camp.xfmr[s])


def _scope_w(camp, scope, idx, cap, offered_rack, racks):
    it = _hall_it(camp, cap, offered_rack, racks)
    if scope == 0:
        return it[idx] + pdu_loss_w(it[idx], camp.pdu_eff[idx])
    return _site_w(camp, idx, it)


def _in_scope(camp, scope, idx):
    if scope == 0:
        return camp.cell_hall == idx
    return camp.hall_site[camp.cell_hall] == idx


def _largest_ok(fn, limit):
    """Largest x in [0, 1] with fn(x) <= limit, fn increasing, fn(0) <= limit."""
    if fn(1.0) <= limit:
        return 1.0
    x = brentq(lambda v: fn(v) - limit, 0.0, 1.0, xtol=1e-16, rtol=1e-15)
    while x > 0.0 and fn(x) > limit:  # the root's float may sit just above the limit
        x = np.nextafter(x, 0.0)
    return x


def _cap_scope(camp, scope, idx, limit, cap, offered_rack, racks):
    members = _in_scope(camp, scope, idx)
    for r in range(int(camp.pool_rank.max()) + 1):
        rank = members & (camp.pool_rank[camp.cell_pool] == r)
        if not rank.any():
            continue
        parked = np.where(rank, 0.0, cap)
        if _scope_w(camp, scope, idx, parked, offered_rack, racks) > limit:
            cap[:] = parked
            continue

        def power(scale, rank=rank):
            return _scope_w(camp, scope, idx, np.where(rank, cap * scale, cap), offered_rack, racks)

        cap[rank] = cap[rank] * _largest_ok(power, limit)
        return True
    return False


def _dispatch(camp, offered, cap, racks):
    x = camp.x_star[camp.cell_pool] * np.clip(cap, 0.0, 1.0)
    k_of = camp.pool_class[camp.cell_pool]
    cls_cap = np.bincount(k_of, weights=racks * x, minlength=offered.shape[0])
    share = np.where(cls_cap > 0, np.minimum(offered / np.where(cls_cap > 0, cls_cap, 1), 1), 0)
    return share[k_of] * x, cls_cap


def reference_tick(camp, state, demand, avail_w, dt_s):
    """Advance ``state`` by one tick; returns the tick's figures (dict).

    ``state``: dict with ``backlog`` (n_class, n_buckets), ``head``, ``soc_j``,
    ``turb_online``, ``turb_starting``, ``turb_left_s``, ``turb_surplus_s`` (per site) and
    ``t`` (global tick); updated in place.
    """
    n_class = demand.shape[0]
    n_hall, n_site = camp.feed_w.shape[0], camp.import_w.shape[0]
    t = state["t"]
    offered = demand.astype(float).copy()
    expired = np.zeros(n_class)
    for k in np.flatnonzero(camp.deferrable):
        ring = state["backlog"][k, : camp.buckets[k]]
        _, expired[k], state["head"][k] = backlog_step(
            ring, state["head"][k], 0.0, 0.0, t % camp.bucket_ticks[k] == 0
        )
        offered[k] += ring.sum() / dt_s
    # Limits.
    site_limit = np.zeros(n_site)
    for s in range(n_site):
        site_limit[s] = (
            min(avail_w[s], camp.import_w[s]) + state["turb_online"][s] * camp.turb[s, 1]
        )
        if camp.policy[s] > 0:
            b = camp.batt[s]
            site_limit[s] += battery_limits_w(state["soc_j"][s], b[1], b[0], b[2], b[3], 0.0, dt_s)[
                0
            ]
    cap = np.ones(camp.cell_pool.shape[0])
    racks = camp.serving.astype(float).copy()
    site_on = np.ones(n_site)
    site_want = np.zeros(n_site)
    served_first = None
    for rnd in range(ROUNDS + 1):
        offered_rack, cls_cap = _dispatch(camp, offered, cap, racks)
        if rnd == 0:
            served_first = np.minimum(offered, cls_cap)
        violated = False
        for scope, n_scope, limits in ((0, n_hall, camp.feed_w), (1, n_site, site_limit)):
            for idx in range(n_scope):
                p_now = _scope_w(camp, scope, idx, cap, offered_rack, racks)
                if scope == 1 and rnd == 0:
                    site_want[idx] = p_now
                if p_now > limits[idx]:
                    violated = True
                    met = _cap_scope(camp, scope, idx, limits[idx], cap, offered_rack, racks)
                    if not met and scope == 1:
                        site_on[idx] = _shed(camp, idx, limits[idx], cap, offered_rack, racks)
        if not violated or rnd == ROUNDS - 1:
            break
    # Final operating point, backlog.
    served = np.zeros(n_class)
    for c in range(camp.cell_pool.shape[0]):
        served[camp.pool_class[camp.cell_pool[c]]] += (
            racks[c] * _rack_point(camp, c, cap[c], offered_rack[c])[0]
        )
    unserved = np.zeros(n_class)
    for k in range(n_class):
        if camp.deferrable[k]:
            ring = state["backlog"][k, : camp.buckets[k]]
            tok, _, state["head"][k] = backlog_step(
                ring, state["head"][k], demand[k] * dt_s, served[k] * dt_s, False
            )
            served[k] = tok / dt_s
            unserved[k] = expired[k] / dt_s
        else:
            unserved[k] = max(demand[k] - served[k], 0.0)
    it = _hall_it(camp, cap, offered_rack, racks)
    out = {"served": served, "unserved": unserved, "served_first": served_first, "cap": cap}
    out.update(_commit(camp, state, it, site_on, site_want, avail_w, dt_s))
    state["t"] = t + 1
    return out


def _shed(camp, s, limit, cap, offered_rack, racks):
    on_site = camp.hall_site[camp.cell_hall] == s
    full = np.where(on_site, camp.serving.astype(float), racks)  # a share of the live racks

    def power(share):
        return _scope_w(camp, 1, s, cap, offered_rack, np.where(on_site, full * share, full))

    share = _largest_ok(power, limit) if power(0.0) <= limit else 0.0
    if share < DARK_SHARE:
        share = 0.0
    racks[on_site] = full[on_site] * share
    return share


def _commit(camp, state, it, site_on, site_want, avail_w, dt_s):
    n_hall, n_site = camp.feed_w.shape[0], camp.import_w.shape[0]
    ups_out, losses, mech = np.zeros(n_hall), np.zeros(n_site), np.zeros(n_site)
    xfmr_out, facility = np.zeros(n_site), np.zeros(n_site)
    it = np.where(site_on[camp.hall_site] > 0, it, 0.0)
    for h in range(n_hall):
        s = camp.hall_site[h]
        if site_on[s] <= 0:
            continue
        ups_out[h], loss, m = _chain(camp, h, it[h])
        losses[s] += loss
        mech[s] += m
        xfmr_out[s] += it[h] + loss + m
    imp = np.zeros(n_site)
    unmet = np.zeros(n_site)
    for s in range(n_site):
        if site_on[s] > 0:
            xf = transformer_loss_w(xfmr_out[s], *camp.xfmr[s])
            facility[s] = xfmr_out[s] + xf
            losses[s] += xf
        a = min(avail_w[s], camp.import_w[s])
        b, tb = camp.batt[s], camp.turb[s]
        res = site_dispatch(
            facility[s], a, 0.0, 0.0, 0.0, state["soc_j"][s], state["turb_online"][s],
            b[0], b[1], b[2], b[3], b[4], int(camp.policy[s]), 0.0, tb[1], tb[3], dt_s,
        )  # fmt: skip
        imp[s], state["soc_j"][s], unmet[s] = res[0], res[5], res[7]
        (
            state["turb_online"][s], state["turb_starting"][s], state["turb_left_s"][s],
            state["turb_surplus_s"][s], _,
        ) = turbine_commit(
            site_want[s] - a, state["turb_online"][s], state["turb_starting"][s],
            state["turb_left_s"][s], state["turb_surplus_s"][s], tb[0], tb[1], tb[2], tb[4],
            dt_s,
        )  # fmt: skip
    return {
        "hall_it": it,
        "hall_ups_out": ups_out,
        "losses": losses.sum(),
        "cooling": mech.sum(),
        "facility": facility.sum(),
        "import": imp.sum(),
        "unmet": unmet.sum(),
        "site_on": site_on,
    }
