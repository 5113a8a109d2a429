"""Benchmark: wall time and peak memory of a full gw-campus run.

Usage::

    python benchmarks/bench_gw_campus.py [SCENARIO] [--set path=value ...]

Runs the scenario twice in one process (``--runs``): the first run includes Numba
compilation (or the cache load), the second is the steady-state figure. Peak memory is the
process's peak resident set. With ``--cold`` it first runs the scenario once in a separate
process whose compile cache is an empty temporary folder (``NUMBA_CACHE_DIR``), as on the
first run after install, and records that process's wall time, import included
(``cold_first_run_wall_s``). Writes ``results/bench/<scenario>.json`` (``--name``).
The bar (issue 10): one simulated year of gw-campus at a 1-minute tick in at most 5 s with a
warm compile cache (15 s on the first run after install) and 1 GB on a 2-core machine; the
figures file records the bar next to the measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dcsim
from dcsim.runner import run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="scenarios/gw-campus.yaml")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--out", default="results/bench")
    ap.add_argument("--name", default=None, help="figures file name (default: the scenario's)")
    ap.add_argument("--runs", type=int, default=2, help="runs in this process (first, steady)")
    ap.add_argument(
        "--bar-wall-s", type=float, default=5.0, help="wall-time bar recorded (10 years: 60)"
    )
    ap.add_argument("--cold", action="store_true", help="also time a run with a cold cache")
    args = ap.parse_args()

    cold_wall_s, cold_load = (
        _cold_run_wall_s(args.scenario, args.overrides) if args.cold else (None, None)
    )

    timings = []
    result = None
    for _ in range(args.runs):
        t0 = time.perf_counter()
        result = run(args.scenario, overrides=args.overrides or None)
        timings.append(time.perf_counter() - t0)
    assert result is not None
    peak_rss_b = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
    figures = {
        "scenario": args.scenario,
        "overrides": args.overrides,
        "n_ticks": result.meta["n_ticks"],
        "n_racks": result.meta["n_racks"],
        "n_cells": result.meta["n_cells"],
        "first_run_wall_s": round(timings[0], 3),
        "cold_first_run_wall_s": round(cold_wall_s, 1) if cold_wall_s is not None else None,
        "cold_load_avg_1min": cold_load,
        "steady_run_wall_s": round(timings[-1], 3) if len(timings) > 1 else None,
        "kernel_wall_s": round(result.meta["kernel_wall_s"], 3),
        "peak_rss_gb": round(peak_rss_b / 1e9, 3),
        "cpu_count": os.cpu_count(),
        # Other processes share the cores: the wall times scale with it.
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dcsim": dcsim.__version__,
        "bar_wall_s": args.bar_wall_s,
        "bar_rss_gb": 1.0,
        "bar_cold_wall_s": 15.0,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.name or Path(args.scenario).stem}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"written: {path}")


def _cold_run_wall_s(scenario: str, overrides: list[str]) -> tuple[float, float]:
    """Wall time of a process that imports dcsim and runs once with an empty compile cache."""
    cache = tempfile.mkdtemp(prefix="dcsim-cold-")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    code = (
        "import sys\nfrom dcsim.runner import run\nrun(sys.argv[1], overrides=sys.argv[2:] or None)"
    )
    try:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, scenario, *overrides], env=env, check=True)
        wall_s = time.perf_counter() - t0
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return wall_s, round(os.getloadavg()[0], 2)


if __name__ == "__main__":
    main()
