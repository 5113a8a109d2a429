"""Validated scenario -> per-hall IT power outside the racks, per rack in each state [W].

For each hall, :func:`build_facility_it` sizes the scale-out fabric of each rack group's
system as a fat tree over all GPUs of that system in the hall (tiers from the switch radix),
adds storage per GPU and management per rack unit, and averages over the hall's racks
(weighted by count). The kernel then charges, per tick,
``serving_racks * w_per_serving_rack + idle_racks * w_per_idle_rack`` (see
:func:`dcsim.physics.fabric.hall_outside_it_w`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dcsim.catalog.facility_it import load_facility_it
from dcsim.model.cooling import halls_in_order
from dcsim.model.outside_it import hall_outside_it_per_rack_w

__all__ = ["FacilityITPlant", "build_facility_it"]


@dataclass(frozen=True)
class FacilityITPlant:
    """Per-hall IT power outside the racks [W per rack], halls sites -> buildings -> halls."""

    hall_names: list[str]
    w_per_serving_rack: np.ndarray
    w_per_idle_rack: np.ndarray
    fabric_w_per_rack: np.ndarray
    storage_w_per_rack: np.ndarray
    management_w_per_rack: np.ndarray
    fabric_tiers_count: np.ndarray


def build_facility_it(scenario: Any, catalog: Any) -> FacilityITPlant:
    """Per-hall fabric, storage and management power per serving and per idle rack.

    Parameters
    ----------
    scenario
        A validated scenario.
    catalog
        Its catalog (rack systems: GPUs per rack unit).

    Returns
    -------
    FacilityITPlant
        Arrays of shape (n_hall,) [W per rack unit]; 0 for a hall without racks.
    """
    data = load_facility_it()
    halls = halls_in_order(scenario)
    n = len(halls)
    out = {k: np.zeros(n) for k in ("serve", "idle", "fabric", "storage", "mgmt", "tiers")}
    names = []
    for h, (_, _, site, hall) in enumerate(halls):
        names.append(f"{site.name}/{hall.name}")
        for key, value in hall_outside_it_per_rack_w(hall, catalog, data).items():
            out[key][h] = value
    return FacilityITPlant(
        hall_names=names,
        w_per_serving_rack=out["serve"],
        w_per_idle_rack=out["idle"],
        fabric_w_per_rack=out["fabric"],
        storage_w_per_rack=out["storage"],
        management_w_per_rack=out["mgmt"],
        fabric_tiers_count=out["tiers"].astype(np.int64),
    )
