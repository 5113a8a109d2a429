"""Benchmark: the fleet year (scenarios/fleet-regions.yaml) against the gw-campus year.

Usage::

    python benchmarks/bench_fleet.py

Compiles (or loads the cache) with one-day runs of both scenarios, then times one full year
of each in the same process on the same machine and writes ``results/bench/fleet.json``
with both wall times, their ratio and the peak memory. Issue 14's bar: the fleet year in at
most 3 times the wall time of the gw-campus year, memory linear in sites.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from pathlib import Path

import dcsim
from dcsim.runner import run

FLEET = "scenarios/fleet-regions.yaml"
GW = "scenarios/gw-campus.yaml"


def _timed(scenario: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    result = run(scenario)
    return time.perf_counter() - t0, result.meta


def main() -> None:
    for scenario in (GW, FLEET):
        run(scenario, overrides={"horizon_s": "1d"})  # compile or load the kernel cache
    gw_s, gw_meta = _timed(GW)
    rss_after_gw_b = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    fleet_s, fleet_meta = _timed(FLEET)
    peak_rss_b = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    figures = {
        "fleet_scenario": FLEET,
        "gw_campus_scenario": GW,
        "n_ticks": fleet_meta["n_ticks"],
        "fleet_n_cells": fleet_meta["n_cells"],
        "fleet_n_racks": fleet_meta["n_racks"],
        "fleet_wall_s": round(fleet_s, 3),
        "fleet_kernel_wall_s": round(fleet_meta["kernel_wall_s"], 3),
        "gw_campus_wall_s": round(gw_s, 3),
        "gw_campus_kernel_wall_s": round(gw_meta["kernel_wall_s"], 3),
        "wall_ratio_fleet_to_gw_campus": round(fleet_s / gw_s, 3),
        "peak_rss_gb_after_gw_campus": round(rss_after_gw_b / 1e9, 3),
        "peak_rss_gb": round(peak_rss_b / 1e9, 3),
        "bar_wall_ratio": 3.0,
        "cpu_count": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dcsim": dcsim.__version__,
    }
    out = Path("results/bench")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "fleet.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
