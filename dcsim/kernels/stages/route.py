"""Stages 1 and 3 with user regions: split each class's load by region, route it to sites.

Without regions (``regions.enabled`` false) nothing here runs and each class's load is spread
over all its racks by capacity (:func:`dcsim.kernels.stages.dispatch.solve_caps`).

With regions, per tick:

1. :func:`split_offered` (after stage 1): the offered load of class k (demand + backlog) is
   split over the regions in the shares of this tick's demand, and each (class, region)
   pair gets its order of sites by the policy: nearest (round trip), cost (energy price x
   IT energy per token of the class's racks at the site) or carbon (grid intensity x the
   same energy); ties by round trip, then site index.
2. :func:`route_load` (in every dispatch round of stage 3, at the caps of that round): a
   region may load site s up to its *room*, the capacity of the class's racks there times
   the utilisation ceiling within the SLO for that region's round trip
   (``dcsim.model.regions.utilisation_ceiling_frac``), less what other regions already put
   there. Rank by rank (every region's first choice, then every region's second, ...),
   regions in index order, each takes what fits (:func:`fill_routes`); without spill-over a
   region uses only its first site with room. Load that fits nowhere is not offered (it is
   unserved, or stays queued if deferrable). Within a site the class's load is spread over
   its cells by capacity, as without regions.
3. :func:`record_regions` (after the backlog bookkeeping): per class and region, demand,
   served (each site's routed load times the share of it the site served), unserved, the
   served-weighted round trip and the load served at each site.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from dcsim.kernels.bundles import Regions
from dcsim.kernels.compiled import inline_fn, loop_fn, setup_fn

#: Columns of ``Regions.rec`` per (row, class, region); the served load per site follows.
RG_DEMAND, RG_SERVED, RG_UNSERVED, RG_RTT_SERVED, RG_NCOLS = range(5)
RG_NAMES = ("demand_tok_per_s", "served_tok_per_s", "unserved_tok_per_s", "rtt_served")

#: Policy codes (``dcsim.model.regions.POLICY_CODES``).
POLICY_NEAREST, POLICY_COST, POLICY_CARBON = 0, 1, 2


@setup_fn
def no_regions(n_class, n_cell, n_site):
    """A disabled :class:`Regions` bundle (one implicit region, spread by capacity)."""
    f3 = np.zeros((n_class, 0, n_site))
    return Regions(
        False, 0, True, np.zeros((n_class, 0, 0)), np.zeros(1, dtype=np.int64),
        np.zeros((0, n_site)),
        np.zeros((n_cell, 0)), np.zeros((n_class, n_site)), np.zeros((n_site, 1)),
        np.zeros((n_site, 1)), 0.0, np.zeros(n_cell, dtype=np.int64),
        np.zeros((n_class, 0, n_site), dtype=np.int64), np.zeros((n_class, 0)), f3,
        np.zeros((n_class, n_site)), np.zeros((n_class, n_site)), f3.copy(), np.zeros(n_site),
        np.zeros((n_class, n_site)), np.zeros((0, n_class, 0, RG_NCOLS + n_site)), 1,
    )  # fmt: skip


@inline_fn
def _site_key(policy, k, r, s, h, regions):
    """The policy's ranking key of site s for class k from region r in clock hour h."""
    if policy == POLICY_COST:
        return regions.price_usd_per_j[s, h] * regions.j_per_tok[k, s]
    if policy == POLICY_CARBON:
        return regions.carbon_kg_per_j[s, h] * regions.j_per_tok[k, s]
    return regions.rtt_s[r, s]


@inline_fn
def _before(a_key, a_rtt, a, b_key, b_rtt, b):
    """Site a ranks before site b: lower key, then lower round trip, then lower index."""
    if a_key != b_key:
        return a_key < b_key
    if a_rtt != b_rtt:
        return a_rtt < b_rtt
    return a < b


@loop_fn
def split_offered(t, dt_s, classes, regions, work):
    """Per class and region: offered load this tick, and the sites in the policy's order."""
    if not regions.enabled:
        return
    n_region = regions.rtt_s.shape[0]
    n_site = regions.rtt_s.shape[1]
    n_hour = regions.price_usd_per_j.shape[1]
    h = int((t * dt_s + regions.hour0_offset_s) / 3600.0 + 1e-9)
    h = min(max(h, 0), n_hour - 1)
    key = regions.key
    i_buf = t - regions.first_tick[0]  # column of tick t in the per-call demand buffer
    for k in range(classes.deferrable.shape[0]):
        d_k = 0.0
        for r in range(n_region):
            d_k += regions.demand_tok_per_s[k, r, i_buf]
        for r in range(n_region):
            # Queued (deferrable) work is split like this tick's demand; with none, evenly.
            share = regions.demand_tok_per_s[k, r, i_buf] / d_k if d_k > 0.0 else 1.0 / n_region
            regions.offered_kr[k, r] = work.offered[k] * share
            order = regions.order[k, r]
            for s in range(n_site):
                key[s] = _site_key(regions.policy, k, r, s, h, regions)
                # Insertion sort: a handful of sites.
                i = s
                while i > 0 and _before(
                    key[s], regions.rtt_s[r, s], s,
                    key[order[i - 1]], regions.rtt_s[r, order[i - 1]], order[i - 1],
                ):  # fmt: skip
                    order[i] = order[i - 1]
                    i -= 1
                order[i] = s


