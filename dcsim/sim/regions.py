"""User regions in a run: their demand, the kernel's routing bundle and the region table.

The demand of each (class, region) pair is drawn from its own stream in the region's local
time (:class:`dcsim.sim.demand.RegionDemandStream`, a chunk at a time); the kernel routes it
to sites (:mod:`dcsim.kernels.stages.route`) and accumulates per class and region the columns of
``route.RG_NAMES`` and the load served at each site, which :func:`region_timeseries` turns
into the ``region_timeseries`` table (``docs/fleet.md``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dcsim.kernels import bundles as B
from dcsim.kernels import layout as L
from dcsim.kernels.stages import route as RT
from dcsim.model.plant import Plant


def region_record_buffer(plant: Plant) -> np.ndarray:
    """Zeroed record buffer of the region table, (n_row, n_class, n_region, RG + n_site)."""
    n_rows = -(-plant.n_ticks // plant.ticks_per_rec)
    n_region = len(plant.regions.names) if plant.regions is not None else 0
    return np.zeros((n_rows, len(plant.class_names), n_region, RT.RG_NCOLS + len(plant.site_names)))


def regions_for_run(plant: Plant, demand, chunk_ticks: int, first_tick: np.ndarray, rec):
    """The kernel's :class:`~dcsim.kernels.bundles.Regions`, or None without regions.

    Its demand is a per-call buffer (n_class, n_region, ``chunk_ticks``) that the run's
    :class:`~dcsim.sim.demand.RegionDemandStream` fills before each compiled call, indexed
    from ``first_tick[0]`` (the array the class and input buffers share).
    """
    if plant.regions is None:
        return None
    cell_site = plant.hall_par[plant.cell_hall, L.H_SITE].astype(np.int64)
    n_class = len(plant.class_names)
    buf = np.zeros((n_class, demand.n_region, chunk_ticks))
    return B.regions_bundle(
        plant.regions, buf, cell_site, n_class, rec, plant.ticks_per_rec, first_tick
    )


def region_timeseries(plant: Plant, rec: np.ndarray, index: pd.DatetimeIndex) -> pd.DataFrame:
    """Per region and class at the campus record interval, long format.

    Columns: ``time, region, class, demand_tok_per_s, served_tok_per_s,
    unserved_tok_per_s, rtt_mean_s`` (round trip of the served load, weighted by it; NaN
    where nothing was served) and ``<site>.served_frac`` (share of the served load each site
    served; NaN where nothing was served).
    """
    rec = rec.copy()
    rem = plant.n_ticks % plant.ticks_per_rec
    if rem:
        rec[-1] *= plant.ticks_per_rec / rem
    frames = []
    for r, region in enumerate(plant.regions.names):
        for k, klass in enumerate(plant.class_names):
            x = rec[:, k, r]
            served = x[:, RT.RG_SERVED]
            with np.errstate(divide="ignore", invalid="ignore"):
                data = {
                    "region": region,
                    "class": klass,
                    "demand_tok_per_s": x[:, RT.RG_DEMAND],
                    "served_tok_per_s": served,
                    "unserved_tok_per_s": x[:, RT.RG_UNSERVED],
                    "rtt_mean_s": np.where(served > 0, x[:, RT.RG_RTT_SERVED] / served, np.nan),
                }
                for s, site in enumerate(plant.site_names):
                    data[f"{site}.served_frac"] = np.where(
                        served > 0, x[:, RT.RG_NCOLS + s] / served, np.nan
                    )
            frames.append(pd.DataFrame(data, index=index))
    return pd.concat(frames).reset_index()
