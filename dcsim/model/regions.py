"""User regions, the round trip to every site, and what routing needs from the plant (SI).

Built once per run from the scenario's ``regions``, ``latency`` and ``routing`` blocks
(``docs/fleet.md``):

- the round-trip time of every (region, site) pair, from the matrix or from the great-circle
  distance between the users and the site (:func:`great_circle_rtt_s`);
- per cell and region, the highest utilisation of the cell's capped capacity at which the
  class's TTFT p99 plus the round trip still meets the class's ``ttft_s``
  (:func:`utilisation_ceiling_frac`): 0 when even an idle rack misses it (the site is not
  eligible for that region), 1 for a class without a latency SLO;
- per class and site the IT energy per token at full load, which turns a site's energy price
  and grid carbon intensity into the marginal cost and carbon of one more token there;
- per site the hourly price and carbon intensity of its grid block.

A region with demand of an interactive class and no site of that class within its SLO is a
configuration error, naming the region, the class and the nearest site.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from dcsim.catalog.grid_defaults import grid_default
from dcsim.errors import ConfigError
from dcsim.kernels import layout as L

#: Routing policy codes of the kernel (``dcsim.kernels.stages.route``), by scenario name.
POLICY_CODES = {"nearest": 0, "cost": 1, "carbon": 2}
#: Mean Earth radius (IUGG) [m]; the great-circle distance uses a sphere of this radius.
EARTH_RADIUS_M = 6_371_008.8
#: Speed of light in vacuum [m/s] (exact, SI definition).
C_M_PER_S = 299_792_458.0


@dataclass
class RegionPlan:
    """Regions and the routing tables of a run; see the module docstring."""

    names: list[str]
    utc_offset_h: np.ndarray  # (n_region,) [h]
    rtt_s: np.ndarray  # (n_region, n_site) [s]
    policy: int
    spill_over: bool
    #: demand[k][r]: the ClassDemand of class k from region r, None when the region has none
    demand: list[list[object]]
    u_max_frac: np.ndarray  # (n_cell, n_region) utilisation ceiling within the SLO [0..1]
    j_per_tok: np.ndarray  # (n_class, n_site) IT energy per token at full load; inf: none [J]
    price_usd_per_j: np.ndarray  # (n_site, n_hours)
    carbon_kg_per_j: np.ndarray  # (n_site, n_hours)
    hour0_offset_s: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)


def great_circle_m(lat1_deg, lon1_deg, lat2_deg, lon2_deg):
    """Great-circle distance on a sphere of radius :data:`EARTH_RADIUS_M` [m].

    Parameters
    ----------
    lat1_deg, lon1_deg, lat2_deg, lon2_deg
        Latitudes and longitudes of the two points [deg].

    Returns
    -------
    Distance [m].

    References
    ----------
    Haversine formula: R. W. Sinnott, "Virtues of the Haversine", Sky and Telescope 68 (2),
    p. 159 (1984).
    """
    p1, p2 = math.radians(lat1_deg), math.radians(lat2_deg)
    dp = p2 - p1
    dl = math.radians(lon2_deg - lon1_deg)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(math.sqrt(a), 1.0))


def great_circle_rtt_s(distance_m, route_factor_frac, group_index, extra_rtt_s=0.0):
    """Round-trip time over fibre for a great-circle distance [s].

    ``rtt = 2 x distance x route_factor / (c / group_index) + extra``.

    Parameters
    ----------
    distance_m
        Great-circle distance [m].
    route_factor_frac
        Fibre path length / great-circle distance [-].
    group_index
        Group refractive index of the fibre (light travels at c / group_index) [-].
    extra_rtt_s
        Round trip added on the path (switching, last mile) [s].

    Returns
    -------
    Round-trip time [s].
    """
    return 2.0 * distance_m * route_factor_frac * group_index / C_M_PER_S + extra_rtt_s


def utilisation_ceiling_frac(ttft_p99_s, ttft_slo_s, rtt_s):
    """Highest utilisation at which TTFT p99 + round trip <= the SLO [0..1].

    Parameters
    ----------
    ttft_p99_s
        TTFT p99 of a pool on the utilisation grid ``linspace(0, 1, n)`` [s]; non-decreasing
        in the utilisation (a queue only waits longer when busier).
    ttft_slo_s
        The class's time-to-first-token SLO [s].
    rtt_s
        Network round trip between the users and the site [s].

    Returns
    -------
    The utilisation where the curve reaches ``ttft_slo_s - rtt_s``, linear between grid
    points; 0 if the idle pool already misses it, 1 if the full pool meets it.
    """
    budget_s = ttft_slo_s - rtt_s
    y = np.asarray(ttft_p99_s, dtype=float)
    n = y.shape[0]
    if not y[0] <= budget_s:
        return 0.0
    if y[-1] <= budget_s:
        return 1.0
    j = int(np.argmax(y > budget_s))  # first grid point over the budget, j >= 1
    f = (budget_s - y[j - 1]) / (y[j] - y[j - 1])
    return ((j - 1) + f) / (n - 1)


def _rtt_matrix(scenario, site_names: list[str]) -> np.ndarray:
    lat = scenario.latency
    regions = scenario.regions
    rtt = np.zeros((len(regions), len(site_names)))
    if lat.type == "matrix":
        for r, reg in enumerate(regions):
            row = lat.rtt_s[reg.name]
            for s, name in enumerate(site_names):
                rtt[r, s] = row[name]
        return rtt
    factor = lat.route_factor_frac or grid_default("fibre_route_factor_frac")
    index = grid_default("fibre_group_index")
    for r, reg in enumerate(regions):
        for s, site in enumerate(scenario.sites):
            d_m = great_circle_m(
                reg.latitude_deg,
                reg.longitude_deg,
                site.location.latitude_deg,
                site.location.longitude_deg,
            )
            rtt[r, s] = great_circle_rtt_s(d_m, factor, index, lat.extra_rtt_s)
    return rtt


def _class_site_j_per_tok(plant) -> np.ndarray:
    """Lowest IT energy per token at full load, uncapped, of class k's racks at site s [J]."""
    n_site = len(plant.site_names)
    out = np.full((len(plant.class_names), n_site), np.inf)
    for c, p in enumerate(plant.cell_pool):
        s = int(plant.hall_par[plant.cell_hall[c], L.H_SITE])
        x = plant.tab_xcap[p, -1]
        if x > 0.0:
            k = plant.pool_class[p]
            out[k, s] = min(out[k, s], plant.tab_p[p, -1, -1] / x)
    return out


