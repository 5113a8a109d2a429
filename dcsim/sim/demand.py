"""Demand process: per-tick demand of every workload class, drawn once per run.

Demand is exogenous to the campus (it does not react to what is served), so the whole
horizon is drawn at start-up from the class's own random stream and handed to the kernel as
a (class, tick) array; backlog and unserved work are the kernel's business.
"""

from __future__ import annotations

import numpy as np

from dcsim import units
from dcsim.model.plant import Plant
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
    # Profiles are in the local time of the first site (a campus serves one region).
    local_start = plant.start
    start_hour = local_start.hour + local_start.minute / 60.0 + local_start.second / units.H_S
    out = np.empty((len(plant.class_names), plant.n_ticks))
    for k, cd in enumerate(plant.class_demand):
        if cd.noise_sigma_frac > 0.0:
            # Lattice fine enough to resolve the correlation time, never finer than a tick.
            node_step_s = max(min(units.H_S, 0.5 * cd.noise_corr_s), plant.tick_s)
            noise = demand_noise_frac(
                t_s, cd.noise_sigma_frac, cd.noise_corr_s, node_step_s, rngs[k]
            )
        else:
            noise = np.ones_like(t_s)
        out[k] = demand_tok_per_s(
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
    return out
