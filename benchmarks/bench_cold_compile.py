"""Benchmark: a first run with a cold compile cache, and where its compile time goes.

Usage::

    python benchmarks/bench_cold_compile.py [SCENARIO] [--set path=value ...] [--top N]

Points ``NUMBA_CACHE_DIR`` at a fresh temporary folder (removed afterwards) before dcsim is
imported, so every kernel compiles as on the first run after install, then runs the scenario
once (default: gw-campus over one hour, which calls every kernel of the year) and prints the
wall time and, from numba's ``numba:compile`` events, the compile time of each top-level
compile (a function compiled by Python code, not from inside another compile), with the
types it was compiled for. Nested compiles are counted in their caller's time; the exclusive
time of each function is listed too. Nothing is written unless ``--json`` names a file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

# The checkout this script belongs to, not whichever dcsim is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", nargs="?", default="scenarios/gw-campus.yaml")
    ap.add_argument("--set", dest="overrides", action="append", default=None)
    ap.add_argument("--top", type=int, default=25, help="compiles listed")
    ap.add_argument("--json", default=None, help="write the figures to this file")
    args = ap.parse_args()
    overrides = args.overrides if args.overrides is not None else ["horizon_s=1h"]

    cache = tempfile.mkdtemp(prefix="dcsim-cold-")
    os.environ["NUMBA_CACHE_DIR"] = cache
    try:
        figures = _measure(args.scenario, overrides, args.top)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    print(json.dumps({k: v for k, v in figures.items() if k != "compiles"}, indent=2))
    for row in figures["compiles"][: args.top]:
        print(f"{row['incl_s']:8.1f} s incl {row['excl_s']:8.1f} s excl  {row['name']}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)


def _measure(scenario: str, overrides: list[str], top: int) -> dict:
    from numba.core import event

    stack: list[list] = []  # [name, start, child time]
    incl: dict[str, float] = defaultdict(float)
    excl: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    top_level: list[float] = []

    class Compiles(event.Listener):
        def on_start(self, ev):
            disp = ev.data["dispatcher"]
            name = f"{disp.py_func.__module__}.{disp.py_func.__qualname__}"
            stack.append([name, time.perf_counter(), 0.0])

        def on_end(self, ev):
            name, t0, child = stack.pop()
            dt = time.perf_counter() - t0
            if stack:
                stack[-1][2] += dt
            else:
                top_level.append(dt)
            # A recursive or repeated name is counted once per compile.
            incl[name] += dt
            excl[name] += dt - child
            count[name] += 1

    event.register("numba:compile", Compiles())
    t0 = time.perf_counter()
    from dcsim.runner import run

    t_import = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = run(scenario, overrides=overrides)
    wall = time.perf_counter() - t1
    rows = [
        {"name": n, "incl_s": round(incl[n], 2), "excl_s": round(excl[n], 2), "count": count[n]}
        for n in incl
    ]
    rows.sort(key=lambda r: -r["excl_s"])
    return {
        "scenario": scenario,
        "overrides": overrides,
        "import_s": round(t_import, 2),
        "run_wall_s": round(wall, 2),
        "compile_s": round(sum(top_level), 2),
        "kernel_wall_s": round(result.meta["kernel_wall_s"], 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
        "compiles": rows,
    }


if __name__ == "__main__":
    main()
