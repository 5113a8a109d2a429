"""Benchmark: wall time against racks x ticks, at several horizons of one scenario.

Usage::

    python benchmarks/bench_cost_curve.py [SCENARIO] [--horizon 4d --horizon 8d ...]

Runs the scenario once to load the compiled cache, then once per horizon, and writes
``results/bench/cost-curve-<scenario>.json`` with, per size, the racks, ticks, their product,
the whole run's and the kernel's wall time and the kernel time per rack-tick. Linear growth
shows as a constant kernel time per rack-tick. The figures depend on the machine's load
(recorded as the 1-minute load average): compare them within one file.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from dcsim.runner import run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="scenarios/small-hall.yaml")
    ap.add_argument("--horizon", action="append", default=[])
    ap.add_argument("--out", default="results/bench")
    args = ap.parse_args()
    horizons = args.horizon or ["4d", "8d", "16d", "32d"]

    run(args.scenario, overrides={"horizon_s": "1d"})  # compile or load the cache
    sizes = []
    for horizon in horizons:
        t0 = time.perf_counter()
        res = run(args.scenario, overrides={"horizon_s": horizon})
        wall_s = time.perf_counter() - t0
        racks, ticks = res.meta["n_racks"], res.meta["n_ticks"]
        kernel_s = res.meta["kernel_wall_s"]
        sizes.append(
            {
                "horizon": horizon,
                "n_racks": racks,
                "n_cells": res.meta["n_cells"],
                "n_ticks": ticks,
                "rack_ticks": racks * ticks,
                "run_wall_s": round(wall_s, 3),
                "kernel_wall_s": round(kernel_s, 3),
                "kernel_ns_per_rack_tick": round(1e9 * kernel_s / (racks * ticks), 3),
                "load_avg_1min": round(os.getloadavg()[0], 2),
            }
        )
        print(json.dumps(sizes[-1]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"cost-curve-{Path(args.scenario).stem}.json"
    figures = {"scenario": args.scenario, "cpu_count": os.cpu_count(), "sizes": sizes}
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {path}")


if __name__ == "__main__":
    main()