@njit(cache=True, _nrt=False)
def fill_routes(offered_kr, room, order, spill_over, assigned, offered_ks):
    """Assign each (class, region) load to sites rank by rank within their room.

    Parameters
    ----------
    offered_kr
        (n_class, n_region) load to place [tok/s].
    room
        (n_class, n_region, n_site) most load region r may see at site s: capacity within
        the SLO for its round trip [tok/s].
    order
        (n_class, n_region, n_site) sites in the policy's order.
    spill_over
        False: a region uses only its first site with room.
    assigned
        (n_class, n_region, n_site) output: load of region r at site s [tok/s].
    offered_ks
        (n_class, n_site) output: load at each site, all regions [tok/s].
    """
    n_class, n_region, n_site = assigned.shape
    assigned[:] = 0.0
    offered_ks[:] = 0.0
    for k in range(n_class):
        for j in range(n_site):
            for r in range(n_region):
                left = offered_kr[k, r]
                placed = False
                for i in range(j):
                    left -= assigned[k, r, order[k, r, i]]
                    placed = placed or room[k, r, order[k, r, i]] > 0.0
                if left <= 0.0 or (placed and not spill_over):
                    continue
                s = order[k, r, j]
                if room[k, r, s] <= 0.0:
                    continue  # not eligible (round trip over the SLO) or no racks in service
                take = min(left, max(room[k, r, s] - offered_ks[k, s], 0.0))
                assigned[k, r, s] += take
                offered_ks[k, s] += take


@loop_fn
def route_load(racks, cells, pools, regions, work):
    """Route the regions' load at this round's caps; set each rack's offered load.

    Reads ``work.x_cap`` (rack capacity at the round's caps); writes ``regions.cap_ks``,
    ``room``, ``assigned``, ``offered_ks``, ``work.offered_rack`` and ``work.cls_cap`` (the
    capacity the routing reaches: what the first round can serve, before capping).
    """
    regions.cap_ks[:] = 0.0
    regions.room[:] = 0.0
    n_region = regions.rtt_s.shape[0]
    for c in range(cells.pool.shape[0]):
        k = pools.klass[cells.pool[c]]
        s = regions.cell_site[c]
        x = racks.serving[c] * work.x_cap[c]
        regions.cap_ks[k, s] += x
        for r in range(n_region):
            regions.room[k, r, s] += x * regions.u_max[c, r]
    fill_routes(
        regions.offered_kr, regions.room, regions.order, regions.spill_over,
        regions.assigned, regions.offered_ks,
    )  # fmt: skip
    work.cls_cap[:] = 0.0
    for k in range(regions.cap_ks.shape[0]):
        for s in range(regions.cap_ks.shape[1]):
            work.cls_cap[k] += min(regions.offered_ks[k, s], regions.cap_ks[k, s])
    for c in range(cells.pool.shape[0]):
        k = pools.klass[cells.pool[c]]
        s = regions.cell_site[c]
        share = 0.0
        if regions.cap_ks[k, s] > 0.0:
            share = min(regions.offered_ks[k, s] / regions.cap_ks[k, s], 1.0)
        work.offered_rack[c] = share * work.x_cap[c]


@loop_fn
def record_regions(t, cells, pools, classes, regions, work):
    """Per class and region: demand, served, unserved, round trip and sites of tick t."""
    if not regions.enabled:
        return
    served_ks = regions.served_ks
    served_ks[:] = 0.0
    for c in range(cells.pool.shape[0]):
        served_ks[pools.klass[cells.pool[c]], regions.cell_site[c]] += work.delivered[c]
    row = t // regions.ticks_per_rec
    w_rec = 1.0 / regions.ticks_per_rec
    rec = regions.rec
    n_region, n_site = regions.rtt_s.shape
    for k in range(classes.deferrable.shape[0]):
        total = 0.0
        for s in range(n_site):
            # Share of the load routed to site s that it served this tick [frac].
            off = regions.offered_ks[k, s]
            served_ks[k, s] = min(served_ks[k, s] / off, 1.0) if off > 0.0 else 0.0
            for r in range(n_region):
                total += regions.assigned[k, r, s] * served_ks[k, s]
        # A deferrable class's service is what left its queue (settle_backlog): rescale.
        scale = work.served_cls[k] / total if total > 0.0 else 0.0
        for r in range(n_region):
            d = regions.demand_tok_per_s[k, r, t - regions.first_tick[0]]
            served = 0.0
            rtt = 0.0
            for s in range(n_site):
                x = regions.assigned[k, r, s] * served_ks[k, s] * scale
                served += x
                rtt += x * regions.rtt_s[r, s]
                rec[row, k, r, RG_NCOLS + s] += x * w_rec
            if classes.deferrable[k]:
                off_k = work.offered[k]
                unserved = (
                    work.unserved_cls[k] * regions.offered_kr[k, r] / off_k if off_k > 0 else 0.0
                )
            else:
                unserved = max(d - served, 0.0)
            rec[row, k, r, RG_DEMAND] += d * w_rec
            rec[row, k, r, RG_SERVED] += served * w_rec
            rec[row, k, r, RG_UNSERVED] += unserved * w_rec
            rec[row, k, r, RG_RTT_SERVED] += rtt * w_rec
