"""Benchmark: one hour of peak chat, request by request, on 64 sampled replicas.

Usage::

    python benchmarks/bench_window.py [--replicas 64] [--hours 1] [--out results/bench]

The pool is gw-campus's chat pool (Llama-3.1-70B FP8 on GB200 NVL72, trtllm, the
throughput-optimal replica size) built with dcsim's own catalog and ``pool_spec`` rules; the
offered rate is the pool's rated (fluid peak) throughput per replica over the mean output
length, and the batch limit is the fluid model's TPOT-limited slots, so the request-level
replicas run where the fluid model rates them. Runs the window twice in one process: the
first includes Numba compilation (or the cache load), the second is the steady figure.
Writes ``results/bench/window.json`` with wall and CPU (process) time: on a machine shared
with other jobs the wall time overstates the simulator's cost, the CPU time does not. The bar
(issue 13): <= 30 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

import dcsim
from dcsim.catalog.load import load_catalog
from dcsim.kernels.oppoints import pool_operating_point, slo_batch_count
from dcsim.model.pool import throughput_optimal_pool_spec
from dcsim.physics.compute import I_TTFT_SLO
from dcsim.requests import LengthDist, simulate_window


def chat_pool_params() -> np.ndarray:
    """Parameter vector of gw-campus's chat pool (scenarios/gw-campus.yaml, workload chat)."""
    spec = throughput_optimal_pool_spec(
        load_catalog(), "gb200-nvl72", "llama-3.1-70b", "fp8", "trtllm", 2000.0, 400.0, 0.05,
        2.0, pool_name="chat@gb200-nvl72",
    )  # fmt: skip
    return spec.to_params()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=64)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--out", default="results/bench")
    args = ap.parse_args()

    params = chat_pool_params()
    b_star, x_star_tok_per_s = pool_operating_point(params)[0], pool_operating_point(params)[1]
    slots_params = params.copy()
    slots_params[I_TTFT_SLO] = math.inf
    slots = slo_batch_count(slots_params)
    rate_per_replica = x_star_tok_per_s / params[14]  # output_tok
    step_s = 60.0
    n_steps = round(args.hours * 3600.0 / step_s)
    rate = np.full(n_steps, rate_per_replica * args.replicas)
    clock = np.ones(n_steps)
    lengths = (LengthDist(2000.0, params[47]), LengthDist(400.0, params[46]))

    timings = []
    cpu_timings = []
    result = None
    for _ in range(2):
        t0 = time.perf_counter()
        c0 = time.process_time()
        result = simulate_window(
            params, args.replicas, rate, clock, step_s, *lengths, max_batch_count=slots,
            seed=2027, warmup_s=300.0,
        )  # fmt: skip
        timings.append(time.perf_counter() - t0)
        cpu_timings.append(time.process_time() - c0)
    assert result is not None
    simulated_s = n_steps * step_s
    total_requests = result.n_requests + result.warmup_count
    ttft = result.quantile("ttft_s", 0.99)
    tpot = result.quantile("tpot_s", 0.99)
    figures = {
        "pool": "chat@gb200-nvl72 (llama-3.1-70b fp8, trtllm)",
        "replicas": args.replicas,
        "simulated_s": simulated_s,
        "slo_batch_count": round(float(b_star), 2),
        "slots_count": float(slots),
        "rate_per_replica_req_per_s": round(float(rate_per_replica), 4),
        "requests": int(total_requests),
        "iterations": result.iterations_count,
        "first_run_wall_s": round(timings[0], 3),
        "steady_run_wall_s": round(timings[1], 3),
        "steady_run_cpu_s": round(cpu_timings[1], 3),
        "kernel_wall_s": round(result.sim_wall_s, 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "requests_per_s_simulated": round(total_requests / timings[1], 1),
        "speedup_per_replica_x": round(simulated_s * args.replicas / timings[1], 1),
        "speedup_whole_sample_x": round(simulated_s / timings[1], 1),
        "ttft_p99_s": [round(v, 4) for v in ttft],
        "tpot_p99_s": [round(v, 5) for v in tpot],
        "mean_wait_s": round(result.mean_wait_s, 5),
        "preemptions": int(result.preemptions.sum()),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "dcsim": dcsim.__version__,
        "bar_wall_s": 30.0,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "window.json"
    path.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    print(f"written: {path}")


if __name__ == "__main__":
    main()
