"""IT power outside the racks of one hall, per rack unit [W].

The scale-out fabric of each rack system sized as a fat tree over all its GPUs in the hall
(tiers from the switch radix), storage per GPU and management per rack unit, averaged over the
hall's racks (weighted by count). Used by :mod:`dcsim.model.fabric` (the kernel's per-hall
figures) and by :func:`dcsim.model.cooling.hall_design_heat_w` (the design heat); a module of
its own so that neither imports the other.
"""

from __future__ import annotations

from typing import Any

from dcsim.catalog.facility_it import load_facility_it
from dcsim.physics.fabric import fabric_tiers_count, fabric_w_per_endpoint

__all__ = ["hall_outside_it_per_rack_w"]


def hall_outside_it_per_rack_w(hall: Any, catalog: Any, data: Any = None) -> dict[str, float]:
    """IT power outside the racks of one hall, per rack unit in each state [W].

    Parameters
    ----------
    hall
        A validated scenario hall (its rack groups).
    catalog
        The equipment catalog (rack systems: GPUs per rack unit).
    data
        The facility-IT catalog (:func:`dcsim.catalog.facility_it.load_facility_it`); loaded
        when None.

    Returns
    -------
    dict
        ``serve`` and ``idle`` (per serving and per idle rack), ``fabric``, ``storage`` and
        ``mgmt`` (loaded split) [W per rack]; ``tiers`` (fat-tree tiers) [count]. All 0 for a
        hall without racks.
    """
    if data is None:
        data = load_facility_it()
    out = dict.fromkeys(("serve", "idle", "fabric", "storage", "mgmt", "tiers"), 0.0)
    gpus_by_system: dict[str, float] = {}
    for g in hall.rack_groups:
        gpus = g.count * catalog.rack_systems[g.system].gpus_per_rack_count
        gpus_by_system[g.system] = gpus_by_system.get(g.system, 0.0) + gpus
    racks = sum(g.count for g in hall.rack_groups)
    if racks == 0:
        return out
    for g in hall.rack_groups:
        gpus_rack = catalog.rack_systems[g.system].gpus_per_rack_count
        fab_w = 0.0
        fab_idle = 1.0
        fabric_id = data.rack_systems.get(g.system)
        if fabric_id is not None:
            f = data.fabrics[fabric_id]
            per_gpu = f.endpoints_per_gpu_count.value
            tiers = fabric_tiers_count(
                gpus_by_system[g.system] * per_gpu, f.switch_ports_count.value
            )
            out["tiers"] = max(out["tiers"], tiers)
            fab_w = gpus_rack * per_gpu * fabric_w_per_endpoint(
                tiers, f.switch_w.value, f.switch_ports_count.value, f.transceiver_w.value,
                f.ports_per_transceiver_count.value,
            )  # fmt: skip
            fab_idle = f.idle_power_frac.value
        sto_w = gpus_rack * data.per_rack.storage_w_per_gpu.value
        mgmt_w = data.per_rack.management_w_per_rack.value
        share = g.count / racks
        out["fabric"] += share * fab_w
        out["storage"] += share * sto_w
        out["mgmt"] += share * mgmt_w
        out["serve"] += share * (fab_w + sto_w + mgmt_w)
        out["idle"] += share * (
            fab_w * fab_idle + sto_w * data.per_rack.storage_idle_frac.value + mgmt_w
        )
    return out
