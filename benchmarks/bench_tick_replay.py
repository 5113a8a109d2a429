"""Benchmark: CPU time per tick of the compiled tick on replayed one-day calls.

Usage::

    python benchmarks/bench_tick_replay.py capture [--calls 20,200,340] [--file F]
    python benchmarks/bench_tick_replay.py replay [--file F] [--repeat 2]

``capture`` runs the gw-campus year and keeps deep copies of the arguments of the engine's
compiled calls (:func:`dcsim.kernels.step.advance`) numbered ``--calls`` (0-based: the 20th
call is a January day with 4 halls live, the 200th July and the 340th December with 20-24),
pickled to ``--file``. ``replay`` runs ``advance`` on fresh deep copies of each captured call,
best of ``--repeat`` (CPU time of the process, so other work on the machine counts less than
in the wall time), and prints microseconds per tick with a SHA-256 digest of every array the
call writes (records, state, scratch not included): two builds of the kernel that print the
same digest gave bit-identical outputs. The first replay of a call compiles or loads the
cache and is not timed.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

# The checkout this script belongs to, not whichever dcsim is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

DEFAULT_FILE = Path(os.environ.get("TMPDIR", "/tmp")) / "dcsim-tick-replay.pkl"


def capture(calls: list[int], path: Path, scenario: str) -> None:
    import dcsim.sim.engine as engine
    from dcsim.runner import run

    kept: dict[int, tuple] = {}
    real = engine.advance
    seen = [0]

    def spy(*args):
        if seen[0] in calls:
            kept[seen[0]] = copy.deepcopy(args)
        seen[0] += 1
        return real(*args)

    engine.advance = spy
    try:
        run(scenario)
    finally:
        engine.advance = real
    with open(path, "wb") as fh:
        pickle.dump(kept, fh)
    print(f"captured calls {sorted(kept)} of {seen[0]} into {path}")


def _digest(args) -> str:
    sha = hashlib.sha256()

    def add(x):
        if isinstance(x, np.ndarray):
            sha.update(np.ascontiguousarray(x).tobytes())
        elif isinstance(x, tuple):
            for y in x:
                add(y)
        elif isinstance(x, (int, float, bool, np.generic)):
            sha.update(repr(x).encode())

    add(args)
    return sha.hexdigest()[:16]


def replay(path: Path, repeat: int) -> None:
    from dcsim.kernels.step import advance

    with open(path, "rb") as fh:
        kept = pickle.load(fh)
    for i, args in sorted(kept.items()):
        advance(*copy.deepcopy(args))  # compile or load the cache
        best = float("inf")
        digest = None
        for _ in range(repeat):
            a = copy.deepcopy(args)
            t0 = time.process_time()
            advance(*a)
            best = min(best, time.process_time() - t0)
            digest = _digest(a)
        n_ticks = args[1]
        print(f"call {i:4d}: {n_ticks} ticks, {best / n_ticks * 1e6:7.2f} us/tick, out {digest}")
    print(f"load average (1 min): {os.getloadavg()[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("capture", "replay"))
    ap.add_argument("--calls", default="20,200,340")
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--scenario", default="scenarios/gw-campus.yaml")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    if args.what == "capture":
        capture([int(c) for c in args.calls.split(",")], args.file, args.scenario)
    else:
        replay(args.file, args.repeat)


if __name__ == "__main__":
    main()
