"""Memory a run needs for its inputs and recorded outputs, known before it starts.

A run does not hold its per-tick inputs for the horizon: demand and the site series are
produced a compiled call at a time (at most a day, at most ``MAX_CHUNK_TICKS`` ticks) into
fixed per-call buffers (:class:`dcsim.sim.demand.DemandStream`,
:class:`dcsim.model.site_inputs.SiteInputs`). What grows with the horizon is what is kept at
hourly resolution (the weather of each site, prices, carbon, solar and the arbitrage signal
per clock hour) and the recorded outputs (the recorder's buffers, preallocated for every
record row, the tables made from them, the daily capacity snapshots). This module counts
them from the scenario's sizes, so that a run that cannot fit is refused in one line before
anything is allocated, naming the setting to change, instead of dying with a NumPy
``MemoryError`` part-way.

Counted (float64, 8 B a value):

* per-call buffers: demand (one row per class) and the site inputs
  (``layout.ST_NCOLS`` rows per site), ``chunk_ticks`` columns, held
  :data:`BUFFER_COPIES` times (the buffers and the arrays one fill builds before copying);
* build blocks: the horizon-long tallies of the grid (curtailed time, monthly contract)
  evaluate :data:`TALLY_ARRAYS` arrays of ``TALLY_TICKS`` ticks at a time;
* hourly: :data:`HOURLY_ARRAYS_PER_SITE` values per site and clock hour of the horizon;
* per record row: the campus row (``layout.R_NCOLS``), ``layout.KR_NCOLS`` per class and
  ``layout.SR_NCOLS`` per site; per hall record row, ``layout.HR_NCOLS`` per hall; the tables
  written from them hold about as much again, so recorded outputs count twice;
* per day: one capacity snapshot (:data:`SNAPSHOT_B`);
* with user regions: per record row ``route.RG_NCOLS`` plus one per site for each class and
  region, and a per-call demand buffer per class and region;
* with training jobs: their power statistics, ``physics.training.TS_NCOLS`` values per job
  and tick of the horizon (the job's exact profile, precomputed; it grows with the horizon
  and shrinks with a longer tick), and a per-site training record row.

Not counted: the event log (a few rows per failure, repair or grid event) and the plant's
fixed tables (racks, pools, operating points), which do not grow with the horizon.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from dcsim import units
from dcsim.kernels import layout as L
from dcsim.kernels.stages.route import RG_NCOLS
from dcsim.kernels.training_layout import TR_NCOLS
from dcsim.physics.training import TS_NCOLS

__all__ = [
    "MemoryEstimate",
    "chunk_ticks_for",
    "estimate_run_memory",
    "machine_memory_bytes",
    "scenario_sizes",
]

#: Bytes of one float64 value.
FLOAT_B = 8
#: Longest stretch advanced in one compiled call [s]: one simulated day keeps the progress
#: bar alive at a call overhead that is negligible against a day of ticks.
MAX_CHUNK_S = 86400.0
#: Most ticks of one compiled call [count]: bounds the per-call input buffers (a day of
#: 1-second ticks; finer ticks take shorter calls).
MAX_CHUNK_TICKS = 86400
#: The per-call buffers and the temporaries of one fill (the grid window of every series,
#: the weather interpolation, the demand factors) before they are copied in.
BUFFER_COPIES = 3
#: Ticks of one block of the grid's horizon-long tallies (:mod:`dcsim.model.grid`).
TALLY_TICKS = 1 << 17
#: Arrays of one tally block: the six series, their tick times, the disconnect mask, the
#: calendar fields and the masks made from them.
TALLY_ARRAYS = 16
#: Hourly values kept per site: eight weather quantities, the hour times, the weather frame
#: handed to the grid builder (eight columns), price, carbon, solar and arbitrage signal.
HOURLY_ARRAYS_PER_SITE = 21
#: Recorded outputs are held twice: the recorder's buffers and the tables made from them.
RECORDED_COPIES = 2
#: One daily capacity snapshot (a dict of about thirty numbers) and its table row [B].
SNAPSHOT_B = 4096


def chunk_ticks_for(tick_s: float) -> int:
    """Most ticks of one compiled call: a day, at most :data:`MAX_CHUNK_TICKS` [count]."""
    return min(max(int(MAX_CHUNK_S // tick_s), 1), MAX_CHUNK_TICKS)


@dataclass(frozen=True)
class MemoryEstimate:
    """Bytes a run needs for its inputs and recorded outputs.

    Attributes
    ----------
    n_ticks, n_rows, n_hall_rows
        Ticks, campus record rows and hall record rows [count].
    parts_b
        Bytes per part [B]: ``buffers`` (per-call inputs), ``tally`` (build blocks),
        ``hourly`` (inputs at hourly resolution over the horizon), ``campus_records``,
        ``hall_records`` (the recorder's buffers: campus, class, site and region rows; hall
        rows), ``tables`` (the frames made from them), ``snapshots`` (daily capacity
        snapshots), ``training`` (training jobs' per-tick power statistics).
    """

    n_ticks: int
    n_rows: int
    n_hall_rows: int
    parts_b: dict[str, int]

    @property
    def inputs_b(self) -> int:
        """Inputs: per-call buffers, build blocks and the hourly series [B]."""
        return sum(self.parts_b[k] for k in ("buffers", "tally", "hourly", "training"))

    @property
    def recorded_b(self) -> int:
        """Recorded outputs, buffers, tables and snapshots [B]."""
        keys = ("campus_records", "hall_records", "tables", "snapshots")
        return sum(self.parts_b[k] for k in keys)

    @property
    def total_b(self) -> int:
        """Everything counted [B]."""
        return self.inputs_b + self.recorded_b

    def setting_to_change(self) -> tuple[str, str]:
        """The scenario field that drives the largest part, and what to do with it."""
        recorded = {
            "record_every_s": self.parts_b["campus_records"],
            "hall_record_every_s": self.parts_b["hall_records"],
        }
        grows = {"horizon_s": self.parts_b["hourly"] + self.parts_b["snapshots"], **recorded}
        grows["tick_s"] = self.parts_b["buffers"] + self.parts_b["tally"] + self.parts_b["training"]
        field = max(grows, key=grows.get)
        if field == "horizon_s":
            return field, "shorten horizon_s"
        if field == "tick_s":
            return field, "raise tick_s"
        return field, f"raise {field} or shorten horizon_s"


def estimate_run_memory(
    n_ticks: int,
    ticks_per_rec: int,
    ticks_per_hall_rec: int,
    n_class: int,
    n_site: int,
    n_hall: int,
    tick_s: float = 60.0,
    n_region: int = 0,
    n_training_job: int = 0,
) -> MemoryEstimate:
    """Bytes of a run's inputs and recorded outputs (see the module docstring).

    Parameters
    ----------
    n_ticks
        Ticks in the horizon [count].
    ticks_per_rec, ticks_per_hall_rec
        Ticks per campus and per hall record row [count].
    n_class, n_site, n_hall
        Workload classes, sites and halls [count].
    tick_s
        Tick length [s].
    n_region, n_training_job
        User regions and training jobs [count] (0: none).

    Returns
    -------
    MemoryEstimate
    """
    n_rows = -(-n_ticks // ticks_per_rec)
    n_hall_rows = -(-n_ticks // ticks_per_hall_rec)
    horizon_s = n_ticks * tick_s
    chunk = min(chunk_ticks_for(tick_s), n_ticks)
    n_hours = math.ceil(horizon_s / units.H_S) + 3  # from the start's hour, one past the end
    n_days = math.ceil(horizon_s / units.D_S)
    region_cols = n_class * n_region * (RG_NCOLS + n_site)
    training_cols = n_site * TR_NCOLS if n_training_job else 0
    campus = (
        FLOAT_B
        * n_rows
        * (L.R_NCOLS + n_class * L.KR_NCOLS + n_site * L.SR_NCOLS + region_cols + training_cols)
    )
    halls = FLOAT_B * n_hall_rows * n_hall * L.HR_NCOLS
    parts = {
        "buffers": FLOAT_B
        * BUFFER_COPIES
        * chunk
        * (n_class * (1 + n_region) + n_site * L.ST_NCOLS),
        "tally": FLOAT_B * TALLY_ARRAYS * min(TALLY_TICKS, n_ticks),
        "hourly": FLOAT_B * HOURLY_ARRAYS_PER_SITE * n_site * n_hours,
        "campus_records": campus,
        "hall_records": halls,
        "tables": (RECORDED_COPIES - 1) * (campus + halls),
        "snapshots": SNAPSHOT_B * n_days,
        "training": FLOAT_B * n_training_job * n_ticks * TS_NCOLS,
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
        "tick_s": tick_s,
        "n_region": len(scenario.regions or []),
        "n_training_job": len(getattr(scenario, "training_jobs", None) or []),
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
