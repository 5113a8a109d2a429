"""Demand process: per-tick demand of every workload class, drawn once per run.

Demand is exogenous to the campus (it does not react to what is served), so the whole
horizon is drawn at start-up from the class's own random stream and handed to the kernel as
a (class, tick) array; backlog and unserved work are the kernel's business. With user
regions (``plant.regions``) each class's demand is the sum of its regions' demand, each in
the region's local time, and the kernel also gets the (class, region, tick) array to route.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from dcsim import units
from dcsim.model.plant import ClassDemand, Plant
from dcsim.model.regions import region_local_start
from dcsim.physics.demand import demand_noise_frac, demand_tok_per_s


def demand_matrix_tok_per_s(plant: Plant, rngs: list[np.random.Generator]) -> np.ndarray:
    """Demand of every class at the middle of every tick [tok/s].

    Parameters
    ----------
    plant
        The plant (classes, start, tick, horizon).
    rngs
        One generator per class (spawned from the run's seed sequence).

    Returns
    -------
    Array of shape (n_class, n_ticks) [tok/s].
    """
    t_s = (np.arange(plant.n_ticks) + 0.5) * plant.tick_s
    out = np.empty((len(plant.class_names), plant.n_ticks))
    for k, cd in enumerate(plant.class_demand):
        # Profiles are in the local time of the first site (one implicit region).
        out[k] = class_demand_tok_per_s(t_s, plant.start, cd, rngs[k], plant.tick_s)
    return out


def region_demand_tok_per_s(
    plant: Plant, t_s: np.ndarray, k: int, r: int, rng: np.random.Generator
) -> np.ndarray:
    """Demand of class k from region r at times ``t_s``, in the region's local time [tok/s].

    Parameters
    ----------
    plant
        The plant, with its region plan (``plant.regions``).
    t_s
        Times since the scenario start [s].
    k, r
        Class and region index.
    rng
        The (class, region) pair's own generator.

    Returns
    -------
    Demand at each time; zeros where the region has no demand of the class [tok/s].
    """
    cd = plant.regions.demand[k][r]
    if cd is None:
        return np.zeros_like(t_s)
    local_start = region_local_start(
        plant.start, float(plant.site_utc_offset_h[0]), float(plant.regions.utc_offset_h[r])
    )
    return class_demand_tok_per_s(t_s, local_start, cd, rng, plant.tick_s)


def region_demand_matrix_tok_per_s(plant: Plant, seed: int, rng_for) -> np.ndarray:
    """Demand per class, region and tick at the middle of every tick [tok/s].

    Each (class, region) pair draws its noise from its own stream ``("demand_region",
    k * n_region + r)``, so adding a region does not change another region's demand.

    Returns
    -------
    Array of shape (n_class, n_region, n_ticks) [tok/s].
    """
    t_s = (np.arange(plant.n_ticks) + 0.5) * plant.tick_s
    n_region = len(plant.regions.names)
    out = np.empty((len(plant.class_names), n_region, plant.n_ticks))
    for k in range(len(plant.class_names)):
        for r in range(n_region):
            rng = rng_for(seed, "demand_region", k * n_region + r)
            out[k, r] = region_demand_tok_per_s(plant, t_s, k, r, rng)
    return out


def class_demand_tok_per_s(
    t_s: np.ndarray,
    local_start: dt.datetime,
    cd: ClassDemand,
    rng: np.random.Generator,
    tick_s: float,
) -> np.ndarray:
    """Demand of one class at times ``t_s``, profiles in the local time ``local_start`` [tok/s].

    Parameters
    ----------
    t_s
        Times since the scenario start (tick midpoints) [s].
    local_start
        Local clock time (of the users) at the scenario start.
    cd
        The class's demand settings in SI.
    rng
        The generator of its noise.
    tick_s
        Tick length [s]; the noise lattice is never finer than a tick.
    """
    start_hour = local_start.hour + local_start.minute / 60.0 + local_start.second / units.H_S
    if cd.noise_sigma_frac > 0.0:
        # Lattice fine enough to resolve the correlation time, never finer than a tick.
        node_step_s = max(min(units.H_S, 0.5 * cd.noise_corr_s), tick_s)
        noise = demand_noise_frac(t_s, cd.noise_sigma_frac, cd.noise_corr_s, node_step_s, rng)
    else:
        noise = np.ones_like(t_s)
    return demand_tok_per_s(
        t_s,
        local_start.weekday(),
        start_hour,
        cd.base_tok_per_s,
        cd.daily_profile_frac,
        cd.weekly_profile_frac,
        cd.growth_per_y_frac,
        noise,
        cd.bursts,
    )
