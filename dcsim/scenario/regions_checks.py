"""Named cross-field checks of the fleet blocks (``regions``, ``latency``, ``routing``).

Each raises :class:`~dcsim.errors.ConfigError` naming the dotted field, the value and what
was expected. A scenario without ``regions`` passes every check (and may not give
``latency`` or ``routing``). Whether a region reaches a site within its SLO needs the pools'
latency tables and is checked when the plant is built (:mod:`dcsim.model.regions`).
"""

from __future__ import annotations

import math

from dcsim.catalog.schema import Catalog
from dcsim.errors import ConfigError
from dcsim.scenario.schema import Scenario

__all__ = [
    "REGION_CHECKS",
    "check_latency_matrix_square",
    "check_region_demand_known",
    "check_regions_have_latency",
]


def _names(values) -> str:
    return ", ".join(f"'{v}'" for v in values)


def check_regions_have_latency(s: Scenario, catalog: Catalog) -> None:
    """``latency`` and ``routing`` come with ``regions``; regions need a latency block."""
    if s.regions is None:
        for key in ("latency", "routing"):
            if getattr(s, key) is not None:
                raise ConfigError(
                    f"a {key} block without regions has nothing to route; expected a "
                    "regions list or no " + key,
                    key,
                )
        return
    seen: set[str] = set()
    for r, reg in enumerate(s.regions):
        if reg.name in seen:
            raise ConfigError(f"region name '{reg.name}' is used twice", f"regions.{r}.name")
        seen.add(reg.name)
    if s.latency is None:
        raise ConfigError(
            "regions need a latency block (type: matrix with rtt_s per region and site, or "
            "type: great_circle with region coordinates)",
            "latency",
        )
    if s.latency.type == "great_circle":
        for r, reg in enumerate(s.regions):
            if reg.latitude_deg is None or reg.longitude_deg is None:
                raise ConfigError(
                    f"region '{reg.name}' has no latitude_deg/longitude_deg; expected both "
                    "for latency.type great_circle",
                    f"regions.{r}",
                )


def check_latency_matrix_square(s: Scenario, catalog: Catalog) -> None:
    """A latency matrix has one row per region, each naming every site once, no negatives."""
    if s.regions is None or s.latency is None or s.latency.type != "matrix":
        return
    regions = [reg.name for reg in s.regions]
    sites = [site.name for site in s.sites]
    rows = s.latency.rtt_s
    for name in rows:
        if name not in regions:
            raise ConfigError(
                f"unknown region '{name}' in the latency matrix; known regions: {_names(regions)}",
                f"latency.rtt_s.{name}",
            )
    for name in regions:
        if name not in rows:
            raise ConfigError(
                f"the latency matrix is not square: no row for region '{name}' "
                f"({len(rows)} rows for {len(regions)} regions); expected one row per region",
                "latency.rtt_s",
            )
        row = rows[name]
        for site in row:
            if site not in sites:
                raise ConfigError(
                    f"unknown site '{site}' in the latency matrix; known sites: {_names(sites)}",
                    f"latency.rtt_s.{name}.{site}",
                )
        missing = [site for site in sites if site not in row]
        if missing:
            raise ConfigError(
                f"the latency matrix is not square: row '{name}' has {len(row)} of "
                f"{len(sites)} sites, missing {_names(missing)}; expected every site",
                f"latency.rtt_s.{name}",
            )
        for site, rtt_s in row.items():
            if not (rtt_s >= 0.0 and math.isfinite(rtt_s)):
                raise ConfigError(
                    f"round trip {rtt_s!r} s is negative; expected >= 0",
                    f"latency.rtt_s.{name}.{site}",
                )


def check_region_demand_known(s: Scenario, catalog: Catalog) -> None:
    """Region demand names known workloads, each workload comes from a region, shares sum to 1."""
    if s.regions is None:
        return
    workloads = [w.name for w in s.workloads]
    shares = dict.fromkeys(workloads, 0.0)
    has_share = dict.fromkeys(workloads, False)
    seen = set()
    for r, reg in enumerate(s.regions):
        for wname, rd in reg.demand.items():
            if wname not in shares:
                raise ConfigError(
                    f"unknown workload '{wname}'; known workloads: {_names(workloads)}",
                    f"regions.{r}.demand.{wname}",
                )
            seen.add(wname)
            if rd.share_frac is not None:
                shares[wname] += rd.share_frac
                has_share[wname] = True
    for k, wname in enumerate(workloads):
        if wname not in seen:
            raise ConfigError(
                f"workload '{wname}' has no demand in any region; expected it under the "
                "demand of at least one region",
                f"workloads.{k}.name",
            )
        if has_share[wname] and abs(shares[wname] - 1.0) > 1e-9:
            raise ConfigError(
                f"the regions' share_frac of workload '{wname}' sum to {shares[wname]:g}; "
                "expected 1 (a region's own demand block comes on top)",
                "regions",
            )


#: The checks, in the order they run.
REGION_CHECKS = (
    check_regions_have_latency,
    check_latency_matrix_square,
    check_region_demand_known,
)
