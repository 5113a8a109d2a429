"""Demand process: per-tick demand of every workload class, produced a chunk at a time.

Demand is exogenous to the campus (it does not react to what is served), so it is a function
of time and class alone: :func:`class_demand_tok_per_s` gives it at any ascending time array,
and :class:`DemandStream` fills the kernel's per-call buffer for ticks ``[t0, t1)``. Only the
noise has state (a lognormal AR(1) lattice read in order from the class's own random stream,
:class:`~dcsim.physics.demand.LognormalAR1Stream`), so any chunking of the horizon gives the
same demand, bit for bit, and memory does not grow with the horizon. Backlog and unserved
work are the kernel's business.

With user regions (``plant.regions``) each (class, region) pair has its own stream in the
region's local time (:class:`RegionDemandStream`): the kernel gets the (class, region)
buffer to route and each class's demand is the sum of its regions'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np

from dcsim import units
from dcsim.model.plant import ClassDemand, Plant
from dcsim.model.regions import region_local_start
from dcsim.physics.demand import LognormalAR1Stream, demand_tok_per_s

RngFor = Callable[[int, str, int], np.random.Generator]


def tick_mid_s(t0: int, t1: int, tick_s: float) -> np.ndarray:
    """Middle of ticks ``t0 .. t1 - 1`` since the scenario start [s]."""
    return (np.arange(t0, t1) + 0.5) * tick_s


def noise_stream(
    cd: ClassDemand, tick_s: float, rng: np.random.Generator
) -> LognormalAR1Stream | None:
    """The noise lattice of one class (None: the class has no noise).

    Parameters
    ----------
    cd
        The class's demand settings.
    tick_s
        Tick length [s].
    rng
        The class's random stream.
    """
    if cd.noise_sigma_frac <= 0.0:
        return None
    # Lattice fine enough to resolve the correlation time, never finer than a tick.
    node_step_s = max(min(units.H_S, 0.5 * cd.noise_corr_s), tick_s)
    return LognormalAR1Stream(cd.noise_sigma_frac, cd.noise_corr_s, node_step_s, rng)


def class_demand_tok_per_s(
    t_s: np.ndarray,
    local_start: dt.datetime,
    cd: ClassDemand,
    noise: LognormalAR1Stream | None,
) -> np.ndarray:
    """Demand of one class at ascending times ``t_s``, profiles in local time [tok/s].

    Parameters
    ----------
    t_s
        Times since the scenario start, ascending, at or after those of the previous call
        with the same ``noise`` [s].
    local_start
        Local clock time (of the users) at the scenario start.
    cd
        The class's demand settings in SI.
    noise
        Its :func:`noise_stream` (read in order), or None.

    Returns
    -------
    Demand at each ``t_s`` [tok/s].
    """
    start_hour = local_start.hour + local_start.minute / 60.0 + local_start.second / units.H_S
    return demand_tok_per_s(
        t_s,
        local_start.weekday(),
        start_hour,
        cd.base_tok_per_s,
        cd.daily_profile_frac,
        cd.weekly_profile_frac,
        cd.growth_per_y_frac,
        noise.at_frac(t_s) if noise is not None else np.ones_like(t_s),
        cd.bursts,
    )


class DemandStream:
    """Demand of every class, a chunk of ticks at a time, in tick order (one region).

    Profiles are in the local time of the first site (the scenario's clock).

    Parameters
    ----------
    plant
        The plant (classes, start, tick).
    rngs
        One generator per class (spawned from the run's seed sequence).
    """

    def __init__(self, plant: Plant, rngs: list[np.random.Generator]) -> None:
        self._plant = plant
        self._noise = [
            noise_stream(cd, plant.tick_s, rngs[k]) for k, cd in enumerate(plant.class_demand)
        ]

    def fill(self, t0: int, t1: int, out: np.ndarray, out_region: np.ndarray | None = None):
        """Write the demand of ticks ``[t0, t1)`` into ``out[:, : t1 - t0]`` [tok/s].

        Parameters
        ----------
        t0, t1
            Tick range; ``t0`` at or after the ``t0`` of the previous call (the noise is
            read in order) [count].
        out
            Buffer of shape (n_class, >= t1 - t0).
        out_region
            Unused (no regions); accepted so that both streams fill alike.
        """
        if t1 <= t0:
            return
        t_s = tick_mid_s(t0, t1, self._plant.tick_s)
        for k, noise in enumerate(self._noise):
            cd = self._plant.class_demand[k]
            out[k, : t1 - t0] = class_demand_tok_per_s(t_s, self._plant.start, cd, noise)


class RegionDemandStream:
    """Demand per class and user region, a chunk of ticks at a time, in tick order.

    Each (class, region) pair draws its noise from its own stream ``("demand_region",
    k * n_region + r)``, so adding a region does not change another region's demand; its
    profiles run in the region's local time.

    Parameters
    ----------
    plant
        The plant, with its region plan (``plant.regions``).
    seed
        Run seed.
    rng_for
        ``rng_for(seed, name, index)``: the run's named random streams.
    """

    def __init__(self, plant: Plant, seed: int, rng_for: RngFor) -> None:
        self._plant = plant
        regions = plant.regions
        n_region = len(regions.names)
        self.n_region = n_region
        site0_h = float(plant.site_utc_offset_h[0])
        self._pairs = []
        for k in range(len(plant.class_names)):
            for r in range(n_region):
                cd = regions.demand[k][r]
                if cd is None:
                    continue
                rng = rng_for(seed, "demand_region", k * n_region + r)
                local = region_local_start(plant.start, site0_h, float(regions.utc_offset_h[r]))
                self._pairs.append((k, r, cd, local, noise_stream(cd, plant.tick_s, rng)))

    def fill(self, t0: int, t1: int, out: np.ndarray, out_region: np.ndarray) -> None:
        """Write ticks ``[t0, t1)`` per class into ``out`` and per region into ``out_region``.

        ``out`` has shape (n_class, >= t1 - t0), ``out_region`` (n_class, n_region,
        >= t1 - t0) [tok/s].
        """
        if t1 <= t0:
            return
        n = t1 - t0
        t_s = tick_mid_s(t0, t1, self._plant.tick_s)
        out_region[:, :, :n] = 0.0
        for k, r, cd, local, noise in self._pairs:
            out_region[k, r, :n] = class_demand_tok_per_s(t_s, local, cd, noise)
        # A class's demand is the sum of its regions' (regions in index order).
        out[:, :n] = out_region[:, :, :n].sum(axis=1)


def demand_stream(plant: Plant, seed: int, rng_for: RngFor) -> DemandStream | RegionDemandStream:
    """The run's demand stream: per class, or per class and region with user regions."""
    if plant.regions is None:
        return DemandStream(
            plant, [rng_for(seed, "demand", k) for k in range(len(plant.class_names))]
        )
    return RegionDemandStream(plant, seed, rng_for)


def demand_matrix_tok_per_s(plant: Plant, rngs: list[np.random.Generator]) -> np.ndarray:
    """Demand of every class at the middle of every tick of the horizon [tok/s].

    The whole horizon at once (tests and small studies); a run streams it per chunk.

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
    out = np.empty((len(plant.class_names), plant.n_ticks))
    DemandStream(plant, rngs).fill(0, plant.n_ticks, out)
    return out