def build_regions(scenario, plant, class_demand_of) -> RegionPlan | None:
    """The region plan of a scenario with ``regions``; None without.

    Parameters
    ----------
    scenario
        The validated scenario.
    plant
        The plant (cells, pools, sites and the grid block's hourly price and carbon).
    class_demand_of
        ``class_demand_of(demand_block, k) -> ClassDemand``: the plant's conversion of a demand
        block of class k to SI (shared with the workloads' own demand).

    Raises
    ------
    ConfigError
        A region with demand of an interactive class and no site within the class's
        ``ttft_s`` including the round trip (names the region, class and nearest site).
    """
    if scenario.regions is None:
        return None
    regions = scenario.regions
    n_region, n_site = len(regions), len(plant.site_names)
    rtt = _rtt_matrix(scenario, plant.site_names)
    wl_index = {w.name: k for k, w in enumerate(scenario.workloads)}
    demand: list[list[object]] = [[None] * n_region for _ in scenario.workloads]
    for r, reg in enumerate(regions):
        for wname, rd in reg.demand.items():
            k = wl_index[wname]
            if rd.share_frac is not None:
                base = plant.class_demand[k]
                demand[k][r] = _scaled(base, rd.share_frac)
            else:
                demand[k][r] = class_demand_of(rd.demand, k)
    cell_site = plant.hall_par[plant.cell_hall, L.H_SITE].astype(np.int64)
    u_max = np.ones((len(plant.cell_pool), n_region))
    for c, p in enumerate(plant.cell_pool):
        w = scenario.workloads[plant.pool_class[p]]
        if w.ttft_s is None:
            continue  # no latency SLO: the round trip does not bound the load
        for r in range(n_region):
            u_max[c, r] = utilisation_ceiling_frac(
                # at the board limit: a cap that slows the site does not re-route its load
                plant.tab_latency[p, 1, -1],
                w.ttft_s,
                rtt[r, cell_site[c]],
            )
    _check_reachable(scenario, plant, rtt, u_max, cell_site, demand)
    grid_sites = plant.grid.sites if plant.grid is not None else []
    n_hours = max((len(g.carbon_kg_per_j) for g in grid_sites), default=1)
    price = np.zeros((n_site, n_hours))
    carbon = np.zeros((n_site, n_hours))
    hour0 = 0.0
    for s, g in enumerate(grid_sites):
        hour0 = g.hour0_offset_s
        if g.has_tariff:
            price[s] = g.energy_price_usd_per_j
        carbon[s] = g.carbon_kg_per_j
    routing = scenario.routing
    return RegionPlan(
        names=[reg.name for reg in regions],
        utc_offset_h=np.array([reg.utc_offset_h for reg in regions], dtype=float),
        rtt_s=rtt,
        policy=POLICY_CODES[routing.policy if routing is not None else "nearest"],
        spill_over=routing.spill_over if routing is not None else True,
        demand=demand,
        u_max_frac=u_max,
        j_per_tok=_class_site_j_per_tok(plant),
        price_usd_per_j=price,
        carbon_kg_per_j=carbon,
        hour0_offset_s=hour0,
    )


def _scaled(cd, share_frac: float):
    from dataclasses import replace

    return replace(cd, base_tok_per_s=cd.base_tok_per_s * share_frac)


def _check_reachable(scenario, plant, rtt, u_max, cell_site, demand) -> None:
    """Every region with demand of an interactive class reaches one site within its SLO."""
    for k, w in enumerate(scenario.workloads):
        if w.ttft_s is None:
            continue
        cells = [c for c, p in enumerate(plant.cell_pool) if plant.pool_class[p] == k]
        for r, reg in enumerate(scenario.regions):
            if demand[k][r] is None or any(u_max[c, r] > 0.0 for c in cells):
                continue
            near = min(cells, key=lambda c: rtt[r, cell_site[c]])
            s = cell_site[near]
            ttft0_s = float(plant.tab_latency[plant.cell_pool[near], 1, -1, 0])
            raise ConfigError(
                f"region '{reg.name}' has no site within the ttft_s SLO of workload "
                f"'{w.name}' ({w.ttft_s:g} s): the nearest, '{plant.site_names[s]}', has a "
                f"round trip of {rtt[r, s] * 1e3:.1f} ms + TTFT p99 of an idle rack "
                f"{ttft0_s:.3g} s; expected a site closer to the region or a looser ttft_s",
                f"regions.{r}.demand.{w.name}",
            )


def region_local_start(start: dt.datetime, site0_utc_offset_h: float, utc_offset_h: float):
    """Local time of a region at the scenario start (the start is in site 0's local time)."""
    return start + dt.timedelta(hours=utc_offset_h - site0_utc_offset_h)


__all__ = [
    "POLICY_CODES",
    "RegionPlan",
    "build_regions",
    "great_circle_m",
    "great_circle_rtt_s",
    "region_local_start",
    "utilisation_ceiling_frac",
]
