"""Memory a run needs for its per-tick inputs and recorded outputs, known before it starts.

The plant holds its per-tick inputs for the whole horizon (demand per workload class, the
site series the compiled tick reads, the grid arrays and calendar fields they are built
from), and the recorder preallocates its buffers for every record row. Both grow linearly
with the horizon; this module counts them from the scenario's sizes, so that a run that
cannot fit is refused in one line before anything is allocated, instead of dying with a
NumPy ``MemoryError`` part-way.

Per tick (float64, 8 B each; arrays of :mod:`dcsim.model.plant`, :mod:`dcsim.model.grid`,
:mod:`dcsim.model.weather` and :mod:`dcsim.sim.demand`):

* demand: one value per workload class;
* site series: ``layout.ST_NCOLS`` values per site;
* grid: six arrays per site (contract, available import, solar, clean block, battery
  command, coincident-peak shed) and weather: dry and wet bulb per site, built before they
  are copied into the site series;
* calendar: tick times, clock hour and the five calendar fields (month key, month, weekday,
  hour, day) of the grid builder.

Per record row: the campus row (``layout.R_NCOLS``), ``layout.KR_NCOLS`` per class and
``layout.SR_NCOLS`` per site; per hall record row, ``layout.HR_NCOLS`` per hall. The tables
written from them (pandas frames) hold about as much again, so recorded outputs count twice.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from dcsim.kernels import layout as L

__all__ = ["MemoryEstimate", "estimate_run_memory", "machine_memory_bytes", "scenario_sizes"]

#: Bytes of one float64 value.
FLOAT_B = 8
#: Per-site grid arrays of :class:`dcsim.model.grid.GridPlant` of shape (n_site, n_ticks).
GRID_ARRAYS_PER_SITE = 6
#: Per-site weather arrays at tick resolution (dry and wet bulb).
WEATHER_ARRAYS_PER_SITE = 2
#: Per-tick arrays of the grid builder's calendar: times, clock hour and five fields.
CALENDAR_ARRAYS = 7
#: Recorded outputs are held twice: the recorder's buffers and the tables made from them.
RECORDED_COPIES = 2


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs for its horizon-long arrays.

    Attributes
    ----------
    n_ticks, n_rows, n_hall_rows
        Ticks, campus record rows and hall record rows [count].
    parts_b
        Bytes per part [B]: ``demand``, ``site_series``, ``grid``, ``weather``, ``calendar``
        (per-tick inputs) and ``campus_records``, ``hall_records`` (the recorder's buffers:
        campus, class and site rows; hall rows), ``tables`` (the frames made from them).
    """

    n_ticks: int
    n_rows: int
    n_hall_rows: int
    parts_b: dict[str, int]

    @property
    def inputs_b(self) -> int:
        """Per-tick inputs [B]."""
        keys = ("demand", "site_series", "grid", "weather", "calendar")
        return sum(self.parts_b[k] for k in keys)

    @property
    def recorded_b(self) -> int:
        """Recorded outputs, buffers and tables [B]."""
        return sum(self.parts_b[k] for k in ("campus_records", "hall_records", "tables"))

    @property
    def total_b(self) -> int:
        """Everything counted [B]."""
        return self.inputs_b + self.recorded_b


def estimate_run_memory(
    n_ticks: int,
    ticks_per_rec: int,
    ticks_per_hall_rec: int,
    n_class: int,
    n_site: int,
    n_hall: int,
) -> MemoryEstimate:
    """Bytes of a run's per-tick inputs and recorded outputs (see the module docstring).

    Parameters
    ----------
    n_ticks
        Ticks in the horizon [count].
    ticks_per_rec, ticks_per_hall_rec
        Ticks per campus and per hall record row [count].
    n_class, n_site, n_hall
        Workload classes, sites and halls [count].

    Returns
    -------
    MemoryEstimate
    """
    n_rows = -(-n_ticks // ticks_per_rec)
    n_hall_rows = -(-n_ticks // ticks_per_hall_rec)
    campus = FLOAT_B * n_rows * (L.R_NCOLS + n_class * L.KR_NCOLS + n_site * L.SR_NCOLS)
    halls = FLOAT_B * n_hall_rows * n_hall * L.HR_NCOLS
    parts = {
        "demand": FLOAT_B * n_class * n_ticks,
        "site_series": FLOAT_B * n_site * n_ticks * L.ST_NCOLS,
        "grid": FLOAT_B * GRID_ARRAYS_PER_SITE * n_site * n_ticks,
        "weather": FLOAT_B * WEATHER_ARRAYS_PER_SITE * n_site * n_ticks,
        "calendar": FLOAT_B * CALENDAR_ARRAYS * n_ticks,
        "campus_records": campus,
        "hall_records": halls,
        "tables": (RECORDED_COPIES - 1) * (campus + halls),
    }
    return MemoryEstimate(n_ticks, n_rows, n_hall_rows, parts)


def scenario_sizes(scenario: Any) -> dict[str, int]:
    """The sizes :func:`estimate_run_memory` takes, as the plant will have them.

    Parameters
    ----------
    scenario
        A validated scenario (``horizon_s``, ``tick_s``, ``record_every_s``,
        ``hall_record_every_s``, ``workloads``, ``sites`` with buildings and halls).

    Returns
    -------
    dict
        Keyword arguments of :func:`estimate_run_memory` (the tick counts rounded as
        :func:`dcsim.model.plant.build_plant` rounds them).
    """
    tick_s = scenario.tick_s
    return {
        "n_ticks": int(round(scenario.horizon_s / tick_s)),
        "ticks_per_rec": max(int(round(scenario.record_every_s / tick_s)), 1),
        "ticks_per_hall_rec": max(int(round(scenario.hall_record_every_s / tick_s)), 1),
        "n_class": len(scenario.workloads),
        "n_site": len(scenario.sites),
        "n_hall": sum(len(b.halls) for s in scenario.sites for b in s.buildings),
    }


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine [B], or None where the system does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n_b: float) -> str:
    """Bytes as text with a binary prefix (``"3.2 GiB"``)."""
    if n_b < 1024:
        return f"{n_b:.0f} B"
    k = min(int(math.log(n_b, 1024)), 6)
    return f"{n_b / 1024**k:.1f} {'KMGTPE'[k - 1]}iB"
